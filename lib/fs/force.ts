/**
 * Force-processing one file of an fs source (`POST /un/sources/:id/process`):
 * one `file.modified` event with `forced: true`, whatever the file index
 * says, for a path that must lie inside the source's root (no `..`, no
 * symlink leading out of it).
 */

import { isAbsolute, join, relative, resolve, sep } from "node:path";
import type { CloudEvent, EventPriority } from "../events/cloud-event.ts";
import { ValidationError } from "../errors.ts";
import { checkReadablePath } from "../safety/files.ts";
import { fileEvent } from "./events.ts";
import type { FsSourceSpec } from "./session.ts";

/**
 * The forced event of `path` (relative to the source's root, or absolute
 * inside it). Throws a {@link ValidationError} naming `path` (400) for a
 * `..`, a path outside the root (symlinks followed), or no regular file.
 *
 * @example
 * ```ts
 * const event = await forcedFileEvent(source, "reports/q3.pdf", "high");
 * event.type; // "file.modified"; event.data.forced === true
 * ```
 */
export async function forcedFileEvent(
  source: FsSourceSpec,
  path: string,
  priority: EventPriority,
): Promise<CloudEvent> {
  const root = resolve(source.path);
  if (path.split(/[\\/]/).includes("..")) {
    throw new ValidationError(`path: ${path} must not contain ".."`, {
      field: "path",
      value: path,
    });
  }
  const absolute = isAbsolute(path) ? path : join(root, path);
  // Inside the root once every symlink is followed, else a 400 naming the field.
  const real = await checkReadablePath(absolute, [root], "path");
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(real);
  } catch {
    throw new ValidationError(`path: ${path} does not exist in source ${source.id}`, {
      field: "path",
      value: path,
    });
  }
  const rel = relative(root, absolute).split(sep).join("/");
  if (!info.isFile || rel === "") {
    throw new ValidationError(`path: ${path} is not a file`, { field: "path", value: path });
  }
  const entry = { path: rel, size: info.size, mtimeMs: info.mtime?.getTime() ?? 0 };
  const event = fileEvent({ kind: "modified", entry }, { sourceId: source.id, root, priority });
  return { ...event, data: { ...(event.data as Record<string, string | number>), forced: true } };
}
