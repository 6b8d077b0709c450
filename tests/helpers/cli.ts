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
