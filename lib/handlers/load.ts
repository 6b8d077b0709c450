/**
 * Loads the handlers a runtime can run: the built-ins plus the project's
 * module named by `handlers` in the config.
 */

import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type Config, ConfigError, nearestName } from "../config/load.ts";
import { builtinHandlers } from "./builtin.ts";
import { withHandlersOrigin } from "./isolate.ts";
import { checkedHandler, isPayloadSchema } from "./schemas.ts";
import type { Handler, HandlerMap } from "./types.ts";

/** What a module must export, for error messages. */
const SHAPE = "default { [taskType]: handler }";

/** Names a value's kind for a message: "number", "null", "an array". */
function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "function") return "a function";
  return typeof value;
}

/** Where a `handlers` setting points: a URL as given, or a path against `cwd`. */
function moduleUrl(specifier: string, cwd: string): URL {
  // "file:", "http:" ... but not a Windows drive letter ("C:\").
  if (/^[a-z][a-z0-9+.-]+:/i.test(specifier)) return new URL(specifier);
  return pathToFileURL(resolve(cwd, specifier));
}

/**
 * Imports a handlers module and checks its shape: the default export (or a
 * named export `handlers`) must be a record of task type to function. A module
 * that is missing, does not load or has another shape is a {@link ConfigError}
 * (the `handlers` key points at something unusable), so `un start` exits 2.
 *
 * A module may also export `schemas`, a record of task type to a zod schema
 * of that type's payload. `POST /un/tasks/create` then refuses a payload that
 * does not fit (400 naming the field), and the worker parses the payload with
 * it before the handler runs (a task made by a hook or a schedule that does
 * not fit fails permanently), handing the handler the parsed payload:
 *
 * ```ts
 * import { z } from "zod";
 * export const schemas = { embed: z.object({ path: z.string().min(1) }) };
 * export default { embed: defineHandler<{ path: string }>((task) => ...) };
 * ```
 */
export async function importHandlersModule(specifier: string, cwd: string): Promise<HandlerMap> {
  const url = moduleUrl(specifier, cwd);
  if (url.protocol === "file:") {
    try {
      await Deno.stat(url);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) {
        throw new ConfigError([
          `handlers module ${specifier} does not exist (looked for ${fileURLToPath(url)})`,
        ]);
      }
      throw err;
    }
  }
  let mod: Record<string, unknown>;
  try {
    mod = await import(url.href);
  } catch (err) {
    throw new ConfigError([
      `handlers module ${specifier} failed to load: ${(err as Error).message}`,
    ]);
  }
  const exported = mod.default !== undefined ? mod.default : mod.handlers;
  if (exported === undefined) {
    const names = Object.keys(mod);
    throw new ConfigError([
      `handlers module ${specifier} must export ${SHAPE} (or a named export "handlers"), got ${
        names.length ? `only the exports ${names.join(", ")}` : "no exports"
      }`,
    ]);
  }
  if (exported === null || typeof exported !== "object" || Array.isArray(exported)) {
    throw new ConfigError([
      `handlers module ${specifier} must export ${SHAPE}, got ${describe(exported)}`,
    ]);
  }
  const handlers: HandlerMap = {};
  for (const [type, handler] of Object.entries(exported)) {
    if (typeof handler !== "function") {
      const got = `${describe(handler)} at key '${type}'`;
      throw new ConfigError([`handlers module ${specifier} must export ${SHAPE}, got ${got}`]);
    }
    handlers[type] = handler as Handler;
  }
  return withModuleSchemas(specifier, handlers, mod.schemas);
}

/**
 * Applies a module's `schemas` export (task type → zod schema of its
 * payload): each named handler is wrapped to parse its payload first, and
 * the schema goes with it to `POST /un/tasks/create`. A schema for a type the
 * module has no handler for, or a value that is no schema, is a
 * {@link ConfigError}: a misspelt type must not leave its handler unchecked.
 */
function withModuleSchemas(specifier: string, handlers: HandlerMap, schemas: unknown): HandlerMap {
  if (schemas === undefined) return handlers;
  const shape = "schemas { [taskType]: zod schema }";
  if (schemas === null || typeof schemas !== "object" || Array.isArray(schemas)) {
    throw new ConfigError([
      `handlers module ${specifier} must export ${shape}, got ${describe(schemas)}`,
    ]);
  }
  const checked = { ...handlers };
  for (const [type, schema] of Object.entries(schemas)) {
    if (!Object.hasOwn(handlers, type)) {
      const near = nearestName(type, Object.keys(handlers));
      throw new ConfigError([
        `handlers module ${specifier} exports a schema for "${type}" but no handler of that type${
          near ? `; did you mean "${near}"?` : ` (handlers: ${Object.keys(handlers).join(", ")})`
        }`,
      ]);
    }
    if (!isPayloadSchema(schema)) {
      throw new ConfigError([
        `handlers module ${specifier} must export ${shape}, got ${
          describe(schema)
        } at key '${type}'`,
      ]);
    }
    checked[type] = checkedHandler(type, handlers[type], schema);
  }
  return checked;
}

/**
 * The handlers a runtime runs: the built-ins, plus (when `config.handlers` is
 * set) the project's module, whose handlers win over a built-in of the same
 * type. `options.cwd` is the config file's directory: the module path and the
 * built-ins' relative paths resolve against it. Overrides are not logged here;
 * compare with `BUILTIN_TASK_TYPES` to log them.
 *
 * @example
 * ```ts
 * const { config, file } = await loadConfig();
 * const cwd = file ? dirname(resolve(file)) : Deno.cwd();
 * const handlers = await loadHandlers(config, { cwd });
 * ```
 */
export async function loadHandlers(config: Config, options: { cwd: string }): Promise<HandlerMap> {
  const handlers = builtinHandlers(config, { cwd: options.cwd });
  // Remembered so an isolated handler's Web Worker can load the same map.
  const origin = { config, cwd: options.cwd };
  if (config.handlers === undefined) return withHandlersOrigin(handlers, origin);
  const loaded = { ...handlers, ...await importHandlersModule(config.handlers, options.cwd) };
  return withHandlersOrigin(loaded, origin);
}
