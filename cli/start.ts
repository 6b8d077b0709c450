/**
 * `un start`: runs the runtime and the HTTP control plane in the foreground.
 * The first line on stdout is the URL the API bound (port 0 picks a free one).
 * SIGINT/SIGTERM (or `POST /un/stop`) stop claiming, let running tasks finish
 * within `workers.shutdownGraceMs`, hand back the rest, and exit 0; a second
 * signal a second or more later exits at once with 130 (cli/signals.ts: the
 * same signal again at once is one request reaching un twice).
 */

import { parseArgs } from "node:util";
import { dirname, resolve } from "node:path";
import { createApp } from "../routes/app.ts";
import { ConfigError, loadConfig } from "../lib/config/load.ts";
import { errorText, UnError } from "../lib/errors.ts";
import { loadHandlers } from "../lib/handlers/load.ts";
import { createLogger } from "../lib/log.ts";
import { type DeadlineServer, serveWithDeadlines } from "../lib/safety/deadline-server.ts";
import { Runtime } from "../runtime/runtime.ts";
import { type Role, ROLES } from "../runtime/roles.ts";
import { signalDecider } from "./signals.ts";

const USAGE = "usage: un start [--config FILE] [--role all|api|worker|scanner]";

/**
 * Runs `un start` with its arguments; resolves with the exit code.
 */
export async function startCommand(args: string[]): Promise<number> {
  let values: { config?: string; role?: string };
  try {
    ({ values } = parseArgs({
      args,
      options: { config: { type: "string", short: "c" }, role: { type: "string" } },
      strict: true,
    }));
  } catch (err) {
    console.error(`un: ${(err as Error).message}; ${USAGE}`);
    return 2;
  }
  const role = (values.role ?? "all") as Role;
  if (!ROLES.includes(role)) {
    console.error(`un: --role must be one of ${ROLES.join(", ")}, got "${values.role}"`);
    return 2;
  }

  let loaded;
  try {
    loaded = await loadConfig({ path: values.config });
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`un: invalid config: ${err.message}`);
      return 2;
    }
    throw err;
  }
  const { config, file } = loaded;
  const log = createLogger(config.log, "un");
  // Relative paths in a config file mean "next to the config file".
  const base = file ? dirname(resolve(file)) : Deno.cwd();
  config.store.path = resolve(base, config.store.path);
  for (const source of config.sources) {
    if (source.kind === "fs") source.path = resolve(base, source.path);
  }
  config.files.allow = config.files.allow.map((path) => resolve(base, path));

  let runtime: Runtime;
  try {
    const handlers = await loadHandlers(config, { cwd: base });
    runtime = await Runtime.start({ config, role, handlers, log });
  } catch (err) {
    if (err instanceof UnError) {
      console.error(`un: ${err.message}`);
      return 2;
    }
    console.error(`un: could not start: ${errorText(err)}`);
    return 1;
  }

  const app = createApp(runtime);
  let server: DeadlineServer;
  try {
    server = await serveWithDeadlines({
      hostname: config.api.host,
      port: config.api.port,
      readTimeoutMs: config.api.readTimeoutMs,
      handler: app.fetch,
      onListen: ({ hostname, port }) => {
        const host = hostname.includes(":") ? `[${hostname}]` : hostname;
        console.log(`http://${host}:${port}`);
        log.info("api listening", { url: `http://${host}:${port}`, config: file ?? "(defaults)" });
      },
      onTimeout: (phase, remote) =>
        log.warn("connection closed: the client was too slow", {
          remote,
          waiting: phase === "idle" ? "idle keep-alive" : `request ${phase}`,
          limit: phase === "idle" ? "keep-alive idle limit" : "api.readTimeoutMs",
        }),
    });
  } catch (err) {
    console.error(
      `un: cannot bind ${config.api.host}:${config.api.port}: ${
        (err as Error).message
      } (set api.port / UN_API_PORT; 0 picks a free port)`,
    );
    await runtime.stop("bind failed");
    return 2;
  }

  const decide = signalDecider();
  const onSignal = (name: string) => () => {
    switch (decide(name, Date.now())) {
      case "stop":
        return void runtime.stop(name);
      case "repeat":
        // Sent to the process group and forwarded by `deno task` too: the same request.
        return log.debug("same signal again at once: the stop already under way goes on", {
          signal: name,
        });
      case "exit":
        log.warn("second signal: exiting now; running tasks come back through their leases");
        Deno.exit(130);
    }
  };
  const handlers = [["SIGINT", onSignal("SIGINT")], ["SIGTERM", onSignal("SIGTERM")]] as const;
  for (const [sig, fn] of handlers) Deno.addSignalListener(sig, fn);

  await runtime.done;
  await server.shutdown();
  for (const [sig, fn] of handlers) Deno.removeSignalListener(sig, fn);
  return 0;
}
