/**
 * Tasks, under `/un/tasks`: create (one, or an atomic batch), list, show,
 * cancel, retry and re-prioritize. Changes go to the prioritizer as asks;
 * reads come from the store. A create passes lib/safety/admission.ts first:
 * a type no live worker runs, an unknown `exec` command or a payload its
 * type's schema refuses is a 400; with no worker alive the task is accepted
 * and the answer says so in `warning`.
 */

import { parseTimeText } from "../lib/duration.ts";
import { explainTask } from "../lib/tasks/priority.ts";
import { childCounts } from "../lib/tasks/children.ts";
import { newId } from "../lib/events/cloud-event.ts";
import { Hono } from "hono";
import { z } from "zod";
import type { ControlWith } from "../lib/control.ts";
import type { Coordination, TaskStore } from "../lib/store/types.ts";
import { NotFoundError, ValidationError } from "../lib/errors.ts";
import { admitTaskRequests } from "../lib/safety/admission.ts";
import { resourceWaitOf } from "../lib/safety/resource-fit.ts";
import { parseTaskCreate, taskBatchSchema, taskRequestSchema } from "../lib/tasks/task-request.ts";
import { type Task, TASK_STATES, taskPriority } from "../lib/tasks/task.ts";
import { intIn, queryCursor, queryInt, strictObject } from "../lib/validate.ts";
import { ask } from "../lib/protocol/ask.ts";
import { BULK_ACTIONS, runBulk } from "../lib/tasks/bulk.ts";
import { decodeTaskCursor, encodeTaskCursor } from "../lib/store/cursor.ts";
import { bulkDeps } from "./bulk.ts";
import { answer, describe, problems } from "./describe.ts";
import { taskSchema } from "./schemas.ts";
import { jsonBody, params, query } from "./validator.ts";

const name = z.string().min(1, { error: "must not be empty" }).max(200, {
  error: "must be at most 200 characters",
});

/** A key, correlation id or subject: any text up to 1 000 characters. */
const text = z.string().min(1, { error: "must not be empty" }).max(1_000, {
  error: "must be at most 1000 characters",
});

const TIME_ERROR = "must be epoch milliseconds or an ISO 8601 date-time";

/** A time in a query string: epoch milliseconds or an ISO 8601 date-time. */
const queryTime = z.string().transform((value, ctx) => {
  const ms = parseTimeText(value);
  if (ms === null) {
    ctx.addIssue({ code: "custom", message: TIME_ERROR });
    return z.NEVER;
  }
  return ms;
}).describe("epoch milliseconds or an ISO 8601 date-time");

/** A time in a JSON body: epoch milliseconds, or an ISO 8601 date-time. */
const bodyTime = z.union([
  z.number().int().nonnegative(),
  z.string().transform((value, ctx) => {
    const ms = /^\d{4}-\d\d-\d\d/.test(value) ? Date.parse(value) : NaN;
    if (!Number.isSafeInteger(ms)) {
      ctx.addIssue({ code: "custom", message: TIME_ERROR });
      return z.NEVER;
    }
    return ms;
  }),
], { error: TIME_ERROR });

const cursor = queryCursor(decodeTaskCursor).describe("the `nextCursor` of the page before");

/** The filters of a listing and of a bulk action. */
const filterShape = {
  state: z.enum(TASK_STATES).optional(),
  queue: name.optional(),
  type: name.optional(),
  key: text.optional().describe("the task's dedupe key"),
  correlationId: text.optional(),
  subject: text.optional().describe("the subject of the event a hook made the task for"),
};

const listQuery = strictObject({
  ...filterShape,
  createdAfter: queryTime.optional().describe("created at or after"),
  createdBefore: queryTime.optional().describe("created before"),
  cursor: cursor.optional(),
  limit: queryInt(1, 1_000).optional(),
});

