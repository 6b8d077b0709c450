/**
 * Where one HTTP/1.1 request ends on a connection: enough of the framing
 * (head up to the blank line, then `Content-Length` bytes or chunks) to tell
 * when a client is in the middle of sending a request, which is when a read
 * deadline runs. It neither parses nor changes the bytes.
 *
 * Written by hand: HTTP parsers on npm parse whole messages, and what is
 * needed here is a few states over bytes that pass through untouched.
 */

/** What the client side of a connection is doing. */
export type FramingPhase = "idle" | "head" | "body" | "opaque" | "invalid";

/** Largest request head accepted (hyper's default is 400 KiB; heads of the API are tiny). */
const MAX_HEAD_BYTES = 64 * 1024;
const CR = 0x0d;
const LF = 0x0a;

type State =
  | { at: "idle" }
  | { at: "head"; bytes: number[]; size: number }
  | { at: "fixed"; left: number }
  | { at: "chunk-size"; line: number[] }
  | { at: "chunk-data"; left: number }
  | { at: "chunk-end"; left: number }
  | { at: "trailer"; line: number }
  | { at: "opaque" }
  | { at: "invalid"; reason: string };

/**
 * Follows the client-to-server bytes of one connection.
 *
 * @example
 * ```ts
 * const framing = new RequestFraming();
 * framing.push(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: a\r\n"));
 * framing.phase; // "head": a deadline should run
 * ```
 */
export class RequestFraming {
  #state: State = { at: "idle" };

  /** The phase after the bytes pushed so far. */
  get phase(): FramingPhase {
    const at = this.#state.at;
    if (at === "idle" || at === "opaque" || at === "invalid" || at === "head") return at;
    return "body";
  }

  /** Why the connection should be closed, once `phase` is "invalid". */
  get problem(): string | null {
    return this.#state.at === "invalid" ? this.#state.reason : null;
  }

  /** Follows a chunk of bytes the client sent. */
  push(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length) {
      const state = this.#state;
      switch (state.at) {
        case "opaque":
        case "invalid":
          return;
        case "idle":
          this.#state = { at: "head", bytes: [], size: 0 };
          break;
        case "head": {
          const byte = chunk[i++];
          state.size++;
          state.bytes.push(byte);
          if (state.size > MAX_HEAD_BYTES) {
            this.#state = { at: "invalid", reason: `request head over ${MAX_HEAD_BYTES} bytes` };
          } else if (byte === LF && endsWithBlankLine(state.bytes)) {
            this.#state = afterHead(new TextDecoder().decode(new Uint8Array(state.bytes)));
          }
          break;
        }
        case "fixed": {
          const take = Math.min(state.left, chunk.length - i);
          i += take;
          state.left -= take;
          if (state.left === 0) this.#state = { at: "idle" };
          break;
        }
        case "chunk-size": {
          const byte = chunk[i++];
          if (byte !== LF) {
            if (state.line.push(byte) > 1024) {
              this.#state = { at: "invalid", reason: "chunk size line too long" };
            }
            break;
          }
          const text = new TextDecoder().decode(new Uint8Array(state.line)).split(";")[0].trim();
          const size = /^[0-9a-fA-F]{1,12}$/.test(text) ? parseInt(text, 16) : NaN;
          if (Number.isNaN(size)) this.#state = { at: "invalid", reason: "bad chunk size" };
          else if (size === 0) this.#state = { at: "trailer", line: 0 };
          else this.#state = { at: "chunk-data", left: size };
          break;
        }
        case "chunk-data": {
          const take = Math.min(state.left, chunk.length - i);
          i += take;
          state.left -= take;
          if (state.left === 0) this.#state = { at: "chunk-end", left: 2 };
          break;
        }
        case "chunk-end":
          i++;
          if (--state.left === 0) this.#state = { at: "chunk-size", line: [] };
          break;
        case "trailer": {
          const byte = chunk[i++];
          if (byte === LF) {
            if (state.line === 0) this.#state = { at: "idle" };
            else state.line = 0;
          } else if (byte !== CR) {
            state.line++;
          }
          break;
        }
      }
    }
  }
}

function endsWithBlankLine(bytes: number[]): boolean {
  const n = bytes.length;
  return (n >= 2 && bytes[n - 2] === LF) ||
    (n >= 3 && bytes[n - 2] === CR && bytes[n - 3] === LF);
}

/** The state after a complete head. */
function afterHead(head: string): State {
  const [requestLine, ...lines] = head.split(/\r?\n/);
  if (/^PRI \* HTTP\/2/.test(requestLine)) {
    return { at: "invalid", reason: "HTTP/2 without TLS is not served" };
  }
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers.set(name, headers.has(name) ? `${headers.get(name)},${value}` : value);
  }
  // After an upgrade the bytes are another protocol's.
  if (headers.has("upgrade") || /^CONNECT /.test(requestLine)) return { at: "opaque" };
  const encoding = headers.get("transfer-encoding")?.toLowerCase();
  if (encoding !== undefined) {
    return encoding.split(",").map((e) => e.trim()).at(-1) === "chunked"
      ? { at: "chunk-size", line: [] }
      : { at: "invalid", reason: "unsupported transfer-encoding" };
  }
  const length = headers.get("content-length");
  if (length === undefined) return { at: "idle" };
  if (!/^\d{1,15}$/.test(length)) return { at: "invalid", reason: "bad content-length" };
  const left = Number(length);
  return left === 0 ? { at: "idle" } : { at: "fixed", left };
}
