/**
 * What `un start` does with SIGINT and SIGTERM: the first one stops
 * gracefully; a second one, later, exits at once (a human pressing Ctrl-C
 * again because the stop takes too long).
 *
 * The same signal again within {@link SAME_SIGNAL_MS} of the first is not a
 * second request but the first one arriving twice: a supervisor that signals
 * the whole process group (systemd's default KillMode, tmux, `kill -- -PGID`)
 * reaches un directly and through `deno task`, which forwards the SIGTERM it
 * gets to its child a few milliseconds later. Taken as a second request, that
 * copy made un exit 130 in the middle of its graceful stop.
 */

/** How long a repeat of the same signal counts as the same request. */
export const SAME_SIGNAL_MS = 1_000;

/**
 * What to do with a signal: `stop` (the first: stop gracefully), `repeat` (the
 * same signal again at once: ignore it), `exit` (a second request: exit now).
 */
export type SignalAction = "stop" | "repeat" | "exit";

/**
 * Decides, signal by signal, what `un start` does.
 *
 * @example
 * ```ts
 * const decide = signalDecider();
 * decide("SIGTERM", 0); // "stop"
 * decide("SIGTERM", 3); // "repeat" (forwarded by deno task)
 * decide("SIGINT", 2_500); // "exit"
 * ```
 */
export function signalDecider(
  windowMs: number = SAME_SIGNAL_MS,
): (signal: string, now: number) => SignalAction {
  let first: { signal: string; at: number } | null = null;
  return (signal, now) => {
    if (first === null) {
      first = { signal, at: now };
      return "stop";
    }
    return signal === first.signal && now - first.at < windowMs ? "repeat" : "exit";
  };
}
