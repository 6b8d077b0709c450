/**
 * The store conformance suite, split as the store contract is
 * (lib/store/types.ts): one suite per part ({@link TASK_STORE_SUITE},
 * {@link EVENT_STORE_SUITE}, {@link SOURCE_STORE_SUITE}, {@link HOOK_STORE_SUITE},
 * {@link SUBSCRIPTION_STORE_SUITE},
 * {@link COORDINATION_SUITE}, {@link LIFECYCLE_SUITE}), each a set of areas
 * with one case per rule, as behaviour a caller can observe. Each store
 * implementation runs them from its own `store-*.test.ts`:
 *
 * ```ts
 * runStoreConformance("sqlite", () => openInTempDir(), (store) => closeAndRemove(store));
 * runConformanceSuite("sqlite", SOURCE_STORE_SUITE, () => openInTempDir(), closeAndRemove);
 * ```
 *
 * One `Deno.test` per area of a part, one step per rule; every step gets a
 * fresh, empty store from `open()` and hands it to `close()` afterwards, so
 * steps never see each other's data. Cases drive time through `now` (from a
 * fixed epoch, `T0`), never the wall clock.
 */

import type {
  Coordination,
  EventStore,
  HookStore,
  SourceStore,
  Store,
  SubscriptionStore,
  TaskStore,
} from "../../lib/store/types.ts";
import { batchCases } from "./conformance/batch-cases.ts";
import { batchLiveCases } from "./conformance/batch-live-cases.ts";
import { bulkCases } from "./conformance/bulk-cases.ts";
import { claimCases, leaseCases } from "./conformance/claim-cases.ts";
import { coordinationCases } from "./conformance/coordination-cases.ts";
import { enqueueCases, enqueueManyCases } from "./conformance/enqueue-cases.ts";
import { eventCases } from "./conformance/event-cases.ts";
import { findCases } from "./conformance/find-cases.ts";
import { hookCases } from "./conformance/hook-cases.ts";
import {
  cancelCases,
  completeCases,
  failCases,
  reprioritizeCases,
  retryCases,
} from "./conformance/finish-cases.ts";
import type { StoreCase } from "./conformance/helpers.ts";
import { type LifecycleSubject, pingCases, trimCases } from "./conformance/lifecycle-cases.ts";
import { overflowCases } from "./conformance/overflow-cases.ts";
import { queueControlCases } from "./conformance/queue-control-cases.ts";
import { sourceAddCases, sourceCases } from "./conformance/source-cases.ts";
import { subscriptionCases } from "./conformance/subscription-cases.ts";
import {
  deadlineCases,
  expiryCases,
  scheduleCases,
  stalledCases,
} from "./conformance/time-cases.ts";
import { countCases, listCases, statsCases } from "./conformance/view-cases.ts";

export {
  add,
  claimNext,
  cloudEvent,
  explanationFor,
  mustClaim,
  newTask,
  T0,
} from "./conformance/helpers.ts";
export type { StoreCase } from "./conformance/helpers.ts";

/**
 * The conformance suite of one part `S` of the store: its name and its
 * areas, each with its cases by rule, in the order they are reported.
 *
 * @example
 * ```ts
 * Object.keys(TASK_STORE_SUITE.areas); // ["enqueue", "enqueueMany", "claim", ...]
 * ```
 */
export interface ConformanceSuite<S> {
  name: string;
  areas: Readonly<Record<string, Record<string, StoreCase<S>>>>;
}

/** Tasks: their whole life, the views of them, the learned statistics. */
export const TASK_STORE_SUITE: ConformanceSuite<TaskStore> = {
  name: "TaskStore",
  areas: {
    "enqueue": enqueueCases,
    "enqueueMany": enqueueManyCases,
    "claim": claimCases,
    "leases and fencing": leaseCases,
    "complete": completeCases,
    "fail": failCases,
    "cancel": cancelCases,
    "retry": retryCases,
    "reprioritize": reprioritizeCases,
    "promoteDue and nextDueAt": scheduleCases,
    "recoverStalled": stalledCases,
    "expireDue": expiryCases,
    "tasksNearDeadline": deadlineCases,
    "queueCounts": countCases,
    "listTasks": listCases,
    "listTasks: filters and paging": findCases,
    "changeTasks": bulkCases,
    "recordRuns and typeStats": statsCases,
    "queue control: pause and rate limits": queueControlCases,
    "bounded queues: drop policies": overflowCases,
    "batches": batchCases,
    "batches: live count, pulse and settle": batchLiveCases,
  },
};

