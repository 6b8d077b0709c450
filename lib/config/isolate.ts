/**
 * The configuration keys of isolated handlers: which task types run in a Web
 * Worker of their own (`workers.isolate`; queues and hooks have an `isolate`
 * flag of their own) and how long a handler that ignores `ctx.signal` is
 * given before its Web Worker is terminated (`workers.killAfterMs`). Kept
 * apart from `schema.ts` so the feature's keys are in one place.
 */

import { z } from "zod";
import { ms } from "./fields.ts";

/** The `isolate` flag of a queue or a hook. */
export const isolateFlag = z.boolean().optional();

/** Keys of `workers` about isolated handlers and handlers that overstay. */
export const workerIsolation = {
  isolate: z.array(z.string().min(1).max(200)).default([]).describe(
    "Task types whose handler runs in a Web Worker of its own, which is terminated when the handler ignores `ctx.signal` past `workers.killAfterMs` ([tasks.md](tasks.md#hard-timeouts)); queues and hooks have an `isolate` flag too.",
  ),
  killAfterMs: ms(1, 3_600_000).default(5_000).describe(
    "After a timeout, cancel or shutdown, how long a handler may ignore `ctx.signal`: an isolated one is then terminated (the task fails or retries with `terminated after timeout`), any other is reported (`task.overstayed`).",
  ),
};
