/**
 * Hooks added at run time on Redis (the shared `HookStore`): one HASH,
 * `<prefix>hooks`, hook id → hook JSON.
 */

import { byCreation, hookFromJson, type HookStore, type StoredHook } from "../hook-store.ts";
import { guarded, type RedisContext } from "./context.ts";

function key(ctx: RedisContext): string {
  return `${ctx.keys.prefix}hooks`;
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
    await guarded(
      { op: "putHook" },
      () => this.ctx.redis.hset(key(this.ctx), hook.id, JSON.stringify(hook)),
    );
  }
  async deleteHook(id: string): Promise<boolean> {
    const removed = await guarded(
      { op: "deleteHook" },
      () => this.ctx.redis.hdel(key(this.ctx), id),
    );
    return Number(removed) === 1;
  }
}
