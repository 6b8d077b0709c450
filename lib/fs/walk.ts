/**
 * The recursive walk of a watched tree: every file the rules accept, with its
 * size and mtime. It reads each directory's `.gitignore` before looking at the
 * directory's entries, so nested rules apply to the very walk that finds them.
 */

import { isAbsolute, join, relative, sep } from "node:path";
import type { FileEntry } from "../store/types.ts";
import type { PathRules } from "./rules.ts";

/** What a walk found. */
export interface WalkResult {
  /** Files by relative path. */
  files: Map<string, FileEntry>;
  /**
   * Directories (or files) that could not be read (permissions). Their known
   * files must not be taken for deleted.
   */
  unreadable: string[];
}

/** Stats at most this many files at once: enough to hide latency, few enough to keep fds free. */
const STAT_CONCURRENCY = 64;

/**
 * `abs` relative to `root` with forward slashes ("" for the root itself), or
 * null when it lies outside.
 *
 * @example
 * ```ts
 * relativePath("/srv/inbox", "/srv/inbox/sub/a.txt"); // "sub/a.txt"
 * relativePath("/srv/inbox", "/etc/passwd"); // null
 * ```
 */
export function relativePath(root: string, abs: string): string | null {
  const rel = relative(root, abs);
  if (rel === ".." || rel.startsWith(".." + sep) || isAbsolute(rel)) return null;
  return sep === "/" ? rel : rel.split(sep).join("/");
}

/**
 * Joins a relative directory and a name into a relative path.
 */
export function childPath(dir: string, name: string): string {
  return dir === "" ? name : `${dir}/${name}`;
}

/**
 * Size and mtime of the file at `abs` (following a symlink), or null when it
 * is missing or not a regular file.
 */
export async function statFile(abs: string, rel: string): Promise<FileEntry | null> {
  try {
    const info = await Deno.stat(abs);
    if (!info.isFile) return null;
    return { path: rel, size: info.size, mtimeMs: info.mtime?.getTime() ?? 0 };
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return null;
    }
    throw error;
  }
}

/**
 * The text of a `.gitignore`, or null when it is missing or unreadable (as if
 * absent, so the tree is not wrongly hidden).
 */
export async function readGitignore(abs: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(abs);
  } catch {
    return null;
  }
}

/**
 * Walks directory `scope` (relative to `root`; "" = the whole tree). Directory
 * symlinks are not followed (loops); file symlinks count as files. A missing
 * root rejects with `Deno.errors.NotFound`; a missing sub-scope is empty.
 */
export async function walk(root: string, rules: PathRules, scope = ""): Promise<WalkResult> {
  const files = new Map<string, FileEntry>();
  const unreadable: string[] = [];
  if (scope !== "" && rules.ignoresDir(scope)) return { files, unreadable };
  const stack = [scope];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(join(root, dir)));
    } catch (error) {
      if (dir === "" && scope === "") throw error;
      // Removed mid-walk: its files are gone, which the diff reports.
      if (error instanceof Deno.errors.NotFound) continue;
      unreadable.push(dir);
      continue;
    }
    if (rules.gitignore) {
      const hasIgnore = entries.some((e) => e.name === ".gitignore" && !e.isDirectory);
      const text = hasIgnore ? await readGitignore(join(root, dir, ".gitignore")) : null;
      rules.setGitignore(dir, text);
    }
    const candidates: string[] = [];
    for (const entry of entries) {
      const rel = childPath(dir, entry.name);
      if (entry.isDirectory) {
        if (!rules.ignoresDir(rel)) stack.push(rel);
      } else if ((entry.isFile || entry.isSymlink) && rules.acceptsFile(rel)) {
        candidates.push(rel);
      }
    }
    for (let i = 0; i < candidates.length; i += STAT_CONCURRENCY) {
      const batch = candidates.slice(i, i + STAT_CONCURRENCY);
      const stats = await Promise.all(batch.map(async (rel) => {
        try {
          return await statFile(join(root, rel), rel);
        } catch {
          unreadable.push(rel);
          return null;
        }
      }));
      for (const entry of stats) if (entry) files.set(entry.path, entry);
    }
  }
  return { files, unreadable };
}
