/**
 * The store conformance suite: every rule of the `Store` contract
 * (lib/store/types.ts), as behaviour a caller can observe. Each store
 * implementation runs it from its own `*_test.ts`:
 *
 * ```ts
 * runStoreConformance("sqlite", () => openInTempDir(), (store) => closeAndRemove(store));
 * ```
 *
 * One `Deno.test` per area of the contract, one step per rule; every step gets a
 * fresh, empty store from `open()` and hands it to `close()` afterwards, so steps
 * never see each other's data. Cases drive time through `now` (from a fixed
 * epoch, `T0`), never the wall clock.
 */

import type { Store } from "../../lib/store/types.ts";
import { claimCases, leaseCases } from "./conformance/claim-cases.ts";
import { enqueueCases, enqueueManyCases } from "./conformance/enqueue-cases.ts";
import { eventCases, trimCases } from "./conformance/event-cases.ts";
import {
  cancelCases,
  completeCases,
  failCases,
  reprioritizeCases,
  retryCases,
} from "./conformance/finish-cases.ts";
import type { StoreCase } from "./conformance/helpers.ts";
import { coordinationCases, sourceCases } from "./conformance/source-cases.ts";
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
 * Every area of the contract and its cases, in the order they are reported.
 *
 * @example
 * ```ts
 * Object.keys(CONFORMANCE_AREAS); // ["enqueue", "enqueueMany", "claim", ...]
 * ```
 */
export const CONFORMANCE_AREAS: Readonly<Record<string, Record<string, StoreCase>>> = {
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
  "recordRuns and typeStats": statsCases,
  "events": eventCases,
  "trim": trimCases,
  "sources, source state, files": sourceCases,
  "coordination and ping": coordinationCases,
};

/**
 * Gives back a store a case used. It must release everything the store holds
 * (connections, timers, temporary files) and may be called on a store the case
 * already closed. Defaults to `store.close()`.
 *
 * @example
 * ```ts
 * const close: CloseStore = async (store) => {
 *   await store.close();
 *   await Deno.remove(dirOf(store), { recursive: true });
 * };
 * ```
 */
export type CloseStore = (store: Store) => Promise<void>;

/**
 * Registers the conformance suite for one store implementation: one
 * `Deno.test` per area, named `<name> store: <area>`, with one step per rule.
 * `open` must return a fresh, empty store each call (for a shared server, a
 * unique key prefix).
 *
 * @example
 * ```ts
 * runStoreConformance("redis", () => RedisStore.open(url, { prefix: `t:${crypto.randomUUID()}:` }));
 * ```
 */
export function runStoreConformance(
  name: string,
  open: () => Promise<Store>,
  close: CloseStore = (store) => store.close(),
): void {
  for (const [area, cases] of Object.entries(CONFORMANCE_AREAS)) {
    Deno.test(`${name} store: ${area}`, async (t) => {
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
  Deno.test(`${name} store: close`, async () => {
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
