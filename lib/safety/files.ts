/**
 * Which files an API caller may have un read: those inside the roots of the
 * configured `fs` sources and `files.allow`, after symlinks are resolved.
 */

import type { Config } from "../config.ts";
import { ValidationError } from "../errors.ts";

/** Absolute roots files may be read under: `fs` sources of the config and `files.allow`. */
export function fileRoots(config: Config, cwd: string): string[] {
  void config, cwd;
  return [];
}

/**
 * Refuses a path outside `roots` (400 naming the field and the path).
 * Resolves with the absolute path to read.
 */
export async function checkReadablePath(
  path: string,
  roots: readonly string[],
  field: string,
): Promise<string> {
  // Filled in by the files change.
  await Promise.resolve();
  void roots, field, ValidationError;
  return path;
}
