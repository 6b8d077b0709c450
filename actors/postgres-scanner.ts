/**
 * The PostgreSQL scanner actor (contract: lib/scanner.ts). While `live` it
 * holds one connection (an invoked callback actor, so stopping the scanner
 * always closes it) that installs the triggers, LISTENs and publishes
 * `db.changed` events. When the connection fails or is lost it waits with
 * capped exponential backoff (`waiting`) and connects again; the new
 * connection catches up on rows changed meanwhile when `catchUpColumn` is set.
 * The work itself is in lib/sources/postgres.ts.
 */

import { assign, fromCallback, sendTo, setup } from "xstate";
import type { RuntimeMessage } from "../lib/messages.ts";
import { EMPTY_STATUS, type ScannerInput, type SourceStatus } from "../lib/scanner.ts";
import { PostgresSource, type PostgresSpec, reconnectDelay } from "../lib/sources/postgres.ts";

/** A scan request as the supervisor routes it. */
type ScanMessage = Extract<RuntimeMessage, { type: "source.scan" }>;

/** Messages of the PostgreSQL scanner: the contract's, and its connection's reports. */
export type PostgresScannerEvent =
  | ScanMessage
  | { type: "debug.crash"; actor?: string }
  /** The connection listens; `problems` names configured tables left out. */
  | { type: "pg.ready"; tables: string[]; problems: string[] }
  | { type: "pg.failed"; error: string }
  /** A change event went to the supervisor. */
  | { type: "pg.published" }
  /** A catch-up (scan or periodic) finished. */
  | { type: "pg.scanned"; changes: number };

/** What the connection actor is asked to do. */
type ConnectionCommand = ScanMessage | { type: "pg.catchUp" };

interface PostgresScannerContext {
  source: PostgresSource;
  /**
   * Mirrors source state "status". `failures` is 0 while connected;
   * `lastError` keeps the last error seen (with its time) after recovery, so
   * a dropped connection stays visible.
   */
  status: SourceStatus;
}

/** One connection for as long as the actor is `live`; the cleanup closes it. */
const connection = fromCallback<ConnectionCommand, { source: PostgresSource }>(
  ({ input, sendBack, receive, system }) => {
    let stopped = false;
    const report = (event: PostgresScannerEvent) => {
      if (!stopped) sendBack(event);
    };
    const conn = input.source.connect({
      publish: (event) => {
        system.get("supervisor")?.send({ type: "event.publish", event });
        report({ type: "pg.published" });
      },
      ready: (info) => report({ type: "pg.ready", ...info }),
      failed: (error) => report({ type: "pg.failed", error: error.message }),
    });
    receive((command) => {
      const reply = command.type === "source.scan" ? command.reply : undefined;
      conn.scan().then(
        (changes) => {
          reply?.resolve({ changes });
          report({ type: "pg.scanned", changes });
        },
        (error) => {
          if (reply) reply.reject(error);
          // A failed catch-up means a broken connection: `failed` reports it.
        },
      );
    });
    return () => {
      stopped = true;
      conn.close();
    };
  },
);

function postgresSpec(input: ScannerInput): PostgresSpec {
  if (input.source.kind !== "postgres") {
    throw new Error(`postgres scanner given a ${input.source.kind} source`);
  }
  return input.source;
}

/**
 * The PostgreSQL scanner actor logic (register it for kind `postgres`).
 *
 * @example
 * ```ts
 * const scanner = createActor(postgresScannerMachine, { input: { deps, source } });
 * scanner.start();
 * scanner.send({ type: "source.scan", request: { sourceId: source.id, requestedBy: "api" }, reply });
 * ```
 */
