/**
 * Schedules, under `/un/schedules`: cron and interval schedules managed at
 * run time.
 *
 * - `GET /un/schedules` → `{ schedules }`: the config file's (`origin:
 *   "config"`, read-only but pausable) then those added at run time (`origin:
 *   "api"`), each with its next fire times and its last run (with its task id).
 * - `POST /un/schedules` `{ id, cron | every, task, payload?, queue?,
 *   priority?, timezone?, catchUp?, catchUpMax? }` → 201 `{ schedule }`:
 *   validated like `scheduler.schedules[]` (400 naming the field, or a task
 *   type no live worker runs), an id that exists → 409; then `schedule.created`.
 * - `GET /un/schedules/:id`; `PATCH /un/schedules/:id` (keys to change,
 *   `null` resets one) → `schedule.updated`; `DELETE` → `schedule.deleted`.
 *   A config-file schedule answers 409 to both.
 * - `POST /un/schedules/:id/pause|resume` → `schedule.paused|resumed`;
 *   `POST /un/schedules/:id/trigger` → 201 `{ schedule, task }`: one task now,
 *   recorded as the schedule's last run, and `schedule.triggered`.
 *
 * The store side is lib/schedules/manage.ts. The scheduler of every process
 * reads the schedules from the store each tick, so a change applies within
 * one tick everywhere; one fire per occurrence across processes, as for
 * config schedules.
 */

import { Hono } from "hono";
import { z } from "zod";
import { scheduleSchema } from "../lib/config/schema.ts";
import type { ControlWith } from "../lib/control.ts";
import type { CloudEvent, Json } from "../lib/events/cloud-event.ts";
import { checkTaskType } from "../lib/hooks/manage.ts";
import { ValidationError } from "../lib/errors.ts";
import { ask } from "../lib/protocol/ask.ts";
import {
  addSchedule,
  listActive,
  mustGetSchedule,
  parseSchedule,
  removeSchedule,
  scheduleEvent,
  type ScheduleView,
  setSchedulePaused,
  updateSchedule,
  viewSchedule,
} from "../lib/schedules/manage.ts";
import type { ScheduleStore, StoredSchedule } from "../lib/store/types.ts";
import { answer, describe, problems } from "./describe.ts";
import { taskSchema } from "./schemas.ts";
import { jsonBody, params } from "./validator.ts";

export type { ScheduleView };

/** What the schedule routes use of the runtime: the control plane, and of the store its schedules. */
type SchedulesControl = ControlWith<ScheduleStore>;

const runSchema = z.object({
  tick: z.number().int().describe("the occurrence (epoch ms); for a trigger, when it was asked"),
  at: z.number().int().describe("when it fired"),
  taskId: z.string().nullable().describe("the task it made (null until created)"),
  by: z.enum(["schedule", "trigger"]),
});

/** A schedule as the API shows it. */
const scheduleViewSchema = z.object({
  id: z.string(),
  origin: z.enum(["config", "api"]).describe("`config`: read-only here, but pausable"),
  paused: z.boolean(),
  spec: z.record(z.string(), z.unknown()).nullable().describe(
    "the definition, as `scheduler.schedules[]` takes it (null when it no longer parses)",
  ),
  error: z.string().optional().describe("why a stored definition no longer parses"),
  createdAt: z.number().int(),
  updatedAt: z.number().int(),
  nextRuns: z.array(z.number().int()).describe("the next fire times (epoch ms)"),
  lastRun: runSchema.nullable(),
});

const scheduleAnswer = z.object({ schedule: scheduleViewSchema });
const changedAnswer = scheduleAnswer.extend({ changed: z.boolean() });

const scheduleId = params(z.object({ id: z.string().describe("the schedule's id") }));

const patchBody = jsonBody(
  z.record(z.string(), z.unknown()).describe(
    'keys to change, e.g. `{"every": "5m"}` or `{"catchUp": "one"}`; `null` resets a key',
  ),
);

/** Logs the event and delivers it on the bus; resolves once it is logged. */
function publish(control: SchedulesControl, event: CloudEvent): Promise<CloudEvent> {
  return ask(control, "event.publish", { event });
}

/**
 * Schedule routes, relative to `/un/schedules`.
 */
