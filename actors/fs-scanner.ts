/**
 * The filesystem scanner: one actor per `kind: "fs"` source. It keeps the
 * contract of lib/sources/scanner.ts.
 *
 * `starting` checks the root and loads the file index; `watching` opens
 * `Deno.watchFs` first and only then reconciles the tree with the index (so no
 * change between the walk and the watch is missed), and from then on turns raw
 * watcher events into file events (lib/fs/session.ts). A vanished root is not
 * a crash: it is recorded in the source status and retried with backoff from
 * `failed`.
 */

import { resolve } from "node:path";
import { assign, fromCallback, fromPromise, sendTo, setup } from "xstate";
import type { SourceSpec } from "../lib/config/load.ts";
import type { EventPriority } from "../lib/events/cloud-event.ts";
import type { RuntimeDeps } from "../lib/protocol/deps.ts";
import type { Coordination, SourceStore } from "../lib/store/types.ts";
import { errorText, UnavailableError } from "../lib/errors.ts";
import { backoffMs, RECONNECT_BACKOFF } from "../lib/backoff.ts";
import { FileIndex } from "../lib/fs/file-index.ts";
import { PathRules } from "../lib/fs/rules.ts";
import { BASELINE_KEY, FsSession, type FsSourceSpec } from "../lib/fs/session.ts";
import { StatusRecorder } from "../lib/fs/status.ts";
import { relativePath } from "../lib/fs/walk.ts";
import type { Logger } from "../lib/log.ts";
import { refuse, settle } from "../lib/protocol/ask.ts";
import type { ReplyTo, RuntimeMessage } from "../lib/protocol/messages.ts";
import type { ScannerInput } from "../lib/sources/scanner.ts";
import { type ScanLease, stillHeld } from "../lib/sources/lease.ts";

/** Who waits for a scan's answer, and the priority asked for its changes. */
type ScanAsk = { replyTo: ReplyTo<"source.scan">; priority?: EventPriority };

/** Messages the fs scanner understands. */
export type FsScannerEvent =
  | Extract<RuntimeMessage, { type: "source.scan" }>
  | { type: "debug.crash"; actor?: string }
  /** From the watching session: it cannot go on (root removed, watcher broke). */
  | { type: "fs.failed"; error: string };

/** What `starting` loads for a session. */
interface Opened {
  index: FileIndex;
  rules: PathRules;
  baseline: boolean;
}

interface FsScannerContext {
  deps: RuntimeDeps<SourceStore & Coordination>;
  source: FsSourceSpec;
  /** Absolute root (the source's path resolved against the process cwd). */
  root: string;
  log: Logger;
  status: StatusRecorder;
  /** In a cluster: the source lease this scanner runs under. */
  lease: ScanLease | null;
  opened: Opened | null;
  /** Consecutive failures to start or keep watching. */
  failures: number;
  lastError: string | null;
  /** Scans asked for before the watcher was up: the start-up reconciliation answers them. */
  waiting: ScanAsk[];
}

interface WatchInput {
  context: FsScannerContext;
  opened: Opened;
}

/**
 * Delay before retrying after `failures` consecutive failures: 250 ms doubling, at most 30 s.
 */
export function retryDelay(failures: number): number {
  return backoffMs(failures, RECONNECT_BACKOFF);
}

function asFsSource(source: SourceSpec): FsSourceSpec {
  if (source.kind !== "fs") throw new Error(`fs scanner given a ${source.kind} source`);
  return source;
}

/** Relative paths never watched: the store directory when it lies inside the tree. */
function storeInside(root: string, storePath: string): string[] {
  const rel = relativePath(root, resolve(storePath));
  return rel ? [rel] : [];
}

async function open({ deps, source, root, status }: FsScannerContext): Promise<Opened> {
  await status.load();
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(root);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(`watched directory ${root} does not exist`);
    }
    throw error;
  }
  if (!info.isDirectory) throw new Error(`watched path ${root} is not a directory`);
  const [files, baseline] = await Promise.all([
    deps.store.listFiles(source.id),
    deps.store.getSourceState(source.id, BASELINE_KEY),
  ]);
  const rules = new PathRules({
    include: source.include,
    exclude: source.exclude,
    gitignore: source.gitignore,
    alwaysIgnore: storeInside(root, deps.config.store.path),
  });
  return { index: new FileIndex(files), rules, baseline: baseline === true };
}

function answerScan(work: Promise<number>, replyTo: ReplyTo<"source.scan"> | undefined): void {
  settle(replyTo, work.then((changes) => ({ changes })));
}

/**
 * The fs scanner actor logic. Its input is {@link ScannerInput} with an fs source.
 */
