/**
 * A real `un start` in a subprocess, for black-box tests.
 *
 * `startUn()` writes `un.config.json` into a temp dir (API on port 0, store
 * inside the dir, unless the config says otherwise), runs
 * `deno run <START_FLAGS> main.ts start --config <file>` there, takes the URL from the
 * first stdout line and waits until `GET /health` answers. Every failure says
 * what it waited for and shows the process's stderr, so a broken start is
 * diagnosed from the test output alone.
 *
 * Clean-up: `await using un = await startUn()` stops the process (SIGTERM,
 * then SIGKILL after a grace period), drains its pipes so the test sanitizers
 * pass, and removes the temp dir if `startUn` made it.
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { START_FLAGS } from "../../cli/start-flags.ts";
import { api } from "./http.ts";

/**
 * The repository root (this file is tests/helpers/un-process.ts).
 *
 * @example
 * ```ts
 * const example = join(REPO, "examples", "handlers.ts");
 * ```
 */
export const REPO = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
/**
 * The CLI entry, for running client commands in tests.
 *
 * @example
 * ```ts
 * await new Deno.Command(Deno.execPath(), { args: ["run", "-A", MAIN, "tasks"] }).output();
 * ```
 */
export const MAIN = join(REPO, "main.ts");

/**
 * Options of {@link startUn}.
 *
 * @example
 * ```ts
 * const options: StartUnOptions = { config: { workers: { concurrency: 1 } }, env: { UN_FAULTS: "crash" } };
 * ```
 */
export interface StartUnOptions {
  /** Config object written to `un.config.json`; `api.port` defaults to 0 and `store.path` to `<dir>/.un`. */
  config?: Record<string, unknown>;
  /** Extra environment (the test process's own `UN_*` variables are not passed on). */
  env?: Record<string, string>;
  /** Run in this directory (e.g. a previous instance's `dir`, to restart on the same store); it is not removed. */
  cwd?: string;
  /** Extra arguments after `start --config <file>` (e.g. `["--role", "worker"]`). */
  args?: string[];
  /** How long to wait for the URL and health. Default 30 s (a cold start compiles the runtime). */
  readyTimeoutMs?: number;
  /** `"ok"` (default) waits for `GET /health` 200; `"any"` accepts a degraded 503 too. */
  health?: "ok" | "any";
}

/**
 * A running `un start`.
 *
 * @example
 * ```ts
 * const first = await startUn();
 * await first.kill(); // as kill -9
 * await using again = await startUn({ cwd: first.dir }); // same store
 * ```
 */
export interface UnProcess {
  /** Base URL, e.g. `http://127.0.0.1:40123` (no trailing slash). */
  url: string;
  /** Working directory holding `un.config.json` and (by default) the store. */
  dir: string;
  /** The config file written. */
  configPath: string;
  proc: Deno.ChildProcess;
  /** Every stdout line so far (the first is the URL). */
  stdoutLines: string[];
  /** All stderr so far (logs), for diagnostics and assertions. */
  stderrText(): string;
  /** Sends a signal (default SIGTERM), waits for the exit (SIGKILL after `graceMs`), returns the exit status. */
  stop(signal?: Deno.Signal, graceMs?: number): Promise<Deno.CommandStatus>;
  /** SIGKILL (a crash, as `kill -9`), then waits for the exit. */
  kill(): Promise<Deno.CommandStatus>;
  /** Resolves with the exit status once the process ended and its output is drained. */
  waitExit(): Promise<Deno.CommandStatus>;
  /** Stops the process if it still runs and removes the dir if `startUn` created it. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Keep this much of stderr (the tail) so a chatty process cannot exhaust memory. */
const STDERR_CAP = 1_000_000;

/** The parent environment without `UN_*` (tests must not inherit a developer's settings). */
function childEnv(extra: Record<string, string>): Record<string, string> {
  const env = Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([k]) => !k.startsWith("UN_")),
  );
  return { ...env, NO_COLOR: "1", ...extra };
}

function withDefaults(config: Record<string, unknown>, dir: string): Record<string, unknown> {
  const api = (config.api ?? {}) as Record<string, unknown>;
  const store = (config.store ?? {}) as Record<string, unknown>;
  return {
    ...config,
    api: { port: 0, ...api },
    store: { path: join(dir, ".un"), ...store },
  };
}

/** Reads a byte stream as lines, calling `onLine` for each; resolves at EOF. */
async function readLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  let buffer = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    let newline: number;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      onLine(buffer.slice(0, newline).replace(/\r$/, ""));
      buffer = buffer.slice(newline + 1);
    }
  }
  if (buffer) onLine(buffer);
}

/** Sends a signal, ignoring "already exited". */
function signal(proc: Deno.ChildProcess, sig: Deno.Signal): void {
  try {
    proc.kill(sig);
  } catch (err) {
    if (!(err instanceof TypeError) && !(err instanceof Deno.errors.NotFound)) throw err;
  }
}

/**
 * Starts `un start` in a subprocess and waits until it serves.
 *
 * @example
 * ```ts
 * await using un = await startUn({ config: { workers: { concurrency: 2 } } });
 * const res = await fetch(`${un.url}/health`);
 * await res.body?.cancel();
 * ```
 */
