/**
 * The one way tests wait for something that happens asynchronously: poll a
 * check until it yields a value, or fail naming what never came.
 */

/** Options of {@link eventually}. */
export interface EventuallyOptions {
  /** How long to keep trying (default 5 s). */
  timeoutMs?: number;
  /** The pause between two tries (default 25 ms). */
  intervalMs?: number;
  /** What is awaited, for the failure: "timed out after 5000ms waiting for <message>". */
  message?: string;
}

/**
 * Calls `check` until it returns something other than `undefined`, `null` or
 * `false`, and resolves with that. A check that throws is tried again; the
 * timeout's error names the last thing it threw, so an assertion inside the
 * check explains a failure.
 *
 * @example
 * ```ts
 * const task = await eventually(async () => {
 *   const task = await getTask(id);
 *   return task.state === "succeeded" ? task : undefined;
 * }, { timeoutMs: 10_000, message: `task ${id} to succeed` });
 * ```
 */
export async function eventually<T>(
  check: () => T | Promise<T>,
  options: EventuallyOptions = {},
): Promise<Exclude<T, undefined | null | false>> {
  const { timeoutMs = 5_000, intervalMs = 25, message = "the condition" } = options;
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== null && value !== false) {
        return value as Exclude<T, undefined | null | false>;
      }
    } catch (error) {
      last = error;
    }
    if (Date.now() >= end) {
      const why = last === undefined ? "" : `: ${last instanceof Error ? last.message : last}`;
      throw new Error(`timed out after ${timeoutMs}ms waiting for ${message}${why}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
