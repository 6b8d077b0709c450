/**
 * `un store check|recover|ack-reset`: the store's own care. `check` and
 * `recover` open the embedded store file directly (un need not run; it must
 * not, for `recover`); `ack-reset` tells a running cluster that an operator
 * has seen Redis lose its data.
 */

import type { Command } from "./command.ts";
import { UsageError } from "./errors.ts";

const USAGE = "un store check|recover|ack-reset [options]";

const SUBCOMMANDS: Record<string, () => Promise<Command>> = {
  check: async () => (await import("./store-check.ts")).storeCheckCommand,
  recover: async () => (await import("./store-recover.ts")).storeRecoverCommand,
  "ack-reset": async () => (await import("./store-ack-reset.ts")).storeAckResetCommand,
};

/**
 * Runs `un store <subcommand>`.
 */
export async function storeCommand(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  const load = name === undefined ? undefined : SUBCOMMANDS[name];
  if (!load) {
    throw new UsageError(
      `${
        name === undefined ? "missing subcommand" : `unknown subcommand "${name}"`
      }; usage: ${USAGE}`,
    );
  }
  return await (await load())(rest);
}
