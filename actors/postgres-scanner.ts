/**
 * The PostgreSQL scanner actor (contract: lib/sources/scanner.ts). While `live` it
 * holds one connection (an invoked callback actor, so stopping the scanner
 * always closes it) that installs the triggers, LISTENs and publishes
 * `db.changed` events. When the connection fails or is lost it waits with
 * capped exponential backoff (`waiting`) and connects again; the new
 * connection catches up on rows changed meanwhile when `catchUpColumn` is set.
 * The work itself is in lib/sources/postgres.ts.
 *
 * A source added at run time (stored with `origin: "api"`) connects only to a
 * host `http.allow` covers, checked before each connection: its name may
 * resolve elsewhere than when it was added. A refused host is a failed
 * connection (status, log, backoff).
 */

import { assign, fromCallback, sendTo, setup } from "xstate";
import { refuse, settle } from "../lib/protocol/ask.ts";
import type { RuntimeMessage } from "../lib/protocol/messages.ts";
import { EMPTY_STATUS, type ScannerInput, type SourceStatus } from "../lib/sources/scanner.ts";
import { checkPostgresHost } from "../lib/sources/admit.ts";
import { errorText } from "../lib/errors.ts";
import {
  type PostgresConnection,
  PostgresSource,
  type PostgresSpec,
  reconnectDelay,
} from "../lib/sources/postgres.ts";

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

/** Set when the scanner crashes, so a connection still being admitted is never opened. */
interface Halt {
  crashed: boolean;
}

interface PostgresScannerContext {
  source: PostgresSource;
  halt: Halt;
  /**
   * Mirrors source state "status". `failures` is 0 while connected;
   * `lastError` keeps the last error seen (with its time) after recovery, so
   * a dropped connection stays visible.
   */
  status: SourceStatus;
}

/**
 * Resolves when the source may connect: a config-file source always (the
 * operator's own), one added at run time when `http.allow` covers its host
 * now. The scanner's input is the bare definition, so the stored record
 * tells the origin; a source the store does not know is its caller's own.
 */
async function admitHost(source: PostgresSource): Promise<void> {
  const { deps, spec } = source;
  const stored = await deps.store.getSource(spec.id);
  if (stored?.origin === "api") await checkPostgresHost(spec.url, deps.config.http.allow);
}

/** One connection for as long as the actor is `live`; the cleanup closes it. */
const connection = fromCallback<ConnectionCommand, { source: PostgresSource; halt: Halt }>(
  ({ input, sendBack, receive, system }) => {
    let stopped = false;
    const report = (event: PostgresScannerEvent) => {
      if (!stopped) sendBack(event);
    };
    const conn: Promise<PostgresConnection> = admitHost(input.source).then(() => {
      if (stopped || input.halt.crashed) throw new Error("scanner stopped before connecting");
      return input.source.connect({
        publish: (event) => {
          system.get("supervisor")?.send({ type: "event.publish", event });
          report({ type: "pg.published" });
        },
        ready: (info) => report({ type: "pg.ready", ...info }),
        failed: (error) => report({ type: "pg.failed", error: error.message }),
      });
    });
    conn.catch((error) => report({ type: "pg.failed", error: errorText(error) }));
    receive((command) => {
      const replyTo = command.type === "source.scan" ? command.replyTo : undefined;
      const scanned = conn.then((open) => open.scan());
      settle(replyTo, scanned.then((changes) => ({ changes })));
      // A failed catch-up means a broken connection: `failed` reports it.
      scanned.then((changes) => report({ type: "pg.scanned", changes }), () => {});
    });
    return () => {
      stopped = true;
      conn.then((open) => open.close(), () => {});
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
      context.halt.crashed = true;
      context.source.closeAll();
      throw new Error("fault injected into postgres scanner");
    },
  },
}).createMachine({
  id: "postgres-scanner",
  context: ({ input }) => ({
    source: new PostgresSource(postgresSpec(input), input.deps),
    halt: { crashed: false },
    status: { ...EMPTY_STATUS },
  }),
  initial: "live",
  on: { "debug.crash": { actions: "crash" } },
  states: {
    live: {
      invoke: {
        id: "connection",
        src: "connection",
        input: ({ context }) => ({ source: context.source, halt: context.halt }),
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
            refuse(
              event.replyTo,
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
