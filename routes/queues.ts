/**
 * Queues, under `/un/queues`: `GET /un/queues`, task counts by queue and
 * state, and which queues are paused or rate limited; `POST /un/queues/:name/pause|resume`
 * stops and restarts claims from a queue (running tasks finish) and publishes
 * `queue.paused`/`queue.resumed`; `POST /un/queues/:name/drain` removes the queue's tasks that wait
 * to run (queued, scheduled, retrying); `POST /un/queues/:name/obliterate`
 * removes every task of it, refused (409) while some run unless `force`,
 * which cancels them first through the normal cancel path.
 */

import { type Context, Hono } from "hono";
import { z } from "zod";
import type { ControlWith } from "../lib/control.ts";
import { ConflictError } from "../lib/errors.ts";
import { createEvent } from "../lib/events/cloud-event.ts";
import { ask } from "../lib/protocol/ask.ts";
import { API_EVENT_SOURCE } from "../lib/sources/manage.ts";
import type { TaskStore } from "../lib/store/types.ts";
import { type BulkReport, runBulk } from "../lib/tasks/bulk.ts";
import { strictObject } from "../lib/validate.ts";
import { readJson } from "./body.ts";
import { bulkDeps } from "./bulk.ts";
import { answer, describe, problems } from "./describe.ts";
import { queueCountsSchema } from "./schemas.ts";
import { jsonBody, params } from "./validator.ts";

const queueName = params(z.object({
  name: z.string().min(1).max(200).describe("the queue's name"),
}));

const obliterateBody = strictObject({
  force: z.boolean().optional().describe("cancel running tasks instead of refusing"),
});

const reportSchema = z.object({
  matched: z.number().int(),
  changed: z.number().int(),
});

const controlSchema = z.object({
  paused: z.boolean().describe("no task of the queue is claimed (running ones finish)"),
  rateLimit: z.object({
    max: z.number().int(),
    perMs: z.number().int(),
    by: z.string().optional().describe("the group key template of a limit per group"),
    count: z.number().int().describe("tasks started in the current window (of every group)"),
    until: z.number().int().describe("when the current window ends (epoch ms)"),
  }).optional(),
}).meta({ id: "QueueControl" });

const pauseAnswer = z.object({
  queue: z.string(),
  paused: z.boolean(),
  changed: z.boolean().describe("false when the queue already was so"),
});

/** The pause state and rate limit of every queue that has either. */
async function queueControl(store: TaskStore, now: number) {
  const [paused, limits] = await Promise.all([store.pausedQueues(), store.rateLimitUsage(now)]);
  const out: Record<string, z.output<typeof controlSchema>> = {};
  for (const queue of paused) out[queue] = { paused: true };
  for (const [queue, rateLimit] of Object.entries(limits)) {
    out[queue] = { paused: out[queue]?.paused ?? false, rateLimit };
  }
  return out;
}

/** Pauses or resumes; publishes `queue.paused|resumed` when that changed the queue. */
async function setPaused(control: ControlWith<TaskStore>, queue: string, paused: boolean) {
  const changed = await control.store.setQueuePaused(queue, paused);
  if (changed) {
    const event = createEvent({
      type: paused ? "queue.paused" : "queue.resumed",
      source: API_EVENT_SOURCE,
      subject: queue,
      data: { queue },
    });
    await ask(control, "event.publish", { event });
  }
  return { queue, paused, changed };
}

/** States whose tasks a drain removes: those waiting to run. */
const WAITING_TO_RUN = ["queued", "scheduled", "retrying"] as const;

function add(total: BulkReport, more: BulkReport): BulkReport {
  return { matched: total.matched + more.matched, changed: total.changed + more.changed };
}

/**
 * Queue routes, relative to `/un/queues`.
 */
export function queueRoutes(control: ControlWith<TaskStore>) {
  const deps = () => bulkDeps(control);
  return new Hono()
    .get(
      "/",
      describe("queues", "Task counts by queue and state; paused and rate-limited queues", {
        200: answer(
          "Counts per queue name, and the state of each paused or limited queue",
          z.object({
            queues: z.record(z.string(), queueCountsSchema),
            control: z.record(z.string(), controlSchema),
          }),
        ),
      }),
      async (c) => {
        const [queues, state] = await Promise.all([
          control.store.queueCounts(),
          queueControl(control.store, Date.now()),
        ]);
        return c.json({ queues, control: state });
      },
    )
    .post(
      "/:name/pause",
      describe("queues", "Pause the queue: none of its tasks is claimed until it is resumed", {
        200: answer("The queue's state", pauseAnswer),
        ...problems(400, 503),
      }),
      queueName,
      async (c) => c.json(await setPaused(control, c.req.valid("param").name, true)),
    )
    .post(
      "/:name/resume",
      describe("queues", "Resume a paused queue", {
        200: answer("The queue's state", pauseAnswer),
        ...problems(400, 503),
      }),
      queueName,
      async (c) => c.json(await setPaused(control, c.req.valid("param").name, false)),
    )
    .post(
      "/:name/drain",
      describe(
        "queues",
        "Remove the queue's tasks that wait to run (queued, scheduled, retrying)",
        {
          200: answer("How many tasks matched and were removed", reportSchema),
          ...problems(400, 503),
        },
      ),
      queueName,
      async (c) => {
        const queue = c.req.valid("param").name;
        let report: BulkReport = { matched: 0, changed: 0 };
        for (const state of WAITING_TO_RUN) {
          report = add(
            report,
            await runBulk(deps(), { action: "delete", filter: { queue, state } }),
          );
        }
        return c.json(report);
      },
    )
    .post(
      "/:name/obliterate",
      describe("queues", "Remove every task of the queue; refused while some run, unless `force`", {
        200: answer("How many tasks matched and were removed", reportSchema),
        ...problems(400, 409, 503),
      }),
      queueName,
      jsonBody(obliterateBody, { read: readOptionalJson }),
      async (c) => {
        const queue = c.req.valid("param").name;
        const { force } = c.req.valid("json");
        const running = (await control.store.queueCounts())[queue]?.running ?? 0;
        if (running > 0 && !force) {
          throw new ConflictError(
            `queue ${queue} has ${running} running task(s); send {"force": true} to cancel them and remove everything`,
            { queue, running },
          );
        }
        if (force) await runBulk(deps(), { action: "cancel", filter: { queue, state: "running" } });
        return c.json(await runBulk(deps(), { action: "delete", filter: { queue } }));
      },
    );
}

/** The body is optional: none means `{}`. */
async function readOptionalJson(c: Context): Promise<unknown> {
  return (await c.req.text()).trim() === "" ? {} : await readJson(c);
}
