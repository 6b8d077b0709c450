/**
 * Schedules and their last runs on Redis (the shared `ScheduleStore`):
 * - `<prefix>schedules`: HASH schedule id → StoredSchedule JSON (parsed with
 *   the config schema as it is read);
 * - `<prefix>schedule-runs`: HASH schedule id → ScheduleRun JSON.
 *
 * Key names are built here from the prefix, so the shared key layout
 * (`keys.ts`) stays as it is.
 */

import { readStoredSchedule, type ScheduleRun, type StoredSchedule } from "../schedule-store.ts";
import { guarded, type RedisContext } from "./context.ts";

const schedulesKey = (ctx: RedisContext) => `${ctx.keys.prefix}schedules`;
const runsKey = (ctx: RedisContext) => `${ctx.keys.prefix}schedule-runs`;

/** Keeps the later run, as `laterRun` does, in one step across processes. */
const RECORD_RUN = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur then
  local c = cjson.decode(cur)
  local n = cjson.decode(ARGV[2])
  if c.tick > n.tick or (c.tick == n.tick and n.taskId == cjson.null) then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1`;

function fromJson(id: string, json: string): StoredSchedule {
  try {
    return readStoredSchedule(JSON.parse(json));
  } catch (error) {
    return {
      id,
      origin: "api",
      paused: true,
      spec: null,
      error: `stored definition is not JSON: ${error}`,
      createdAt: 0,
      updatedAt: 0,
    };
  }
}

/** Every schedule, by createdAt then id. */
export async function listSchedules(ctx: RedisContext): Promise<StoredSchedule[]> {
  const all = await guarded({ op: "listSchedules" }, () => ctx.redis.hgetall(schedulesKey(ctx)));
  return Object.entries(all)
    .map(([id, json]) => fromJson(id, json))
    .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** One schedule, or null. */
export async function getSchedule(ctx: RedisContext, id: string): Promise<StoredSchedule | null> {
  const json = await guarded({ op: "getSchedule" }, () => ctx.redis.hget(schedulesKey(ctx), id));
  return json === null ? null : fromJson(id, json);
}

/** Creates or replaces a schedule. */
export async function putSchedule(ctx: RedisContext, schedule: StoredSchedule): Promise<void> {
  await guarded(
    { op: "putSchedule" },
    () => ctx.redis.hset(schedulesKey(ctx), schedule.id, JSON.stringify(schedule)),
  );
}

/** Stores a schedule unless its id is taken (HSETNX: atomic); null when stored. */
export async function putScheduleIfAbsent(
  ctx: RedisContext,
  schedule: StoredSchedule,
): Promise<StoredSchedule | null> {
  const set = await guarded(
    { op: "putScheduleIfAbsent" },
    () => ctx.redis.hsetnx(schedulesKey(ctx), schedule.id, JSON.stringify(schedule)),
  );
  return set === 1 ? null : await getSchedule(ctx, schedule.id);
}

/** Removes a schedule and its last run. */
export async function deleteSchedule(ctx: RedisContext, id: string): Promise<boolean> {
  const [removed] = await guarded({ op: "deleteSchedule" }, () =>
    Promise.all([
      ctx.redis.hdel(schedulesKey(ctx), id),
      ctx.redis.hdel(runsKey(ctx), id),
    ]));
  return removed > 0;
}

/** Records a run unless a later one is recorded. */
export async function recordScheduleRun(
  ctx: RedisContext,
  id: string,
  run: ScheduleRun,
): Promise<void> {
  await guarded(
    { op: "recordScheduleRun" },
    () => ctx.redis.eval(RECORD_RUN, 1, runsKey(ctx), id, JSON.stringify(run)),
  );
}

/** Every schedule's last run. */
export async function scheduleRuns(ctx: RedisContext): Promise<Record<string, ScheduleRun>> {
  const all = await guarded({ op: "scheduleRuns" }, () => ctx.redis.hgetall(runsKey(ctx)));
  return Object.fromEntries(
    Object.entries(all).map(([id, json]) => [id, JSON.parse(json) as ScheduleRun]),
  );
}
