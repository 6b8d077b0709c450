/**
 * The `file.metadata` built-in: size, SHA-256, line count and language of a
 * file, read once as a stream so a multi-gigabyte file costs one buffer of
 * memory, can be cancelled between chunks and reports progress. Only files
 * inside the readable roots (fs sources, `files.allow`) are read: the check
 * is made at task create and again here, on the real path that is then
 * opened, since a hook may have made the task or a symlink changed since.
 */

import { createHash } from "node:crypto";
import { isAbsolute, sep } from "node:path";
import { z } from "zod";
import { PermanentError, ValidationError } from "../errors.ts";
import { checkReadablePath } from "../safety/files.ts";
import { parsePayload } from "./payload.ts";
import type { Handler } from "./types.ts";

// Linguist's language table is large: load it on the first file, not at start-up.
let detector: Promise<(path: string) => string | null> | null = null;
function languageDetector(): Promise<(path: string) => string | null> {
  detector ??= import("./language.ts").then((m) => m.detectLanguage);
  return detector;
}

/** Bytes read per chunk. */
const CHUNK_BYTES = 1024 * 1024;
/** A NUL byte within this prefix marks the file binary (the rule git and grep use). */
const BINARY_SNIFF_BYTES = 8 * 1024;
/** Progress is reported after every this many bytes. */
const PROGRESS_EVERY_BYTES = 8 * 1024 * 1024;
const NEWLINE = 0x0a;

/** The payload schema of `file.metadata` (checked at create and again at run time). */
export const fileMetadataPayload = z.object({
  path: z.string({ error: "must be a file path" }).min(1, { error: "must be a file path" }),
});

/** Payload of `file.metadata`. */
export type FileMetadataPayload = z.input<typeof fileMetadataPayload>;

/** Result of `file.metadata` (a type alias, so it is assignable to `Json`). */
export type FileMetadata = {
  /** Absolute path of the file read. */
  path: string;
  /** Bytes read. */
  size: number;
  /** Hex SHA-256 of the content. */
  sha256: string;
  /** Lines, counting a final line without a newline; 0 for an empty file; null when binary. */
  lines: number | null;
  /** A NUL byte occurs in the first 8 KiB. */
  binary: boolean;
  /** Linguist language name from the file name, or null. */
  language: string | null;
  /** Last modification, ISO 8601, or null where the platform does not say. */
  mtime: string | null;
};

/**
 * Makes the `file.metadata` handler. Relative paths resolve against `cwd`;
 * a path whose real location is outside `roots()` fails the task permanently.
 */
export function fileMetadataHandler(
  options: { cwd: string; roots: () => readonly string[] },
): Handler<unknown, FileMetadata> {
  return async (task, ctx) => {
    const payload = parsePayload("file.metadata", fileMetadataPayload, task.payload);
    // Joined as text so `..` applies after symlinks; the real path is what gets opened.
    const given = isAbsolute(payload.path) ? payload.path : `${options.cwd}${sep}${payload.path}`;
    let path: string;
    try {
      path = await checkReadablePath(given, options.roots(), "payload.path");
    } catch (err) {
      if (err instanceof ValidationError) throw new PermanentError(`file.metadata: ${err.message}`);
      throw err;
    }
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { read: true });
    } catch (err) {
      // The event outlived the file: retrying will not bring it back.
      if (err instanceof Deno.errors.NotFound) {
        throw new PermanentError(`file.metadata: file ${path} no longer exists`);
      }
      throw err;
    }
    try {
      // fstat on the open file, so size and mtime describe what we read.
      const info = await file.stat();
      if (!info.isFile) {
        throw new PermanentError(`file.metadata: ${path} is not a regular file`);
      }
      const hash = createHash("sha256");
      const buffer = new Uint8Array(CHUNK_BYTES);
      let size = 0;
      let newlines = 0;
      let lastByte = NEWLINE;
      let binary = false;
      let nextProgress = PROGRESS_EVERY_BYTES;
      while (true) {
        ctx.signal.throwIfAborted();
        const read = await file.read(buffer);
        if (read === null) break;
        const chunk = buffer.subarray(0, read);
        hash.update(chunk);
        if (size < BINARY_SNIFF_BYTES && chunk.subarray(0, BINARY_SNIFF_BYTES - size).includes(0)) {
          binary = true;
        }
        if (!binary) {
          for (let i = chunk.indexOf(NEWLINE); i !== -1; i = chunk.indexOf(NEWLINE, i + 1)) {
            newlines++;
          }
        }
        lastByte = chunk[read - 1];
        size += read;
        if (size >= nextProgress) {
          nextProgress += PROGRESS_EVERY_BYTES;
          const total = Math.max(info.size, size);
          await ctx.progress(size / total, `read ${mib(size)} of ${mib(total)}`);
        }
      }
      return {
        path,
        size,
        sha256: hash.digest("hex"),
        lines: binary ? null : newlines + (lastByte === NEWLINE ? 0 : 1),
        binary,
        language: (await languageDetector())(path),
        mtime: info.mtime?.toISOString() ?? null,
      };
    } finally {
      file.close();
    }
  };
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
