/**
 * Events, under `/un/events`: publish one (`POST /publish`), read the log
 * (`GET /history`) and follow live ones (`GET /stream`, SSE, resumable with
 * `Last-Event-ID`).
 */

import { Hono } from "hono";
import { z } from "zod";
import type { ControlWith } from "../lib/control.ts";
import type { EventStore } from "../lib/store/types.ts";
import {
  type CloudEvent,
  createEvent,
  EVENT_PRIORITIES,
  type Json,
} from "../lib/events/cloud-event.ts";
import { assertPublishable } from "../lib/safety/reserved-types.ts";
import { queryInt, strictObject, validate } from "../lib/validate.ts";
import { assertPattern } from "../lib/events/wildcard.ts";
import { ask } from "../lib/protocol/ask.ts";
import { answer, describe, problems } from "./describe.ts";
import { eventSchema } from "./schemas.ts";
import { encodeSse, type SseFeed, sseStream } from "./sse.ts";
import { jsonBody, query } from "./validator.ts";

/** Events per history page (and per replay step of a stream). */
const PAGE = 1_000;
/** Live events a stream holds back while it replays history (also bounded by its byte budget). */
const MAX_BUFFERED = 10_000;

const eventType = z.string({ error: "must be a string" }).max(200, {
  error: "must be at most 200 characters",
}).regex(/^[A-Za-z0-9_\-]+(?:\.[A-Za-z0-9_\-]+)*$/, {
  error: 'must be dot-separated words such as "deploy.finished" (no wildcards, no spaces)',
});

const text = (max: number) =>
  z.string({ error: `must be a string of 1..${max} characters` })
    .min(1, { error: `must be a string of 1..${max} characters` })
    .max(max, { error: `must be a string of 1..${max} characters` });

const publishSchema = strictObject({
  type: eventType,
  data: z.json({ error: "must be JSON" }).optional(),
  subject: text(2_000).optional(),
  priority: z.enum(EVENT_PRIORITIES).optional(),
  correlationid: text(200).optional(),
});

const pattern = z.string().superRefine((value, ctx) => {
  try {
    assertPattern(value, "type");
  } catch (err) {
    ctx.addIssue({ code: "custom", message: (err as Error).message.replace(/^type /, "") });
  }
});

