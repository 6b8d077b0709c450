/**
 * One watching session of an fs source: from the watcher's raw events and
 * full reconciliations to file changes, published once each and persisted.
 *
 * Every job that reads or changes the file index (a flush of debounced paths,
 * a full or subtree reconciliation) runs on one serial queue, so the watcher
 * and the reconciliation never disagree about what is known and nothing is
 * emitted twice. The actor (`actors/fs-scanner.ts`) owns the watcher and the
 * lifecycle; this module owns the logic.
 */

import { basename, dirname, join } from "node:path";
import type { SourceSpec } from "../config/load.ts";
import { errorText, UnavailableError } from "../errors.ts";
import { SerialQueue } from "../keyed-queue.ts";
import type { CloudEvent, EventPriority } from "../events/cloud-event.ts";
import { higherPriority } from "../sources/manual-scan.ts";
import type { Logger } from "../log.ts";
import { reportScan } from "../metrics/scan-times.ts";
import type { SourceStore } from "../store/types.ts";
import { Debouncer } from "./debounce.ts";
import { fileEvent } from "./events.ts";
import type { FileIndex } from "./file-index.ts";
import { examinePath, isDirectory } from "./examine.ts";
import { applyChanges, diffTree, type FileChange, IndexWrites, pairRenames } from "./reconcile.ts";
import type { PathRules } from "./rules.ts";
import type { StatusRecorder } from "./status.ts";
import { readGitignore, relativePath, walk } from "./walk.ts";

/** An fs source definition. */
export type FsSourceSpec = Extract<SourceSpec, { kind: "fs" }>;

/** Source state key set once the first scan has recorded a baseline. */
export const BASELINE_KEY = "baseline";

/** What a session needs. */
export interface FsSessionOptions {
  /** Absolute root of the tree. */
  root: string;
  source: FsSourceSpec;
  store: SourceStore;
  log: Logger;
  rules: PathRules;
  /** The index as loaded from the store; the session keeps it current. */
  index: FileIndex;
  /** A first scan already happened (source state {@link BASELINE_KEY}). */
  baseline: boolean;
  status: StatusRecorder;
  publish(event: CloudEvent): void;
  /**
   * In a cluster: whether this process still holds the source's lease under
   * the fence it was started with, asked before each batch is published. Once
   * not (it stalled past the lease and another process took the source over),
   * the session publishes and persists nothing more: the holder finds the same
   * changes when it reconciles.
   */
  stillHolds?(): Promise<boolean>;
  /** The session cannot go on (the root vanished); the owner stops it and retries later. */
  onFatal(error: Error): void;
  now(): number;
}

/** Raw event kinds that can add, remove or move a directory (access and modify cannot). */
const STRUCTURAL: ReadonlySet<Deno.FsEvent["kind"]> = new Set([
  "create",
  "remove",
  "rename",
  "any",
  "other",
]);

/**
 * A watching session.
 */
export class FsSession {
  readonly #o: FsSessionOptions;
  readonly #paths: Debouncer<boolean>;
  readonly #rescan: Debouncer<boolean>;
  readonly #queue = new SerialQueue();
  #scanQueued: Promise<number> | null = null;
  /** The priority a manual scan asked for its changes (the queued scan's); undefined: the source's. */
  #scanPriority: EventPriority | undefined;
  /** Debounced paths waiting for the queue: relative path → saw a structural event. */
  #ready = new Map<string, boolean>();
  #flushQueued = false;
  /** Moves the watcher reported, by destination: relative to → relative from. */
  readonly #moves = new Map<string, string>();
  #baseline: boolean;
  #interval: ReturnType<typeof setInterval> | null = null;
  #closed = false;
  /**
   * More paths changed than `maxPending` holds: they were dropped and a rescan
   * is due, which finds every change; until it starts, events only push it back.
   */
  #overflowed = false;

