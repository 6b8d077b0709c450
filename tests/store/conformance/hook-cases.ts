/**
 * Conformance of the `HookStore`: hooks added at run time, stored as given,
 * listed oldest first, replaced by id, removed; a sampled hook's count of
 * matching events (fires every n-th, starts again on a put, goes with a delete).
 */

import assert from "node:assert/strict";
import type { HookStore, StoredHook } from "../../../lib/store/types.ts";
import { type StoreCase, T0 } from "./helpers.ts";

function hook(id: string, createdAt: number, overrides: Partial<StoredHook> = {}): StoredHook {
  return {
    id,
    spec: { on: "file.*", task: "file.metadata", where: 'subject.endsWith(".md")', enabled: true },
    enabled: true,
    createdAt,
    updatedAt: createdAt,
    ...overrides,
  };
}

/** Cases of hooks. */
export const hookCases: Record<string, StoreCase<HookStore>> = {
  "an empty store lists no hooks and gets none": async (store) => {
    assert.deepEqual(await store.listHooks(), []);
    assert.equal(await store.getHook("hk_none"), null);
    assert.equal(await store.deleteHook("hk_none"), false);
  },
  "a stored hook reads back as given": async (store) => {
    const stored = hook("hk_a", T0, { spec: { on: "x.*", task: "t", sample: { every: 3 } } });
    await store.putHook(stored);
    assert.deepEqual(await store.getHook("hk_a"), stored);
  },
  "hooks are listed oldest first, then by id": async (store) => {
    await store.putHook(hook("hk_c", T0 + 2));
    await store.putHook(hook("hk_b", T0 + 1));
    await store.putHook(hook("hk_a", T0 + 2));
    assert.deepEqual((await store.listHooks()).map((h) => h.id), ["hk_b", "hk_a", "hk_c"]);
  },
  "a put with a known id replaces the hook": async (store) => {
    await store.putHook(hook("hk_a", T0));
    const changed = hook("hk_a", T0, {
      enabled: false,
      updatedAt: T0 + 5,
      spec: { on: "y", task: "t" },
    });
    await store.putHook(changed);
    assert.deepEqual(await store.listHooks(), [changed]);
  },
  "delete removes one hook and says whether it existed": async (store) => {
    await store.putHook(hook("hk_a", T0));
    await store.putHook(hook("hk_b", T0 + 1));
    assert.equal(await store.deleteHook("hk_a"), true);
    assert.equal(await store.deleteHook("hk_a"), false);
    assert.deepEqual((await store.listHooks()).map((h) => h.id), ["hk_b"]);
  },
  "a sampled hook fires on every n-th matching event, counted in the store": async (store) => {
    await store.putHook(hook("hk_a", T0));
    const fired: boolean[] = [];
    for (let i = 0; i < 7; i++) fired.push(await store.sampleHook("hk_a", 3));
    assert.deepEqual(fired, [false, false, true, false, false, true, false]);
  },
  "counts at the same time are each counted once": async (store) => {
    await store.putHook(hook("hk_a", T0));
    const fired = await Promise.all(Array.from({ length: 30 }, () => store.sampleHook("hk_a", 3)));
    assert.equal(fired.filter(Boolean).length, 10);
  },
  "a put starts the count again; a hook not stored counts nothing": async (store) => {
    await store.putHook(hook("hk_a", T0));
    assert.equal(await store.sampleHook("hk_a", 2), false);
    await store.putHook(hook("hk_a", T0, { updatedAt: T0 + 1 }));
    assert.equal(await store.sampleHook("hk_a", 2), false, "counted from 0 again");
    assert.equal(await store.sampleHook("hk_a", 2), true);
    assert.equal(await store.sampleHook("hk_none", 1), false);
  },
  "a delete takes the count with it": async (store) => {
    await store.putHook(hook("hk_a", T0));
    assert.equal(await store.sampleHook("hk_a", 2), false);
    await store.deleteHook("hk_a");
    assert.equal(await store.sampleHook("hk_a", 2), false, "gone: never fires");
    await store.putHook(hook("hk_a", T0));
    assert.equal(await store.sampleHook("hk_a", 2), false, "a new hook of that id starts at 0");
    assert.equal(await store.sampleHook("hk_a", 2), true);
  },
};
