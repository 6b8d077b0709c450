/**
 * The BullMQ side of `deno task bench --redis`, run under Node: Deno cannot
 * load `npm:bullmq` here (our registry mirror lacks one of msgpackr-extract's
 * optional platform packages and Deno resolves them all; npm skips them). So
 * bench/bullmq is a small npm project of its own (bullmq pinned, dev-only),
 * installed on first use, and bench/bullmq/run.mjs runs the workloads.
 */

import { dirname, join } from "node:path";
import type { Throughput } from "./redis-un.ts";
import { fileURLToPath } from "node:url";

const DIR = join(dirname(fileURLToPath(import.meta.url)), "bullmq");

/**
 * Runs the BullMQ workloads, or says why it cannot.
 *
 * @example
 * ```ts
 * const bullmq = await BullmqBench.prepare("redis://127.0.0.1:6379", null);
 * if (bullmq instanceof BullmqBench) console.log((await bullmq.tasksPerSecond(20_000, 16)).perSecond);
 * else console.error(bullmq.unavailable);
 * ```
 */
export class BullmqBench {
  private constructor(readonly url: string, readonly redisPid: number | null) {}

  /**
   * Installs bench/bullmq's packages when missing; `{ unavailable }` when that
   * fails. `redisPid` (when the bench started Redis) lets it report Redis's CPU.
   */
  static async prepare(
    url: string,
    redisPid: number | null,
  ): Promise<BullmqBench | { unavailable: string }> {
    try {
      await Deno.stat(join(DIR, "node_modules", "bullmq", "package.json"));
      return new BullmqBench(url, redisPid);
    } catch {
      // not installed yet
    }
    try {
      const out = await run("npm", ["install", "--no-audit", "--no-fund"]);
      if (out.code !== 0) return { unavailable: `npm install failed: ${npmError(out.stderr)}` };
      return new BullmqBench(url, redisPid);
    } catch (error) {
      return { unavailable: `npm install could not run: ${(error as Error).message}` };
    }
  }

  /**
   * `bullmq_tasks_per_s`: `count` no-op jobs added in batches while one Worker
   * of `concurrency` runs them.
   */
  tasksPerSecond(count: number, concurrency: number, warmup = 0): Promise<Throughput> {
    return this.#node("tasks", [count, concurrency, warmup]);
  }

  /** One point of `bullmq_scaleout`: `processes` worker processes on `tasks` sleep jobs. */
  scaleoutPoint(
    processes: number,
    tasks: number,
    concurrency: number,
    sleepMs: number,
  ): Promise<Throughput> {
    return this.#node("scaleout", [processes, tasks, concurrency, sleepMs]);
  }

  async #node(mode: string, numbers: number[]): Promise<Throughput> {
    const args = [mode, this.url, String(this.redisPid ?? 0), ...numbers.map(String)];
    const out = await run("node", ["run.mjs", ...args]);
    if (out.code !== 0) {
      throw new Error(`node run.mjs ${mode} failed (exit ${out.code}): ${tail(out.stderr)}`);
    }
    const figures = JSON.parse(out.stdout.trim().split("\n").at(-1) ?? "{}");
    if (typeof figures.perSecond !== "number") {
      throw new Error(`node run.mjs ${mode} printed no figure: ${tail(out.stdout)}`);
    }
    return {
      perSecond: figures.perSecond,
      // JSON has no NaN: a missing CPU figure arrives as null.
      clientCpuUsPerTask: figures.clientCpuUsPerTask ?? NaN,
      redisCpuUsPerTask: figures.redisCpuUsPerTask ?? NaN,
    };
  }
}

async function run(
  command: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(command, {
    args,
    cwd: DIR,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

/** npm's error code and message lines (its stderr ends in a stack and a log path). */
function npmError(stderr: string): string {
  const lines = stderr.split("\n").filter((l) => /^npm error (code |[A-Za-z]*Error)/.test(l));
  return lines.length > 0
    ? lines.map((l) => l.replace(/^npm error /, "")).join("; ")
    : tail(stderr);
}

/** The end of a process's stderr, enough to say what went wrong. */
function tail(text: string): string {
  return text.trim().split("\n").slice(-5).join(" | ");
}