export const fsScannerMachine = setup({
  types: {
    context: {} as FsScannerContext,
    input: {} as ScannerInput,
    events: {} as FsScannerEvent,
  },
  actors: {
    open: fromPromise<Opened, FsScannerContext>(({ input }) => open(input)),
    watch: fromCallback<FsScannerEvent, WatchInput>(({ input, sendBack, receive, system }) => {
      const { context, opened } = input;
      const { lease } = context;
      const fail = (error: unknown) => sendBack({ type: "fs.failed", error: errorText(error) });
      // Watch first, then walk: a change made during the walk still reaches the session.
      let watcher: Deno.FsWatcher;
      try {
        watcher = Deno.watchFs(context.root, { recursive: true });
      } catch (error) {
        // The root went away since `starting` looked: retry, do not crash.
        fail(error);
        return () => {};
      }
      const session = new FsSession({
        ...opened,
        root: context.root,
        source: context.source,
        store: context.deps.store,
        log: context.log,
        status: context.status,
        now: context.deps.now,
        stillHolds: lease
          ? () => stillHeld(context.deps.store, lease, context.deps.now())
          : undefined,
        publish: (event) => {
          const message: RuntimeMessage = { type: "event.publish", event };
          system.get("supervisor")?.send(message);
        },
        onFatal: fail,
      });
      let stopped = false;
      (async () => {
        for await (const event of watcher) session.handle(event);
      })().catch((error) => stopped || fail(error));
      session.start();
      for (const ask of context.waiting) answerScan(session.scan(ask.priority), ask.replyTo);
      receive((event) => {
        if (event.type !== "source.scan") return;
        answerScan(session.scan(event.request.priority), event.replyTo);
      });
      return () => {
        stopped = true;
        session.close();
        try {
          watcher.close();
        } catch {
          // Already closed by the runtime (the watched root went away).
        }
      };
    }),
  },
  actions: {
    countFailure: assign({
      failures: ({ context }) => context.failures + 1,
      lastError: (_, error: string) => error,
    }),
    /** Runs after `countFailure`: logs and records the failure in the source status. */
    reportFailure: ({ context }) => {
      const now = context.deps.now();
      const delayMs = retryDelay(context.failures);
      context.log.warn("fs source unavailable; retrying", {
        error: context.lastError,
        failures: context.failures,
        delayMs,
      });
      context.status.update({
        lastError: context.lastError,
        lastErrorAt: now,
        failures: context.failures,
        nextPollAt: now + delayMs,
      });
    },
    rejectWaiting: ({ context }) => {
      const error = new UnavailableError(`source ${context.source.id}: ${context.lastError}`);
      for (const ask of context.waiting) refuse(ask.replyTo, error);
    },
  },
  delays: { retry: ({ context }) => retryDelay(context.failures) },
}).createMachine({
  id: "fs-scanner",
  context: ({ input }) => {
    const source = asFsSource(input.source);
    const log = input.deps.log.child(`source:${source.id}`);
    return {
      log,
      deps: input.deps,
      source,
      root: resolve(source.path),
      status: new StatusRecorder(input.deps.store, source.id, log),
      lease: input.lease ?? null,
      opened: null,
      failures: 0,
      lastError: null,
      waiting: [],
    };
  },
  initial: "starting",
  on: {
    "debug.crash": {
      actions: () => {
        throw new Error("fault injected into fs scanner");
      },
    },
  },
  states: {
    starting: {
      invoke: {
        src: "open",
        input: ({ context }) => context,
        onDone: {
          target: "watching",
          actions: assign({ opened: ({ event }) => event.output, failures: 0 }),
        },
        onError: {
          target: "failed",
          actions: [
            { type: "countFailure", params: ({ event }) => errorText(event.error) },
            "reportFailure",
          ],
        },
      },
      on: {
        "source.scan": {
          actions: assign({
            waiting: ({ context, event }) =>
              event.replyTo === undefined ? context.waiting : [...context.waiting, {
                replyTo: event.replyTo,
                priority: event.request.priority,
              }],
          }),
        },
      },
    },
    watching: {
      invoke: {
        id: "watch",
        src: "watch",
        input: ({ context }) => ({ context, opened: context.opened! }),
      },
      exit: assign({ opened: null, waiting: [] }),
      on: {
        "source.scan": { actions: sendTo("watch", ({ event }) => event) },
        "fs.failed": {
          target: "failed",
          actions: [{ type: "countFailure", params: ({ event }) => event.error }, "reportFailure"],
        },
      },
    },
    failed: {
      entry: ["rejectWaiting", assign({ waiting: [] })],
      after: { retry: "starting" },
      on: {
        "source.scan": {
          actions: ({ context, event }) =>
            refuse(
              event.replyTo,
              new UnavailableError(`source ${context.source.id}: ${context.lastError}`),
            ),
        },
      },
    },
  },
});