const bulkBody = strictObject({
  action: z.enum(BULK_ACTIONS),
  priority: taskPriority.optional().describe("the new priority (reprioritize only)"),
  filter: strictObject({
    ...filterShape,
    createdAfter: bodyTime.optional(),
    createdBefore: bodyTime.optional(),
  }),
  limit: intIn(1, 10_000_000).optional().describe("at most this many tasks, newest first"),
  dryRun: z.boolean().optional().describe("count only"),
});

/** One request, or `{ tasks: [...] }`; parseTaskCreate tells them apart by the `tasks` key. */
const createBody = z.union([taskRequestSchema, taskBatchSchema]);

const priorityBody = strictObject({ priority: taskPriority });

/** Any text: an id that is not a ULID is a 404 (findTask), as an unknown one is. */
const taskId = params(z.object({ id: z.string().describe("the task's id (a ULID)") }));

/** Ids are ULIDs; anything else cannot name a task, so it is a 404 without a store round trip. */
const TASK_ID = /^[0-9A-Za-z]{1,64}$/;

async function findTask(control: ControlWith<TaskStore & Coordination>, id: string): Promise<Task> {
  const task = TASK_ID.test(id) ? await control.store.getTask(id) : null;
  if (!task) throw new NotFoundError("task", id);
  return task;
}

const oneTask = z.object({ task: taskSchema });

const childrenSchema = z.object({
  total: z.number().int(),
  queued: z.number().int().describe("not started: waiting, scheduled, queued or retrying"),
  running: z.number().int(),
  succeeded: z.number().int(),
  failed: z.number().int().describe("failed, dead, cancelled or expired"),
  progress: z.number().describe("their combined progress, an ended child counting 1"),
});

/**
 * Task routes, relative to `/un/tasks`.
 */
