/**
 * Test harness of the polling sources: a tiny parent machine with
 * `systemId: "supervisor"` that spawns real poll scanners, collects the
 * `event.publish` messages they send (answering each ask, as the real
 * supervisor does once the event is logged) and routes `source.scan` to them.
 * The store is a real SqliteStore in a temp dir.
 */

import { createActor, enqueueActions, setup } from "xstate";
import { pollScannerMachine } from "../../actors/poll-scanner.ts";
import { parseConfig, sourceSchema, type SourceSpec } from "../../lib/config/load.ts";
import type { RuntimeDeps } from "../../lib/protocol/deps.ts";
import { parseFaults } from "../../lib/protocol/deps.ts";
import type { CloudEvent } from "../../lib/events/cloud-event.ts";
import { silentLogger } from "../../lib/log.ts";
import { answer, ask, refuse } from "../../lib/protocol/ask.ts";
import type { RuntimeMessage } from "../../lib/protocol/messages.ts";
import { type SourceStatus, STATUS_KEY } from "../../lib/sources/scanner.ts";
import type { ScanLease } from "../../lib/sources/lease.ts";
import { SqliteStore } from "../../lib/store/sqlite/store.ts";
import type { Store } from "../../lib/store/types.ts";

/**
 * Resolves after `ms`.
 *
 * @example
 * ```ts
 * await sleep(50);
 * ```
 */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A validated source from raw config keys.
 *
 * @example
 * ```ts
 * source({ id: "blog", kind: "feed", url: "http://127.0.0.1:8000/feed.xml", interval: "1h" });
 * ```
 */
export function source(raw: Record<string, unknown>): SourceSpec {
  return sourceSchema.parse(raw);
}

/**
 * A real store in a fresh temp dir; `close` closes it and removes the dir.
 *
 * @example
 * ```ts
 * const { store, close } = await openStore();
 * await close();
 * ```
 */
export async function openStore(): Promise<{ store: Store; close(): Promise<void> }> {
  const dir = await Deno.makeTempDir({ prefix: "un-poll-" });
  const store = SqliteStore.open(dir);
  return {
    store,
    close: async () => {
      await store.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

type HarnessEvent = RuntimeMessage | { type: `xstate.error.actor.${string}`; error: unknown };

interface HarnessInput {
  deps: RuntimeDeps;
  sources: SourceSpec[];
  leases: Record<string, ScanLease>;
  onEvent(event: CloudEvent): void;
  onCrash(error: unknown): void;
}

const harnessMachine = setup({
  types: { context: {} as HarnessInput, input: {} as HarnessInput, events: {} as HarnessEvent },
}).createMachine({
  context: ({ input }) => input,
  entry: enqueueActions(({ context, enqueue }) => {
    for (const spec of context.sources) {
      const id = `source:${spec.id}`;
      enqueue.spawnChild(pollScannerMachine, {
        id,
        systemId: id,
        input: { deps: context.deps, source: spec, lease: context.leases[spec.id] },
      } as never);
    }
  }),
  on: {
    "event.publish": {
      actions: ({ context, event }) => {
        context.onEvent(event.event);
        answer(event.replyTo, event.event);
      },
    },
    "source.scan": {
      actions: ({ event, self }) => {
        const child = self.getSnapshot().children[`source:${event.request.sourceId}`];
        if (child) child.send(event);
        else refuse(event.replyTo, new Error(`no scanner for ${event.request.sourceId}`));
      },
    },
    "debug.crash": {
      actions: ({ event, self }) => self.getSnapshot().children[event.actor]?.send(event),
    },
    "xstate.error.actor.*": {
      actions: ({ context, event }) => context.onCrash((event as { error: unknown }).error),
    },
  },
});

/** Running scanners under the harness. */
export interface ScannerRun {
  /** Every event published so far, in order. */
  events: CloudEvent[];
  /** Errors of scanners that crashed (a poll failure must never land here). */
  crashes: unknown[];
  /** Events of one type. */
  ofType(type: string): CloudEvent[];
  /** Asks a scanner to poll now; resolves with the number of changes. */
  scan(sourceId: string): Promise<{ changes: number }>;
  status(sourceId: string): Promise<SourceStatus | null>;
  /** Sends the `debug.crash` fault to a scanner. */
  crash(sourceId: string): void;
  stop(): Promise<void>;
}

/**
 * Starts one poll scanner per source under a parent with `systemId: "supervisor"`;
 * a source in `leases` is scanned under that lease, as in a cluster.
 *
 * @example
 * ```ts
 * const run = startScanners(store, [source({ id: "blog", kind: "feed", url })]);
 * await eventually(() => run.events.length === 3, { intervalMs: 10, message: "3 events" });
 * await run.stop();
 * ```
 */
export function startScanners(
  store: Store,
  sources: SourceSpec[],
  leases: Record<string, ScanLease> = {},
): ScannerRun {
  const events: CloudEvent[] = [];
  const crashes: unknown[] = [];
  const deps: RuntimeDeps = {
    config: parseConfig({}),
    store,
    log: silentLogger,
    handlers: {},
    faults: parseFaults(undefined),
    now: () => Date.now(),
  };
  const root = createActor(harnessMachine, {
    systemId: "supervisor",
    input: {
      deps,
      sources,
      leases,
      onEvent: (e) => events.push(e),
      onCrash: (e) => crashes.push(e),
    },
  });
  root.start();
  return {
    events,
    crashes,
    ofType: (type) => events.filter((e) => e.type === type),
    scan: (sourceId) => ask(root, "source.scan", { request: { sourceId, requestedBy: "test" } }),
    status: async (sourceId) =>
      (await store.getSourceState(sourceId, STATUS_KEY)) as SourceStatus | null,
    crash: (sourceId) => root.send({ type: "debug.crash", actor: `source:${sourceId}` }),
    stop: async () => {
      root.stop();
      // Let aborted polls unwind (their fetches reject at once) before the store closes.
      await sleep(50);
    },
  };
}

/** A loopback HTTP server on a free port. */
export interface TestServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Serves `handler` on 127.0.0.1 (port 0 = a free one, or the one given).
 *
 * @example
 * ```ts
 * const server = serve(() => new Response("ok"));
 * await fetch(server.url);
 * await server.close();
 * ```
 */
export function serve(
  handler: (request: Request) => Response | Promise<Response>,
  port = 0,
): TestServer {
  const server = Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, handler);
  const bound = server.addr.port;
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    close: () => server.shutdown(),
  };
}
