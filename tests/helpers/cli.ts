/**
 * Running the `un` CLI as a user does: `deno run main.ts <command>` as a
 * subprocess, with the test's environment minus its `UN_*` settings.
 */

import { MAIN } from "./un-process.ts";

/**
 * What one CLI run gave.
 *
 * @example
 * ```ts
 * const result: CliResult = { code: 0, stdout: "...", stderr: "" };
 * ```
 */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The environment a CLI run gets: the test's own, without `UN_*`, plus `env`.
 *
 * @example
 * ```ts
 * new Deno.Command(Deno.execPath(), { args, env: cliEnv({ UN_URL: url }), clearEnv: true });
 * ```
 */
export function cliEnv(env: Record<string, string>): Record<string, string> {
  const base = Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([k]) => !k.startsWith("UN_")),
  );
  return { ...base, NO_COLOR: "1", ...env };
}

/**
 * Runs `un <args>` to its end.
 *
 * @example
 * ```ts
 * const { code, stdout } = await runCli(["tasks", "--json"], { UN_URL: url });
 * ```
 */
export async function runCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    env: cliEnv(env),
    clearEnv: true,
    stdin: "null",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

/**
 * A CLI run that prints JSON lines until it is stopped (`events --follow --json`).
 */
export interface FollowingCli<T> {
  /** The lines printed so far, parsed. */
  readonly seen: T[];
  /** Stops it with SIGINT, as Ctrl-C does, once everything it printed is read. */
  stop(): Promise<{ code: number; stderr: string }>;
}

/**
 * Starts `un <args>`, parsing each line it prints into `seen`. Until `gate`
 * resolves after a chunk, its output is not read (so it blocks writing,
 * like a terminal that is not being read).
 *
 * @example
 * ```ts
 * const follow = followCli<CloudEvent>(["events", "--follow", "--json"], { UN_URL: url });
 * await eventually(() => follow.seen.length > 0);
 * assert.equal((await follow.stop()).code, 0);
 * ```
 */
export function followCli<T>(
  args: string[],
  env: Record<string, string>,
  gate: () => Promise<void> | undefined = () => undefined,
): FollowingCli<T> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    env: cliEnv(env),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const seen: T[] = [];
  const reading = (async () => {
    let buffer = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      const lines = buffer.split("\n");
      buffer = lines.pop()!;
      for (const line of lines) if (line.trim()) seen.push(JSON.parse(line));
      await gate();
    }
  })();
  return {
    seen,
    async stop() {
      child.kill("SIGINT");
      const { code } = await child.status;
      await reading;
      return { code, stderr: await stderr };
    },
  };
}
