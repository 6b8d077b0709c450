/**
 * The built-in task types: they make `un` useful without writing code
 * (`exec` a configured command, deliver an `http` request, read
 * `file.metadata`) and give trials and benchmarks something to run (`noop`,
 * `sleep`).
 */

import type { Config } from "../config/load.ts";
import { fileRoots } from "../safety/files.ts";
import { execHandler, execPayload } from "./exec.ts";
import { fileMetadataHandler, fileMetadataPayload } from "./file-metadata.ts";
import { httpHandler, httpPayload } from "./http.ts";
import { noopHandler } from "./noop.ts";
import { withPayloadSchema } from "./schemas.ts";
import { sleepHandler, sleepPayload } from "./sleep.ts";
import { defineHandler, type HandlerMap } from "./types.ts";

/**
 * The built-in task types, so a caller can tell which of a module's handlers
 * replace one.
 */
export const BUILTIN_TASK_TYPES: readonly string[] = [
  "noop",
  "sleep",
  "file.metadata",
  "exec",
  "http",
];

/**
 * The built-in handlers for a config. Relative paths (`file.metadata`'s
 * `payload.path`, an exec command's `cwd`) resolve against `options.cwd`,
 * by default the process's working directory; so do the relative roots
 * files may be read under (fs source paths, `files.allow`).
 */
export function builtinHandlers(config: Config, options: { cwd?: string } = {}): HandlerMap {
  const cwd = options.cwd ?? Deno.cwd();
  // Each with its payload schema, so POST /un/tasks/create refuses a payload that cannot run.
  return {
    "noop": noopHandler,
    "sleep": withPayloadSchema(defineHandler(sleepHandler), sleepPayload),
    "file.metadata": withPayloadSchema(
      defineHandler(fileMetadataHandler({ cwd, roots: () => fileRoots(config, cwd) })),
      fileMetadataPayload,
    ),
    "exec": withPayloadSchema(defineHandler(execHandler(config, { cwd })), execPayload),
    "http": withPayloadSchema(defineHandler(httpHandler(config)), httpPayload),
  };
}