export function scheduleRoutes(control: SchedulesControl) {
  const store = control.store;
  const config = () => control.config.scheduler.schedules;
  const view = async (schedule: StoredSchedule) =>
    viewSchedule(schedule, (await store.scheduleRuns())[schedule.id], Date.now());
  const pause = async (id: string, paused: boolean) => {
    const { schedule, changed } = await setSchedulePaused(store, config(), id, paused, Date.now());
    if (changed) await publish(control, scheduleEvent(paused ? "paused" : "resumed", schedule));
    return { schedule: await view(schedule), changed };
  };
  return new Hono()
    .get(
      "/",
      describe("schedules", "List the schedules with their next fire times and last runs", {
        200: answer("The schedules", z.object({ schedules: z.array(scheduleViewSchema) })),
      }),
      async (c) => {
        const [active, runs] = await Promise.all([
          listActive(store, config()),
          store.scheduleRuns(),
        ]);
        const now = Date.now();
        return c.json({ schedules: active.map((s) => viewSchedule(s, runs[s.id], now)) });
      },
    )
    .post(
      "/",
      describe("schedules", "Add a schedule at run time", {
        201: answer("The stored schedule", scheduleAnswer),
        ...problems(400, 409, 413, 503),
      }, {
        description: "Validated like `scheduler.schedules[]`; fires within one tick of each " +
          "occurrence, once across processes. `catchUp` says what happens to occurrences " +
          "missed while no process ran.",
      }),
      jsonBody(scheduleSchema, { parse: parseSchedule }),
      async (c) => {
        const spec = c.req.valid("json");
        await checkTaskType(control.catalog, spec.task);
        const schedule = await addSchedule(store, config(), spec, Date.now());
        await publish(control, scheduleEvent("created", schedule));
        return c.json({ schedule: await view(schedule) }, 201);
      },
    )
    .get(
      "/:id",
      describe("schedules", "One schedule", {
        200: answer("The schedule", scheduleAnswer),
        ...problems(404),
      }),
      scheduleId,
      async (c) => {
        const schedule = await mustGetSchedule(store, config(), c.req.valid("param").id);
        return c.json({ schedule: await view(schedule) });
      },
    )
    .patch(
      "/:id",
      describe("schedules", "Change a schedule's keys", {
        200: answer("The changed schedule", scheduleAnswer),
        ...problems(400, 404, 409, 503),
      }, {
        description: "Merged over the stored definition and validated like an add; " +
          "a config-file schedule is read-only (409).",
      }),
      scheduleId,
      patchBody,
      async (c) => {
        const id = c.req.valid("param").id;
        const patch = c.req.valid("json");
        const { previous, current } = await updateSchedule(store, config(), id, patch, Date.now());
        if (current.spec) await checkTaskType(control.catalog, current.spec.task);
        await publish(
          control,
          scheduleEvent("updated", current, { previous: previous.spec as unknown as Json }),
        );
        return c.json({ schedule: await view(current) });
      },
    )
    .delete(
      "/:id",
      describe("schedules", "Remove a schedule", {
        200: answer("The removed schedule", scheduleAnswer.extend({ deleted: z.literal(true) })),
        ...problems(404, 409, 503),
      }),
      scheduleId,
      async (c) => {
        const schedule = await removeSchedule(store, config(), c.req.valid("param").id);
        await publish(control, scheduleEvent("deleted", schedule));
        const shown = viewSchedule(schedule, undefined, Date.now());
        return c.json({ schedule: { ...shown, nextRuns: [] }, deleted: true as const });
      },
    )
    .post(
      "/:id/pause",
      describe("schedules", "Pause a schedule (a config-file one too)", {
        200: answer("The schedule, and whether it changed", changedAnswer),
        ...problems(404, 503),
      }),
      scheduleId,
      async (c) => c.json(await pause(c.req.valid("param").id, true)),
    )
    .post(
      "/:id/resume",
      describe("schedules", "Resume a paused schedule", {
        200: answer("The schedule, and whether it changed", changedAnswer),
        ...problems(404, 503),
      }, {
        description: "Occurrences of the pause are not caught up: it fires from the next one.",
      }),
      scheduleId,
      async (c) => c.json(await pause(c.req.valid("param").id, false)),
    )
    .post(
      "/:id/trigger",
      describe("schedules", "Fire a schedule once now", {
        201: answer("The schedule and the task made", scheduleAnswer.extend({ task: taskSchema })),
        ...problems(404, 409, 503),
      }, {
        description: "Makes its task now, paused or not, and records it as its last run.",
      }),
      scheduleId,
      async (c) => {
        const schedule = await mustGetSchedule(store, config(), c.req.valid("param").id);
        const spec = schedule.spec;
        if (!spec) {
          throw new ValidationError(
            `schedule ${schedule.id}: ${schedule.error ?? "no definition"}`,
          );
        }
        const now = Date.now();
        const { task } = await ask(control, "task.enqueue", {
          request: {
            type: spec.task,
            payload: { ...spec.payload, schedule: spec.id, tick: now, triggered: true } as Json,
            queue: spec.queue,
            priority: spec.priority,
            correlationId: `schedule:${spec.id}:trigger:${now}`,
          },
        });
        await store.recordScheduleRun(spec.id, {
          tick: now,
          at: now,
          taskId: task.id,
          by: "trigger",
        });
        await publish(control, scheduleEvent("triggered", schedule, { task: task.id }));
        return c.json({ schedule: await view(schedule), task }, 201);
      },
    );
}