  constructor(options: FsSessionOptions) {
    this.#o = options;
    this.#baseline = options.baseline;
    const { debounceMs, maxDelayMs } = options.source;
    this.#paths = new Debouncer<boolean>({
      waitMs: debounceMs,
      maxWaitMs: maxDelayMs,
      merge: (a, b) => a || b,
      onFlush: (batch) => this.#queueFlush(batch),
    });
    // An overflow burst raises many rescan flags: one reconciliation after it settles.
    this.#rescan = new Debouncer<boolean>({
      waitMs: debounceMs,
      maxWaitMs: maxDelayMs,
      merge: () => true,
      onFlush: () => {
        this.#overflowed = false;
        this.#background(this.scan(), "rescan after overflow");
      },
    });
  }

  /**
   * Queues the start-up reconciliation (call it once the watcher is open, so
   * nothing between walk and watch is missed) and the periodic one. A failed
   * start-up reconciliation is fatal.
   */
  start(): void {
    this.scan().catch((error) => this.#fatal(error));
    const every = this.#o.source.interval;
    if (every !== undefined) {
      this.#interval = setInterval(() => this.#background(this.scan(), "periodic rescan"), every);
    }
  }

  /**
   * Feeds one raw watcher event.
   */
  handle(event: Deno.FsEvent): void {
    if (this.#closed) return;
    if (event.flag === "rescan") {
      if (this.#rescan.size === 0) {
        this.#o.log.info("watcher queue overflowed; rescanning", { source: this.#o.source.id });
      }
      this.#rescan.add("tree", true);
      return;
    }
    if (event.kind === "access") return;
    if (this.#overflowed) {
      this.#rescan.add("tree", true);
      return;
    }
    const structural = STRUCTURAL.has(event.kind);
    const rels: string[] = [];
    for (const path of event.paths) {
      const rel = relativePath(this.#o.root, path);
      if (rel !== null && this.#watched(rel)) rels.push(rel);
    }
    for (const rel of rels) {
      if (!this.#paths.has(rel) && this.#pendingCount() >= this.#o.source.maxPending) {
        this.#overflow();
        return;
      }
      this.#paths.add(rel, structural);
    }
    if (event.kind === "rename" && event.paths.length === 2 && rels.length === 2) {
      this.#moves.set(rels[1], rels[0]);
    }
  }

  /**
   * A full reconciliation (joined with one already queued); resolves with the
   * number of changes published. `priority` (a manual scan's) is given to the
   * changes it finds instead of the source's; joined scans take the highest.
   */
  scan(priority?: EventPriority): Promise<number> {
    if (this.#closed) return Promise.reject(new UnavailableError("the fs scanner is stopping"));
    this.#scanPriority = higherPriority(this.#scanPriority, priority);
    this.#scanQueued ??= this.#enqueue(() => this.#reconcile());
    return this.#scanQueued;
  }

  /**
   * Stops timers and drops pending work; a job in flight publishes nothing more.
   */
  close(): void {
    this.#closed = true;
    this.#paths.close();
    this.#rescan.close();
    if (this.#interval !== null) clearInterval(this.#interval);
    this.#interval = null;
  }

  /** Paths held: settling, and settled but not yet applied. */
  #pendingCount(): number {
    return this.#paths.size + this.#ready.size;
  }

  /**
   * Past `maxPending`: the held paths are dropped (memory stays bounded) and
   * one reconciliation replaces them; it sees every file as it is, so no
   * change is lost, only reported together.
   */
  #overflow(): void {
    this.#o.log.warn("too many pending file changes; dropping them for one rescan", {
      source: this.#o.source.id,
      pending: this.#pendingCount(),
      maxPending: this.#o.source.maxPending,
    });
    this.#overflowed = true;
    this.#paths.clear();
    this.#ready.clear();
    this.#moves.clear();
    this.#rescan.add("tree", true);
  }

  #enqueue<T>(job: () => Promise<T>): Promise<T> {
    return this.#queue.run(() =>
      this.#closed ? Promise.reject(new UnavailableError("the fs scanner is stopping")) : job()
    );
  }

  #background(work: Promise<unknown>, what: string): void {
    work.catch((error) => {
      if (this.#closed) return;
      this.#o.log.warn(`${what} failed`, { source: this.#o.source.id, error: errorText(error) });
      this.#o.status.update({ lastError: `${what}: ${error}`, lastErrorAt: this.#o.now() });
    });
  }

  #fatal(error: unknown): void {
    if (!this.#closed) this.#o.onFatal(error instanceof Error ? error : new Error(String(error)));
  }

  /**
   * False for paths inside a skipped directory (`.git/`, the store, excluded
   * or git-ignored): their churn (every store commit touches `.un/`) costs no
   * stat. Rule changes trigger a full reconciliation, so nothing is lost.
   */
  #watched(rel: string): boolean {
    const cut = rel.lastIndexOf("/");
    return cut === -1 || !this.#o.rules.ignoresDir(rel.slice(0, cut));
  }

  async #reconcile(): Promise<number> {
    this.#scanQueued = null;
    const priority = this.#scanPriority;
    this.#scanPriority = undefined;
    const { root, rules, index, source, store } = this.#o;
    const started = this.#o.now();
    let found;
    try {
      found = await walk(root, rules);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      const missing = new Error(`watched directory ${root} does not exist`);
      this.#fatal(missing);
      throw missing;
    }
    if (this.#closed) return 0;
    const changes = diffTree(index.under(""), found.files, found.unreadable);
    const writes = applyChanges(index, changes);
    const silent = !this.#baseline && !source.emitExisting;
    await this.#commit(silent ? [] : changes, writes, priority);
    if (this.#closed) return 0;
    if (!this.#baseline) {
      await store.setSourceState(source.id, BASELINE_KEY, true);
      this.#baseline = true;
    }
    const now = this.#o.now();
    this.#o.status.update({
      lastScanAt: now,
      nextPollAt: source.interval === undefined ? null : now + source.interval,
      lastError: null,
      failures: 0,
    });
    reportScan(store, source.id, now - started);
    return silent ? 0 : changes.length;
  }

  #queueFlush(batch: Map<string, boolean>): void {
    for (const [path, structural] of batch) {
      this.#ready.set(path, (this.#ready.get(path) ?? false) || structural);
    }
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    this.#background(this.#enqueue(() => this.#flush()), "processing file changes");
  }

  async #flush(): Promise<void> {
    this.#flushQueued = false;
    const batch = this.#ready;
    this.#ready = new Map();
    const moves: [string, string][] = [];
    for (const [to, from] of this.#moves) {
      if (!batch.has(to)) continue;
      this.#moves.delete(to);
      moves.push([from, to]);
    }
    // A vanished root is an outage, not the deletion of every file: stop
    // before reporting any, keep the index, and let the retry reconcile.
    if (!(await isDirectory(this.#o.root))) {
      this.#fatal(new Error(`watched directory ${this.#o.root} was removed`));
      return;
    }
    const writes = new IndexWrites();
    const changes: FileChange[] = [];
    let rulesChanged = false;
    for (const [rel, structural] of batch) {
      if (this.#closed) return;
      if (rel === "") continue;
      if (this.#o.rules.gitignore && basename(rel) === ".gitignore") {
        await this.#reloadGitignore(rel);
        rulesChanged = true;
      }
      let found: FileChange[];
      try {
        found = await examinePath(this.#o.root, rel, structural, this.#o.index, this.#o.rules);
      } catch (error) {
        // One unreadable path must not hold back the rest of the batch.
        this.#o.log.warn("could not examine a changed path", {
          path: rel,
          error: errorText(error),
        });
        continue;
      }
      // Applied at once, so a path seen twice in one batch (a new directory and
      // a file in it) is compared with what the first look recorded.
      applyChanges(this.#o.index, found, writes);
      changes.push(...found);
    }
    await this.#commit(pairRenames(changes, moves), writes);
    if (rulesChanged) this.#background(this.scan(), "rescan after .gitignore change");
  }

  async #reloadGitignore(rel: string): Promise<void> {
    const dir = dirname(rel) === "." ? "" : dirname(rel);
    this.#o.rules.setGitignore(dir, await readGitignore(join(this.#o.root, rel)));
  }

  /** Publishes, then persists (at-least-once: a crash in between repeats, never loses). */
  async #commit(
    changes: readonly FileChange[],
    writes: IndexWrites,
    priority = this.#o.source.priority,
  ): Promise<void> {
    if (this.#closed) return;
    const { source, store, root, stillHolds } = this.#o;
    const put = writes.put();
    const removed = writes.removed();
    const work = changes.length + put.length + removed.length;
    if (work > 0 && stillHolds && !(await stillHolds())) {
      this.#o.log.warn("source lease moved to another process; its changes are left to it", {
        source: source.id,
        changes: changes.length,
      });
      this.close();
      return;
    }
    if (this.#closed) return;
    const context = { sourceId: source.id, root, priority };
    for (const change of changes) this.#o.publish(fileEvent(change, context));
    if (put.length > 0) await store.putFiles(source.id, put);
    if (removed.length > 0) await store.deleteFiles(source.id, removed);
    if (changes.length > 0) this.#o.status.update({ lastChangeAt: this.#o.now() });
  }
}
