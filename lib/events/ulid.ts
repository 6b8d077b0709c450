/**
 * Monotonic ULIDs made cheaply: every task makes four (its id and its three
 * `task.*` events), and the `ulid` package's monotonic factory encodes the
 * time again and increments the random part character by character (an
 * `indexOf` and a string copy each) on every call, which showed in profiles
 * of busy queues. Here the time and the upper random characters are encoded
 * once per millisecond, and an id within the same millisecond costs an
 * increment of a number and a table lookup for its last five characters.
 *
 * The ids are those of the package's factory: 10 characters of time (ms) and
 * 16 of randomness in Crockford's base 32, the randomness drawn afresh for
 * each new millisecond and incremented by one within it (so ids sort in the
 * order they were made, also when the clock steps back).
 */

const ENCODING = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/** Random characters kept as a number (the last five: 25 bits, exact in a double). */
const LOW_CHARS = 5;
const LOW_LIMIT = 32 ** LOW_CHARS;
/** Random characters kept as digits, changed once per millisecond (or on a carry). */
const HIGH_CHARS = 16 - LOW_CHARS;

/** Every pair of base-32 characters, by its 10-bit value. */
const PAIRS: string[] = Array.from(
  { length: 1_024 },
  (_, i) => ENCODING[i >> 5] + ENCODING[i & 31],
);

/**
 * Random bytes drawn from the system's CSPRNG a page at a time (one call per
 * 4 096 bytes rather than one per character).
 */
const randomPool = new Uint8Array(4_096);
let randomAt = randomPool.length;
function randomDigit(): number {
  if (randomAt === randomPool.length) {
    crypto.getRandomValues(randomPool);
    randomAt = 0;
  }
  return randomPool[randomAt++] >> 3;
}

function encodeTime(ms: number): string {
  let text = "";
  for (let i = 0; i < 10; i++) {
    const digit = ms % 32;
    text = ENCODING[digit] + text;
    ms = (ms - digit) / 32;
  }
  return text;
}

let lastMs = -1;
const high: number[] = new Array(HIGH_CHARS).fill(0);
let low = 0;
/** The time and the high random characters of the current millisecond. */
let prefix = "";

function encodePrefix(): void {
  let text = encodeTime(lastMs);
  for (let i = 0; i < HIGH_CHARS; i++) text += ENCODING[high[i]];
  prefix = text;
}

/** Adds one to the high random characters (a carry out of the low ones). */
function carry(): void {
  for (let i = HIGH_CHARS - 1; i >= 0; i--) {
    if (high[i] < 31) {
      high[i]++;
      return;
    }
    high[i] = 0;
  }
  throw new Error("cannot increment the ULID's random part: 2^80 ids in one millisecond");
}

/**
 * The next ULID of this process, at `now` (epoch ms; a time before the last
 * one's counts as the last one's): later than every one it made before.
 *
 * @example
 * ```ts
 * const a = nextUlid();
 * const b = nextUlid();
 * a < b; // true, also within one millisecond
 * ```
 */
export function nextUlid(now: number = Date.now()): string {
  if (now > lastMs) {
    lastMs = now;
    for (let i = 0; i < HIGH_CHARS; i++) high[i] = randomDigit();
    low = 0;
    for (let i = 0; i < LOW_CHARS; i++) low = low * 32 + randomDigit();
    encodePrefix();
  } else if (++low === LOW_LIMIT) {
    low = 0;
    carry();
    encodePrefix();
  }
  return prefix + PAIRS[low >> 15] + PAIRS[(low >> 5) & 1_023] + ENCODING[low & 31];
}
