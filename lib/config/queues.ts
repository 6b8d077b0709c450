/**
 * The `queues.<name>` piece of the configuration schema: per-queue settings
 * (rate limits, bounds). Kept apart
 * from `schema.ts` so each queue feature adds its keys in one place.
 */

import { z } from "zod";
import { int, ms } from "./fields.ts";
import { isolateFlag } from "./isolate.ts";

/** A placeholder template such as `{payload.repo}`: the group key of a per-key limit. */
const groupTemplate = z.string().min(1).max(200).regex(/\{[^{}]+\}/, {
  error: 'must contain a placeholder such as "{payload.repo}"',
});

/** What a hook-made task does when its queue is full: refused, or queued tasks dropped to make room. */
export const OVERFLOW_POLICIES = ["reject", "drop-oldest", "drop-lowest-priority"] as const;
/** A queue's overflow policy. */
export type OverflowPolicy = typeof OVERFLOW_POLICIES[number];

/** A rate limit: at most `max` task starts per `perMs` window, per queue or per group key. */
export const rateLimitSchema = z.strictObject({
  max: int(1, 1_000_000).describe("Task starts allowed per window."),
  perMs: ms(1, 86_400_000).describe("The window's length in ms."),
  by: groupTemplate.optional().describe(
    'Limit per group key instead of per queue: a template over the task rendered at enqueue (`"{payload.repo}"`), each value with its own window.',
  ),
});

/** The settings of one queue. */
export const queueSettingsSchema = z.strictObject({
  rateLimit: rateLimitSchema.optional().describe(
    "At most `max` tasks of this queue start per `perMs`, across all processes (checked inside the claim step); tasks over it wait without holding up others ([tasks.md](tasks.md#rate-limits)).",
  ),
  maxSize: int(1, 100_000_000).optional().describe(
    'At most this many queued, scheduled and retrying tasks in the queue (checked inside the enqueue step); a create over the API past it gets 429. Under `"*"`: the bound of every queue without its own ([tasks.md](tasks.md#bounded-queues)).',
  ),
  overflow: z.enum(OVERFLOW_POLICIES).optional().describe(
    'What a hook-made task past `maxSize` does: `reject` (default; logged, `task.rejected` emitted and counted), or it is created and the queue\'s oldest (`drop-oldest`) or lowest-priority then oldest (`drop-lowest-priority`) queued task is cancelled to make room (logged, `task.dropped` emitted and counted). Under `"*"`: the default of every queue.',
  ),
  isolate: isolateFlag.describe(
    'Run this queue\'s handlers in a Web Worker each, terminated when one ignores `ctx.signal` past `workers.killAfterMs` ([tasks.md](tasks.md#hard-timeouts)). Under `"*"`: every queue that does not say `false`.',
  ),
});

/** `queues`: settings by queue name. */
export const queuesSchema = z.record(z.string().min(1).max(100), queueSettingsSchema).default({})
  .describe("Per-queue settings by queue name ([below](#queues)).");

/** The queue whose settings are every other queue's defaults (`queues["*"]`). */
export const ANY_QUEUE = "*";

/**
 * A queue's bound and overflow policy: its own settings, else those of
 * `queues["*"]`; `maxSize` undefined when the queue is unbounded.
 *
 * @example
 * ```ts
 * queueBound({ "*": { maxSize: 1000 }, mail: { maxSize: 100 } }, "mail"); // { maxSize: 100, overflow: "reject" }
 * ```
 */
export function queueBound(
  queues: Readonly<Record<string, QueueSettings>>,
  queue: string,
): { maxSize: number | undefined; overflow: OverflowPolicy } {
  const own = Object.hasOwn(queues, queue) ? queues[queue] : undefined;
  const any = Object.hasOwn(queues, ANY_QUEUE) ? queues[ANY_QUEUE] : undefined;
  return {
    maxSize: own?.maxSize ?? any?.maxSize,
    overflow: own?.overflow ?? any?.overflow ?? "reject",
  };
}

/** A validated rate limit. */
export type RateLimitSpec = z.output<typeof rateLimitSchema>;
/** A queue's validated settings. */
export type QueueSettings = z.output<typeof queueSettingsSchema>;

/** `workers.queues`: the queues this process's workers take from. */
export const workerQueues = z.array(z.string().min(1)).min(1).default(["*"]).describe(
  'Queues this process\'s workers take from; `["*"]`: all.',
);
