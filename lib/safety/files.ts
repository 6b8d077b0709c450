/**
 * Which files an API caller may have un read: those inside the roots of the
 * configured `fs` sources and `files.allow`, after symlinks are resolved.
 *
 * The check is made on the real path (every symlink followed), and the caller
 * reads that real path, so what was checked is what is read: a symlink inside
 * a root that points outside, or `..` steps, lead outside and are refused.
 */

import { dirname, isAbsolute, join, parse, relative, resolve, sep } from "node:path";
import type { Config } from "../config/load.ts";
import { ValidationError } from "../errors.ts";

/**
 * Absolute roots files may be read under: the `path` of every `fs` source of
 * the config and every `files.allow` entry, relative ones resolved against
 * `cwd`. Only the config's sources count: a source added over the API is the
 * caller's choice, not the operator's.
 */
export function fileRoots(config: Config, cwd: string): string[] {
  const roots = [
    ...config.sources.flatMap((s) => s.kind === "fs" ? [s.path] : []),
    ...config.files.allow,
  ].map((path) => resolve(cwd, path));
  return [...new Set(roots)];
}

/** True when `path` is `root` or lies below it (`/data/inbox-evil` is not inside `/data/inbox`). */
function isInside(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/** Errors that mean "no such entry here": walk up to the nearest parent that exists. */
function isMissing(err: unknown): boolean {
  return err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory;
}

/**
 * The real path of `path` (absolute): every symlink resolved. A path that
 * does not exist yet (a command's output file) resolves as the kernel will
 * once its missing directories are made: name by name, `..` applied to the
 * real path reached so far. Null when it cannot be known: a dangling symlink
 * (where it leads may be created later) or an unreadable directory on the way.
 */
async function realPathOf(path: string): Promise<string | null> {
  try {
    // The raw path, so the kernel applies `..` after symlinks, as open() will.
    return await Deno.realPath(path);
  } catch (err) {
    if (!isMissing(err)) return null;
  }
  let current = parse(path).root;
  for (const name of path.split(sep)) {
    if (name === "" || name === ".") continue;
    if (name === "..") {
      current = dirname(current);
      continue;
    }
    const next = join(current, name);
    try {
      current = await Deno.realPath(next);
    } catch (err) {
      if (!isMissing(err)) return null;
      // The name exists but does not resolve: a dangling symlink.
      if (await Deno.lstat(next).then(() => true, () => false)) return null;
      current = next;
    }
  }
  return current;
}

/** Real paths of the roots (a root may itself be a symlink, or live under /tmp → /private/tmp). */
async function realRoots(roots: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const root of roots) {
    out.push(await realPathOf(root) ?? resolve(root));
  }
  return out;
}

/**
 * Refuses a path outside `roots` with a {@link ValidationError} (400) naming
 * the field, the path and the roots. The path is resolved against the
 * process's working directory and then through every symlink; resolves with
 * that real, absolute path, which is the one to read (never starting with `-`).
 *
 * @example
 * ```ts
 * const real = await checkReadablePath("inbox/a.txt", ["/srv/inbox"], "payload.path");
 * await checkReadablePath("/etc/shadow", ["/srv/inbox"], "payload.path"); // throws ValidationError
 * ```
 */
export async function checkReadablePath(
  path: string,
  roots: readonly string[],
  field: string,
): Promise<string> {
  // Not join(): it would fold `..` before the kernel follows the symlinks in front of it.
  const absolute = isAbsolute(path) ? path : `${Deno.cwd()}${sep}${path}`;
  const real = await realPathOf(absolute);
  const allowed = await realRoots(roots);
  if (real !== null && allowed.some((root) => isInside(real, root))) return real;
  const details = { field, value: path, roots: [...roots] };
  if (real === null) {
    throw new ValidationError(
      `${field}: ${path} cannot be resolved (a dangling symlink or an unreadable directory on the way)`,
      details,
    );
  }
  const where = real !== resolve(absolute) ? ` (it leads to ${real})` : "";
  const list = roots.length ? roots.join(", ") : "none: no fs sources and files.allow is empty";
  throw new ValidationError(
    `${field}: ${path} is outside the readable roots (${list})${where}; ` +
      `add it to files.allow to let un read it`,
    details,
  );
}
