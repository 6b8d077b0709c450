/**
 * Key layout of the Redis store. Every key starts with the prefix (default
 * `un:`), so several apps can share one Redis.
 */

/**
 * Names of the keys the Redis store uses under one prefix.
 */
export interface RedisKeys {
  prefix: string;
  /**
   * The fixed keys every task script takes, in the order the scripts read them
   * (see `scripts/includes/task.lua`).
   */
  taskScriptKeys: string[];
  /** Queue names that ever had a task. */
  queues: string;
  /** `"<state>|<queue>"` → count, for every state but queued and running. */
  counts: string;
  /** Scheduled/retrying task ids by runAt. */
  delayed: string;
  /** Not-started live task ids by deadline. */
  deadlines: string;
  /** Every task, lexicographic by `createdAt (16 digits) + id`. */
  all: string;
  /** The event log: a stream, one entry per batch (see lib/store/redis/events.ts); the bridge reads it too. */
  eventStream: string;
  /** How many events the event log holds (retention by count). */
  eventCount: string;
  /** Source id → StoredSource JSON. */
  sources: string;
  /** Process id → its ProcessRecord and until when it is listed, JSON (see `processes.ts`). */
  processes: string;
  /** This Redis's data generation: a ULID written once; another value means the data was lost (see `epoch.ts`). */
  epoch: string;
  /** The last loss of data seen: JSON `{epoch, at, previous, ackedAt?}` (see `epoch.ts`). */
  epochReset: string;
  /** One task's hash. */
  task(id: string): string;
  /** Queued task ids of one queue by sortKey. */
  queued(queue: string): string;
  /** Running task ids of one queue by leaseUntil. */
  running(queue: string): string;
  /** Small JSON state of one source (key → JSON). */
  sourceState(sourceId: string): string;
  /** File index of one source (path → `[size, mtimeMs]`). */
  files(sourceId: string): string;
  /** Learned statistics of one task type. */
  typeStats(type: string): string;
  /** A named lease (holder, until, fence). */
  lease(name: string): string;
  /** A batch: `ca` createdAt, `pa` parentId, `co` completedAt (scripts/enqueue-10.lua). */
  batch(id: string): string;
  /** The ids of a batch's tasks. */
  batchMembers(id: string): string;
  /** Batches not announced yet, by createdAt. */
  batchesOpen: string;
  /** Announced batches, by completedAt (retention removes the old ones). */
  batchesDone: string;
  /** Every batch, by createdAt (for listings; retention removes it with the batch). */
  batchesAll: string;
  /** Marker of one claimed tick. */
  tick(name: string, tick: number): string;
}

/**
 * Builds the key names under a prefix.
 */
export function redisKeys(prefix: string): RedisKeys {
  const k = (name: string) => `${prefix}${name}`;
  const fixed = {
    queues: k("queues"),
    counts: k("counts"),
    delayed: k("delayed"),
    finished: k("finished"),
    expiring: k("expiring"),
    deadlines: k("deadlines"),
    live: k("live"),
    newest: k("newest"),
    all: k("all"),
    results: k("results"),
  };
  return {
    prefix,
    taskScriptKeys: [
      fixed.queues,
      fixed.counts,
      fixed.delayed,
      fixed.finished,
      fixed.expiring,
      fixed.deadlines,
      fixed.live,
      fixed.newest,
      fixed.all,
      fixed.results,
    ],
    queues: fixed.queues,
    counts: fixed.counts,
    delayed: fixed.delayed,
    deadlines: fixed.deadlines,
    all: fixed.all,
    eventStream: k("events:stream"),
    eventCount: k("ev:count"),
    sources: k("sources"),
    processes: k("procs"),
    epoch: k("epoch"),
    epochReset: k("epoch:reset"),
    task: (id) => k(`t:${id}`),
    queued: (queue) => k(`q:${queue}`),
    running: (queue) => k(`r:${queue}`),
    sourceState: (sourceId) => k(`ss:${sourceId}`),
    files: (sourceId) => k(`fi:${sourceId}`),
    typeStats: (type) => k(`ts:${type}`),
    lease: (name) => k(`l:${name}`),
    batch: (id) => k(`bh:${id}`),
    batchMembers: (id) => k(`bm:${id}`),
    batchesOpen: k("bo"),
    batchesDone: k("bd"),
    batchesAll: k("ba"),
    tick: (name, tick) => k(`tick:${name}:${tick}`),
  };
}
