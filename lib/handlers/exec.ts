/**
 * The `exec` built-in: runs a command named in `exec.commands` of the config.
 * The API and hooks only choose WHICH configured command runs and fill its
 * `{name}` placeholders; the program and its argv shape come from the config
 * alone, and nothing goes through a shell, so a payload cannot run anything
 * the operator did not write down. Nor can it pass an option (a value
 * starting with `-`, unless the command sets `allowOptions`) or a file
 * outside the readable roots (placeholders named in the command's `paths`);
 * see lib/safety/exec-args.ts.
 */

import { resolve } from "node:path";
import { z } from "zod";
import type { Config } from "../config/load.ts";
import { PermanentError, ValidationError } from "../errors.ts";
import type { Json } from "../events/cloud-event.ts";
import { buildArgs, checkExecVars } from "../safety/exec-args.ts";
import { fileRoots } from "../safety/files.ts";
import { captureText } from "./capture.ts";
import { parsePayload } from "./payload.ts";

export { substitutePlaceholders } from "../safety/exec-args.ts";
import type { Handler } from "./types.ts";

/** After SIGTERM, a command has this long to exit before SIGKILL. */
const KILL_GRACE_MS = 2_000;
/** After the command exits, its output pipes get this long to drain (a background child may hold them). */
const DRAIN_MS = 1_000;
/** Lines of stderr quoted in a failure message. */
const STDERR_TAIL_LINES = 10;

/** The payload schema of `exec` (checked at create and again at run time). */
export const execPayload = z.object({
  command: z.string({ error: "must be the name of a command in exec.commands" }).min(1, {
    error: "must be the name of a command in exec.commands",
  }),
  vars: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]), {
    error: "must be an object of string, number or boolean values",
  }).default({}),
});

/** Payload of `exec`. */
export type ExecPayload = z.input<typeof execPayload>;

/** Result of `exec` (a type alias, so it is assignable to `Json`). */
export type ExecResult = {
  /** Exit code (0: success; anything else fails the task). */
  code: number;
  /** The first 64 KiB of stdout. */
  stdout: string;
  /** The last 64 KiB of stderr (the end says why). */
  stderr: string;
  /** Present when stdout or stderr was cut to 64 KiB. */
  truncated?: true;
  /** stdout parsed, when it is JSON. */
  json?: Json;
};

/**
 * A command that exited non-zero (or was killed by a signal). Retryable: the
 * message carries the exit code and the last lines of stderr.
 */
export class ExecFailedError extends Error {
  override name = "ExecFailedError";
  constructor(
    readonly command: string,
    readonly code: number,
    readonly signal: string | null,
    readonly stderr: string,
  ) {
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    const tail = stderrTail(stderr);
    super(`exec "${command}" ${how}${tail ? `: ${tail}` : ""}`);
  }
}

/** The last few non-empty lines of stderr, joined for a one-line message. */
function stderrTail(stderr: string): string {
  const lines = stderr.split(/\r?\n/).filter((line) => line.trim() !== "");
  return lines.slice(-STDERR_TAIL_LINES).join(" | ").slice(-2_000);
}

/** Sends a signal to the command's whole process group, so its children stop too. */
function signalTree(child: Deno.ChildProcess, signal: Deno.Signal): void {
  try {
    Deno.kill(-child.pid, signal);
  } catch {
    // No group (platform without process groups) or it is gone: try the process itself.
    try {
      child.kill(signal);
    } catch {
      // Already exited.
    }
  }
}

/**
 * Makes the `exec` handler for the commands in `config.exec.commands`.
 * A command's relative `cwd` resolves against `options.cwd`.
 */
