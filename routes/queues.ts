/**
 * Queues, under `/un/queues`: `GET /un/queues`, task counts by queue and
 * state; `POST /un/queues/:name/drain` removes the queue's tasks that wait
 * to run (queued, scheduled, retrying); `POST /un/queues/:name/obliterate`
 * removes every task of it, refused (409) while some run unless `force`,
 * which cancels them first through the normal cancel path.
 */

import { type Context, Hono } from "hono";
import { z } from "zod";
import type { ControlWith } from "../lib/control.ts";
import { ConflictError } from "../lib/errors.ts";
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
      describe("queues", "Task counts by queue and state", {
        200: answer(
          "Counts per queue name",
          z.object({ queues: z.record(z.string(), queueCountsSchema) }),
        ),
      }),
      async (c) => c.json({ queues: await control.store.queueCounts() }),
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