export const postgresScannerMachine = setup({
  types: {
    context: {} as PostgresScannerContext,
    input: {} as ScannerInput,
    events: {} as PostgresScannerEvent,
  },
  actors: { connection },
  delays: {
    reconnect: ({ context }) => reconnectDelay(context.status.failures),
    catchUpEvery: ({ context }) => context.source.spec.interval ?? 60_000,
  },
  guards: {
    // Periodic catch-up is a safety net for notifications lost without a
    // visible disconnect; it needs a catch-up column to ask with.
    periodic: ({ context }) =>
      context.source.spec.interval !== undefined &&
      context.source.spec.catchUpColumn !== undefined,
  },
  actions: {
    save: ({ context }) => context.source.saveStatus(context.status),
    crash: ({ context }) => {
      // Close first: XState leaves the children of a crashed actor running.
      context.source.closeAll();
      throw new Error("fault injected into postgres scanner");
    },
  },
}).createMachine({
  id: "postgres-scanner",
  context: ({ input }) => ({
    source: new PostgresSource(postgresSpec(input), input.deps),
    status: { ...EMPTY_STATUS },
  }),
  initial: "live",
  on: { "debug.crash": { actions: "crash" } },
  states: {
    live: {
      invoke: {
        id: "connection",
        src: "connection",
        input: ({ context }) => ({ source: context.source }),
      },
      initial: "connecting",
      on: {
        "source.scan": { actions: sendTo("connection", ({ event }) => event) },
        "pg.published": {
          actions: [
            assign({
              status: ({ context }) => ({
                ...context.status,
                lastChangeAt: context.source.deps.now(),
              }),
            }),
            "save",
          ],
        },
        "pg.scanned": {
          actions: [
            assign({
              status: ({ context }) => ({
                ...context.status,
                lastScanAt: context.source.deps.now(),
              }),
            }),
            "save",
          ],
        },
        "pg.failed": {
          target: "waiting",
          actions: [
            assign({
              status: ({ context, event }) => {
                const now = context.source.deps.now();
                const failures = context.status.failures + 1;
                return {
                  ...context.status,
                  lastError: event.error,
                  lastErrorAt: now,
                  failures,
                  nextPollAt: now + reconnectDelay(failures),
                };
              },
            }),
            "save",
            ({ context, event }) =>
              context.source.deps.log.warn("postgres source disconnected; reconnecting", {
                source: context.source.spec.id,
                error: event.error,
                failures: context.status.failures,
                retryInMs: reconnectDelay(context.status.failures),
              }),
          ],
        },
      },
      states: {
        connecting: {
          on: {
            "pg.ready": {
              target: "listening",
              actions: [
                assign({
                  status: ({ context, event }) => {
                    const now = context.source.deps.now();
                    const problem = event.problems.length ? event.problems.join("; ") : null;
                    return {
                      ...context.status,
                      lastScanAt: now,
                      lastError: problem ?? context.status.lastError,
                      lastErrorAt: problem ? now : context.status.lastErrorAt,
                      failures: 0,
                      nextPollAt: null,
                    };
                  },
                }),
                "save",
                ({ context, event }) => {
                  const { log, spec } = { log: context.source.deps.log, spec: context.source.spec };
                  log.info("postgres source listening", { source: spec.id, tables: event.tables });
                  for (const problem of event.problems) {
                    log.error("postgres table not watched", { source: spec.id, problem });
                  }
                },
              ],
            },
          },
        },
        listening: {
          initial: "steady",
          states: {
            steady: { always: { guard: "periodic", target: "periodic" } },
            periodic: {
              after: {
                catchUpEvery: {
                  target: "periodic",
                  reenter: true,
                  actions: sendTo("connection", { type: "pg.catchUp" }),
                },
              },
            },
          },
        },
      },
    },
    waiting: {
      after: { reconnect: "live" },
      on: {
        "source.scan": {
          actions: ({ context, event }) =>
            event.reply?.reject(
              new Error(
                `postgres source ${context.source.spec.id} is not connected (${
                  context.status.lastError ?? "connecting"
                }); next attempt at ${new Date(context.status.nextPollAt ?? 0).toISOString()}`,
              ),
            ),
        },
      },
    },
  },
});
