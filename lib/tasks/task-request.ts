/**
 * The body of `POST /un/tasks/create`: one task request, or `{ tasks: [...] }`
 * for an atomic batch. Validated here, before anything reaches the
 * prioritizer, so a bad request is a 400 naming the field and never a half-made
 * task. Times (`runAt`, `deadline`, `expiresAt`) take epoch milliseconds or an
 * ISO 8601 time; keys ending in `Ms` take numbers only (DESIGN: durations).
 */

import { z } from "zod";
import type { Json } from "../events/cloud-event.ts";
import type { TaskRequest } from "../protocol/messages.ts";
import { taskPriority } from "./task.ts";
import { intIn, strictObject, validate } from "../validate.ts";

/** Most tasks one batch may create. */
const MAX_BATCH = 1_000;

const DAY_MS = 86_400_000;

const TIME_ERROR = 'must be epoch milliseconds or an ISO 8601 time such as "2030-01-01T09:00:00Z"';

/** Epoch ms, or an ISO date/time with a zone (a zone-less time would depend on the server's zone). */
const time = z.union([
  z.number().int().min(0).max(8_640_000_000_000_000),
  z.iso.datetime({ offset: true }),
  z.iso.date(),
], { error: TIME_ERROR }).transform((value) =>
  typeof value === "number" ? value : Date.parse(value)
);

const name = (what: string, max: number) =>
  z.string({ error: `must be a ${what}` }).regex(
    new RegExp(`^[A-Za-z0-9_][A-Za-z0-9_.:\\-]{0,${max - 1}}$`),
    {
      error: `must be 1-${max} letters, digits, '.', ':', '_' or '-'`,
    },
  );

const text = (max: number) =>
  z.string({ error: `must be a string of 1..${max} characters` }).min(1, {
    error: `must be a string of 1..${max} characters`,
  }).max(max, { error: `must be a string of 1..${max} characters` });

/** One task request as a client sends it. */
export const taskRequestSchema = strictObject({
  type: name("task type", 200),
  payload: z.json({ error: "must be JSON" }).optional(),
  priority: taskPriority.optional(),
  queue: name("queue name", 100).optional(),
  delayMs: intIn(0, 365 * DAY_MS).optional(),
  runAt: time.optional(),
  deadline: time.optional(),
  expiresAt: time.optional(),
  key: text(500).optional(),
  dependsOn: z.array(text(500), { error: "must be an array of task ids or keys" })
    .max(1_000, { error: "must name at most 1000 tasks" }).optional(),
  maxAttempts: intIn(1, 100).optional(),
  timeoutMs: intIn(1, DAY_MS).optional(),
  resources: z.record(
    text(100),
    z.number({ error: "must be a number >= 0" }).min(0, { error: "must be a number >= 0" }),
    { error: 'must be an object of resource amounts, e.g. { "gpu": 1 }' },
  ).optional(),
  correlationId: text(200).optional(),
}).refine((r) => r.delayMs === undefined || r.runAt === undefined, {
  error: "must not be given together with runAt (give one of them)",
  path: ["delayMs"],
});

const taskList = z.array(taskRequestSchema, { error: "must be an array of task requests" })
  .min(1, { error: `must hold 1..${MAX_BATCH} task requests` })
  .max(MAX_BATCH, { error: `must hold 1..${MAX_BATCH} task requests` });

/**
 * `{ tasks: [...] }`: created together or not at all; with `batch`, they
 * also form a batch read as one (`GET /un/batches/:id`, `batch.completed`).
 */
export const taskBatchSchema = strictObject({
  tasks: taskList,
  batch: strictObject({
    id: name("batch id", 100).optional().describe("default: a new ULID"),
  }).optional().describe("make the tasks one batch"),
});

/**
 * A parsed create body: one request, or a batch created atomically (with
 * `batchId` when it asked for a batch: the id given, or null for a new one).
 */
export type TaskCreate =
  | { batch: false; request: TaskRequest }
  | { batch: true; requests: TaskRequest[]; batchId?: string | null };

function toRequest(parsed: z.output<typeof taskRequestSchema>): TaskRequest {
  // zod's JSON type is structurally our Json; the cast only names it.
  return { ...parsed, payload: parsed.payload as Json | undefined };
}

/**
 * Validates a `POST /un/tasks/create` body. Throws a ValidationError (400)
 * naming the field, the value and what is allowed.
 *
 * @example
 * ```ts
 * parseTaskCreate({ type: "sleep", payload: { ms: 10 }, runAt: "2030-01-01T00:00:00Z" });
 * // { batch: false, request: { type: "sleep", payload: { ms: 10 }, runAt: 1893456000000 } }
 * parseTaskCreate({ tasks: [{ type: "noop" }, { type: "noop" }] }); // { batch: true, requests: [...] }
 * ```
 */
export function parseTaskCreate(body: unknown): TaskCreate {
  if (body !== null && typeof body === "object" && !Array.isArray(body) && "tasks" in body) {
    const { tasks, batch } = validate(taskBatchSchema, body, "body");
    const requests = tasks.map(toRequest);
    return batch === undefined
      ? { batch: true, requests }
      : { batch: true, requests, batchId: batch.id ?? null };
  }
  return { batch: false, request: toRequest(validate(taskRequestSchema, body, "body")) };
}

/**
 * Validates the requests a handler passes to `ctx.enqueue`, with the rules
 * of the API: a ValidationError names the request and the field
 * (`tasks.3.priority`).
 */
export function parseTaskRequests(requests: unknown): TaskRequest[] {
  return validate(taskList, requests, "tasks").map(toRequest);
}
