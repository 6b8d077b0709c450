/**
 * Webhook subscriptions on Redis (the shared `SubscriptionStore`), under the
 * store's prefix:
 * - `subscriptions`: HASH subscription id → JSON;
 * - `sd:<subscriptionId>`: LIST of delivery task ids, newest first, capped.
 */

import { ConflictError } from "../../errors.ts";
import {
  MAX_DELIVERIES,
  type StoredSubscription,
  type SubscriptionEdit,
  type SubscriptionUpdate,
} from "../subscription-store.ts";
import { execAll, guarded, type RedisContext, runScript } from "./context.ts";

const hashKey = (ctx: RedisContext) => `${ctx.keys.prefix}subscriptions`;
const deliveriesKey = (ctx: RedisContext, id: string) => `${ctx.keys.prefix}sd:${id}`;

/** Every subscription, oldest first. */
export async function listSubscriptions(ctx: RedisContext): Promise<StoredSubscription[]> {
  const all = await guarded({ op: "listSubscriptions" }, () => ctx.redis.hgetall(hashKey(ctx)));
  return Object.values(all)
    .map((body) => JSON.parse(body) as StoredSubscription)
    .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** One subscription, or null. */
export async function getSubscription(
  ctx: RedisContext,
  id: string,
): Promise<StoredSubscription | null> {
  const body = await guarded({ op: "getSubscription" }, () => ctx.redis.hget(hashKey(ctx), id));
  return body === null ? null : JSON.parse(body) as StoredSubscription;
}

/** Creates or replaces a subscription. */
export async function putSubscription(ctx: RedisContext, s: StoredSubscription): Promise<void> {
  await guarded(
    { op: "putSubscription" },
    () => ctx.redis.hset(hashKey(ctx), s.id, JSON.stringify(s)),
  );
}

/** How often an update is tried again when other writes keep coming first. */
const UPDATE_TRIES = 100;

/**
 * Changes one subscription atomically: read, change in TypeScript, then one
 * script writes it only if it is still as read (compare and set); another
 * write in between makes it read and change again.
 */
export async function updateSubscription(
  ctx: RedisContext,
  id: string,
  change: SubscriptionEdit,
): Promise<SubscriptionUpdate | null> {
  for (let attempt = 0; attempt < UPDATE_TRIES; attempt++) {
    const body = await guarded(
      { op: "updateSubscription" },
      () => ctx.redis.hget(hashKey(ctx), id),
    );
    if (body === null) return null;
    const before = JSON.parse(body) as StoredSubscription;
    const next = change(before);
    if (next === null) return { before, after: before };
    const after = { ...next, id };
    const set = await runScript(
      ctx,
      "putSubscriptionIf",
      [hashKey(ctx)],
      [id, body, JSON.stringify(after)],
      { op: "updateSubscription" },
    );
    if (Number(set) === 1) return { before, after };
    if (Number(set) === -1) return null;
  }
  throw new ConflictError(`subscription ${id} kept changing; try again`, { id });
}

/** Removes a subscription and its delivery list; true when it existed. */
export async function deleteSubscription(ctx: RedisContext, id: string): Promise<boolean> {
  const [removed] = await execAll(
    { op: "deleteSubscription" },
    ctx.redis.multi().hdel(hashKey(ctx), id).del(deliveriesKey(ctx, id)),
  );
  return Number(removed) > 0;
}

/** Notes a delivery task id, keeping the newest {@link MAX_DELIVERIES}. */
export async function addDelivery(ctx: RedisContext, id: string, taskId: string): Promise<void> {
  const key = deliveriesKey(ctx, id);
  await execAll(
    { op: "addDelivery" },
    ctx.redis.multi().lpush(key, taskId).ltrim(key, 0, MAX_DELIVERIES - 1),
  );
}

/** Delivery task ids, newest first. */
export function listDeliveries(ctx: RedisContext, id: string, limit: number): Promise<string[]> {
  return guarded(
    { op: "listDeliveries" },
    () => ctx.redis.lrange(deliveriesKey(ctx, id), 0, Math.max(0, limit - 1)),
  );
}
