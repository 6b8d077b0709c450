/**
 * The Lua scripts of the Redis store: every queue change is one atomic script
 * (BullMQ's convention, `scripts/<verb>-<numKeys>.lua`). They are read from
 * disk at open, `--- @include "name"` lines are replaced by
 * `scripts/includes/<name>.lua`, and they run by EVALSHA, falling back to EVAL
 * when Redis lost its script cache (restart, SCRIPT FLUSH).
 */

import { createHash } from "node:crypto";
import type { Redis } from "ioredis";

/**
 * Every script by the name it is called by → its file name without `.lua`.
 */
export const SCRIPT_FILES = {
  acquireLease: "acquire-lease-1",
  ackReset: "ack-reset-2",
  batchPage: "batch-page-1",
  batchPulse: "batch-pulse-2",
  batchRead: "batch-read-2",
  batchSettle: "batch-settle-2",
  cancel: "cancel-10",
  change: "change-10",
  completeClaim: "complete-claim-10",
  deleteHook: "delete-hook-2",
  enqueue: "enqueue-10",
  dropProcess: "drop-process-1",
  epoch: "epoch-2",
  expire: "expire-10",
  fail: "fail-10",
  list: "list-10",
  progress: "progress-1",
  promote: "promote-10",
  putHook: "put-hook-2",
  putSourceIfAbsent: "put-source-if-absent-1",
  putSubscriptionIf: "put-subscription-if-1",
  recordRuns: "record-runs-1",
  recover: "recover-10",
  releaseLease: "release-lease-1",
  renew: "renew-1",
  reprioritize: "reprioritize-10",
  retry: "retry-10",
  sampleHook: "sample-hook-2",
  trim: "trim-10",
  trimEvents: "trim-events-2",
} as const;

/**
 * The name a script is called by.
 */
export type ScriptName = keyof typeof SCRIPT_FILES;

/**
 * Every loaded script by name.
 */
export type Scripts = Record<ScriptName, LuaScript>;

const INCLUDE = /^--- @include "([a-z-]+)"$/m;

/**
 * One loaded Lua script.
 *
 * @example
 * ```ts
 * const script = new LuaScript("renew", 2, "return 1");
 * await script.run(redis, ["un:t:1", "un:running"], ["1", "2", "3"]);
 * ```
 */
export class LuaScript {
  readonly sha: string;

  constructor(readonly name: string, readonly numKeys: number, readonly source: string) {
    this.sha = createHash("sha1").update(source).digest("hex");
  }

  /** Runs the script; the reply is whatever the script returns. */
  async run(redis: Redis, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    if (keys.length !== this.numKeys) {
      throw new Error(`script ${this.name} takes ${this.numKeys} keys, got ${keys.length}`);
    }
    try {
      return await redis.evalsha(this.sha, this.numKeys, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
      return await redis.eval(this.source, this.numKeys, ...keys, ...args);
    }
  }
}

async function readScript(name: string): Promise<string> {
  return await Deno.readTextFile(new URL(`./scripts/${name}.lua`, import.meta.url));
}

async function expandIncludes(source: string): Promise<string> {
  let out = source;
  for (let match = INCLUDE.exec(out); match; match = INCLUDE.exec(out)) {
    const included = await readScript(`includes/${match[1]}`);
    out = out.replace(match[0], included);
  }
  return out;
}

/**
 * Reads every script and loads it into Redis's script cache.
 */
export async function loadScripts(redis: Redis): Promise<Scripts> {
  const names = Object.keys(SCRIPT_FILES) as ScriptName[];
  const entries = await Promise.all(names.map(async (name) => {
    const file = SCRIPT_FILES[name];
    const numKeys = Number(file.slice(file.lastIndexOf("-") + 1));
    const script = new LuaScript(name, numKeys, await expandIncludes(await readScript(file)));
    await redis.script("LOAD", script.source);
    return [name, script] as const;
  }));
  return Object.fromEntries(entries) as Scripts;
}