export async function startUn(options: StartUnOptions = {}): Promise<UnProcess> {
  const ownDir = options.cwd === undefined;
  const dir = options.cwd ?? await Deno.makeTempDir({ prefix: "un_test_" });
  const configPath = join(dir, "un.config.json");
  await Deno.writeTextFile(
    configPath,
    JSON.stringify(withDefaults(options.config ?? {}, dir), null, 2),
  );

  const proc = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...START_FLAGS,
      MAIN,
      "start",
      "--config",
      configPath,
      ...(options.args ?? []),
    ],
    cwd: dir,
    env: childEnv(options.env ?? {}),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();

  const stdoutLines: string[] = [];
  let stderr = "";
  const firstLine = Promise.withResolvers<string>();
  const stdoutDone = readLines(proc.stdout, (line) => {
    if (stdoutLines.length === 0) firstLine.resolve(line);
    stdoutLines.push(line);
  });
  const stderrDone = (async () => {
    for await (const chunk of proc.stderr.pipeThrough(new TextDecoderStream())) {
      stderr += chunk;
      if (stderr.length > STDERR_CAP) stderr = stderr.slice(-STDERR_CAP);
    }
  })();
  const drained = Promise.all([proc.status, stdoutDone, stderrDone]).then(([status]) => status);
  let exited: Deno.CommandStatus | null = null;
  drained.then((status) => (exited = status), () => {});

  const waitExit = () => drained;
  const stop = async (
    sig: Deno.Signal = "SIGTERM",
    graceMs = 20_000,
  ): Promise<Deno.CommandStatus> => {
    if (exited) return exited;
    signal(proc, sig);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        signal(proc, "SIGKILL");
        resolve();
      }, graceMs);
    });
    await Promise.race([drained, killed]);
    clearTimeout(timer);
    return await drained;
  };
  const kill = () => stop("SIGKILL");

  const fail = async (what: string): Promise<never> => {
    const wasRunning = exited === null;
    const status = exited ?? await stop("SIGKILL", 1_000);
    const how = wasRunning ? "killed by the helper" : `exited with code ${status.code}`;
    throw new Error(
      `startUn: ${what} (process ${how}); config ${configPath}\n` +
        `--- stderr ---\n${stderr.slice(-8_000) || "(empty)"}\n--- stdout ---\n${
          stdoutLines.join("\n") || "(empty)"
        }`,
    );
  };

  const timeoutMs = options.readyTimeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  const first = await Promise.race([
    firstLine.promise,
    drained.then(() => "exited" as const),
    timedOut,
  ]);
  clearTimeout(timer);
  if (first === "timeout") return fail(`no URL on stdout within ${timeoutMs}ms`);
  if (first === "exited" && stdoutLines.length === 0) return fail("exited before printing its URL");
  const url = stdoutLines[0].trim().replace(/\/+$/, "");
  if (!/^https?:\/\/\S+$/.test(url)) {
    return fail(`first stdout line is not a URL: ${JSON.stringify(stdoutLines[0])}`);
  }

  let last = "no answer yet";
  for (;;) {
    if (exited) return fail(`exited while waiting for ${url}/health`);
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) });
      const body = await res.text();
      last = `${res.status} ${body.slice(0, 500)}`;
      if (res.status === 200 || (options.health === "any" && res.status === 503)) break;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) {
      return fail(`GET ${url}/health not ready within ${timeoutMs}ms (last: ${last})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  return {
    url,
    dir,
    configPath,
    proc,
    stdoutLines,
    stderrText: () => stderr,
    stop,
    kill,
    waitExit,
    async [Symbol.asyncDispose]() {
      await stop();
      if (ownDir) await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/**
 * Several `un start` processes, started at once, as one group: disposing it
 * stops them all; if one fails to start, the others are stopped and its error
 * is thrown.
 *
 * @example
 * ```ts
 * await using group = await startMany([{ args: ["--role", "api"] }, { args: ["--role", "worker"] }]);
 * const [api, worker] = group.procs;
 * ```
 */
export async function startMany(
  optionsList: StartUnOptions[],
): Promise<{ procs: UnProcess[]; [Symbol.asyncDispose](): Promise<void> }> {
  const settled = await Promise.allSettled(optionsList.map((options) => startUn(options)));
  const procs = settled.flatMap((s) => s.status === "fulfilled" ? [s.value] : []);
  const stopAll = () => Promise.all(procs.map((p) => p[Symbol.asyncDispose]())).then(() => {});
  const failed = settled.find((s) => s.status === "rejected");
  if (failed) {
    await stopAll();
    throw (failed as PromiseRejectedResult).reason;
  }
  return { procs, [Symbol.asyncDispose]: stopAll };
}

/**
 * A process's id (the `origin` of its events), from its `/health`.
 *
 * @example
 * ```ts
 * assert.equal(event.origin, await processId(a));
 * ```
 */
export async function processId(un: UnProcess): Promise<string> {
  const res = await api<{ processId: string }>(un.url, "GET", "/health");
  return res.body.processId;
}

/**
 * How many times `log` (a process's stderr) says `needle`: the tests of
 * outages check that each is said once, not once per failed attempt.
 *
 * @example
 * ```ts
 * assert.equal(timesSaid(un.stderrText(), "redis connection lost"), 1);
 * ```
 */
export function timesSaid(log: string, needle: string): number {
  return log.split(needle).length - 1;
}