export function taskRoutes(control: ControlWith<TaskStore & Coordination>) {
  /** Cancels or retries a task the store knows (a 404 otherwise). */
  const change = async (taskId: string, type: "task.cancel" | "task.retry") => {
    const { id } = await findTask(control, taskId);
    return await ask(control, type, { id });
  };
  return new Hono()
    .post(
      "/create",
      describe("tasks", "Create a task, or a batch created together or not at all", {
        201: answer(
          "Created: `{ task }`, or for a batch `{ tasks, deduplicated }` (ids a live task with the same key absorbed); `warning` when no worker is alive",
          z.union([
            oneTask.extend({ warning: z.string().optional() }),
            z.object({
              tasks: z.array(taskSchema),
              deduplicated: z.array(z.string()),
              batch: z.object({ id: z.string() }).optional().describe("the batch made (`batch`)"),
              warning: z.string().optional(),
            }),
          ]),
        ),
        200: answer(
          "A live task with the same key absorbed the request",
          oneTask.extend({ deduplicated: z.literal(true), warning: z.string().optional() }),
        ),
        ...problems(400, 413, 503),
      }),
      jsonBody(createBody, { parse: parseTaskCreate }),
      async (c) => {
        const create = c.req.valid("json");
        const requests = create.batch ? create.requests : [create.request];
        // A type no live worker runs, or a payload its schema refuses, is a 400 here, not a failed task later.
        const { warning } = await admitTaskRequests(requests, control.config, {
          catalog: control.catalog,
        });
        const said = warning ? { warning } : {};
        if (create.batch) {
          // With `batch`, the tasks start a batch of their own: an id in use is a 409.
          const batchId = create.batchId === undefined ? undefined : create.batchId ?? newId();
          const results = await ask(
            control,
            "task.enqueueMany",
            batchId === undefined
              ? { requests: create.requests }
              : { requests: create.requests.map((r) => ({ ...r, batchId })), newBatch: true },
          );
          const deduplicated = results.filter((r) => r.deduplicated).map((r) => r.task.id);
          const batch = batchId === undefined ? {} : { batch: { id: batchId } };
          return c.json(
            { tasks: results.map((r) => r.task), deduplicated, ...batch, ...said },
            201,
          );
        }
        const result = await ask(control, "task.enqueue", { request: create.request });
        // A live task with the same key absorbed the request: 200, like an idempotent PUT.
        if (result.deduplicated) {
          return c.json({ task: result.task, deduplicated: true as const, ...said }, 200);
        }
        return c.json({ task: result.task, ...said }, 201);
      },
    )
    .get(
      "/",
      describe("tasks", "List tasks, newest first, a page at a time", {
        200: answer(
          "The tasks (at most `limit`, default 100); `nextCursor` when more follow",
          z.object({ tasks: z.array(taskSchema), nextCursor: z.string().optional() }),
        ),
        ...problems(400),
      }),
      query(listQuery),
      async (c) => {
        const { cursor, limit = 100, ...filter } = c.req.valid("query");
        // One more than asked tells whether a next page exists.
        const found = await control.store.listTasks({ ...filter, after: cursor, limit: limit + 1 });
        const tasks = found.slice(0, limit);
        const last = tasks[tasks.length - 1];
        return c.json(
          found.length > limit ? { tasks, nextCursor: encodeTaskCursor(last) } : { tasks },
        );
      },
    )
    .post(
      "/bulk",
      describe("tasks", "Cancel, retry, delete or reprioritize every task a filter matches", {
        200: answer(
          "How many tasks matched and how many changed (`changed` is 0 on a dry run)",
          z.object({ matched: z.number().int(), changed: z.number().int() }),
        ),
        ...problems(400, 503),
      }),
      jsonBody(bulkBody),
      async (c) => {
        const { action, priority, filter, limit, dryRun } = c.req.valid("json");
        if (action === "reprioritize" && priority === undefined) {
          throw new ValidationError("priority is required to reprioritize (an integer 0..9)", {
            field: "priority",
          });
        }
        if (action !== "reprioritize" && priority !== undefined) {
          throw new ValidationError(`priority applies to reprioritize only, not ${action}`, {
            field: "priority",
            value: priority,
          });
        }
        if (Object.values(filter).every((v) => v === undefined)) {
          throw new ValidationError(
            "filter must name at least one of state, queue, type, key, correlationId, subject, createdAfter, createdBefore",
            { field: "filter", value: filter },
          );
        }
        const report = await runBulk(bulkDeps(control), {
          action,
          priority,
          filter,
          limit,
          dryRun,
        });
        return c.json(report);
      },
    )
    .get(
      "/:id",
      describe("tasks", "One task, its score explained (and the resource it waits for)", {
        200: answer(
          "The task; `children` counted when its handler made some (`ctx.enqueue`)",
          oneTask.extend({ children: childrenSchema.optional() }),
        ),
        ...problems(404),
      }),
      taskId,
      async (c) => {
        const task = await findTask(control, c.req.valid("param").id);
        // A task no live worker has the resources for says which and how much.
        const wait = await resourceWaitOf(task, control.store, Date.now());
        const children = await childCounts(control.store, task);
        return c.json({ task: explainTask(task, wait), ...(children ? { children } : {}) });
      },
    )
    .delete(
      "/:id",
      describe("tasks", "Cancel a task", {
        200: answer("The cancelled task", oneTask),
        ...problems(404, 409, 503),
      }),
      taskId,
      async (c) => c.json({ task: await change(c.req.valid("param").id, "task.cancel") }),
    )
    .post(
      "/:id/retry",
      describe("tasks", "Run a finished task again", {
        200: answer("The task, queued again", oneTask),
        ...problems(404, 409, 503),
      }),
      taskId,
      async (c) => c.json({ task: await change(c.req.valid("param").id, "task.retry") }),
    )
    .post(
      "/:id/priority",
      describe("tasks", "Change a waiting task's priority", {
        200: answer("The task, re-scored", oneTask),
        ...problems(400, 404, 409, 503),
      }),
      taskId,
      jsonBody(priorityBody),
      async (c) => {
        const { priority } = c.req.valid("json");
        const { id } = await findTask(control, c.req.valid("param").id);
        const task = await ask(control, "task.reprioritize", { id, priority });
        return c.json({ task });
      },
    );
}