export function execHandler(
  config: Config,
  options: { cwd: string },
): Handler<unknown, ExecResult> {
  return async (task, ctx) => {
    const { command: name, vars } = parsePayload("exec", execPayload, task.payload);
    const commands = config.exec.commands;
    const spec = Object.hasOwn(commands, name) ? commands[name] : undefined;
    if (!spec) {
      const known = Object.keys(commands);
      throw new PermanentError(
        `exec: unknown command "${name}"; exec.commands has ${
          known.length ? known.map((k) => `"${k}"`).join(", ") : "no commands"
        }`,
      );
    }
    // The program itself is never substituted: a payload must not pick what runs.
    const program = spec.command[0];
    let args: string[];
    let missing: string[];
    try {
      // Checked again here: a hook or schedule made the task, or a symlink changed since create.
      const checked = await checkExecVars(spec, vars, {
        cwd: options.cwd,
        roots: fileRoots(config, options.cwd),
        field: "payload.vars",
      });
      ({ args, missing } = buildArgs(spec, checked, "payload.vars"));
    } catch (err) {
      if (err instanceof ValidationError) {
        throw new PermanentError(`exec "${name}": ${err.message}`);
      }
      throw err;
    }
    if (missing.length) {
      throw new PermanentError(
        `exec "${name}": no value for placeholder(s) ${
          missing.map((m) => `{${m}}`).join(", ")
        } in payload.vars (given: ${Object.keys(vars).join(", ") || "none"})`,
      );
    }
    ctx.signal.throwIfAborted();

    // One signal for both ways a run is cut short: the task's signal and the command's own timeout.
    const stop = new AbortController();
    const onTaskAbort = () => stop.abort(ctx.signal.reason);
    ctx.signal.addEventListener("abort", onTaskAbort, { once: true });
    const timeout = spec.timeoutMs === undefined ? undefined : setTimeout(() => {
      stop.abort(new Error(`exec "${name}" timed out after ${spec.timeoutMs}ms and was killed`));
    }, spec.timeoutMs);

    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(program, {
        args,
        cwd: resolve(options.cwd, spec.cwd ?? "."),
        env: {
          ...spec.env,
          UN_TASK_ID: task.id,
          UN_TASK_TYPE: task.type,
          UN_ATTEMPT: String(ctx.attempt),
        },
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
        // Its own process group, so a cancel reaches the children it starts.
        detached: true,
      }).spawn();
    } catch (err) {
      ctx.signal.removeEventListener("abort", onTaskAbort);
      clearTimeout(timeout);
      // A missing program or cwd is a config problem that no retry fixes.
      if (err instanceof Deno.errors.NotFound) {
        throw new PermanentError(
          `exec "${name}": cannot run ${program} (program or cwd not found): ${
            (err as Error).message
          }`,
        );
      }
      if (err instanceof Deno.errors.PermissionDenied || err instanceof Deno.errors.NotCapable) {
        throw new PermanentError(`exec "${name}": not allowed to run ${program}: ${err.message}`);
      }
      throw err;
    }

    let killTimer: ReturnType<typeof setTimeout> | undefined;
    const kill = () => {
      signalTree(child, "SIGTERM");
      killTimer = setTimeout(() => signalTree(child, "SIGKILL"), KILL_GRACE_MS);
    };
    stop.signal.addEventListener("abort", kill, { once: true });

    const drained = new AbortController();
    const stdout = captureText(child.stdout, { keep: "head", signal: drained.signal });
    const stderr = captureText(child.stderr, { keep: "tail", signal: drained.signal });
    const stdinWritten = writeStdin(child, JSON.stringify(task.payload), drained.signal);

    let status: Deno.CommandStatus;
    try {
      status = await child.status;
    } finally {
      stop.signal.removeEventListener("abort", kill);
      ctx.signal.removeEventListener("abort", onTaskAbort);
      clearTimeout(timeout);
      clearTimeout(killTimer);
    }
    const drainTimer = setTimeout(() => drained.abort(), DRAIN_MS);
    const [out, err] = await Promise.all([stdout, stderr, stdinWritten]).finally(() =>
      clearTimeout(drainTimer)
    );

    if (stop.signal.aborted) throw stop.signal.reason;
    if (!status.success) throw new ExecFailedError(name, status.code, status.signal, err.text);
    const result: ExecResult = { code: status.code, stdout: out.text, stderr: err.text };
    if (out.truncated || err.truncated) result.truncated = true;
    if (!out.truncated && out.text.trim() !== "") {
      try {
        result.json = JSON.parse(out.text) as Json;
      } catch {
        // Not JSON: stdout stays text only.
      }
    }
    return result;
  };
}

/** Writes the payload to the command's stdin and closes it; gives up when `signal` aborts. */
async function writeStdin(
  child: Deno.ChildProcess,
  text: string,
  signal: AbortSignal,
): Promise<void> {
  const writer = child.stdin.getWriter();
  const giveUp = () => void writer.abort().catch(() => {});
  signal.addEventListener("abort", giveUp, { once: true });
  try {
    await writer.write(new TextEncoder().encode(text));
    await writer.close();
  } catch {
    // The command closed stdin without reading it all: it did not want the payload.
    await writer.abort().catch(() => {});
  } finally {
    signal.removeEventListener("abort", giveUp);
  }
}
