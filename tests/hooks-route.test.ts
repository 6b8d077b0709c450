/**
 * Hooks as a unit (lib/hooks/): `route(event)` with patterns, templates,
 * payloads and priorities, per-source hooks (the `hooks` shorthand, also of
 * sources added at run time), and the bus feeder that routes only this
 * process's events.
 */

import assert from "node:assert/strict";
import { EventBus } from "../lib/events/bus.ts";
import { parseConfig, type SourceSpec } from "../lib/config/load.ts";
import {
  type CloudEvent,
  createEvent,
  type EventInit,
  sourceUri,
} from "../lib/events/cloud-event.ts";
import { feedFromBus, Hooks, renderTemplate } from "../lib/hooks/mod.ts";
import type { TaskRequest } from "../lib/protocol/messages.ts";

function event(init: Partial<EventInit> & { type: string }): CloudEvent {
  return createEvent({ source: "/un/api", ...init });
}

function fsSource(id: string, hooks: unknown[]): SourceSpec {
  const config = parseConfig({ sources: [{ id, kind: "fs", path: "/tmp", hooks }] });
  return config.sources[0];
}

Deno.test("route: a pattern picks the events it names, one request per matching hook", () => {
  const hooks = new Hooks(parseConfig({
    hooks: [
      { on: "file.*", task: "index" },
      { on: "file.created", task: "thumbnail" },
      { on: "feed.**", task: "notify" },
    ],
  }));
  assert.deepEqual(hooks.route(event({ type: "file.created" })).map((r) => r.type), [
    "index",
    "thumbnail",
  ]);
  assert.deepEqual(hooks.route(event({ type: "file.deleted" })).map((r) => r.type), ["index"]);
  assert.deepEqual(hooks.route(event({ type: "feed.item.new" })).map((r) => r.type), ["notify"]);
  assert.deepEqual(hooks.route(event({ type: "file.created.more" })), []);
  assert.deepEqual(hooks.route(event({ type: "github.push" })), []);
  assert.equal(hooks.wants("file.renamed"), true);
  assert.equal(hooks.wants("task.succeeded"), false);
  assert.equal(hooks.any(), true);
  assert.equal(new Hooks(parseConfig({})).any(), false);
});

Deno.test("route: payload, priority, queue, delay, key template and correlation", () => {
  const hooks = new Hooks(parseConfig({
    hooks: [{
      on: "file.*",
      task: "embed",
      queue: "slow",
      delayMs: 2_000,
      payload: { model: "small" },
      key: "embed:{subject}:{data.size}",
      maxAttempts: 4,
      timeoutMs: 1_000,
    }],
  }));
  const e = event({
    type: "file.modified",
    subject: "docs/a.md",
    priority: "high",
    data: { path: "docs/a.md", size: 12 },
  });
  const [request] = hooks.route(e);
  const expected: TaskRequest = {
    type: "embed",
    payload: {
      path: "docs/a.md",
      size: 12,
      model: "small",
      event: { id: e.id, type: "file.modified", source: "/un/api", subject: "docs/a.md" },
    },
    priority: 7,
    correlationId: e.id,
    queue: "slow",
    delayMs: 2_000,
    key: "embed:docs/a.md:12",
    maxAttempts: 4,
    timeoutMs: 1_000,
  };
  assert.deepEqual(request, expected);
  // A hook's own priority wins over the event's; a correlation id carries over.
  const urgent = new Hooks(parseConfig({ hooks: [{ on: "x.*", task: "t", priority: 9 }] }));
  const [mine] = urgent.route(event({ type: "x.y", data: 5, correlationid: "c-1" }));
  assert.equal(mine.priority, 9);
  assert.equal(mine.correlationId, "c-1");
  assert.deepEqual(mine.payload, {
    data: 5,
    event: {
      id: (mine.payload as { event: { id: string } }).event.id,
      type: "x.y",
      source: "/un/api",
      subject: null,
    },
  });
});

Deno.test("renderTemplate: fields, nested data, and missing fields as empty", () => {
  const e = event({ type: "feed.item.new", subject: "https://x/1", data: { item: { id: 7 } } });
  assert.equal(
    renderTemplate("{type}|{subject}|{data.item.id}|{data.nope}|{id}", e),
    [
      "feed.item.new",
      "https://x/1",
      "7",
      "",
      e.id,
    ].join("|"),
  );
});

