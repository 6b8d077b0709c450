/**
 * The embedded store belongs to one process at a time: an exclusive `flock`
 * on `<store>/lock`, held (file open) for as long as the process uses the
 * store.
 *
 * Why `flock` and not a pid file: checking a pid file and writing it are two
 * steps, so two processes starting together both won; and a pid says nothing
 * about a zombie, a pid reused after a reboot, or another host. The kernel
 * drops a `flock` when its holder's file is closed, which happens when the
 * process dies in any way (`kill -9` included) before it becomes a zombie.
 * `Deno.FsFile.tryLockSync(true)` is `flock(LOCK_EX | LOCK_NB)` on Linux and
 * macOS (verified: the lock shows as FLOCK in /proc/locks and a second open
 * file, even in the same process, is refused), so taking it never blocks.
 *
 * The file's content (pid, host, start time) only names the holder in the
 * error of whoever is refused; it is never used to decide.
 */

import { mkdirSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { UnError } from "../errors.ts";

/** The lock file's name inside the store directory. */
export const LOCK_FILE = "lock";

/**
 * Who holds a store lock, as the holder wrote it.
 */
export interface LockHolder {
  pid: number;
  host?: string;
  startedAt?: string;
}

/**
 * The store is locked by another process.
 */
export class StoreLockedError extends UnError {
  constructor(readonly dir: string, readonly holder: LockHolder | null) {
    super(
      "store_locked",
      `store ${dir} is in use by ${describeHolder(holder)}; stop it, or point store.path ` +
        "elsewhere (share work between processes with redis.url)",
      409,
      { path: dir, ...(holder ?? {}) },
    );
  }
}

function describeHolder(holder: LockHolder | null): string {
  if (holder === null) return `another process (it holds ${LOCK_FILE} in that directory)`;
  const where = holder.host && holder.host !== hostname() ? ` on host ${holder.host}` : "";
  const since = holder.startedAt ? `, running since ${holder.startedAt}` : "";
  return `process ${holder.pid}${where}${since}`;
}

/** Parses the lock file's text: JSON written by this module, or a bare pid (older un). */
function parseHolder(text: string): LockHolder | null {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return { pid: Number(trimmed) };
  try {
    const value = JSON.parse(trimmed) as LockHolder;
    return Number.isInteger(value?.pid) && value.pid > 0 ? value : null;
  } catch {
    return null;
  }
}

/**
 * Reads who holds the lock. The holder writes its name just after taking the
 * lock, so a process refused at the same instant may read an empty (or the
 * previous holder's) file: it rereads briefly until the name is one of a live
 * process on this host, then settles for what it has.
 */
async function readHolder(path: string): Promise<LockHolder | null> {
  let holder: LockHolder | null = null;
  for (let attempt = 0; attempt < 25; attempt++) {
    try {
      holder = parseHolder(Deno.readTextFileSync(path));
    } catch {
      holder = null;
    }
    const elsewhere = holder?.host !== undefined && holder.host !== hostname();
    if (holder && (elsewhere || alive(holder.pid))) {
      return holder;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return holder;
}

function alive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    // No /proc (macOS): cannot tell; take the name as written.
    return !existsDir("/proc");
  }
}

function existsDir(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

/** True when `path` still names the file open as `file` (not deleted or replaced since). */
function samePath(file: Deno.FsFile, path: string): boolean {
  try {
    const open = file.statSync();
    const named = Deno.statSync(path);
    return open.ino === named.ino && open.dev === named.dev;
  } catch {
    return false;
  }
}

function writeHolder(file: Deno.FsFile): void {
  const holder: LockHolder = {
    pid: Deno.pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
  };
  const bytes = new TextEncoder().encode(`${JSON.stringify(holder)}\n`);
  file.truncateSync(0);
  file.seekSync(0, Deno.SeekMode.Start);
  for (let written = 0; written < bytes.length;) {
    written += file.writeSync(bytes.subarray(written));
  }
}

/**
 * Takes the store lock in `dir` (created when missing) without waiting;
 * resolves with the function that releases it. Rejects with
 * {@link StoreLockedError} (naming the holder) when another process holds it.
 *
 * @example
 * ```ts
 * const release = await acquireStoreLock(".un");
 * // ... run ...
 * release();
 * ```
 */
export async function acquireStoreLock(dir: string): Promise<() => void> {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, LOCK_FILE);
  // The lock file is never deleted (deleting it would let a third process lock
  // a new file while the holder keeps the old one), but someone may delete the
  // directory between our open and our lock: then lock again on the new file.
  for (let attempt = 0; attempt < 10; attempt++) {
    const file = Deno.openSync(path, { read: true, write: true, create: true });
    let locked: boolean;
    try {
      locked = file.tryLockSync(true);
    } catch (error) {
      file.close();
      throw error;
    }
    if (!locked) {
      file.close();
      throw new StoreLockedError(dir, await readHolder(path));
    }
    if (!samePath(file, path)) {
      file.close();
      mkdirSync(dir, { recursive: true });
      continue;
    }
    try {
      writeHolder(file);
    } catch (error) {
      file.close();
      throw error;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      // Closing drops the flock; the file stays for the next holder.
      file.close();
    };
  }
  throw new UnError("store_locked", `store ${dir}: its lock file keeps changing; try again`, 409, {
    path: dir,
  });
}
