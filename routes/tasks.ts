/**
 * Tasks: create (one, or an atomic batch), list, show, cancel, retry and
 * re-prioritize. Changes go to the prioritizer as asks; reads come from the store.
 * A create passes lib/safety/admission.ts first: a type no live worker runs,
 * an unknown `exec` command or a payload its type's schema refuses is a 400;
 * with no worker alive the task is accepted and the answer says so in `warning`.
 */

import { explainTask } from "../lib/priority.ts";
import { Hono } from "hono";
import { z } from "zod";
import type { ControlPlane } from "../lib/control.ts";
import { NotFoundError } from "../lib/errors.ts";
import type { EnqueueResult } from "../lib/store/types.ts";
import { admitTaskRequests } from "../lib/safety/admission.ts";
import { resourceWaitOf } from "../lib/safety/resource-fit.ts";
import { parseTaskCreate } from "../lib/task-request.ts";
import { type Task, TASK_STATES } from "../lib/tasks.ts";
import { intIn, queryInt, strictObject, validate } from "../lib/validate.ts";
import { askRuntime } from "./ask.ts";
import { readJson } from "./body.ts";

const name = z.string().min(1, { error: "must not be empty" }).max(200, {
  error: "must be at most 200 characters",
});

const listQuery = strictObject({
  state: z.enum(TASK_STATES).optional(),
  queue: name.optional(),
  type: name.optional(),
  limit: queryInt(1, 1_000).optional(),
});

const priorityBody = strictObject({ priority: intIn(0, 9) });

/** Ids are ULIDs; anything else cannot name a task, so it is a 404 without a store round trip. */
const TASK_ID = /^[0-9A-Za-z]{1,64}$/;

async function findTask(control: ControlPlane, id: string): Promise<Task> {
  const task = TASK_ID.test(id) ? await control.store.getTask(id) : null;
  if (!task) throw new NotFoundError("task", id);
  return task;
}

/**
 * Task routes.
 *
 * @example
 * ```ts
 * app.route("/", taskRoutes(control));
 * ```
 */
export function taskRoutes(control: ControlPlane): Hono {
  const app = new Hono();

  app.post("/un/tasks/create", async (c) => {
    const create = parseTaskCreate(await readJson(c));
    const requests = create.batch ? create.requests : [create.request];
    // A type no live worker runs, or a payload its schema refuses, is a 400 here, not a failed task later.
    const { warning } = await admitTaskRequests(requests, control.config, {
      catalog: control.catalog,
    });
    const said = warning ? { warning } : {};
    if (create.batch) {
      const results = await askRuntime<EnqueueResult[]>(
        control,
        (reply) => ({ type: "task.enqueueMany", requests: create.requests, reply }),
      );
      const deduplicated = results.filter((r) => r.deduplicated).map((r) => r.task.id);
      return c.json({ tasks: results.map((r) => r.task), deduplicated, ...said }, 201);
    }
    const result = await askRuntime<EnqueueResult>(
      control,
      (reply) => ({ type: "task.enqueue", request: create.request, reply }),
    );
    // A live task with the same key absorbed the request: 200, like an idempotent PUT.
    if (result.deduplicated) {
      return c.json({ task: result.task, deduplicated: true, ...said }, 200);
    }
    return c.json({ task: result.task, ...said }, 201);
  });

  app.get("/un/tasks", async (c) => {
    const q = validate(listQuery, c.req.query(), "query");
    const tasks = await control.store.listTasks({ ...q, limit: q.limit ?? 100 });
    return c.json({ tasks });
  });

  app.get("/un/tasks/:id", async (c) => {
    const task = await findTask(control, c.req.param("id"));
    // A task no live worker has the resources for says which and how much.
    const wait = await resourceWaitOf(task, control.store, Date.now());
    return c.json({ task: explainTask(task, wait) });
  });

  app.delete("/un/tasks/:id", async (c) => {
    const { id } = await findTask(control, c.req.param("id"));
    const task = await askRuntime<Task>(control, (reply) => ({ type: "task.cancel", id, reply }));
    return c.json({ task });
  });

  app.post("/un/tasks/:id/retry", async (c) => {
    const { id } = await findTask(control, c.req.param("id"));
    const task = await askRuntime<Task>(control, (reply) => ({ type: "task.retry", id, reply }));
    return c.json({ task });
  });

  app.post("/un/tasks/:id/priority", async (c) => {
    const { priority } = validate(priorityBody, await readJson(c), "body");
    const { id } = await findTask(control, c.req.param("id"));
    const task = await askRuntime<Task>(
      control,
      (reply) => ({ type: "task.reprioritize", id, priority, reply }),
    );
    return c.json({ task });
  });

  return app;
}
