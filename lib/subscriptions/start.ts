/**
 * Starts a process's webhook dispatcher from what a runtime has: its bus,
 * store, config and log, and the supervisor to ask (task creates, event
 * publishes). Kept here so the composition root needs one line for it.
 */

import type { Config } from "../config/load.ts";
import type { EventBus } from "../events/bus.ts";
import type { Logger } from "../log.ts";
import { ask, type AskMessageOf } from "../protocol/ask.ts";
import type { SubscriptionStore } from "../store/subscription-store.ts";
import { deliverSubscriptions } from "./deliver.ts";

/** What {@link startSubscriptions} needs of a runtime. */
export interface SubscriptionHost {
  readonly bus: EventBus;
  readonly store: SubscriptionStore;
  readonly config: Config;
  readonly log: Logger;
  send(message: AskMessageOf<"task.enqueue"> | AskMessageOf<"event.publish">): void;
}

/** Starts delivering this process's events to the subscriptions; returns how to stop. */
export function startSubscriptions(host: SubscriptionHost): () => void {
  return deliverSubscriptions({
    bus: host.bus,
    store: host.store,
    enqueue: async (request) => (await ask(host, "task.enqueue", { request })).task.id,
    publish: (event) => ask(host, "event.publish", { event }),
    disableAfter: host.config.http.disableAfter,
    log: host.log.child("subscriptions"),
  });
}
