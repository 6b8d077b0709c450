/**
 * Hooks added at run time as a unit (lib/hooks/stored.ts, spec.ts, hooks.ts):
 * `where` over the event's fields (false on a missing field), `sample`
 * counting matches across recompiles, disabled and no-longer-valid hooks
 * left out, the order of config, run-time and source hooks; and the embedded
 * store's recovery keeps stored hooks.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { parseConfig } from "../lib/config/load.ts";
import { createEvent, type EventInit } from "../lib/events/cloud-event.ts";
import { ValidationError } from "../lib/errors.ts";
import { Hooks } from "../lib/hooks/mod.ts";
import { parseHookSpec } from "../lib/hooks/spec.ts";
import { recoverStoreFile } from "../lib/store/sqlite/recover.ts";
import { SQLITE_FILE, SqliteStore } from "../lib/store/sqlite/store.ts";
import type { StoredHook } from "../lib/store/types.ts";

function event(init: Partial<EventInit> & { type: string }) {
  return createEvent({ source: "/un/sources/inbox", ...init });
}

function stored(id: string, spec: Record<string, unknown>, enabled = true): StoredHook {
  return {
    id,
    spec: spec as StoredHook["spec"],
    enabled,
    createdAt: 1,
    updatedAt: 1,
  };
}

Deno.test("where: fields of the event; a missing field is false; event.type names the type", () => {
  const hooks = new Hooks(parseConfig({}));
  hooks.useStored([stored("hk_1", {
    on: "file.*",
    task: "t",
    where: 'data.size > 1000 && subject.endsWith(".md") && event.type == "file.created"',
  })]);
  const big = { path: "a.md", size: 2000 };
  assert.equal(hooks.route(event({ type: "file.created", subject: "a.md", data: big })).length, 1);
  assert.equal(
    hooks.route(event({ type: "file.created", subject: "a.md", data: { size: 10 } })).length,
    0,
  );
  assert.equal(hooks.route(event({ type: "file.created", data: big })).length, 0, "no subject");
  assert.equal(hooks.route(event({ type: "file.modified", subject: "a.md", data: big })).length, 0);
});

Deno.test("sample: every n-th match fires, counted by the sampler, across recompiles", async () => {
  const hooks = new Hooks(parseConfig({ hooks: [{ on: "x.*", task: "always" }] }));
  const spec = { on: "x.*", task: "t", sample: { every: 3 } };
  hooks.useStored([stored("hk_s", spec)]);
  const fired = async () => {
    const routed = hooks.route(event({ type: "x.y" }));
    assert.deepEqual(routed.map((r) => r.type), ["always", "t"], "routed before the sample");
    assert.equal(hooks.sampling(routed), true);
    const kept = await hooks.sample(routed);
    assert.equal(kept[0], routed[0], "an unsampled hook's request passes as it is");
    return kept.length - 1;
  };
  assert.deepEqual([await fired(), await fired()], [0, 0]);
  hooks.useSources([]); // a source change recompiles
  hooks.useStored([stored("hk_s", spec)]);
  const more = [await fired(), await fired(), await fired(), await fired()];
  assert.deepEqual(more, [1, 0, 0, 1]);
  assert.equal(hooks.sampling(hooks.route(event({ type: "y.z" }))), false);
});

Deno.test("sample: the store's count decides, asked once per sampled request", async () => {
  const asked: Array<[string, number]> = [];
  const hooks = new Hooks(parseConfig({}), {
    sampleHook(id, every) {
      asked.push([id, every]);
      return Promise.resolve(asked.length === 2);
    },
  });
  hooks.useStored([stored("hk_s", { on: "x.*", task: "t", sample: { every: 5 } })]);
  const once = async () => (await hooks.sample(hooks.route(event({ type: "x.y" })))).length;
  assert.deepEqual([await once(), await once(), await once()], [0, 1, 0]);
  assert.deepEqual(asked, [["hk_s", 5], ["hk_s", 5], ["hk_s", 5]]);
});

Deno.test("order and exclusions: config, then run-time, then sources; disabled and invalid left out", () => {
  const config = parseConfig({
    hooks: [{ on: "x.*", task: "from.config" }],
    sources: [{ id: "inbox", kind: "fs", path: "/tmp", hooks: [{ task: "from.source" }] }],
  });
  const hooks = new Hooks(config);
  hooks.useSources(config.sources);
  const problems = hooks.useStored([
    stored("hk_a", { on: "x.*", task: "from.api" }),
    stored("hk_off", { on: "x.*", task: "off" }, false),
    stored("hk_bad", { on: "x.*", task: "bad", where: "data.size >" }),
  ]);
  assert.deepEqual(problems.map((p) => p.id), ["hk_bad"]);
  const types = hooks.route(event({ type: "x.y" })).map((r) => r.type);
  assert.deepEqual(types, ["from.config", "from.api", "from.source"]);
});

Deno.test("parseHookSpec: a bad where and an unknown key are 400s naming them", () => {
  assert.throws(
    () => parseHookSpec({ on: "x", task: "t", where: "1 +" }),
    (e) => e instanceof ValidationError && /1 \+/.test(e.message),
  );
  assert.throws(
    () => parseHookSpec({ on: "x", task: "t", where: "data.size + 1" }),
    (e) => e instanceof ValidationError && (e.details as { field?: string }).field === "where",
  );
  assert.throws(
    () => parseHookSpec({ on: "x", task: "t", isolate: true }),
    (e) => e instanceof ValidationError && /isolate/.test(e.message),
  );
});

Deno.test("embedded store recovery keeps the hooks added at run time", async () => {
  const dir = await Deno.makeTempDir({ prefix: "un_hooks_recover_" });
  try {
    const store = SqliteStore.open(dir);
    const hook = stored("hk_keep", { on: "x.*", task: "t" });
    await store.putHook(hook);
    await store.close();
    const report = recoverStoreFile(join(dir, SQLITE_FILE));
    assert.equal(report.tables.find((t) => t.table === "hooks")?.recovered, 1);
    const again = SqliteStore.open(dir);
    assert.deepEqual(await again.listHooks(), [hook]);
    await again.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
