/**
 * Hooks, under `/un/hooks`: the reactions "when an event matches, make a
 * task", managed at run time.
 *
 * - `GET /un/hooks` → `{ hooks }`: the config file's (`origin: "config"`,
 *   ids `config-<n>`, read-only) then the ones added at run time (`origin: "api"`).
 * - `POST /un/hooks` `{ on, task, payload?, priority?, queue?, delayMs?, key?,
 *   maxAttempts?, timeoutMs?, where?, sample?, enabled? }` → 201 `{ hook }`:
 *   400 naming the field, the `where` that does not compile, or a task type
 *   no live worker runs; then `hook.created`.
 * - `GET /un/hooks/:id` → `{ hook }`; `PATCH /un/hooks/:id` (keys to change,
 *   `null` removes one) → `{ hook }` and `hook.updated`; `DELETE` →
 *   `hook.deleted`. A config-file hook answers 409 to a change.
 *
 * The store side is lib/hooks/manage.ts; every process recompiles its hooks on
 * the `hook.*` events (lib/hooks/follow.ts), so a change applies to the next
 * event without a restart.
 */

import { Hono } from "hono";
import { z } from "zod";
import type { ControlWith } from "../lib/control.ts";
import type { CloudEvent } from "../lib/events/cloud-event.ts";
import {
  addHook,
  configHookViews,
  hookEvent,
  type HookView,
  mustGetHook,
  updateHook,
  viewHook,
} from "../lib/hooks/manage.ts";
import { apiHookSchema, parseHookSpec } from "../lib/hooks/spec.ts";
import { ask } from "../lib/protocol/ask.ts";
import type { HookStore } from "../lib/store/types.ts";
import { answer, describe, problems } from "./describe.ts";
import { jsonBody, params } from "./validator.ts";

export type { HookView };

/** What the hook routes use of the runtime: the control plane, and of the store its hooks. */
type HooksControl = ControlWith<HookStore>;

/** A hook as listed: its definition's keys with `id`, `enabled`, `origin` and times. */
const hookViewSchema = apiHookSchema.extend({
  id: z.string().describe("`config-<n>` for a config-file hook"),
  origin: z.enum(["config", "api"]).describe("`config`: read-only here"),
  createdAt: z.number().int().nullable(),
  updatedAt: z.number().int().nullable(),
  error: z.string().optional().describe("why a stored definition no longer parses"),
}).loose();

const hookAnswer = z.object({ hook: hookViewSchema });

const hookId = params(z.object({ id: z.string().describe("the hook's id") }));

const patchBody = jsonBody(
  z.record(z.string(), z.unknown()).describe(
    'keys to change, e.g. `{"where": "data.size > 1000"}` or `{"enabled": false}`; `null` removes a key',
  ),
);

/** Logs the event and delivers it on the bus; resolves once it is logged. */
/**
 * Publishes a `hook.*` event and resolves once this process routes with the
 * change, so the next event after the answer meets it here.
 */
async function publish(control: HooksControl, event: CloudEvent): Promise<CloudEvent> {
  const published = await ask(control, "event.publish", { event });
  await control.hooksApplied();
  return published;
}

/**
 * Hook routes, relative to `/un/hooks`.
 */
export function hookRoutes(control: HooksControl) {
  const store = control.store;
  const configHooks = () => control.config.hooks.length;
  return new Hono()
    .get(
      "/",
      describe("hooks", "List the hooks: the config file's, then those added at run time", {
        200: answer("The hooks", z.object({ hooks: z.array(hookViewSchema) })),
      }),
      async (c) => {
        const stored = await store.listHooks();
        const hooks: HookView[] = [
          ...configHookViews(control.config.hooks),
          ...stored.map(viewHook),
        ];
        return c.json({ hooks });
      },
    )
    .post(
      "/",
      describe("hooks", "Add a hook at run time", {
        201: answer("The stored hook", hookAnswer),
        ...problems(400, 413, 503),
      }, {
        description: "Applies to the next matching event, in every process. `where` is a CEL " +
          "condition on the event; `sample: {every: n}` fires on every n-th matching event. " +
          "A task type no live worker runs is refused (400).",
      }),
      jsonBody(apiHookSchema, { parse: parseHookSpec }),
      async (c) => {
        const hook = await addHook(store, control.catalog, c.req.valid("json"), Date.now());
        await publish(control, hookEvent("created", hook));
        return c.json({ hook: viewHook(hook) }, 201);
      },
    )
    .get(
      "/:id",
      describe("hooks", "One hook", {
        200: answer("The hook", hookAnswer),
        ...problems(404),
      }),
      hookId,
      async (c) => {
        const id = c.req.valid("param").id;
        const fromConfig = configHookViews(control.config.hooks).find((h) => h.id === id);
        if (fromConfig) return c.json({ hook: fromConfig });
        return c.json({ hook: viewHook(await mustGetHook(store, id, 0)) });
      },
    )
    .patch(
      "/:id",
      describe("hooks", "Change a hook's keys", {
        200: answer("The changed hook", hookAnswer),
        ...problems(400, 404, 409, 503),
      }, {
        description: "Merged over the stored definition and validated like an add; " +
          "a config-file hook is read-only (409).",
      }),
      hookId,
      patchBody,
      async (c) => {
        const { previous, current } = await updateHook(
          store,
          control.catalog,
          c.req.valid("param").id,
          c.req.valid("json"),
          Date.now(),
          configHooks(),
        );
        await publish(control, hookEvent("updated", current, previous));
        return c.json({ hook: viewHook(current) });
      },
    )
    .delete(
      "/:id",
      describe("hooks", "Remove a hook", {
        200: answer("The removed hook", hookAnswer.extend({ deleted: z.literal(true) })),
        ...problems(404, 409, 503),
      }),
      hookId,
      async (c) => {
        const hook = await mustGetHook(store, c.req.valid("param").id, configHooks());
        await store.deleteHook(hook.id);
        await publish(control, hookEvent("deleted", hook));
        return c.json({ hook: viewHook(hook), deleted: true as const });
      },
    );
}
