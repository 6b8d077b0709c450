/**
 * The shapes of the API's answers, for the OpenAPI document. Requests are
 * described by the schemas the routes validate with (routes/validator.ts);
 * answers are built from store records and typed by TypeScript, so these
 * zod schemas describe them for readers and generated clients: the main
 * resources (task, event, source, scan, error) in full, the rest as objects.
 * Each `id` in `.meta()` is a named schema under `components.schemas`.
 */

import { z } from "zod";
import { EVENT_PRIORITIES } from "../lib/events/cloud-event.ts";
import { TASK_STATES, taskPriority } from "../lib/tasks/task.ts";

const time = z.number().describe("epoch milliseconds");
const json = z.unknown().describe("any JSON value");

/** `{ error: { code, message, details } }`, the body of every error answer. */
export const errorSchema = z.object({
  error: z.object({
    code: z.string().describe('machine-readable, e.g. "invalid_request", "not_found"'),
    message: z.string().describe("what was wrong and how to fix it"),
    details: z.record(z.string(), z.unknown()).describe(
      "the field, the value and what is allowed, when they apply",
    ),
  }),
}).meta({ id: "Error" });

/** A task as the store keeps it. */
export const taskSchema = z.object({
  id: z.string().describe("ULID"),
  type: z.string(),
  queue: z.string(),
  payload: json,
  priority: taskPriority.describe("0–9, 9 first"),
  sortKey: z.number().describe("claim order: lower first"),
  score: z.number(),
  explanation: z.record(z.string(), z.unknown()).describe("how the sort key was made"),
  state: z.enum(TASK_STATES),
  attempts: z.number().int(),
  maxAttempts: z.number().int(),
  progress: z.number().min(0).max(1),
  progressMessage: z.string().nullable(),
  result: json.nullable(),
  error: z.object({
    message: z.string(),
    name: z.string().optional(),
    attempt: z.number().int(),
    permanent: z.boolean().optional(),
  }).nullable(),
  dependsOn: z.array(z.string()),
  runAt: time.nullable(),
  deadline: time.nullable(),
  expiresAt: time.nullable(),
  timeoutMs: z.number().nullable(),
  key: z.string().nullable(),
  resources: z.record(z.string(), z.number()),
  createdAt: time,
  enqueuedAt: time,
  startedAt: time.nullable(),
  finishedAt: time.nullable(),
  workerId: z.string().nullable(),
  fence: z.number().int(),
  leaseUntil: time.nullable(),
  correlationId: z.string().nullable(),
}).meta({ id: "Task" });

/** A CloudEvents 1.0 event with un's extensions. */
export const eventSchema = z.object({
  id: z.string().describe("ULID"),
  source: z.string().describe("/un/sources/<id>, /un/api, /un/runtime …"),
  specversion: z.literal("1.0"),
  type: z.string(),
  time: z.string().describe("RFC 3339"),
  subject: z.string().optional(),
  datacontenttype: z.literal("application/json"),
  data: json,
  priority: z.enum(EVENT_PRIORITIES),
  correlationid: z.string().optional(),
  origin: z.string().describe("id of the process that made it"),
}).meta({ id: "Event" });

/** A source as the API shows it: secrets redacted, with its scanner's status. */
export const sourceViewSchema = z.object({
  id: z.string(),
  kind: z.enum(["fs", "feed", "github", "http", "postgres"]),
  enabled: z.boolean(),
  spec: z.record(z.string(), z.unknown()).describe("the definition, secrets redacted"),
  origin: z.enum(["config", "api"]),
  createdAt: time,
  updatedAt: time,
  error: z.string().optional().describe(
    "why the stored definition no longer parses (the source is not scanned); absent when it does",
  ),
  status: z.record(z.string(), z.unknown()).nullable().describe("null before its first scan"),
}).meta({ id: "Source" });

/** One manual scan. */
export const scanSchema = z.object({
  at: time,
  requestedBy: z.string(),
  durationMs: z.number(),
  changes: z.number().int().nullable().describe("events published, null when it failed"),
  error: z.string().nullable(),
}).meta({ id: "Scan" });

/** Task counts of one queue, by state. */
export const queueCountsSchema = z.record(z.enum(TASK_STATES), z.number().int()).meta({
  id: "QueueCounts",
});

/** Any JSON object (answers described in prose). */
export const objectSchema = z.record(z.string(), z.unknown());
