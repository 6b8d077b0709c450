/**
 * Conformance of the `SourceStore`: source definitions (parsed with the
 * config schema as they are read; one that no longer parses is kept with the
 * reason), the atomic add, scanner state and the file index.
 */

import assert from "node:assert/strict";
import { sourceSchema } from "../../../lib/config/schema.ts";
import { ConflictError } from "../../../lib/errors.ts";
import { addSource } from "../../../lib/sources/manage.ts";
import type { ParsedSource, SourceStore } from "../../../lib/store/types.ts";
import { type StoreCase, T0 } from "./helpers.ts";

/** A stored fs source whose spec is the schema's own output (defaults filled in). */
function source(
  id: string,
  createdAt: number,
  overrides: Partial<ParsedSource> = {},
): ParsedSource {
  return {
    id,
    kind: "fs",
    enabled: true,
    spec: sourceSchema.parse({
      id,
      kind: "fs",
      path: `./${id}`,
      include: ["**/*.md"],
      debounceMs: 50,
    }),
    origin: "api",
    createdAt,
    updatedAt: createdAt,
    ...overrides,
  };
}

/**
 * Cases of sources, source state and files.
 *
 * @example
 * ```ts
 * for (const [rule, body] of Object.entries(sourceCases)) await t.step(rule, () => body(store));
 * ```
 */
export const sourceCases: Record<string, StoreCase<SourceStore>> = {
  "sources are upserted by id and listed by createdAt, then id": async (store) => {
    assert.deepEqual(await store.listSources(), []);
    const b = source("b", T0);
    const a = source("a", T0);
    const early = source("z", T0 - 5, {
      origin: "config",
      kind: "feed",
      spec: sourceSchema.parse({ id: "z", kind: "feed", url: "http://x", interval: "5m" }),
    });
    await store.putSource(b);
    await store.putSource(a);
    await store.putSource(early);
    assert.deepEqual(await store.listSources(), [early, a, b]);
    const disabled = { ...a, enabled: false, updatedAt: T0 + 9 };
    await store.putSource(disabled);
    assert.deepEqual(await store.getSource("a"), disabled);
    assert.equal(await store.getSource("nope"), null);
    assert.equal((await store.listSources()).length, 3);
  },

  "deleting a source drops its state and file index too": async (store) => {
    await store.putSource(source("docs", T0));
    await store.setSourceState("docs", "etag", 'W/"1"');
    await store.putFiles("docs", [{ path: "a.md", size: 1, mtimeMs: T0 }]);
    await store.setSourceState("other", "etag", "kept");
    assert.equal(await store.deleteSource("docs"), true);
    assert.equal(await store.deleteSource("docs"), false);
    assert.equal(await store.getSource("docs"), null);
    assert.equal(await store.getSourceState("docs", "etag"), null);
    assert.deepEqual(await store.listFiles("docs"), []);
    assert.equal(await store.getSourceState("other", "etag"), "kept");
  },

  "source state holds JSON per source and key; null deletes": async (store) => {
    assert.equal(await store.getSourceState("feed", "seen"), null);
    await store.setSourceState("feed", "seen", ["a", "b"]);
    await store.setSourceState("feed", "cursor", { page: 2, done: false });
    await store.setSourceState("other", "seen", 5);
    assert.deepEqual(await store.getSourceState("feed", "seen"), ["a", "b"]);
    await store.setSourceState("feed", "seen", ["c"]);
    assert.deepEqual(await store.getSourceState("feed", "seen"), ["c"]);
    await store.setSourceState("feed", "seen", null);
    assert.equal(await store.getSourceState("feed", "seen"), null);
    assert.deepEqual(await store.getSourceState("feed", "cursor"), { page: 2, done: false });
    assert.equal(await store.getSourceState("other", "seen"), 5);
  },

  "the file index is per source, upserted by path": async (store) => {
    await store.putFiles("docs", [
      { path: "b.md", size: 2, mtimeMs: T0 + 0.5 },
      { path: "a.md", size: 1, mtimeMs: T0 },
    ]);
    await store.putFiles("code", [{ path: "a.md", size: 9, mtimeMs: T0 }]);
    await store.putFiles("docs", [{ path: "a.md", size: 10, mtimeMs: T0 + 1 }]);
    const docs = (await store.listFiles("docs")).sort((x, y) => x.path.localeCompare(y.path));
    assert.deepEqual(docs, [
      { path: "a.md", size: 10, mtimeMs: T0 + 1 },
      { path: "b.md", size: 2, mtimeMs: T0 + 0.5 },
    ]);
    await store.deleteFiles("docs", ["a.md", "missing.md"]);
    assert.deepEqual(await store.listFiles("docs"), [{ path: "b.md", size: 2, mtimeMs: T0 + 0.5 }]);
    assert.deepEqual(await store.listFiles("code"), [{ path: "a.md", size: 9, mtimeMs: T0 }]);
  },
};

/**
 * Cases of the atomic add and of stored definitions that no longer parse.
 *
 * @example
 * ```ts
 * for (const [rule, body] of Object.entries(sourceAddCases)) await t.step(rule, () => body(store));
 * ```
 */
export const sourceAddCases: Record<string, StoreCase<SourceStore>> = {
  "putSourceIfAbsent stores a new id; an id that exists gets the stored source back, unchanged":
    async (store) => {
      const first = source("docs", T0);
      assert.equal(await store.putSourceIfAbsent(first), null);
      const second = source("docs", T0 + 5, { enabled: false, origin: "config" });
      assert.deepEqual(await store.putSourceIfAbsent(second), first);
      assert.deepEqual(await store.getSource("docs"), first, "nothing was written");
      assert.deepEqual(await store.listSources(), [first]);
    },

  "two concurrent adds of one id: exactly one succeeds, the other gets the conflict": async (
    store,
  ) => {
    const spec = source("race", T0).spec;
    const outcomes = await Promise.allSettled([
      addSource(store, spec, T0),
      addSource(store, { ...spec }, T0 + 1),
    ]);
    const won = outcomes.filter((o) => o.status === "fulfilled");
    const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === "rejected");
    assert.equal(won.length, 1, "exactly one add stores the source");
    assert.equal(lost.length, 1);
    assert.ok(lost[0].reason instanceof ConflictError, String(lost[0].reason));
    assert.match(lost[0].reason.message, /source race already exists \(origin api\)/);
    assert.equal((await store.listSources()).length, 1);
  },

  "a stored definition that no longer parses is listed with the reason, and can be deleted": async (
    store,
  ) => {
    const good = source("good", T0);
    // As an older version might have stored it: a key the schema no longer knows.
    const old = source("old", T0 + 1);
    const stale = { ...old.spec, intervall: "5m" };
    await store.putSource({ ...old, spec: stale as unknown as ParsedSource["spec"] });
    await store.putSource(good);
    const listed = await store.listSources();
    assert.deepEqual(listed.map((s) => s.id), ["good", "old"], "never dropped");
    assert.deepEqual(listed[0], good);
    const unparsed = await store.getSource("old");
    assert.ok(unparsed && unparsed.spec === null, "an unparsed source has no spec");
    assert.match(unparsed.error, /intervall/);
    assert.deepEqual(unparsed.raw, stale);
    assert.equal(unparsed.kind, "fs");
    assert.equal(await store.deleteSource("old"), true);
    assert.deepEqual((await store.listSources()).map((s) => s.id), ["good"]);
  },
};
