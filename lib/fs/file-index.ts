/**
 * The in-memory file index of one fs source: what the scanner believes is on
 * disk (relative path, size, mtime). It is loaded from the store at start and
 * is the single truth both the watcher and the reconciliation compare with, so
 * a change is emitted once however many raw events or rescans report it.
 */

import type { FileEntry } from "../store/types.ts";

/**
 * Known files by relative path, plus the directories that hold them (so a
 * removed directory finds its files without a full scan).
 */
export class FileIndex {
  readonly #files = new Map<string, FileEntry>();
  /** Directory → number of known files below it, at any depth. */
  readonly #dirs = new Map<string, number>();

  constructor(entries: Iterable<FileEntry> = []) {
    for (const entry of entries) this.set(entry);
  }

  /** Number of known files. */
  get size(): number {
    return this.#files.size;
  }

  /**
   * The known entry of `path`.
   */
  get(path: string): FileEntry | undefined {
    return this.#files.get(path);
  }

  /**
   * Records a file (new or changed).
   */
  set(entry: FileEntry): void {
    if (!this.#files.has(entry.path)) this.#countDirs(entry.path, 1);
    this.#files.set(entry.path, entry);
  }

  /**
   * Forgets a file; returns its last entry.
   */
  delete(path: string): FileEntry | undefined {
    const entry = this.#files.get(path);
    if (!entry) return undefined;
    this.#files.delete(path);
    this.#countDirs(path, -1);
    return entry;
  }

  /**
   * True when some known file lies under directory `path`.
   */
  isDir(path: string): boolean {
    return path === "" ? this.#files.size > 0 : this.#dirs.has(path);
  }

  /**
   * Known files under directory `dir` ("" = all of them).
   */
  under(dir: string): FileEntry[] {
    if (dir === "") return [...this.#files.values()];
    if (!this.#dirs.has(dir)) return [];
    const prefix = dir + "/";
    return [...this.#files.values()].filter((e) => e.path.startsWith(prefix));
  }

  #countDirs(path: string, delta: number): void {
    let cut = path.indexOf("/");
    while (cut !== -1) {
      const dir = path.slice(0, cut);
      const count = (this.#dirs.get(dir) ?? 0) + delta;
      if (count > 0) this.#dirs.set(dir, count);
      else this.#dirs.delete(dir);
      cut = path.indexOf("/", cut + 1);
    }
  }
}