/** The event log. */
export const EVENT_STORE_SUITE: ConformanceSuite<EventStore> = {
  name: "EventStore",
  areas: { "events": eventCases },
};

/** Source definitions, the atomic add, scanner state, the file index. */
export const SOURCE_STORE_SUITE: ConformanceSuite<SourceStore> = {
  name: "SourceStore",
  areas: {
    "sources, source state, files": sourceCases,
    "atomic add and unparsed definitions": sourceAddCases,
  },
};

/** Hooks added at run time. */
export const HOOK_STORE_SUITE: ConformanceSuite<HookStore> = {
  name: "HookStore",
  areas: { "hooks": hookCases },
};

/** Webhook subscriptions and their delivery task ids. */
export const SUBSCRIPTION_STORE_SUITE: ConformanceSuite<SubscriptionStore> = {
  name: "SubscriptionStore",
  areas: { "subscriptions and deliveries": subscriptionCases },
};

/** Named leases, ticks, the process registry. */
export const COORDINATION_SUITE: ConformanceSuite<Coordination> = {
  name: "Coordination",
  areas: { "leases, ticks and processes": coordinationCases },
};

/** Retention and ping (trim is observed through tasks and events). */
export const LIFECYCLE_SUITE: ConformanceSuite<LifecycleSubject> = {
  name: "StoreLifecycle",
  areas: { "trim": trimCases, "ping": pingCases },
};

/**
 * Gives back a store a case used. It must release everything the store holds
 * (connections, timers, temporary files) and may be called on a store the case
 * already closed.
 *
 * @example
 * ```ts
 * const close: CloseStore<Store> = async (store) => {
 *   await store.close();
 *   await Deno.remove(dirOf(store), { recursive: true });
 * };
 * ```
 */
export type CloseStore<S = Store> = (store: S) => Promise<void>;

/**
 * Registers one part's suite for one store implementation: one `Deno.test`
 * per area, named `<name> <part>: <area>`, with one step per rule. `open`
 * must return a fresh, empty store each call (for a shared server, a unique
 * key prefix); it may be more than the part (a whole `Store`).
 *
 * @example
 * ```ts
 * runConformanceSuite("redis", SOURCE_STORE_SUITE, () => openStore(), closeStore);
 * ```
 */
export function runConformanceSuite<S, T extends S>(
  name: string,
  suite: ConformanceSuite<S>,
  open: () => Promise<T>,
  close: CloseStore<T>,
): void {
  for (const [area, cases] of Object.entries(suite.areas)) {
    Deno.test(`${name} ${suite.name}: ${area}`, async (t) => {
      for (const [rule, body] of Object.entries(cases)) {
        await t.step(rule, async () => {
          const store = await open();
          try {
            await body(store);
          } finally {
            await close(store);
          }
        });
      }
    });
  }
}

/**
 * Registers every part's suite for one store implementation, and the check
 * that a closed store refuses `ping()`. `close` defaults to `store.close()`.
 *
 * @example
 * ```ts
 * runStoreConformance("redis", () => RedisStore.open({ url, prefix: `t:${crypto.randomUUID()}:` }));
 * ```
 */
export function runStoreConformance(
  name: string,
  open: () => Promise<Store>,
  close: CloseStore = (store) => store.close(),
): void {
  runConformanceSuite(name, TASK_STORE_SUITE, open, close);
  runConformanceSuite(name, EVENT_STORE_SUITE, open, close);
  runConformanceSuite(name, SOURCE_STORE_SUITE, open, close);
  runConformanceSuite(name, HOOK_STORE_SUITE, open, close);
  runConformanceSuite(name, SUBSCRIPTION_STORE_SUITE, open, close);
  runConformanceSuite(name, COORDINATION_SUITE, open, close);
  runConformanceSuite(name, LIFECYCLE_SUITE, open, close);
  Deno.test(`${name} StoreLifecycle: close`, async () => {
    const store = await open();
    await store.ping();
    await store.close();
    let refused = false;
    try {
      await store.ping();
    } catch {
      refused = true;
    }
    await close(store);
    if (!refused) throw new Error("ping() must throw once the store is closed");
  });
}
