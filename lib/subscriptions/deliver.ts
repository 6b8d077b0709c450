/**
 * The dispatcher of webhook subscriptions in one process: each event this
 * process makes (events of other processes are delivered where they were
 * made, so each is delivered once across processes) that a subscription's
 * pattern and `where` match becomes an `http` task, which retries with
 * backoff, ends dead after `maxAttempts`, and checks `http.allow` on every
 * hop. An ordered subscription's tasks each depend on the one before, so they
 * run one at a time in event order whatever the retries. Deliveries that end
 * failed count against the subscription; `disableAfter` in a row switch it
 * off, announced as `subscription.disabled`.
 */

import type { EventBus } from "../events/bus.ts";
import { errorText } from "../errors.ts";
import type { CloudEvent, Json } from "../events/cloud-event.ts";
import { compilePattern, type TypeMatcher } from "../events/wildcard.ts";
import { compileExpression, type Expression } from "../expressions/expression.ts";
import type { Logger } from "../log.ts";
import type { TaskRequest } from "../protocol/messages.ts";
import type { StoredSubscription, SubscriptionStore } from "../store/subscription-store.ts";
import { useSecretResolver } from "./secrets.ts";
import { subscriptionEvent, WHERE_VARIABLES } from "./subscriptions.ts";

/** Delivery tasks carry this correlation id prefix: their own events are never delivered. */
export const DELIVERY_CORRELATION = "webhook:";

/** The media type of a CloudEvent in HTTP structured mode. */
export const CLOUDEVENTS_JSON = "application/cloudevents+json";

/** What the dispatcher needs of the runtime. */
export interface DispatchDeps {
  bus: EventBus;
  store: SubscriptionStore;
  /** Creates a task; resolves with its id. */
  enqueue(request: TaskRequest): Promise<string>;
  /** Logs and announces an event. */
  publish(event: CloudEvent): Promise<unknown>;
  /** Consecutive failed deliveries that switch a subscription off. */
  disableAfter: number;
  log: Logger;
}

interface Live {
  subscription: StoredSubscription;
  matches: TypeMatcher;
  where: Expression | null;
}

/** The `http` task request delivering `event` to a subscription. */
export function deliveryRequest(
  subscription: StoredSubscription,
  event: CloudEvent,
  previousTaskId?: string,
): TaskRequest {
  return {
    type: "http",
    payload: {
      url: subscription.url,
      method: "POST",
      headers: { ...subscription.headers, "content-type": CLOUDEVENTS_JSON },
      body: event as unknown as Json,
      webhook: { id: event.id, subscription: subscription.id },
    },
    correlationId: `${DELIVERY_CORRELATION}${subscription.id}`,
    ...(subscription.maxAttempts !== undefined ? { maxAttempts: subscription.maxAttempts } : {}),
    ...(previousTaskId ? { dependsOn: [previousTaskId] } : {}),
  };
}

/**
 * Starts delivering; returns how to stop.
 *
 * @example
 * ```ts
 * const stop = deliverSubscriptions({ bus, store, enqueue, publish, disableAfter: 10, log });
 * ```
 */
export function deliverSubscriptions(deps: DispatchDeps): () => void {
  const { bus, store, log } = deps;
  let live: Live[] = [];
  /** Delivery task id → subscription id, for the tasks this process made. */
  const pending = new Map<string, string>();
  /** Per ordered subscription: the enqueue of its last delivery (its task id). */
  const chains = new Map<string, Promise<string | undefined>>();

  const reload = async () => {
    try {
      live = (await store.listSubscriptions()).filter((s) => s.enabled).map((subscription) => ({
        subscription,
        matches: compilePattern(subscription.pattern),
        where: subscription.where ? compileExpression(subscription.where, WHERE_VARIABLES) : null,
      }));
    } catch (err) {
      log.warn("subscriptions not reloaded", { error: errorText(err) });
    }
  };
  /** The reload under way: events wait for it, in order, so none is matched against a stale list. */
  let loading: Promise<void> | null = null;
  const startReload = () => {
    const current: Promise<void> = (loading ?? Promise.resolve()).then(reload).then(() => {
      if (loading === current) loading = null;
    });
    loading = current;
  };
  startReload();

  const deliver = (entry: Live, event: CloudEvent) => {
    const { subscription } = entry;
    const send = async (previous?: string) => {
      const taskId = await deps.enqueue(deliveryRequest(subscription, event, previous));
      pending.set(taskId, subscription.id);
      await store.addDelivery(subscription.id, taskId);
      return taskId;
    };
    if (!subscription.ordered) {
      return void send().catch((err) =>
        log.warn("delivery not enqueued", { error: errorText(err) })
      );
    }
    const before = chains.get(subscription.id) ?? Promise.resolve(undefined);
    const next = before.then(send).catch((err) => {
      log.warn("delivery not enqueued", { error: errorText(err) });
      return undefined;
    });
    chains.set(subscription.id, next);
  };

  const onEvent = (event: CloudEvent) => {
    if (event.correlationid?.startsWith(DELIVERY_CORRELATION)) return;
    if (event.type.startsWith("subscription.")) return;
    const route = () => {
      for (const entry of live) {
        if (!entry.matches(event.type)) continue;
        if (entry.where && !entry.where.test({ event })) continue;
        deliver(entry, event);
      }
    };
    if (loading) void loading.then(route);
    else route();
  };

  const onOutcome = (event: CloudEvent) => {
    const id = event.subject;
    const subscriptionId = id ? pending.get(id) : undefined;
    if (!id || !subscriptionId) return;
    pending.delete(id);
    void settle(subscriptionId, event.type === "task.succeeded").catch((err) =>
      log.warn("subscription outcome not stored", { error: errorText(err) })
    );
  };

  // One atomic update: a PATCH or another process's outcome in between is kept.
  const settle = async (subscriptionId: string, ok: boolean) => {
    const reason = (failures: number) => `${failures} deliveries in a row failed`;
    const updated = await store.updateSubscription(subscriptionId, (subscription) => {
      if (ok) {
        return subscription.failures === 0
          ? null
          : { ...subscription, failures: 0, updatedAt: Date.now() };
      }
      const failures = subscription.failures + 1;
      const disable = subscription.enabled && failures >= deps.disableAfter;
      return {
        ...subscription,
        failures,
        updatedAt: Date.now(),
        ...(disable ? { enabled: false, disabledReason: reason(failures) } : {}),
      };
    });
    if (updated && updated.before.enabled && !updated.after.enabled) {
      const { after } = updated;
      await deps.publish(subscriptionEvent("disabled", after, reason(after.failures)));
    }
  };

  const stops = [
    // Deliveries sign with the secret as stored now (the live list first: no read per attempt).
    useSecretResolver(async (id) =>
      live.find((l) => l.subscription.id === id)?.subscription.secret ??
        (await store.getSubscription(id))?.secret ?? null
    ),
    bus.subscribe("**", onEvent, "subscriptions", { remote: false }),
    bus.subscribe("subscription.*", startReload, "subscriptions-reload"),
    bus.subscribe("task.succeeded", onOutcome, "subscriptions-outcome"),
    bus.subscribe("task.failed", onOutcome, "subscriptions-outcome"),
    bus.subscribe("task.dead", onOutcome, "subscriptions-outcome"),
  ];
  return () => {
    for (const stop of stops) stop();
  };
}
