/**
 * Redis store tests' harness: the shared Redis at `UN_REDIS_URL` (default
 * `redis://127.0.0.1:6379`), a store per test on a fresh key prefix
 * (`un-test:<ulid>:`) removed afterwards. Without Redis the tests are
 * ignored, except when `CI=true`: then a failing test says so.
 */

import { Redis } from "ioredis";
import { newId } from "../../lib/events/cloud-event.ts";
import { RedisStore, type RedisStoreOptions } from "../../lib/store/redis/store.ts";
import type { Store } from "../../lib/store/types.ts";

/**
 * The Redis the tests use.
 *
 * @example
 * ```ts
 * const admin = new Redis(REDIS_URL);
 * ```
 */
export const REDIS_URL = Deno.env.get("UN_REDIS_URL") ?? "redis://127.0.0.1:6379";

/** Whether Redis answers. */
async function redisAnswers(): Promise<boolean> {
  const probe = new Redis(REDIS_URL, {
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    connectTimeout: 2_000,
  });
  probe.on("error", () => {});
  try {
    await probe.connect();
    await probe.ping();
    return true;
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

/**
 * Checks Redis once, before a file registers its tests: `ignore` for their
 * `Deno.test` options, `suffix` for their names. Under `CI=true` a missing
 * Redis registers a failing test named after `what`.
 *
 * @example
 * ```ts
 * const { ignore, suffix } = await redisForTests("redis store");
 * Deno.test({ name: `redis store: claims${suffix}`, ignore, fn() {} });
 * ```
 */
export async function redisForTests(what: string): Promise<{ ignore: boolean; suffix: string }> {
  const reachable = await redisAnswers();
  if (!reachable && Deno.env.get("CI") === "true") {
    Deno.test(`${what}: Redis must be reachable at ${REDIS_URL} when CI=true`, () => {
      throw new Error(`Redis at ${REDIS_URL} is unreachable (CI=true requires it)`);
    });
  }
  return { ignore: !reachable, suffix: reachable ? "" : ` (ignored: no Redis at ${REDIS_URL})` };
}

/**
 * Deletes every key under `prefix`.
 *
 * @example
 * ```ts
 * await dropPrefix("un-test:01J...:");
 * ```
 */
export async function dropPrefix(prefix: string): Promise<void> {
  const admin = new Redis(REDIS_URL, { lazyConnect: true });
  admin.on("error", () => {});
  try {
    await admin.connect();
    let cursor = "0";
    do {
      const [next, keys] = await admin.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) await admin.unlink(...keys);
    } while (cursor !== "0");
  } finally {
    await admin.quit().catch(() => admin.disconnect());
  }
}

const prefixes = new Map<Store, string>();

/**
 * A store on a fresh prefix (or `prefix`), with `options`; {@link closeStore} removes its keys.
 *
 * @example
 * ```ts
 * const store = await openStore(undefined, { bridge: true });
 * ```
 */
export async function openStore(
  prefix = `un-test:${newId()}:`,
  options: Omit<RedisStoreOptions, "url" | "prefix"> = {},
): Promise<RedisStore> {
  const store = await RedisStore.open({ url: REDIS_URL, prefix, ...options });
  prefixes.set(store, prefix);
  return store;
}

/**
 * Closes a store (again, if need be) and removes the keys of its prefix.
 *
 * @example
 * ```ts
 * await closeStore(store);
 * ```
 */
export async function closeStore(store: Store): Promise<void> {
  await store.close();
  const prefix = prefixes.get(store);
  prefixes.delete(store);
  if (prefix !== undefined) await dropPrefix(prefix);
}

/**
 * Two stores on one fresh prefix, as two processes sharing a Redis; `await
 * using` closes both and removes the prefix's keys.
 *
 * @example
 * ```ts
 * await using stores = await openSharedStores();
 * await stores.first.enqueue(task, now);
 * await stores.second.claim(request);
 * ```
 */
export async function openSharedStores(): Promise<
  { first: RedisStore; second: RedisStore } & AsyncDisposable
> {
  const prefix = `un-test:${newId()}:`;
  const first = await openStore(prefix);
  const second = await RedisStore.open({ url: REDIS_URL, prefix }).catch(async (error) => {
    await closeStore(first);
    throw error;
  });
  return {
    first,
    second,
    [Symbol.asyncDispose]: async () => {
      await second.close();
      await closeStore(first);
    },
  };
}
