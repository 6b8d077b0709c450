/**
 * Hooks added at run time on Redis (the shared `HookStore`): one HASH,
 * `<prefix>hooks`, hook id → hook JSON, and one HASH, `<prefix>hook-samples`,
 * hook id → its matching events since its last fire (sampled hooks), which
 * every process routing events counts in (one script per change).
 */

import { byCreation, hookFromJson, type HookStore, type StoredHook } from "../hook-store.ts";
import { guarded, type RedisContext, runScript } from "./context.ts";

function key(ctx: RedisContext): string {
  return `${ctx.keys.prefix}hooks`;
}

/** The hooks hash and the sample counts' hash, the keys of the hook scripts. */
function keys(ctx: RedisContext): [string, string] {
  return [key(ctx), `${ctx.keys.prefix}hook-samples`];
}

/** The Redis {@link HookStore} over one connection context. */
export class RedisHooks implements HookStore {
  constructor(private readonly ctx: RedisContext) {}

  async listHooks(): Promise<StoredHook[]> {
    const all = await guarded({ op: "listHooks" }, () => this.ctx.redis.hgetall(key(this.ctx)));
    return Object.entries(all).map(([id, json]) => hookFromJson(id, json)).sort(byCreation);
  }
  async getHook(id: string): Promise<StoredHook | null> {
    const json = await guarded({ op: "getHook" }, () => this.ctx.redis.hget(key(this.ctx), id));
    return json === null ? null : hookFromJson(id, json);
  }
  async putHook(hook: StoredHook): Promise<void> {
    await runScript(this.ctx, "putHook", keys(this.ctx), [hook.id, JSON.stringify(hook)], {
      op: "putHook",
    });
  }
  async deleteHook(id: string): Promise<boolean> {
    const removed = await runScript(this.ctx, "deleteHook", keys(this.ctx), [id], {
      op: "deleteHook",
    });
    return Number(removed) === 1;
  }
  async sampleHook(id: string, every: number): Promise<boolean> {
    const fired = await runScript(this.ctx, "sampleHook", keys(this.ctx), [id, String(every)], {
      op: "sampleHook",
    });
    return Number(fired) === 1;
  }
}
