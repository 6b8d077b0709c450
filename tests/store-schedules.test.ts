/**
 * The schedule side of both stores (ScheduleStore): the conformance cases
 * (tests/store/conformance/schedule-cases.ts) on SQLite and on Redis.
 */

import { SqliteStore } from "../lib/store/sqlite/store.ts";
import type { ScheduleStore } from "../lib/store/types.ts";
import { type ConformanceSuite, runConformanceSuite } from "./store/conformance.ts";
import { scheduleCases } from "./store/conformance/schedule-cases.ts";
import { closeStore, openStore, redisForTests } from "./helpers/redis-store.ts";

/** Schedules added at run time, pause switches, last runs. */
const SCHEDULE_STORE_SUITE: ConformanceSuite<ScheduleStore> = {
  name: "ScheduleStore",
  areas: { "schedules and last runs": scheduleCases },
};

const dirs = new Map<SqliteStore, string>();
runConformanceSuite(
  "sqlite",
  SCHEDULE_STORE_SUITE,
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "un-schedules-" });
    const store = SqliteStore.open(dir);
    dirs.set(store, dir);
    return store;
  },
  async (store: SqliteStore) => {
    await store.close();
    const dir = dirs.get(store);
    dirs.delete(store);
    if (dir) await Deno.remove(dir, { recursive: true });
  },
);

const { ignore, suffix } = await redisForTests("redis schedules");
if (!ignore) runConformanceSuite("redis", SCHEDULE_STORE_SUITE, () => openStore(), closeStore);
else Deno.test({ name: `redis ScheduleStore${suffix}`, ignore: true, fn() {} });
