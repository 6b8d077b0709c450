/**
 * `un start --role worker` processes for the scale-out benchmark: each gets
 * the same config file (API on a free port, log level warn) and counts as up
 * once it printed its URL, which `un start` does after the pool started.
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { START_FLAGS } from "../cli/start-flags.ts";

const MAIN = join(dirname(dirname(fileURLToPath(import.meta.url))), "main.ts");
/** Kept of each worker's stderr, for the error message when a run goes wrong. */
const STDERR_KEEP = 4_000;

/**
 * Running worker processes; disposing stops them (SIGTERM, then SIGKILL).
 *
 * @example
 * ```ts
 * await using workers = await startWorkers(2, { redis: { url, prefix } });
 * console.error(workers.stderr());
 * ```
 */
export interface WorkerProcesses {
  /** Their process ids (for CPU accounting). */
  pids: number[];
  /** The tail of every worker's stderr, labelled. */
  stderr(): string;
  [Symbol.asyncDispose](): Promise<void>;
}

interface Worker {
  proc: Deno.ChildProcess;
  stderr: string;
  drained: Promise<void>;
}

/**
 * Options of {@link startWorkers}.
 *
 * @example
 * ```ts
 * const options: StartWorkersOptions = { denoFlags: ["--cpu-prof", "--cpu-prof-dir=/tmp/prof"] };
 * ```
 */
export interface StartWorkersOptions {
  /** How long all may take to come up. Default 60 s. */
  readyTimeoutMs?: number;
  /** Extra `deno run` flags, e.g. to profile the workers. */
  denoFlags?: string[];
}

/**
 * Starts `count` worker processes on one config and waits until all are up.
 *
 * @example
 * ```ts
 * await using workers = await startWorkers(4, { redis: { url }, workers: { concurrency: 16 } });
 * ```
 */
export async function startWorkers(
  count: number,
  config: Record<string, unknown>,
  options: StartWorkersOptions = {},
): Promise<WorkerProcesses> {
  const { readyTimeoutMs = 60_000, denoFlags = [] } = options;
  const dir = await Deno.makeTempDir({ prefix: "un-bench-workers-" });
  const configPath = join(dir, "un.config.json");
  await Deno.writeTextFile(
    configPath,
    JSON.stringify({
      api: { port: 0 },
      store: { path: join(dir, "store") },
      log: { level: "warn" },
      ...config,
    }),
  );
  // The bench's own UN_* variables would override the config file.
  const env = Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([key]) => !key.startsWith("UN_")),
  );
  const workers: Worker[] = [];
  const ready: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const proc = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        ...START_FLAGS,
        ...denoFlags,
        MAIN,
        "start",
        "--config",
        configPath,
        "--role",
        "worker",
      ],
      cwd: dir,
      clearEnv: true,
      env,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const worker: Worker = { proc, stderr: "", drained: Promise.resolve() };
    let up!: () => void;
    ready.push(new Promise<void>((resolve) => (up = resolve)));
    const stdout = readLines(proc.stdout, () => up());
    const stderr = readLines(proc.stderr, () => {}, (line) => {
      worker.stderr = (worker.stderr + line + "\n").slice(-STDERR_KEEP);
    });
    worker.drained = Promise.all([stdout, stderr]).then(() => {});
    workers.push(worker);
  }
  const describe = () =>
    workers.map((w, i) => `--- worker ${i} (pid ${w.proc.pid}) ---\n${w.stderr}`).join("\n");
  const stop = async () => {
    for (const w of workers) {
      try {
        w.proc.kill("SIGTERM");
      } catch {
        // already exited
      }
    }
    const timer = setTimeout(() => {
      for (const w of workers) {
        try {
          w.proc.kill("SIGKILL");
        } catch {
          // already exited
        }
      }
    }, 15_000);
    await Promise.all(workers.map((w) => w.proc.status));
    await Promise.all(workers.map((w) => w.drained));
    clearTimeout(timer);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const exited = Promise.race(workers.map((w) => w.proc.status)).then((status) => {
    throw new Error(`a worker process exited (code ${status.code}) before all were up`);
  });
  try {
    await Promise.race([
      Promise.all(ready),
      exited,
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`worker processes not up within ${readyTimeoutMs}ms`)),
          readyTimeoutMs,
        );
      }),
    ]);
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n${describe()}`);
  } finally {
    clearTimeout(timer);
  }
  exited.catch(() => {}); // an exit after start-up shows up as tasks not finishing
  return { pids: workers.map((w) => w.proc.pid), stderr: describe, [Symbol.asyncDispose]: stop };
}

/** Reads a stream to its end; `first` fires on the first line, `each` on every line. */
async function readLines(
  stream: ReadableStream<Uint8Array>,
  first: () => void,
  each: (line: string) => void = () => {},
): Promise<void> {
  let seen = false;
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    const lines = (rest + chunk).split("\n");
    rest = lines.pop() ?? "";
    for (const line of lines) {
      if (!seen) {
        seen = true;
        first();
      }
      each(line);
    }
  }
  if (rest) each(rest);
}