/** ULIDs: 26 Crockford base-32 characters. */
const eventId = z.string().regex(/^[0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{26}$/, {
  error: "must be an event id (a 26-character ULID)",
});

const historyQuery = strictObject({
  type: pattern.optional(),
  limit: queryInt(1, PAGE).optional(),
  after: eventId.optional(),
});

const streamQuery = strictObject({
  type: pattern.optional(),
  after: eventId.optional(),
  named: z.enum(["1", "0", "true", "false"], { error: "must be 1, 0, true or false" })
    .optional(),
});

/** Encoded frames per event, plain and named: every stream sends (and queues) the same bytes. */
const frames = new WeakMap<CloudEvent, { plain?: Uint8Array; named?: Uint8Array }>();

/**
 * An event's SSE frame: a plain `message` (the CloudEvent, type inside, as
 * data), or with `named` an `event: <type>` line, as `?named=1` asks.
 */
function frameOf(event: CloudEvent, named: boolean): Uint8Array {
  let cached = frames.get(event);
  if (!cached) frames.set(event, cached = {});
  const key = named ? "named" : "plain";
  return cached[key] ??= encodeSse({
    id: event.id,
    event: named ? event.type : undefined,
    data: JSON.stringify(event),
  });
}

/**
 * Sends history after `after`, page by page, waiting for room in the
 * client's byte budget (backpressure). Resolves with the ids of the last
 * `remember` events sent; early if the stream ends.
 */
async function replay(
  control: ControlWith<EventStore>,
  feed: SseFeed,
  type: string | undefined,
  after: string,
  named: boolean,
  remember: number,
): Promise<Set<string>> {
  const last = new Set<string>();
  const ring = new Array<string | undefined>(remember);
  let at = 0;
  let cursor = after;
  // Events made here a moment ago may still wait for their group commit.
  await control.eventsLogged();
  while (feed.open) {
    const page = await control.store.eventHistory({ type, after: cursor, limit: PAGE });
    for (const event of page) {
      const frame = frameOf(event, named);
      if (!feed.fits(frame.byteLength)) await feed.room(frame.byteLength);
      if (!feed.send(frame, event.id)) return last;
      const oldest = ring[at];
      if (oldest !== undefined) last.delete(oldest);
      ring[at] = event.id;
      at = (at + 1) % remember;
      last.add(event.id);
    }
    if (page.length < PAGE) return last;
    cursor = page[page.length - 1].id;
  }
  return last;
}

/**
 * Event routes, relative to `/un/events`.
 */
export function eventRoutes(control: ControlWith<EventStore>) {
  return new Hono()
    .post(
      "/publish",
      describe("events", "Publish an event", {
        202: answer("The stored CloudEvent", z.object({ event: eventSchema })),
        ...problems(400, 413, 503),
      }, {
        description:
          "Types that sources and the runtime produce (`file.`, `task.`, …) are refused.",
      }),
      jsonBody(publishSchema),
      async (c) => {
        const body = c.req.valid("json");
        assertPublishable(body.type);
        const event = createEvent({
          ...body,
          data: body.data as Json | undefined,
          source: "/un/api",
        });
        // The reply comes once the event is in the log (or, while the store is unreachable,
        // in this process's bounded buffer until it is back; 503 when that is full).
        const stored = await ask(control, "event.publish", { event });
        return c.json({ event: stored }, 202);
      },
    )
    .get(
      "/history",
      describe("events", "The event log, oldest first", {
        200: answer(
          "Events after `after` (at most `limit`, default 100)",
          z.object({
            events: z.array(eventSchema),
          }),
        ),
        ...problems(400),
      }),
      query(historyQuery),
      async (c) => {
        const q = c.req.valid("query");
        // What this process made a moment ago is in the answer, not only what was committed.
        await control.eventsLogged();
        const events = await control.store.eventHistory({
          type: q.type,
          after: q.after,
          limit: q.limit ?? 100,
        });
        return c.json({ events });
      },
    )
    .get(
      "/stream",
      describe("events", "Live events as Server-Sent Events", {
        200: {
          description: "An SSE stream: each frame's data is a CloudEvent and its id the event's " +
            "id; plain `message` frames unless `named`",
          content: { "text/event-stream": { schema: { type: "string" } } },
        },
        ...problems(400, 503),
      }, {
        description: "With `after` or `Last-Event-ID`, the log after that event comes first.",
        parameters: [{
          in: "header",
          name: "Last-Event-ID",
          description: "resume after this event (as `after`)",
          schema: { type: "string" },
        }],
      }),
      query(streamQuery),
      (c) => {
        const q = c.req.valid("query");
        const header = c.req.header("last-event-id");
        const after = q.after ?? (header ? validate(eventId, header, "Last-Event-ID") : undefined);
        const type = q.type ?? "**";
        const named = q.named === "1" || q.named === "true";
        const budget = control.config.api.sseMaxBufferedBytes;
        return sseStream(c, control, async (feed) => {
          // Subscribe before replaying, holding live events back, so none falls in the gap.
          let held: Array<{ id: string; frame: Uint8Array }> | null = [];
          let heldBytes = 0;
          const unsubscribe = control.subscribe(type, (event) => {
            if (!feed.open) return;
            const frame = frameOf(event, named);
            if (held === null) return void feed.send(frame, event.id);
            heldBytes += frame.byteLength;
            if (held.push({ id: event.id, frame }) <= MAX_BUFFERED && heldBytes <= budget) return;
            held = [];
            feed.overflow(
              "live events came faster than the replay of history could send them " +
                `(more than ${MAX_BUFFERED} events or ${budget} bytes held back); ` +
                "reconnect with Last-Event-ID to resume",
            );
          });
          try {
            // Other processes' events of this type reach us from here on.
            await control.subscribed();
            // History is in log order, not id order, so a held event is told from
            // a replayed one by its id. Only events logged since the subscription
            // can be both, and they end the replay: its last MAX_BUFFERED ids do.
            const replayed = after
              ? await replay(control, feed, q.type, after, named, MAX_BUFFERED)
              : new Set<string>();
            for (const { id, frame } of held) if (!replayed.has(id) && !feed.send(frame, id)) break;
            held = null;
          } catch (err) {
            unsubscribe();
            throw err;
          }
          return unsubscribe;
        }, after);
      },
    );
}
