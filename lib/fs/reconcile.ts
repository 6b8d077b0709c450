/**
 * Diffing what is on disk against the file index: the pure part of both the
 * start-up / overflow reconciliation and the watcher's per-path flush.
 */

import type { FileEntry } from "../store/types.ts";
import type { FileIndex } from "./file-index.ts";

/** One change to a file of the source. */
export type FileChange =
  | { kind: "created" | "modified"; entry: FileEntry }
  /** `entry` is the last known entry of the file. */
  | { kind: "deleted"; entry: FileEntry }
  /** Moved within the tree; `entry` is the file at its new path. */
  | { kind: "renamed"; from: FileEntry; entry: FileEntry };

/**
 * The change from the known entry of a path to what is there now.
 */
export function compareEntry(
  known: FileEntry | undefined,
  current: FileEntry | null,
): FileChange | null {
  if (current === null) return known ? { kind: "deleted", entry: known } : null;
  if (!known) return { kind: "created", entry: current };
  if (known.size !== current.size || known.mtimeMs !== current.mtimeMs) {
    return { kind: "modified", entry: current };
  }
  return null;
}

function covered(path: string, skipped: readonly string[]): boolean {
  return skipped.some((s) => s === "" || path === s || path.startsWith(s + "/"));
}

/**
 * The changes between the known files of a tree (or subtree) and what a walk
 * found there. Known files under `unreadable` paths are left alone: a
 * directory we could not read is not a deleted directory.
 *
 * @example
 * ```ts
 * diffTree([{ path: "old", size: 1, mtimeMs: 1 }], new Map([["new", { path: "new", size: 2, mtimeMs: 2 }]]));
 * // [{ kind: "created", entry: new }, { kind: "deleted", entry: old }]
 * ```
 */
export function diffTree(
  known: readonly FileEntry[],
  found: ReadonlyMap<string, FileEntry>,
  unreadable: readonly string[] = [],
): FileChange[] {
  const knownByPath = new Map(known.map((e) => [e.path, e]));
  const changes: FileChange[] = [];
  for (const entry of found.values()) {
    const change = compareEntry(knownByPath.get(entry.path), entry);
    if (change) changes.push(change);
  }
  for (const entry of known) {
    if (!found.has(entry.path) && !covered(entry.path, unreadable)) {
      changes.push({ kind: "deleted", entry });
    }
  }
  return changes;
}

/**
 * Turns a deleted + created pair into one `renamed` change when the watcher
 * reported the move (`from` → `to`, a file or a directory) and the file kept
 * its size and mtime, as a move does. Other changes are kept as they are.
 *
 * @example
 * ```ts
 * pairRenames([deletedA, createdB], [["a.txt", "b.txt"]]); // [{ kind: "renamed", from: a, entry: b }]
 * ```
 */
export function pairRenames(
  changes: readonly FileChange[],
  moves: ReadonlyArray<readonly [string, string]>,
): FileChange[] {
  if (moves.length === 0) return [...changes];
  const created = new Map<string, number>();
  changes.forEach((c, i) => c.kind === "created" && created.set(c.entry.path, i));
  const out: (FileChange | null)[] = [...changes];
  changes.forEach((change, i) => {
    if (change.kind !== "deleted") return;
    const old = change.entry;
    for (const [from, to] of moves) {
      if (old.path !== from && !old.path.startsWith(from + "/")) continue;
      const j = created.get(to + old.path.slice(from.length));
      const next = j === undefined ? null : out[j];
      if (!next || next.kind !== "created") continue;
      if (next.entry.size !== old.size || next.entry.mtimeMs !== old.mtimeMs) continue;
      out[i] = { kind: "renamed", from: old, entry: next.entry };
      out[j!] = null;
      return;
    }
  });
  return out.filter((c): c is FileChange => c !== null);
}

/**
 * Store writes that follow index changes, merged so the last change of a
 * path wins (one `putFiles` and one `deleteFiles` per batch).
 */
export class IndexWrites {
  readonly #put = new Map<string, FileEntry>();
  readonly #removed = new Set<string>();

  /** Records that `entry` is now known (`writes.keep({ path: "a", size: 1, mtimeMs: 1 })`). */
  keep(entry: FileEntry): void {
    this.#removed.delete(entry.path);
    this.#put.set(entry.path, entry);
  }

  /** Records that `path` is no longer known (`writes.drop("a")`). */
  drop(path: string): void {
    this.#put.delete(path);
    this.#removed.add(path);
  }

  /** Entries to `putFiles` (`await store.putFiles(id, writes.put())`). */
  put(): FileEntry[] {
    return [...this.#put.values()];
  }

  /** Paths to `deleteFiles` (`await store.deleteFiles(id, writes.removed())`). */
  removed(): string[] {
    return [...this.#removed];
  }
}

/**
 * Applies changes to the index and records the store writes they need.
 */
export function applyChanges(
  index: FileIndex,
  changes: readonly FileChange[],
  writes: IndexWrites = new IndexWrites(),
): IndexWrites {
  for (const change of changes) {
    if (change.kind === "deleted" || change.kind === "renamed") {
      const gone = change.kind === "deleted" ? change.entry : change.from;
      index.delete(gone.path);
      writes.drop(gone.path);
    }
    if (change.kind !== "deleted") {
      index.set(change.entry);
      writes.keep(change.entry);
    }
  }
  return writes;
}
