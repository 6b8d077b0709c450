/**
 * What can go wrong under a running embedded store, noticed and said once:
 *
 * - the store directory or file is deleted or replaced (`rm -rf .un`): SQLite
 *   keeps writing to the open, unlinked file, so every acknowledged write
 *   would vanish at the next start. Noticed by comparing inode and device
 *   with those at open; writes are refused from then on ({@link StoreGoneError}).
 * - the disk is full or fails a write (SQLITE_FULL, SQLITE_IOERR): writes fail
 *   with {@link StoreDiskError} (507) until one succeeds again.
 * - the file is damaged (SQLITE_CORRUPT, SQLITE_NOTADB): writes are refused so
 *   the damage does not spread ({@link StoreDamagedError}).
 *
 * `node:sqlite` in Deno gives every SQLite error the same `code`
 * (`ERR_SQLITE_ERROR`) and no result code, so the kind is read from SQLite's
 * own wording (`sqlite3_errstr`), which is stable across versions.
 */

import { StoreDamagedError, StoreDiskError, StoreGoneError, UnError } from "../../errors.ts";

/** The kind of a fault, for logs and callers. */
export type FaultKind = "gone" | "replaced" | "full" | "io" | "damaged";

/**
 * A change of the store's fault state: a fault began (`error` set) or a disk
 * fault ended (`error` null).
 */
export interface FaultChange {
  kind: FaultKind;
  error: StoreGoneError | StoreDiskError | StoreDamagedError | null;
  /** For a deleted store: where this process can still read the deleted files. */
  openCopies?: string[];
}

/**
 * The kind of a raw SQLite error, or null when it is none of ours (a
 * constraint, a bug).
 */
export function sqliteFaultKind(error: unknown): "full" | "io" | "damaged" | null {
  if (!(error instanceof Error) || error instanceof UnError) return null;
  const message = error.message;
  if (/database or disk is full/i.test(message)) return "full";
  if (/disk I\/O error/i.test(message)) return "io";
  if (/database disk image is malformed|file is not a database/i.test(message)) return "damaged";
  return null;
}

interface Identity {
  ino: number | null;
  dev: number;
}

function identity(path: string): Identity | null {
  try {
    const info = Deno.statSync(path);
    return { ino: info.ino, dev: info.dev };
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return null;
    }
    throw error;
  }
}

/** Paths under /proc where this process still holds the (deleted) `file` and its WAL open. */
function openCopies(file: string): string[] {
  const found: string[] = [];
  try {
    for (const entry of Deno.readDirSync("/proc/self/fd")) {
      let target: string;
      try {
        target = Deno.readLinkSync(`/proc/self/fd/${entry.name}`);
      } catch {
        continue;
      }
      const name = target.replace(/ \(deleted\)$/, "");
      if (name === file || name === `${file}-wal`) {
        found.push(`/proc/${Deno.pid}/fd/${entry.name} (${name.endsWith("-wal") ? "wal" : "db"})`);
      }
    }
  } catch {
    // No /proc: nothing to point at.
  }
  return found;
}

/**
 * Options of {@link StoreFaults}.
 */
export interface StoreFaultOptions {
  /** Look for a deleted or replaced store this often (ms); otherwise only on `check()`. */
  watchMs?: number;
  /** Told once when a fault begins, and when a disk fault ends. */
  onFault?: (change: FaultChange) => void;
  /** SQLite's `total_changes()` on the store's connection. */
  totalChanges: () => number;
}

/**
 * The fault state of one open store.
 */
export class StoreFaults {
  readonly #dir: string;
  readonly #file: string;
  readonly #options: StoreFaultOptions;
  readonly #dirAtOpen: Identity | null;
  readonly #fileAtOpen: Identity | null;
  readonly #watch: ReturnType<typeof setInterval> | null = null;
  #fault: StoreGoneError | StoreDiskError | StoreDamagedError | null = null;
  /** `total_changes()` at the last disk failure: more after a COMMIT means a write landed. */
  #changesAtFailure = 0;

