/**
 * The embedded store's event rows (lib/store/sqlite/events.ts): a body holds
 * only what the row's columns do not, and every event reads back exactly as
 * it was appended, including events stored whole before that.
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { type CloudEvent, createEvent } from "../lib/events/cloud-event.ts";
import { appendEventRows, readEventHistory } from "../lib/store/sqlite/events.ts";
import { applySchema } from "../lib/store/sqlite/schema.ts";
import { Sql } from "../lib/store/sqlite/statements.ts";

function memorySql(): Sql {
  const db = new DatabaseSync(":memory:");
  applySchema(db);
  return new Sql(db);
}

Deno.test("sqlite events: every event reads back as appended, fields in their order", () => {
  const sql = memorySql();
  const made = createEvent({
    type: "task.succeeded",
    source: "/un/tasks",
    subject: "01J",
    data: { id: "01J", result: { i: 1 } },
    correlationid: "c-1",
  });
  // Not as createEvent makes them: a time with no milliseconds, no content type, an extension.
  const odd = {
    id: "01K0000000000000000000000A",
    source: "/un/api",
    specversion: "1.0",
    type: "x.odd",
    time: "2026-01-01T00:00:00Z",
    data: null,
    priority: "low",
    origin: "elsewhere",
    traceparent: "00-abc",
  } as unknown as CloudEvent;
  const unreadableTime = { ...made, id: "01K0000000000000000000000B", time: "yesterday" };
  appendEventRows(sql, [made, odd, unreadableTime]);
  const read = readEventHistory(sql, { limit: 10 });
  assert.deepStrictEqual(read, [made, odd, unreadableTime]);
  assert.deepStrictEqual(
    read.map((e) => JSON.stringify(e)),
    [made, odd, unreadableTime].map((e) => JSON.stringify(e)),
  );
  // The body leaves out what the columns hold and the envelope's constants.
  const body = JSON.parse(
    String(sql.get("SELECT body FROM events WHERE id = :id", { id: made.id })?.body),
  );
  assert.equal("id" in body || "type" in body || "time" in body || "specversion" in body, false);
  assert.equal(body.datacontenttype, undefined);
  // The odd one keeps its time, and says it had no content type.
  const oddBody = JSON.parse(
    String(sql.get("SELECT body FROM events WHERE id = :id", { id: odd.id })?.body),
  );
  assert.equal(oddBody.time, "2026-01-01T00:00:00Z");
  assert.equal(oddBody.datacontenttype, null);
});

Deno.test("sqlite events: a body stored whole (before compact bodies) reads as it is", () => {
  const sql = memorySql();
  const whole = createEvent({
    type: "file.created",
    source: "/un/sources/docs",
    data: { path: "a" },
  });
  sql.run("INSERT INTO events (id, type, time_ms, body) VALUES (:id, :type, :ms, :body)", {
    id: whole.id,
    type: whole.type,
    ms: Date.parse(whole.time),
    body: JSON.stringify(whole),
  });
  const later = createEvent({
    type: "file.modified",
    source: "/un/sources/docs",
    data: { path: "a" },
  });
  appendEventRows(sql, [later]);
  assert.deepStrictEqual(readEventHistory(sql, { limit: 10 }), [whole, later]);
  assert.deepStrictEqual(readEventHistory(sql, { limit: 10, type: "file.*", after: whole.id }), [
    later,
  ]);
});
