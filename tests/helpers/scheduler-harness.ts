/**
 * The scheduler on a manual clock (its `now` and its XState delays), as the
 * scheduler tests drive it: a real SqliteStore that can be made unreachable,
 * a stand-in supervisor that records what the scheduler sends and answers its
 * enqueues, and what it announces.
 */

import { createActor, setup, spawnChild } from "xstate";
import { schedulerMachine } from "../../actors/scheduler.ts";
import { parseConfig } from "../../lib/config/load.ts";
import { answer } from "../../lib/protocol/ask.ts";
import type { Task } from "../../lib/tasks/task.ts";
import { UnavailableError } from "../../lib/errors.ts";
import type { EventInit } from "../../lib/events/cloud-event.ts";
import type { EventSink } from "../../lib/events/event-outlet.ts";
import { silentLogger } from "../../lib/log.ts";
import { parseFaults, type RuntimeDeps } from "../../lib/protocol/deps.ts";
import type { RuntimeMessage } from "../../lib/protocol/messages.ts";
import { SqliteStore } from "../../lib/store/sqlite/store.ts";
import type { Store } from "../../lib/store/types.ts";
import { ManualClock } from "./manual-clock.ts";

/** A whole minute: interval occurrences fall on multiples of it. */
export const T = Date.UTC(2026, 0, 1, 12, 0, 0);

/** What a scheduler test gets. */
export interface Harness {
  clock: ManualClock;
  store: Store;
  /** What the scheduler sent to the supervisor. */
  sent: RuntimeMessage[];
  /** What it announced. */
  emitted: EventInit[];
  /** While true, every store call fails as in an outage. */
  setDown(down: boolean): void;
  /** Starts the scheduler (its first tick runs at once). */
  start(): void;
}

/** Runs `body` with a scheduler (not started) over a fresh store, and cleans up. */
export async function withScheduler(
  scheduler: Record<string, unknown>,
  start: number,
  body: (h: Harness) => Promise<void>,
): Promise<void> {
  const clock = new ManualClock(start);
  const dir = await Deno.makeTempDir({ prefix: "un-scheduler-" });
  const store = SqliteStore.open(dir);
  let down = false;
  const reachable = new Proxy(store, {
    get(target, key) {
      const value = Reflect.get(target, key);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) =>
        down ? Promise.reject(new UnavailableError("store away")) : value.apply(target, args);
    },
  });
  const deps: RuntimeDeps = {
    config: parseConfig({ scheduler }),
    store: reachable,
    log: silentLogger,
    handlers: {},
    faults: parseFaults(undefined),
    now: () => clock.now(),
  };
  const sent: RuntimeMessage[] = [];
  const emitted: EventInit[] = [];
  const events: EventSink = {
    emit: (init) => void emitted.push(init),
    emitMany: (inits) => void emitted.push(...inits),
  };
  // Stands in for the supervisor: the scheduler sends to `system.get("supervisor")`.
  const supervisor = setup({ actors: { scheduler: schedulerMachine } }).createMachine({
    entry: spawnChild("scheduler", { id: "scheduler", input: { deps, events } }),
    on: {
      "*": {
        actions: ({ event }) => {
          const message = event as RuntimeMessage;
          sent.push(message);
          // Answers as the prioritizer would: the schedule's last run gets the task's id.
          if (message.type === "task.enqueue") {
            const task = { id: `task-${sent.length}` } as Task;
            answer(message.replyTo, { task, deduplicated: false });
          }
        },
      },
    },
  });
  const actor = createActor(supervisor, { systemId: "supervisor", clock });
  try {
    await body({
      clock,
      store,
      sent,
      emitted,
      setDown: (d) => (down = d),
      start: () => actor.start(),
    });
  } finally {
    actor.stop();
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** The occurrences fired, from the `schedule.fired` announcements. */
export const fired = (emitted: EventInit[]) =>
  emitted.filter((e) => e.type === "schedule.fired").map((e) => {
    const { tick, lateMs } = e.data as { tick: number; lateMs: number };
    return { tick, lateMs };
  });
