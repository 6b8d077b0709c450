/**
 * The inspector's memory: the last routed messages (a ring buffer) and live
 * listeners. Fed by XState's `inspect` hook on the actor system, but only
 * while someone watches (and for a while after the last one leaves, so a
 * reloaded page still has the recent past): XState builds several inspection
 * records per message, which costs a busy process more than a tenth of its CPU
 * when nobody looks.
 *
 * A worker with nothing to do polls (`loop.claiming`, `loop.idle`) about once
 * a second: those messages are folded into one record per idle stretch,
 * counting them, so they cannot push the task history out of the ring. The
 * record is sent again (same `seq`) each time it grows; readers replace it.
 */

import { errorText } from "../errors.ts";
import type { InspectionEvent } from "xstate";
import type { CrashNotes } from "./actor-tree.ts";
import type { InspectRecord } from "../control.ts";
import type { RuntimeMessage } from "../protocol/messages.ts";
import { parentOf } from "../protocol/xstate-internals.ts";

/** A worker's idle polling; consecutive ones fold into one record. */
const IDLE_TYPES = new Set(["loop.claiming", "loop.idle"]);

/**
 * Keeps recent messages between actors and tells listeners about new ones.
 */
export class Inspector implements CrashNotes {
  /** A ring: record `seq` lives at `(seq - 1) % capacity`. */
  #ring: InspectRecord[] = [];
  #seq = 0;
  #listeners = new Set<(r: InspectRecord) => void>();
  #recording: (() => void) | null = null;
  #lingerTimer: ReturnType<typeof setTimeout> | null = null;
  /** Per worker: the `seq` of the record of its current idle stretch. */
  #idleRuns = new Map<string, number>();
  /** Crashes seen while recording, by actor id (the supervisor counts its own children itself). */
  #crashes = new Map<string, { restarts: number; lastError: string | null }>();

  /**
   * `record` (optional) starts feeding this inspector and returns how to stop:
   * it is called when the first listener comes and its stop `lingerMs` after
   * the last one left. Without it, whoever feeds the inspector does so always.
   */
  constructor(
    private readonly capacity: number,
    private readonly feed: { record: () => () => void; lingerMs: number } | null = null,
  ) {}

  /** Records one message. */
  record(from: string, to: string, type: string, summary?: string): void {
    const now = Date.now();
    if (IDLE_TYPES.has(type)) {
      const run = this.#idleRun(to);
      if (run) return this.#publish({ ...run, count: (run.count ?? 1) + 1, lastAt: now });
    } else {
      // Anything else to or from a worker ends its idle stretch.
      this.#idleRuns.delete(from);
      this.#idleRuns.delete(to);
    }
    const record: InspectRecord = { seq: ++this.#seq, at: now, from, to, type };
    if (summary) record.summary = summary;
    if (IDLE_TYPES.has(type)) {
      record.count = 1;
      record.lastAt = now;
      this.#idleRuns.set(to, record.seq);
    }
    this.#publish(record);
  }

  /** Notes that an actor crashed (its parent was told `xstate.error.actor.<id>`). */
  noteCrash(id: string, error: unknown): void {
    const notes = this.#crashes.get(id) ?? { restarts: 0, lastError: null };
    notes.restarts++;
    notes.lastError = errorText(error);
    this.#crashes.set(id, notes);
  }

  /** Crashes of an actor seen while recording. */
  crashesOf(id: string): { restarts: number; lastError: string | null } | undefined {
    return this.#crashes.get(id);
  }

  /** The record of a worker's current idle stretch, while the ring still holds it. */
  #idleRun(worker: string): InspectRecord | undefined {
    const seq = this.#idleRuns.get(worker);
    if (seq === undefined) return undefined;
    const record = this.#ring[(seq - 1) % this.capacity];
    return record?.seq === seq ? record : undefined;
  }

