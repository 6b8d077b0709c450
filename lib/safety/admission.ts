/**
 * Checks a task request before it is stored: that some live worker can run
 * its type (and, for `exec`, its command), that its payload fits the type's
 * schema (the built-ins' and a handlers module's `schemas`), and against what
 * the operator allowed: an `http` task's URL against `http.allow`, a
 * `file.metadata` path against the file roots, an `exec` task's `vars`
 * against its command's `allowOptions` and `paths`. A refusal is a 400 at the
 * door instead of a task that fails later (the handlers check again at run
 * time, for tasks made by hooks and schedules).
 */

import { type Config, nearestName } from "../config/load.ts";
import { ValidationError } from "../errors.ts";
import { checkPayload } from "../handlers/schemas.ts";
import type { TaskRequest } from "../protocol/messages.ts";
import { buildArgs, checkExecVars, type ExecVars } from "./exec-args.ts";
import { checkReadablePath, fileRoots } from "./files.ts";
import { checkOutboundUrl } from "./outbound.ts";
import { checkResourceFit } from "./resource-fit.ts";
import type { Runnable, TaskCatalog } from "./runnable.ts";

/**
 * What admission says about requests it lets through.
 */
export interface Admitted {
  /** Set when the tasks are accepted but cannot run yet (no worker alive). */
  warning?: string;
}

/** The words a create answer carries when no worker is alive to run it. */
export const NO_WORKER_WARNING =
  "no worker process is alive: the task waits in its queue until one starts " +
  "(un start, or un start --role worker)";

/**
 * Throws a ValidationError (400) for the first request that cannot run or
 * reaches what it may not; resolves with a warning when no worker is alive.
 * Without a `catalog` only the operator's limits are checked.
 */
export async function admitTaskRequests(
  requests: readonly TaskRequest[],
  config: Config,
  options: { catalog?: TaskCatalog; cwd?: string } = {},
): Promise<Admitted> {
  const cwd = options.cwd ?? Deno.cwd();
  checkResourceFit(requests, config);
  const admitted = options.catalog ? await admitRunnable(requests, options.catalog) : {};
  for (const [index, request] of requests.entries()) {
    const field = requests.length > 1 ? `tasks[${index}].payload` : "payload";
    const payload = request.payload;
    if (payload === null || typeof payload !== "object" || Array.isArray(payload)) continue;
    if (request.type === "http" && typeof payload.url === "string") {
      await checkOutboundUrl(payload.url, config.http.allow, `${field}.url`);
    }
    if (request.type === "file.metadata" && typeof payload.path === "string") {
      await checkReadablePath(payload.path, fileRoots(config, cwd), `${field}.path`);
    }
    if (request.type === "exec" && typeof payload.command === "string") {
      await admitExec(config, payload.command, payload.vars, `${field}.vars`, cwd);
    }
  }
  return admitted;
}

/**
 * Type, payload schema and `exec` command of each request. A refusal made on
 * a cached answer is checked again on a fresh one first: a worker that just
 * started must not be missed.
 */
async function admitRunnable(
  requests: readonly TaskRequest[],
  catalog: TaskCatalog,
): Promise<Admitted> {
  let runnable = await catalog.runnable();
  let problem = firstProblem(requests, catalog, runnable);
  if (problem || runnable.kind === "none") {
    runnable = await catalog.runnable(true);
    problem = firstProblem(requests, catalog, runnable);
  }
  if (problem) throw problem;
  return runnable.kind === "none" ? { warning: NO_WORKER_WARNING } : {};
}

function firstProblem(
  requests: readonly TaskRequest[],
  catalog: TaskCatalog,
  runnable: Runnable,
): ValidationError | null {
  for (const [index, request] of requests.entries()) {
    const at = requests.length > 1 ? `tasks[${index}].` : "";
    if (runnable.kind === "known" && !runnable.types.has(request.type)) {
      return unknownName(`${at}type`, request.type, [...runnable.types].sort(), {
        refusal: `no live worker can run task type ${JSON.stringify(request.type)}`,
        known: "known types",
      });
    }
    const schema = catalog.schema(request.type);
    if (schema) {
      const check = checkPayload(schema, request.payload, `${at}payload`);
      if (!check.ok) {
        return new ValidationError(`${request.type}: ${check.problems.join("; ")}`, {
          field: check.field,
          problems: check.problems,
        });
      }
    }
    const payload = request.payload as Record<string, unknown> | null | undefined;
    const command = request.type === "exec" ? payload?.command : undefined;
    if (
      runnable.kind === "known" && typeof command === "string" &&
      !runnable.execCommands.has(command)
    ) {
      return unknownName(`${at}payload.command`, command, [...runnable.execCommands].sort(), {
        refusal: `exec command ${JSON.stringify(command)} is in no live worker's exec.commands`,
        known: "known commands",
      });
    }
  }
  return null;
}

/** A 400 for a name nobody knows, with the nearest known name and the list. */
function unknownName(
  field: string,
  value: string,
  known: string[],
  words: { refusal: string; known: string },
): ValidationError {
  const near = nearestName(value, known);
  const hint = near ? ` (did you mean ${JSON.stringify(near)}?)` : "";
  const list = known.length ? known.join(", ") : "none";
  return new ValidationError(
    `${field}: ${words.refusal}${hint}; ${words.known}: ${list}`,
    {
      field,
      value,
      known,
      ...(near ? { suggestion: near } : {}),
    },
  );
}

/**
 * An `exec` request's vars: no option-like value unless the command allows
 * options, path placeholders inside the roots. An unknown command or a
 * malformed `vars` is left to the handler, which fails the task permanently.
 */
async function admitExec(
  config: Config,
  name: string,
  vars: unknown,
  field: string,
  cwd: string,
): Promise<void> {
  const commands = config.exec.commands;
  const spec = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!spec || vars === undefined) return;
  if (vars === null || typeof vars !== "object" || Array.isArray(vars)) return;
  const given: ExecVars = {};
  for (const [key, value] of Object.entries(vars)) {
    if (["string", "number", "boolean"].includes(typeof value)) {
      given[key] = value as string | number | boolean;
    }
  }
  const checked = await checkExecVars(spec, given, { cwd, roots: fileRoots(config, cwd), field });
  buildArgs(spec, checked, field);
}
