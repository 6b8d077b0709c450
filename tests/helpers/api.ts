/**
 * The control plane as a test client uses it: its error shape, and creating
 * and reading tasks, with the status each must answer.
 */

import assert from "node:assert/strict";
import type { Task } from "../../lib/tasks/task.ts";
import { api } from "./http.ts";
import type { UnProcess } from "./un-process.ts";

/**
 * The JSON of an error answer.
 *
 * @example
 * ```ts
 * const body: ErrorJson = { error: { code: "not_found", message: "no task 01J", details: {} } };
 * ```
 */
export type ErrorJson = {
  error: { code: string; message: string; details: Record<string, unknown> };
};

/**
 * The JSON of a task answer.
 *
 * @example
 * ```ts
 * const res = await api<TaskJson>(un.url, "GET", `/un/tasks/${id}`);
 * ```
 */
export type TaskJson = { task: Task; deduplicated?: boolean };

/**
 * Fails unless `res` is an error answer with `status` (naming `field`, when given).
 *
 * @example
 * ```ts
 * assertError(await api(un.url, "POST", "/un/tasks/create", {}), 400, "type");
 * ```
 */
export function assertError(
  res: { status: number; body: unknown },
  status: number,
  field?: string,
): ErrorJson {
  const body = res.body as ErrorJson;
  assert.equal(
    res.status,
    status,
    `expected ${status}, got ${res.status}: ${JSON.stringify(body)}`,
  );
  assert.equal(typeof body.error?.code, "string", JSON.stringify(body));
  assert.equal(typeof body.error?.message, "string");
  if (field) assert.equal(body.error.details.field, field, JSON.stringify(body));
  return body;
}

/**
 * Creates a task (201 required).
 *
 * @example
 * ```ts
 * const task = await createTask(un, { type: "noop" });
 * ```
 */
export async function createTask(un: UnProcess, request: Record<string, unknown>): Promise<Task> {
  const res = await api<TaskJson>(un.url, "POST", "/un/tasks/create", request);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.task;
}

/**
 * Reads a task (200 required).
 *
 * @example
 * ```ts
 * assert.equal((await taskState(un, task.id)).state, "succeeded");
 * ```
 */
export async function taskState(un: UnProcess, id: string): Promise<Task> {
  const res = await api<TaskJson>(un.url, "GET", `/un/tasks/${id}`);
  assert.equal(res.status, 200);
  return res.body.task;
}
