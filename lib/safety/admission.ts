/**
 * Checks a task request against what the operator allowed before it is
 * stored: an `http` task's URL against `http.allow`, a `file.metadata` path
 * against the file roots, an `exec` task's `vars` against its command's
 * `allowOptions` and `paths`. A refusal is a 400 at the door instead of a task
 * that fails later (the handlers check again at run time, for tasks made by
 * hooks and schedules).
 */

import type { Config } from "../config.ts";
import type { TaskRequest } from "../messages.ts";
import { buildArgs, checkExecVars, type ExecVars } from "./exec-args.ts";
import { checkReadablePath, fileRoots } from "./files.ts";
import { checkOutboundUrl } from "./outbound.ts";

/** Throws a ValidationError (400) for the first request that reaches what it may not. */
export async function admitTaskRequests(
  requests: readonly TaskRequest[],
  config: Config,
  cwd: string = Deno.cwd(),
): Promise<void> {
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
