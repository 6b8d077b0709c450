/**
 * What changed at one path the watcher reported, compared with the file
 * index: the watcher's events say only "look here", this says what to emit.
 */

import { join } from "node:path";
import type { FileEntry } from "../store/types.ts";
import type { FileIndex } from "./file-index.ts";
import { compareEntry, diffTree, type FileChange } from "./reconcile.ts";
import type { PathRules } from "./rules.ts";
import { statFile, walk } from "./walk.ts";

/**
 * `Deno.lstat`, or null when nothing is there.
 */
export async function lstat(abs: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.lstat(abs);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return null;
    }
    throw error;
  }
}

/**
 * True when `abs` is a directory (following a symlink, as a watched root may be one).
 */
export async function isDirectory(abs: string): Promise<boolean> {
  try {
    return (await Deno.stat(abs)).isDirectory;
  } catch {
    return false;
  }
}

const deleted = (entry: FileEntry): FileChange => ({ kind: "deleted", entry });

/**
 * The changes at `rel` (relative to `root`). It does not change the index.
 *
 * - Missing: the known file, or every known file under the directory that was there, is deleted.
 * - A directory: walked when it is new or a structural event (create, rename,
 *   remove) touched it, since files made in it before the watcher covered it
 *   give no event of their own.
 * - A file (or a symlink to one): created or modified by size and mtime;
 *   nothing when it matches the index (access events, duplicate raw events).
 */
export async function examinePath(
  root: string,
  rel: string,
  structural: boolean,
  index: FileIndex,
  rules: PathRules,
): Promise<FileChange[]> {
  const abs = join(root, rel);
  const info = await lstat(abs);
  const known = index.get(rel);
  if (info === null) {
    return known ? [deleted(known)] : index.under(rel).map(deleted);
  }
  if (info.isDirectory) {
    const out = known ? [deleted(known)] : [];
    if (!structural && index.isDir(rel)) return out;
    const { files, unreadable } = await walk(root, rules, rel);
    return [...out, ...diffTree(index.under(rel), files, unreadable)];
  }
  // A directory replaced by a file: what was under it is gone.
  const out = index.under(rel).map(deleted);
  const current = info.isSymlink
    ? await statFile(abs, rel)
    : info.isFile
    ? { path: rel, size: info.size, mtimeMs: info.mtime?.getTime() ?? 0 }
    : null;
  // A file the rules leave out is not ours; when the rules just changed, the
  // reconciliation they trigger settles what was known of it.
  if (current !== null && !rules.acceptsFile(rel)) return out;
  const change = compareEntry(known, current);
  return change ? [...out, change] : out;
}
