/**
 * The `un` command line. `un start` runs the runtime; every other command is a
 * client of a running instance's HTTP API. Commands load lazily, so a client
 * command never loads the runtime (actors, store, SQLite).
 *
 * @example
 * ```sh
 * deno task un start --config un.config.json
 * deno task un tasks --state queued
 * ```
 * @module
 */

import { describeFailure } from "./cli/errors.ts";

export type { Command } from "./cli/command.ts";
import type { Command } from "./cli/command.ts";

const COMMANDS: Record<string, () => Promise<Command>> = {
  start: async () => (await import("./cli/start.ts")).startCommand,
  tasks: async () => (await import("./cli/tasks.ts")).tasksCommand,
  events: async () => (await import("./cli/events.ts")).eventsCommand,
  workers: async () => (await import("./cli/workers.ts")).workersCommand,
  processes: async () => (await import("./cli/processes.ts")).processesCommand,
  publish: async () => (await import("./cli/publish.ts")).publishCommand,
  enqueue: async () => (await import("./cli/enqueue.ts")).enqueueCommand,
  retry: async () => (await import("./cli/retry.ts")).retryCommand,
  cancel: async () => (await import("./cli/cancel.ts")).cancelCommand,
  why: async () => (await import("./cli/why.ts")).whyCommand,
  batches: async () => (await import("./cli/batches.ts")).batchesCommand,
  sources: async () => (await import("./cli/sources.ts")).sourcesCommand,
  hooks: async () => (await import("./cli/hooks.ts")).hooksCommand,
  subscriptions: async () => (await import("./cli/subscriptions.ts")).subscriptionsCommand,
  schedules: async () => (await import("./cli/schedules.ts")).schedulesCommand,
  queues: async () => (await import("./cli/queues.ts")).queuesCommand,
  scan: async () => (await import("./cli/scan.ts")).scanCommand,
  stop: async () => (await import("./cli/stop.ts")).stopCommand,
  open: async () => (await import("./cli/open.ts")).openCommand,
  store: async () => (await import("./cli/store.ts")).storeCommand,
  doctor: async () => (await import("./cli/doctor.ts")).doctorCommand,
  help: async () => (await import("./cli/help.ts")).helpCommand,
};

/**
 * Runs one command line; resolves with the exit code (0 ok, 1 the server
 * answered an error, 2 bad usage or no instance reachable: one line on stderr).
 *
 * @example
 * ```ts
 * Deno.exit(await main(["tasks", "--json"]));
 * ```
 */
export async function main(argv: string[]): Promise<number> {
  const [name = "help", ...args] = argv;
  const command = ["-h", "--help"].includes(name) ? "help" : name;
  const load = COMMANDS[command];
  if (!load) {
    console.error(`un: unknown command ${JSON.stringify(name)}; run \`un help\` for the list`);
    return 2;
  }
  try {
    return await (await load())(args);
  } catch (err) {
    const { code, line } = describeFailure(err);
    console.error(line);
    return code;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
