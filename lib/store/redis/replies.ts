/**
 * Turns script replies into store results (tasks, transitions).
 */

import type { FinishResult, TaskTransition } from "../types.ts";
import type { Json } from "../../events/cloud-event.ts";
import type { Task, TaskState } from "../../tasks/task.ts";
import {
  decodeTask,
  type FieldName,
  nameFields,
  REPLY_FIELDS,
  type StoredFields,
} from "./codec.ts";

function fail(what: string, reply: unknown): never {
  throw new Error(`redis store: unexpected reply for ${what}: ${JSON.stringify(reply)}`);
}

/**
 * Reads a task from a reply holding the values of `REPLY_FIELDS`.
 */
export function asTask(reply: unknown, what: string): Task {
  const task = asOptionalTask(reply, what);
  if (task === null) fail(what, reply);
  return task;
}

/**
 * Like {@link asTask}, but null when the reply is nil or names no task.
 */
export function asOptionalTask(reply: unknown, what: string): Task | null {
  if (reply === null) return null;
  return decodeTask(nameFields(REPLY_FIELDS, asList(reply, what)));
}

/** What a claim in `complete-claim-10.lua` replies, in order; the rest follows from the claim. */
const CLAIM_REPLY: readonly FieldName[] = ["d", "m", "a", "f", "e", "ra", "ea", "dp"];

/**
 * Rebuilds a claimed task from the claim script's short reply and the claim's
 * own arguments; null when nothing was claimed.
 */
export function parseClaim(
  reply: unknown,
  claim: { workerId: string; leaseUntil: number; now: number },
): Task | null {
  if (reply === null) return null;
  const known: StoredFields = {
    st: "running",
    w: claim.workerId,
    lu: String(claim.leaseUntil),
    sa: String(claim.now),
    p: "0",
    pm: "null",
    r: "",
    fa: "",
  };
  const task = decodeTask({ ...nameFields(CLAIM_REPLY, asList(reply, "claim")), ...known });
  if (task === null) fail("claim", reply);
  return task;
}

/** What a complete in `complete-claim-10.lua` replies first when the caller did not have the task, in order. */
const COMPLETE_REPLY: readonly FieldName[] = [
  "pm",
  "d",
  "m",
  "a",
  "e",
  "ra",
  "ea",
  "sa",
  "w",
  "dp",
];

/**
 * Reads the complete script's reply: the finished task and the dependents it
 * released. `claimed` is the caller's copy of the task from its claim under
 * the same fence, if it had one (then the reply carries only the progress
 * message); the rest of the task follows from the call.
 */
export function parseComplete(
  reply: unknown,
  call: { fence: number; resultJson: string; now: number },
  claimed: Task | undefined,
): FinishResult {
  const [fields, ...rest] = asList(reply, "complete");
  const values = asList(fields, "complete");
  const dependents = parseTransitions(rest, "complete");
  const result = call.resultJson === "" ? null : JSON.parse(call.resultJson) as Json;
  if (claimed !== undefined) {
    const progressMessage = typeof values[0] === "string" ? JSON.parse(values[0]) as string : null;
    const task: Task = {
      ...claimed,
      state: "succeeded",
      progress: 1,
      progressMessage,
      result,
      finishedAt: call.now,
      leaseUntil: null,
    };
    return { task, dependents };
  }
  const known: StoredFields = {
    st: "succeeded",
    f: String(call.fence),
    p: "1",
    r: call.resultJson,
    fa: String(call.now),
    lu: "",
  };
  const task = decodeTask({ ...nameFields(COMPLETE_REPLY, values), ...known });
  if (task === null) fail("complete", reply);
  return { task, dependents };
}

/**
 * Checks that a reply is a list.
 */
export function asList(reply: unknown, what: string): unknown[] {
  if (!Array.isArray(reply)) fail(what, reply);
  return reply;
}

/**
 * Reads `{ id, from, fields }` triples into transitions.
 */
export function parseTransitions(reply: unknown, what: string): TaskTransition[] {
  return asList(reply, what).map((entry) => {
    const [, from, fields] = asList(entry, what);
    if (typeof from !== "string") fail(what, entry);
    return { task: asTask(fields, what), from: from as TaskState };
  });
}

/**
 * Reads `{ fields, { id, from, fields }, … }`: a task and the dependents that
 * changed with it.
 */
export function parseFinish(reply: unknown, what: string): FinishResult {
  const [fields, ...rest] = asList(reply, what);
  return { task: asTask(fields, what), dependents: parseTransitions(rest, what) };
}
