/**
 * The argv an `exec` command gets from a payload's `vars`, with the two
 * checks that keep a payload from steering the command: a value may not start
 * with `-` (it would be read as an option, e.g. `--help`, `--output=/etc/x`)
 * unless the command sets `allowOptions`, and a placeholder named in the
 * command's `paths` must be a file inside the readable roots (fs sources and
 * `files.allow`); it is passed as its real absolute path.
 *
 * Used twice: at task create (routes → 400) and when the task runs (a task
 * made by a hook, or a symlink changed since; the handler fails permanently).
 */

import { isAbsolute, resolve, sep } from "node:path";
import type { Config } from "../config/load.ts";
import { ValidationError } from "../errors.ts";
import { checkReadablePath } from "./files.ts";

/** One command of `exec.commands`. */
export type ExecCommand = Config["exec"]["commands"][string];

/** Values a payload may give placeholders. */
export type ExecVars = Record<string, string | number | boolean>;

/** A placeholder: `{name}`; anything else in braces (`{}`, `{ "a": 1 }`) is left as written. */
const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Fills `{name}` placeholders of one argv element from `vars`. Each element
 * stays one argument whatever the value holds (spaces, `;`, quotes).
 *
 * @example
 * ```ts
 * substitutePlaceholders("--out={file}", { file: "a b.txt" }); // { value: "--out=a b.txt", missing: [] }
 * ```
 */
export function substitutePlaceholders(
  arg: string,
  vars: Record<string, string | number | boolean>,
): { value: string; missing: string[] } {
  const missing: string[] = [];
  const value = arg.replace(PLACEHOLDER, (whole, name: string) => {
    if (!Object.hasOwn(vars, name)) {
      missing.push(name);
      return whole;
    }
    return String(vars[name]);
  });
  return { value, missing };
}

/** Names of the placeholders the command's arguments (not its program) use. */
function placeholdersOf(spec: ExecCommand): Set<string> {
  const names = new Set<string>();
  for (const arg of spec.command.slice(1)) {
    for (const match of arg.matchAll(PLACEHOLDER)) names.add(match[1]);
  }
  return names;
}

/**
 * Checks the vars a command's placeholders use and returns them ready to
 * substitute: path placeholders replaced by their real absolute path. A
 * relative path means what it would mean to the command: relative to its
 * `cwd` (itself relative to `cwd`). Throws a {@link ValidationError} naming
 * `field.<name>`. Vars the command does not use are not checked (they only
 * reach the command inside the payload on stdin).
 *
 * @example
 * ```ts
 * const vars = await checkExecVars(spec, { src: "in/a.png" }, { cwd, roots, field: "payload.vars" });
 * vars.src; // "/srv/in/a.png"
 * ```
 */
export async function checkExecVars(
  spec: ExecCommand,
  vars: ExecVars,
  options: { cwd: string; roots: readonly string[]; field: string },
): Promise<ExecVars> {
  const used = placeholdersOf(spec);
  const paths = new Set(spec.paths);
  const commandCwd = resolve(options.cwd, spec.cwd ?? ".");
  const out: ExecVars = { ...vars };
  for (const name of used) {
    if (!Object.hasOwn(vars, name)) continue;
    const value = String(vars[name]);
    const field = `${options.field}.${name}`;
    if (paths.has(name)) {
      if (value === "") throw new ValidationError(`${field} must be a file path`, { field });
      // Joined as text, not resolve()d, so `..` is applied after symlinks, as the command would.
      const absolute = isAbsolute(value) ? value : `${commandCwd}${sep}${value}`;
      out[name] = await checkReadablePath(absolute, options.roots, field);
      continue;
    }
    if (value.startsWith("-") && !spec.allowOptions) {
      throw new ValidationError(
        `${field}: ${JSON.stringify(value)} starts with "-" and would be read as an option; ` +
          `set allowOptions: true on the command to allow it`,
        { field, value },
      );
    }
  }
  return out;
}

/**
 * The argv after the program, with `vars` (as {@link checkExecVars} returned
 * them) filled in, and the placeholders that had no value. Refuses an argument
 * that starts with `-` only because of what was filled in (`{a}-x` with an
 * empty `a`) unless the command sets `allowOptions`.
 */
export function buildArgs(
  spec: ExecCommand,
  vars: ExecVars,
  field: string,
): { args: string[]; missing: string[] } {
  const args: string[] = [];
  const missing = new Set<string>();
  for (const arg of spec.command.slice(1)) {
    const result = substitutePlaceholders(arg, vars);
    result.missing.forEach((m) => missing.add(m));
    if (!spec.allowOptions && result.value.startsWith("-") && !arg.startsWith("-")) {
      throw new ValidationError(
        `${field}: the argument ${JSON.stringify(arg)} would become the option ` +
          `${JSON.stringify(result.value)}; set allowOptions: true on the command to allow it`,
        { field, value: result.value },
      );
    }
    args.push(result.value);
  }
  return { args, missing: [...missing] };
}
