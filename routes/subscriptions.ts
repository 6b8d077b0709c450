/**
 * Outbound webhook subscriptions: `POST /un/events/subscribe` (mounted under
 * `/un/events`), and `GET/PATCH/DELETE /un/subscriptions[/:id]` with `GET
 * /un/subscriptions/:id/deliveries` (under `/un/subscriptions`). The logic is
 * in lib/subscriptions; delivery runs in every process (lib/subscriptions/deliver.ts).
 */

import { Hono } from "hono";
import { z } from "zod";
import type { ControlWith } from "../lib/control.ts";
import type { CloudEvent } from "../lib/events/cloud-event.ts";
import { NotFoundError } from "../lib/errors.ts";
import { ask } from "../lib/protocol/ask.ts";
import type { SubscriptionStore, TaskStore } from "../lib/store/types.ts";
import {
  checkSubscriptionPatch,
  newSubscription,
  patchEvents,
  patchSubscription,
  patchSubscriptionBody,
  subscribeBody,
  subscriptionEvent,
  viewSubscription,
} from "../lib/subscriptions/subscriptions.ts";
import { queryInt } from "../lib/validate.ts";
import { answer, describe, problems } from "./describe.ts";
import { jsonBody, params, query } from "./validator.ts";

type SubscriptionsControl = ControlWith<SubscriptionStore & TaskStore>;

const view = z.object({
  id: z.string(),
  pattern: z.string(),
  url: z.string(),
  headers: z.record(z.string(), z.string()),
  where: z.string().optional(),
  ordered: z.boolean(),
  maxAttempts: z.number().optional(),
  enabled: z.boolean(),
  failures: z.number(),
  disabledReason: z.string().optional(),
  createdAt: z.number(),
  updatedAt: z.number(),
});

const delivery = z.object({
  taskId: z.string(),
  state: z.string().nullable(),
  attempts: z.number().nullable(),
  lastError: z.string().nullable(),
  createdAt: z.number().nullable(),
  finishedAt: z.number().nullable(),
});

const subscriptionId = params(z.object({ id: z.string().describe("the subscription's id") }));
const deliveriesQuery = z.object({ limit: queryInt(1, 1000).optional() });

function publish(control: SubscriptionsControl, event: CloudEvent): Promise<CloudEvent> {
  return ask(control, "event.publish", { event });
}

async function mustGet(control: SubscriptionsControl, id: string) {
  const subscription = await control.store.getSubscription(id);
  if (!subscription) throw new NotFoundError("subscription", id);
  return subscription;
}

/** `POST /subscribe`, mounted under `/un/events`. */
export function subscribeRoutes(control: SubscriptionsControl) {
  return new Hono().post(
    "/subscribe",
    describe("subscriptions", "Deliver matching events to a URL (a webhook)", {
      201: answer(
        "The subscription, with its secret (shown this once)",
        z.object({ subscription: view.extend({ secret: z.string() }) }),
      ),
      ...problems(400, 413, 503),
    }, {
      description: "Each matching event is POSTed as a CloudEvent (structured mode) by an " +
        "`http` task, signed Standard-Webhooks style; the URL must be allowed by `http.allow`.",
    }),
    jsonBody(subscribeBody),
    async (c) => {
      const subscription = await newSubscription(
        c.req.valid("json"),
        control.config.http.allow,
        Date.now(),
      );
      await control.store.putSubscription(subscription);
      await publish(control, subscriptionEvent("created", subscription));
      return c.json({
        subscription: { ...viewSubscription(subscription), secret: subscription.secret },
      }, 201);
    },
  );
}

/** `GET/PATCH/DELETE /un/subscriptions[/:id]` and `/:id/deliveries`. */
export function subscriptionRoutes(control: SubscriptionsControl) {
  const store = control.store;
  return new Hono()
    .get(
      "/",
      describe("subscriptions", "List webhook subscriptions", {
        200: answer("Every subscription, oldest first", z.object({ subscriptions: z.array(view) })),
        ...problems(503),
      }),
      async (c) => {
        const all = await store.listSubscriptions();
        return c.json({ subscriptions: all.map(viewSubscription) });
      },
    )
    .get(
      "/:id",
      describe("subscriptions", "One webhook subscription", {
        200: answer("The subscription", z.object({ subscription: view })),
        ...problems(404, 503),
      }),
      subscriptionId,
      async (c) => {
        const subscription = await mustGet(control, c.req.valid("param").id);
        return c.json({ subscription: viewSubscription(subscription) });
      },
    )
    .get(
      "/:id/deliveries",
      describe("subscriptions", "A subscription's deliveries, newest first", {
        200: answer(
          "Each delivery task's state, attempts and last error",
          z.object({
            deliveries: z.array(delivery),
          }),
        ),
        ...problems(400, 404, 503),
      }),
      subscriptionId,
      query(deliveriesQuery),
      async (c) => {
        const id = c.req.valid("param").id;
        await mustGet(control, id);
        const ids = await store.listDeliveries(id, c.req.valid("query").limit ?? 100);
        const deliveries = await Promise.all(ids.map(async (taskId) => {
          const task = await store.getTask(taskId);
          return {
            taskId,
            state: task?.state ?? null,
            attempts: task?.attempts ?? null,
            lastError: task?.error?.message ?? null,
            createdAt: task?.createdAt ?? null,
            finishedAt: task?.finishedAt ?? null,
          };
        }));
        return c.json({ deliveries });
      },
    )
    .patch(
      "/:id",
      describe("subscriptions", "Change a webhook subscription, or switch it on or off", {
        200: answer("The changed subscription (no secret)", z.object({ subscription: view })),
        ...problems(400, 404, 409, 413, 503),
      }, {
        description: "Any field of a subscribe, checked the same way (the URL against " +
          "`http.allow`); `null` removes `where` or `maxAttempts`. `enabled: true` switches an " +
          "auto-disabled subscription back on and clears its failures in a row. Publishes " +
          "`subscription.updated`, and `subscription.enabled|disabled` when it switched.",
      }),
      subscriptionId,
      jsonBody(patchSubscriptionBody),
      async (c) => {
        const id = c.req.valid("param").id;
        const patch = c.req.valid("json");
        await mustGet(control, id); // 404 before the checks (the URL's may resolve a name)
        await checkSubscriptionPatch(patch, control.config.http.allow);
        const now = Date.now();
        const updated = await store.updateSubscription(id, (s) => patchSubscription(s, patch, now));
        if (!updated) throw new NotFoundError("subscription", id);
        for (const event of patchEvents(updated.before, updated.after)) {
          await publish(control, event);
        }
        return c.json({ subscription: viewSubscription(updated.after) });
      },
    )
    .delete(
      "/:id",
      describe("subscriptions", "Remove a webhook subscription", {
        200: answer(
          "The removed subscription",
          z.object({ subscription: view, deleted: z.literal(true) }),
        ),
        ...problems(404, 503),
      }),
      subscriptionId,
      async (c) => {
        const subscription = await mustGet(control, c.req.valid("param").id);
        if (!await store.deleteSubscription(subscription.id)) {
          throw new NotFoundError("subscription", subscription.id);
        }
        await publish(control, subscriptionEvent("deleted", subscription));
        return c.json({ subscription: viewSubscription(subscription), deleted: true as const });
      },
    );
}
