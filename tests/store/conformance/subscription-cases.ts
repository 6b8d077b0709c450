/**
 * Conformance of the `SubscriptionStore`: webhook subscriptions stored as
 * given, listed oldest first, replaced by id, removed with their delivery
 * list; delivery task ids listed newest first, per subscription.
 */

import assert from "node:assert/strict";
import type { StoredSubscription, SubscriptionStore } from "../../../lib/store/types.ts";
import { type StoreCase, T0 } from "./helpers.ts";

function subscription(
  id: string,
  createdAt: number,
  overrides: Partial<StoredSubscription> = {},
): StoredSubscription {
  return {
    id,
    pattern: "file.*",
    url: "https://hooks.example.com/un",
    secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    headers: {},
    ordered: false,
    enabled: true,
    failures: 0,
    createdAt,
    updatedAt: createdAt,
    ...overrides,
  };
}

/** Cases of subscriptions and their deliveries. */
export const subscriptionCases: Record<string, StoreCase<SubscriptionStore>> = {
  "an empty store lists no subscriptions and gets none": async (store) => {
    assert.deepEqual(await store.listSubscriptions(), []);
    assert.equal(await store.getSubscription("sub_none"), null);
    assert.equal(await store.deleteSubscription("sub_none"), false);
    assert.deepEqual(await store.listDeliveries("sub_none", 10), []);
  },
  "a stored subscription reads back as given": async (store) => {
    const stored = subscription("sub_a", T0, {
      where: 'event.subject.endsWith(".md")',
      headers: { "x-team": "docs" },
      ordered: true,
      maxAttempts: 5,
    });
    await store.putSubscription(stored);
    assert.deepEqual(await store.getSubscription("sub_a"), stored);
  },
  "subscriptions are listed oldest first, then by id": async (store) => {
    await store.putSubscription(subscription("sub_c", T0 + 2));
    await store.putSubscription(subscription("sub_b", T0 + 1));
    await store.putSubscription(subscription("sub_a", T0 + 2));
    const ids = (await store.listSubscriptions()).map((s) => s.id);
    assert.deepEqual(ids, ["sub_b", "sub_a", "sub_c"]);
  },
  "a put with a known id replaces the subscription": async (store) => {
    await store.putSubscription(subscription("sub_a", T0));
    const off = subscription("sub_a", T0, {
      enabled: false,
      failures: 10,
      disabledReason: "10 deliveries in a row failed",
      updatedAt: T0 + 5,
    });
    await store.putSubscription(off);
    assert.deepEqual(await store.listSubscriptions(), [off]);
  },
  "deliveries are listed newest first, per subscription, up to the limit": async (store) => {
    await store.putSubscription(subscription("sub_a", T0));
    await store.putSubscription(subscription("sub_b", T0));
    for (const id of ["t1", "t2", "t3"]) await store.addDelivery("sub_a", id);
    await store.addDelivery("sub_b", "t9");
    assert.deepEqual(await store.listDeliveries("sub_a", 10), ["t3", "t2", "t1"]);
    assert.deepEqual(await store.listDeliveries("sub_a", 2), ["t3", "t2"]);
    assert.deepEqual(await store.listDeliveries("sub_b", 10), ["t9"]);
  },
  "a delete removes the subscription and its deliveries": async (store) => {
    await store.putSubscription(subscription("sub_a", T0));
    await store.addDelivery("sub_a", "t1");
    assert.equal(await store.deleteSubscription("sub_a"), true);
    assert.equal(await store.getSubscription("sub_a"), null);
    assert.deepEqual(await store.listDeliveries("sub_a", 10), []);
    assert.equal(await store.deleteSubscription("sub_a"), false);
  },
  "an update changes one subscription and answers it before and after": async (store) => {
    const before = subscription("sub_a", T0, { enabled: false, failures: 10, disabledReason: "x" });
    await store.putSubscription(before);
    const result = await store.updateSubscription("sub_a", (s) => {
      const { disabledReason: _reason, ...rest } = s;
      return {
        ...rest,
        enabled: true,
        failures: 0,
        url: "https://b.example.com/",
        updatedAt: T0 + 1,
      };
    });
    const after = {
      ...subscription("sub_a", T0),
      url: "https://b.example.com/",
      updatedAt: T0 + 1,
    };
    assert.deepEqual(result, { before, after });
    assert.deepEqual(await store.getSubscription("sub_a"), after);
  },
  "an update of an unknown id is null; a change that answers null writes nothing": async (
    store,
  ) => {
    assert.equal(await store.updateSubscription("sub_none", (s) => s), null);
    const stored = subscription("sub_a", T0);
    await store.putSubscription(stored);
    assert.deepEqual(await store.updateSubscription("sub_a", () => null), {
      before: stored,
      after: stored,
    });
    assert.deepEqual(await store.getSubscription("sub_a"), stored);
  },
  "updates at the same time each see the one before: none is lost": async (store) => {
    await store.putSubscription(subscription("sub_a", T0));
    await Promise.all(
      Array.from(
        { length: 20 },
        () => store.updateSubscription("sub_a", (s) => ({ ...s, failures: s.failures + 1 })),
      ),
    );
    assert.equal((await store.getSubscription("sub_a"))?.failures, 20);
  },
};
