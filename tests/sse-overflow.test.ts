/**
 * The event stream's frames and its byte budget, against a real `un start`
 * with a small `api.sseMaxBufferedBytes`: frames are plain `message` events
 * unless `?named=1`; a client that stops reading is dropped past its budget
 * with a final `overflow` frame naming the last event it was sent, and
 * resumes from there with `Last-Event-ID`; `un events --follow` does that
 * resume by itself.
 */

import assert from "node:assert/strict";
import { readSse, type SseMessage } from "../cli/sse.ts";
import type { CloudEvent } from "../lib/events/cloud-event.ts";
import { assertError } from "./helpers/api.ts";
import { openStream, publish } from "./helpers/events.ts";
import { followCli } from "./helpers/cli.ts";
import { startUn, type UnProcess } from "./helpers/un-process.ts";
import { eventually } from "./helpers/eventually.ts";

const BUDGET = 64 * 1024;
/** Big enough that a few megabytes (what the sockets absorb) take some dozens of events. */
const BIG = "y".repeat(16_000);

/** The first frame with data on a fresh stream, as raw text, after publishing `type`. */
async function firstFrame(un: UnProcess, query: string, type: string): Promise<string> {
  const controller = new AbortController();
  const res = await fetch(`${un.url}/un/events/stream?${query}`, { signal: controller.signal });
  assert.equal(res.status, 200);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  try {
    await publish(un, type, { n: 1 });
    let text = "";
    for (;;) {
      const frame = text.split("\n\n").slice(0, -1).find((f) => /^data:/m.test(f));
      if (frame) return frame;
      const { value, done } = await reader.read();
      assert.ok(!done, `the stream ended before a frame: ${text}`);
      text += value;
    }
  } finally {
    controller.abort();
    await reader.cancel().catch(() => {});
  }
}

/** Every message of a body until it ends. */
async function readAll(body: ReadableStream<Uint8Array>): Promise<SseMessage[]> {
  const messages: SseMessage[] = [];
  for await (const message of readSse(body)) messages.push(message);
  return messages;
}

/** How often the server has logged dropping a slow client. */
function drops(un: UnProcess): number {
  return (un.stderrText().match(/event stream client dropped/g) ?? []).length;
}

/** Publishes big events of `type` until the server drops one more client; returns their ids. */
async function publishUntilDropped(un: UnProcess, type: string): Promise<string[]> {
  const before = drops(un);
  const ids: string[] = [];
  while (drops(un) === before) {
    assert.ok(ids.length < 2_000, "no client was dropped after 2 000 big events");
    ids.push((await publish(un, type, { n: ids.length, pad: BIG })).id);
  }
  return ids;
}

Deno.test("SSE frames, the byte budget, overflow and resume", async (t) => {
  await using un = await startUn({ config: { api: { sseMaxBufferedBytes: BUDGET } } });

  await t.step("frames are plain messages; ?named=1 names them; a bad named is a 400", async () => {
    const plain = await firstFrame(un, "type=frame.*", "frame.plain");
    assert.doesNotMatch(plain, /^event:/m);
    assert.match(plain, /^id: [0-9A-Z]{26}$/m);
    const data = JSON.parse(/^data: (.*)$/m.exec(plain)![1]) as CloudEvent;
    assert.equal(data.type, "frame.plain");
    assert.doesNotMatch(await firstFrame(un, "type=frame.*&named=0", "frame.off"), /^event:/m);
    assert.match(
      await firstFrame(un, "type=frame.*&named=1", "frame.named"),
      /^event: frame\.named$/m,
    );
    assert.match(await firstFrame(un, "type=frame.*&named=true", "frame.t"), /^event: frame\.t$/m);
    const bad = await fetch(`${un.url}/un/events/stream?named=yes`);
    assertError({ status: bad.status, body: await bad.json() }, 400, "named");
  });

  await t.step(
    "a client that stops reading is dropped with an overflow frame, then resumes",
    async () => {
      const controller = new AbortController();
      const res = await fetch(`${un.url}/un/events/stream?type=big.*`, {
        signal: controller.signal,
      });
      assert.equal(res.status, 200);
      // The client reads nothing while events pile up past its budget.
      const published = await publishUntilDropped(un, "big.one");
      // Nothing is queued for a dropped client: these come only on resume.
      for (let i = 0; i < 3; i++) published.push((await publish(un, "big.after", { i })).id);

      const messages = await readAll(res.body!);
      const overflow = messages.at(-1)!;
      assert.equal(overflow.event, "overflow");
      const why = JSON.parse(overflow.data) as {
        reason: string;
        lastEventId: string;
        limit: number;
      };
      assert.match(why.reason, /api\.sseMaxBufferedBytes/);
      assert.equal(why.limit, BUDGET);
      const got = messages.slice(0, -1);
      assert.ok(got.length > 0, "no event before the overflow");
      assert.ok(got.every((m) => m.event === "message"));
      assert.deepEqual(got.map((m) => m.id), published.slice(0, got.length));
      assert.equal(why.lastEventId, got.at(-1)!.id);

      const rest = published.slice(got.length);
      const resumed = await openStream(`${un.url}/un/events/stream?type=big.*`, {
        "last-event-id": why.lastEventId,
      });
      try {
        const replayed = await resumed.take(rest.length, 20_000);
        assert.deepEqual(replayed.map((m) => m.id), rest);
        await resumed.quiet(300);
      } finally {
        await resumed.close();
      }
    },
  );

  await t.step("un events --follow says it fell behind and resumes without a gap", async () => {
    // While paused, its output is not read: it blocks on stdout, so it stops reading the stream.
    let paused = null as PromiseWithResolvers<void> | null;
    const follow = followCli<CloudEvent>(
      ["events", "--follow", "--type", "cli.*", "--json"],
      { UN_URL: un.url },
      () => paused?.promise,
    );
    const seen = () => follow.seen.map((e) => e.id);
    try {
      // It follows from "now": publish until it shows one.
      const first: string[] = [];
      await eventually(async () => {
        first.push((await publish(un, "cli.tick")).id);
        return seen().length > 0;
      }, { timeoutMs: 20_000, message: "un events --follow to print an event" });
      await new Promise((resolve) => setTimeout(resolve, 200));
      const published = first.slice(first.indexOf(seen()[0]));
      paused = Promise.withResolvers();
      published.push(...await publishUntilDropped(un, "cli.big"));
      const marker = (await publish(un, "cli.marker")).id;
      published.push(marker);
      paused.resolve();
      await eventually(() => seen().includes(marker), {
        timeoutMs: 20_000,
        message: "the marker event",
      });
      assert.deepEqual(seen(), published);
    } finally {
      paused?.resolve();
      const { code, stderr } = await follow.stop();
      assert.equal(code, 0, stderr);
      assert.match(stderr, /fell behind the event stream.*resuming after [0-9A-Z]{26}/);
    }
  });
});
