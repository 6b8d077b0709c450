/**
 * The `sleep` built-in: waits `ms` milliseconds. For trials and benchmarks, and
 * the simplest check that cancel and timeouts reach a running handler.
 */

import { z } from "zod";
import type { Handler } from "./types.ts";
import { parsePayload } from "./payload.ts";

/** Longest sleep accepted: 24 hours. */
const MAX_SLEEP_MS = 86_400_000;

const range = `must be a number 0..${MAX_SLEEP_MS}`;
/** The payload schema of `sleep` (checked at create and again at run time). */
export const sleepPayload = z.object({
  ms: z.number({ error: range }).min(0, { error: range }).max(MAX_SLEEP_MS, { error: range }),
});

/** Payload of `sleep`. */
export type SleepPayload = z.input<typeof sleepPayload>;
/** Result of `sleep` (a type alias, so it is assignable to `Json`). */
export type SleepResult = { slept: number };

/**
 * Resolves `{ slept: ms }` after `payload.ms`; rejects with the signal's reason
 * as soon as `ctx.signal` aborts.
 */
export const sleepHandler: Handler<unknown, SleepResult> = async (task, ctx) => {
  const { ms } = parsePayload("sleep", sleepPayload, task.payload);
  const { signal } = ctx;
  return await new Promise<SleepResult>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve({ slept: ms });
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
};
