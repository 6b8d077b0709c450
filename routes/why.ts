/**
 * `GET /un/tasks/:id/why`: why a task waits (lib/tasks/why.ts): its place in
 * its queue's line and how many are ahead at each priority, its sort key in
 * words, the rules that matched, what holds it, and when it may start.
 * Mounted under `/un/tasks` beside the task routes.
 */

import { Hono } from "hono";
import { z } from "zod";
import type { ControlPlane } from "../lib/control.ts";
import { NotFoundError } from "../lib/errors.ts";
import { ask } from "../lib/protocol/ask.ts";
import type { ResourceUse } from "../lib/tasks/resources.ts";
import { whyWaiting } from "../lib/tasks/why.ts";
import { TASK_STATES } from "../lib/tasks/task.ts";
import { answer, describe, problems } from "./describe.ts";
import { params } from "./validator.ts";

/** Ids are ULIDs; anything else cannot name a task (404 without a store read). */
const TASK_ID = /^[0-9A-Za-z]{1,64}$/;

const taskId = params(z.object({ id: z.string().describe("the task's id (a ULID)") }));

const holdSchema = z.object({
  kind: z.enum([
    "dependencies",
    "scheduled",
    "retrying",
    "paused",
    "rateLimited",
    "resources",
    "noProcess",
  ]),
  message: z.string(),
  until: z.number().int().optional().describe("when it lifts by itself (epoch ms)"),
  dependencies: z.array(
    z.object({ id: z.string(), type: z.string().nullable(), state: z.string() }),
  ).optional(),
  resources: z.array(z.object({ resource: z.string(), needs: z.number(), most: z.number() }))
    .optional(),
});

const whySchema = z.object({
  task: z.object({
    id: z.string(),
    type: z.string(),
    queue: z.string(),
    state: z.enum(TASK_STATES),
    priority: z.number().int(),
    sortKey: z.number(),
  }),
  summary: z.string(),
  position: z.object({
    place: z.number().int().describe("1: the next to start"),
    ahead: z.number().int(),
    aheadByPriority: z.record(z.string(), z.number().int()),
    partial: z.boolean().optional(),
  }).nullable(),
  sortKey: z.object({ formula: z.string(), terms: z.array(z.string()) }),
  urgency: z.object({ deadline: z.number(), inMs: z.number(), urgencyMs: z.number() })
    .nullable(),
  rules: z.array(z.object({ name: z.string(), levels: z.number() })),
  holds: z.array(holdSchema),
  estimate: z.object({ startAt: z.number(), inMs: z.number(), basis: z.string() }).nullable(),
});

/** This process's pool resources, or null without a pool (`--role api`) or when it does not answer. */
async function localResources(
  control: ControlPlane,
): Promise<Record<string, ResourceUse> | null> {
  try {
    return (await ask(control, "workers.info", {})).resources;
  } catch {
    return null;
  }
}

/**
 * The "why" route, relative to `/un/tasks`.
 */
export function whyRoutes(control: ControlPlane) {
  return new Hono().get(
    "/:id/why",
    describe("tasks", "Why a task waits: place in line, sort key in words, holds, estimate", {
      200: answer("The explanation", z.object({ why: whySchema })),
      ...problems(404),
    }),
    taskId,
    async (c) => {
      const { id } = c.req.valid("param");
      const why = TASK_ID.test(id)
        ? await whyWaiting(id, {
          store: control.store,
          now: Date.now(),
          localResources: await localResources(control),
        })
        : null;
      if (why === null) throw new NotFoundError("task", id);
      return c.json({ why });
    },
  );
}