Deno.test("renderTemplate: non-string values as text, null and paths through them as empty", () => {
  const e = event({
    type: "x.y",
    data: { n: 0, ok: false, none: null, list: ["a", "b"], empty: "" },
  });
  assert.equal(
    renderTemplate("{data.n}|{data.ok}|{data.none}|{data.empty}|{data.n.deeper}|{data.list.1}", e),
    "0|false||||b",
  );
});

Deno.test("renderTemplate: objects as JSON, and nothing from the prototype", () => {
  const e = event({ type: "x.y", data: { item: { id: 7 }, list: [1, 2] } });
  assert.equal(renderTemplate("{data.item}|{data.list}", e), '{"id":7}|[1,2]');
  assert.equal(renderTemplate("{constructor}|{data.toString}|{data.item.hasOwnProperty}", e), "||");
});

Deno.test("renderTemplate: values go in verbatim; only {word.path} is a placeholder", () => {
  const e = event({ type: "x.y", subject: "a b/c?d=1&e={type}", data: { "file-name": "f" } });
  // No escaping: a key is compared as text, so it keeps the subject exactly,
  // and a value that looks like a placeholder is not expanded again.
  assert.equal(renderTemplate("k:{subject}", e), "k:a b/c?d=1&e={type}");
  // Braces around anything else stay as written (a dash is not a path character).
  assert.equal(
    renderTemplate("{data.file-name}|{not a key}|{}|{{type}}|{type", e),
    "{data.file-name}|{not a key}|{}|{x.y}|{type",
  );
});

Deno.test("route: the key template makes events of one file share a key, other files not", () => {
  const hooks = new Hooks(parseConfig({
    hooks: [{ on: "file.*", task: "index", key: "index:{data.path}" }],
  }));
  const keys = [
    event({ type: "file.created", data: { path: "a.md" } }),
    event({ type: "file.modified", data: { path: "a.md" } }),
    event({ type: "file.modified", data: { path: "b.md" } }),
    event({ type: "file.deleted", data: {} }),
  ].map((e) => hooks.route(e)[0].key);
  assert.deepEqual(keys, ["index:a.md", "index:a.md", "index:b.md", "index:"]);
});

Deno.test("per-source hooks: only that source's events, and sources added at run time", () => {
  const hooks = new Hooks(parseConfig({ hooks: [{ on: "file.deleted", task: "forget" }] }));
  const fromDocs = event({ type: "file.created", source: sourceUri("docs") });
  const fromOther = event({ type: "file.created", source: sourceUri("other") });
  assert.deepEqual(hooks.route(fromDocs), []);

  const before = hooks.compiled;
  hooks.useSources([fsSource("docs", [{ task: "embed" }, { on: "file.deleted", task: "drop" }])]);
  assert.notEqual(hooks.compiled, before, "a change makes a new list (readers cache by identity)");
  assert.deepEqual(hooks.route(fromDocs).map((r) => r.type), ["embed"]);
  assert.deepEqual(hooks.route(fromOther), []);
  const deleted = event({ type: "file.deleted", source: sourceUri("docs") });
  // The config's hooks first, then the source's, in their order.
  assert.deepEqual(hooks.route(deleted).map((r) => r.type), ["forget", "embed", "drop"]);
  assert.equal(hooks.wants("scan.completed"), true, "`on` defaults to every event of the source");

  // The source goes away: its hooks with it; the config's stay.
  hooks.useSources([]);
  assert.deepEqual(hooks.route(fromDocs), []);
  assert.deepEqual(hooks.route(deleted).map((r) => r.type), ["forget"]);
  assert.equal(hooks.wants("scan.completed"), false);
});

Deno.test("feedFromBus: this process's events are routed, other processes' are not", () => {
  const bus = new EventBus((_name, error) => {
    throw error;
  });
  const hooks = new Hooks(parseConfig({ hooks: [{ on: "x.*", task: "t" }] }));
  const enqueued: TaskRequest[] = [];
  const stop = feedFromBus(bus, hooks, (request) => enqueued.push(request));
  bus.publish(event({ type: "x.local" }));
  bus.publishRemote(event({ type: "x.remote" }));
  bus.publish(event({ type: "y.other" }));
  assert.deepEqual(enqueued.map((r) => (r.payload as { event: { type: string } }).event.type), [
    "x.local",
  ]);
  stop();
  bus.publish(event({ type: "x.after" }));
  assert.equal(enqueued.length, 1);
});