  constructor(dir: string, file: string, options: StoreFaultOptions) {
    this.#dir = dir;
    this.#file = file;
    this.#options = options;
    this.#dirAtOpen = identity(dir);
    this.#fileAtOpen = identity(file);
    if (options.watchMs !== undefined && options.watchMs > 0) {
      this.#watch = setInterval(() => this.check(), options.watchMs);
      // Watching must not keep a process alive that has nothing else to do.
      Deno.unrefTimer(this.#watch);
    }
  }

  /** Stops watching (the store is closing). */
  stop(): void {
    if (this.#watch !== null) clearInterval(this.#watch);
  }

  /** The fault now, or null. */
  get current(): StoreGoneError | StoreDiskError | StoreDamagedError | null {
    return this.#fault;
  }

  /** True while writes fail for want of disk (they are still tried: that is how it ends). */
  get diskFault(): boolean {
    return this.#fault instanceof StoreDiskError;
  }

  /** Throws the fault that makes writes pointless (a deleted, replaced or damaged store). */
  refuseWrite(): void {
    if (this.#fault !== null && !(this.#fault instanceof StoreDiskError)) throw this.#fault;
  }

  /** Compares the directory and file with what was opened; a difference is a lasting fault. */
  check(): void {
    if (this.#fault !== null && !(this.#fault instanceof StoreDiskError)) return;
    let dir: Identity | null, file: Identity | null;
    try {
      dir = identity(this.#dir);
      file = identity(this.#file);
    } catch {
      return; // a stat that fails for another reason (EACCES, EIO) proves nothing
    }
    if (dir === null || file === null) {
      this.#set(
        "gone",
        new StoreGoneError(
          `store ${this.#dir} was deleted while un was running (${
            dir === null ? "the directory" : `its file ${this.#file}`
          } is gone): writes are refused, since nothing written now would survive a restart. ` +
            "Restart un to create a new, empty store, or restore the directory and restart",
          { path: this.#dir, file: this.#file },
        ),
      );
      return;
    }
    if (!sameIdentity(dir, this.#dirAtOpen) || !sameIdentity(file, this.#fileAtOpen)) {
      this.#set(
        "replaced",
        new StoreGoneError(
          `store ${this.#dir} was replaced while un was running (this process still has the ` +
            `old ${this.#file} open): writes are refused. Restart un to use the store now at ${this.#dir}`,
          { path: this.#dir, file: this.#file },
        ),
      );
    }
  }

  /**
   * Maps an error of a store call: a full or failing disk, or a damaged file,
   * becomes the typed fault (recorded, said once); anything else is returned
   * as it is.
   */
  map(error: unknown): unknown {
    const kind = sqliteFaultKind(error);
    if (kind === null) return error;
    const reason = (error as Error).message;
    if (kind === "damaged") {
      if (!(this.#fault instanceof StoreDamagedError)) {
        this.#set(
          kind,
          new StoreDamagedError(
            `store file ${this.#file} is damaged (${reason}): writes are refused so the damage ` +
              "does not spread. Stop un, then run `un store check` and `un store recover`",
            { file: this.#file, reason },
          ),
        );
      }
      return this.#fault;
    }
    this.#changesAtFailure = this.#changes();
    if (this.#fault !== null) return this.#fault;
    const message = kind === "full"
      ? `the disk holding ${this.#dir} is full (${reason}): writes fail until space is freed`
      : `the disk holding ${this.#dir} failed a write (${reason}): check the disk; writes are retried`;
    this.#set(kind, new StoreDiskError(message, { path: this.#dir, reason: kind }));
    return this.#fault;
  }

  /**
   * After each COMMIT: a disk fault ends once a transaction that changed rows
   * committed (an empty one proves nothing: it wrote nothing).
   */
  committed(): void {
    if (!(this.#fault instanceof StoreDiskError)) return;
    if (this.#changes() <= this.#changesAtFailure) return;
    const kind = (this.#fault.details.reason as FaultKind | undefined) ?? "full";
    this.#fault = null;
    this.#options.onFault?.({ kind, error: null });
  }

  #changes(): number {
    try {
      return this.#options.totalChanges();
    } catch {
      return 0;
    }
  }

  #set(kind: FaultKind, error: StoreGoneError | StoreDiskError | StoreDamagedError): void {
    this.#fault = error;
    this.#options.onFault?.({
      kind,
      error,
      ...(kind === "gone" ? { openCopies: openCopies(this.#file) } : {}),
    });
  }
}

function sameIdentity(now: Identity, then: Identity | null): boolean {
  return then === null || (now.ino === then.ino && now.dev === then.dev);
}
