/**
 * The group key of a task whose queue is limited by group
 * (`rateLimit.by`): the template rendered over the task at enqueue, with the
 * placeholder rules of hook templates, and stored with it (`rateGroup`), so
 * the claim step only compares stored strings.
 */

import { renderTemplate } from "../hooks/rules.ts";
import type { NewTask } from "../tasks/task.ts";
import type { RateLimit } from "./queue-control.ts";

/**
 * `task` with its `rateGroup` rendered when its queue has a limit by group
 * key (the same object otherwise, so the common enqueue copies nothing).
 *
 * @example
 * ```ts
 * const limits = new Map([["ci", { max: 1, perMs: 1000, by: "{payload.repo}" }]]);
 * withRateGroup(limits, { ...task, queue: "ci", payload: { repo: "a/b" } }).rateGroup; // "a/b"
 * ```
 */
export function withRateGroup(limits: ReadonlyMap<string, RateLimit>, task: NewTask): NewTask {
  if (limits.size === 0) return task;
  const by = limits.get(task.queue)?.by;
  return by === undefined ? task : { ...task, rateGroup: renderTemplate(by, task) };
}