  /** Stores a record (new, or a grown idle stretch in its own slot) and tells the listeners. */
  #publish(record: InspectRecord): void {
    this.#ring[(record.seq - 1) % this.capacity] = record;
    if (this.#listeners.size === 0) return;
    for (const listener of this.#listeners) {
      try {
        listener(record);
      } catch {
        // a broken listener (closed SSE stream) must not affect routing
      }
    }
  }

  /** The newest `limit` records, oldest first. */
  recent(limit: number): InspectRecord[] {
    const count = Math.min(limit, this.capacity, this.#seq);
    const out: InspectRecord[] = [];
    for (let seq = this.#seq - count + 1; seq <= this.#seq; seq++) {
      out.push(this.#ring[(seq - 1) % this.capacity]);
    }
    return out;
  }

  /** Adds a live listener; returns the function that removes it. */
  subscribe(fn: (r: InspectRecord) => void): () => void {
    this.#listeners.add(fn);
    this.#startFeed();
    return () => {
      if (this.#listeners.delete(fn) && this.#listeners.size === 0) this.#lingerThenStop();
    };
  }

  /** True while messages are being recorded. */
  get recording(): boolean {
    return this.feed === null || this.#recording !== null;
  }

  /** Stops recording now (the runtime is stopping). */
  close(): void {
    if (this.#lingerTimer !== null) clearTimeout(this.#lingerTimer);
    this.#lingerTimer = null;
    this.#recording?.();
    this.#recording = null;
  }

  #startFeed(): void {
    if (this.#lingerTimer !== null) clearTimeout(this.#lingerTimer);
    this.#lingerTimer = null;
    if (this.feed && this.#recording === null) this.#recording = this.feed.record();
  }

  #lingerThenStop(): void {
    if (!this.feed || this.#recording === null) return;
    this.#lingerTimer = setTimeout(() => this.close(), this.feed.lingerMs);
    // Recording that lingers must not keep a stopping process alive.
    Deno.unrefTimer(this.#lingerTimer as unknown as number);
  }
}

/** A short summary of a message for the inspector's table. */
function summarize(message: RuntimeMessage): string | undefined {
  switch (message.type) {
    case "event.publish":
    case "event.deliver":
      return message.event.type;
    case "event.emit":
      return `${message.init.type}${message.init.subject ? " " + message.init.subject : ""}`;
    case "event.emitMany":
      return `${message.inits.length} events: ${
        [...new Set(message.inits.map((init) => init.type))].join(", ")
      }`;
    case "task.enqueue":
      return message.request.type;
    case "task.cancel":
    case "task.abort":
    case "task.retry":
    case "task.reprioritize":
      return message.id;
    default:
      return undefined;
  }
}

/** XState's inspection types name refs loosely; every ref we make has an `id`. */
function actorId(ref: unknown): string | undefined {
  return (ref as { id?: string } | undefined)?.id;
}

/**
 * An XState `inspect` callback that records every message between actors
 * (XState's own `xstate.*` lifecycle events left out).
 *
 * @example
 * ```ts
 * const recording = actor.system.inspect(inspectionRecorder(inspector));
 * recording.unsubscribe();
 * ```
 */
export function inspectionRecorder(inspector: Inspector): (event: InspectionEvent) => void {
  return (ev) => {
    if (ev.type !== "@xstate.event") return;
    const type = ev.event.type as string;
    if (type.startsWith("xstate.error.actor.")) {
      inspector.noteCrash(
        type.slice("xstate.error.actor.".length),
        (ev.event as { error?: unknown }).error,
      );
    }
    if (type.startsWith("xstate.")) return;
    inspector.record(
      // Messages sent with ref.send() carry no sender; one going down the
      // tree comes from the receiver's parent (the supervisor or the pool).
      actorId(ev.sourceRef) ?? actorId(parentOf(ev.actorRef)) ?? "external",
      actorId(ev.actorRef) ?? "?",
      type,
      summarize(ev.event as RuntimeMessage),
    );
  };
}
