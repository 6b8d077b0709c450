/**
 * The embedded store belongs to one process at a time: a lock file holding the
 * owner's pid. A lock left by a process that died (`kill -9`) is taken over;
 * one held by a live process is a start-up error, not silent corruption.
 */

import { UnError } from "../errors.ts";

function alive(pid: number): boolean {
  if (pid === Deno.pid) return false;
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

/**
 * Takes the lock in `dir`; returns the function that releases it.
 *
 * @example
 * ```ts
 * const release = acquireStoreLock(".un");
 * // ... run ...
 * release();
 * ```
 */
export function acquireStoreLock(dir: string): () => void {
  Deno.mkdirSync(dir, { recursive: true });
  const file = `${dir.replace(/\/$/, "")}/lock`;
  try {
    const pid = Number(Deno.readTextFileSync(file).trim());
    if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
      throw new UnError(
        "store_locked",
        `store ${dir} is in use by process ${pid}; stop it, or point store.path elsewhere (share work between processes with redis.url)`,
        409,
        { path: dir, pid },
      );
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  Deno.writeTextFileSync(file, String(Deno.pid));
  return () => {
    try {
      if (Deno.readTextFileSync(file).trim() === String(Deno.pid)) Deno.removeSync(file);
    } catch {
      // already gone
    }
  };
}
