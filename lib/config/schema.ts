/**
 * The configuration schema (zod): every key, its default and its allowed
 * range. Messages name the range so errors read
 * `workers.concurrency must be an integer 1..256, got 0`. Every object is
 * strict: a key the schema does not know (a typo such as `wokers`) is an
 * error naming it and the nearest known key, never a setting silently
 * dropped.
 */

import { z } from "zod";
import { Cron } from "croner";
import { duration, id, int, ms, priority } from "./fields.ts";
import { EVENT_PRIORITIES } from "../events/cloud-event.ts";
import { queuesSchema, workerQueues } from "./queues.ts";
import { hookSchema } from "./hooks.ts";
import { workerIsolation } from "./isolate.ts";
import { prioritizerSchema } from "./prioritizer.ts";

const load = { error: "must be a number 0.01..1000" }; // named like fields.ts's ranges

/** Keys every source kind has. */
const sourceBase = {
  id: id.describe("The source's name, unique among sources (`un scan <id>`, `/un/sources/<id>`)."),
  enabled: z.boolean().default(true).describe(
    "Scan this source; `POST /un/sources/:id/enable|disable` switches it at run time.",
  ),
  interval: duration(100, 7 * 86_400_000).optional().describe(
    "Poll interval (polling kinds) or periodic rescan (fs).",
  ),
  priority: z.enum(EVENT_PRIORITIES).default("normal").describe(
    "Priority given to this source's events.",
  ),
  emitExisting: z.boolean().default(true).describe(
    "The first scan reports everything it finds as new (`true`) or records a silent baseline (`false`).",
  ),
};

/** The hooks shorthand on a source: task types run for each of its events. */
const sourceHooks = z.array(hookSchema.partial({ on: true })).optional().describe(
  'Hooks on this source\'s events only, e.g. `[{ "task": "embed" }]`: the keys of `hooks[]`, `on` optional.',
);

const fsSource = z.strictObject({
  ...sourceBase,
  kind: z.literal("fs"),
  path: z.string().min(1).describe("The directory watched, recursively."),
  include: z.array(z.string()).default([]).describe(
    "Globs a file must match (`**/*.md`); none: every file.",
  ),
  exclude: z.array(z.string()).default([]).describe("Globs of files to leave out (`drafts/**`)."),
  gitignore: z.boolean().default(true).describe(
    "Leave out what `.gitignore` files (nested too) ignore.",
  ),
  debounceMs: ms(0, 600_000).default(100).describe(
    "Per-path debounce: changes to one file within it give one event.",
  ),
  maxDelayMs: ms(0, 3_600_000).default(2_000).describe(
    "Caps the debounce: a file that keeps changing still gets an event this often.",
  ),
  maxPending: int(1, 10_000_000).default(10_000).describe(
    "Changed paths held while they settle; past it they are dropped and one rescan finds every change instead (logged once per overflow).",
  ),
  hooks: sourceHooks,
});
const feedSource = z.strictObject({
  ...sourceBase,
  kind: z.literal("feed"),
  url: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).describe(
    "The RSS 0.9/1.0/2.0 or Atom feed; `feed.item.new` once per item.",
  ),
  hooks: sourceHooks,
});
const githubSource = z.strictObject({
  ...sourceBase,
  kind: z.literal("github"),
  repo: z.string().regex(/^[A-Za-z0-9_.\-]+\/[A-Za-z0-9_.\-]+$/, { error: 'must be "owner/name"' })
    .describe("The repository, `owner/name`; `github.repo.updated` per new head."),
  secret: z.string().min(1).optional().describe(
    "Webhook secret: `POST /un/github/webhook` checks `X-Hub-Signature-256` with it.",
  ),
  token: z.string().min(1).optional().describe("API token for polling the commits API."),
  apiUrl: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).default(
    "https://api.github.com",
  ).describe(
    "The API's base URL (GitHub Enterprise).",
  ),
  hooks: sourceHooks,
});
const httpSource = z.strictObject({
  ...sourceBase,
  kind: z.literal("http"),
  url: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).describe(
    "The endpoint watched: `http.changed` (status or body hash), `http.down`, `http.up`.",
  ),
  method: z.enum(["GET", "HEAD", "POST"]).default("GET").describe("The request's method."),
  headers: z.record(z.string(), z.string()).default({}).describe("The request's headers."),
  select: z.string().regex(/^(\/.*)?$/, { error: 'must be a JSON pointer such as "/data/version"' })
    .optional().describe(
      'A JSON pointer (RFC 6901, e.g. `"/data/version"`): hash only that part of a JSON body.',
    ),
  hooks: sourceHooks,
});
const postgresSource = z.strictObject({
  ...sourceBase,
  kind: z.literal("postgres"),
  url: z.string().regex(/^postgres(ql)?:\/\//, { error: "must be a postgres:// URL" }).describe(
    "The database.",
  ),
  tables: z.array(z.string().min(1)).min(1).describe(
    "Tables watched: a trigger per table `pg_notify`s the primary key; `db.changed` `{ table, schema, operation, pk }`.",
  ),
  catchUpColumn: z.string().min(1).optional().describe(
    "A column of change times: after a dropped connection, rows changed meanwhile are caught up by it (deletes during the gap cannot be).",
  ),
  hooks: sourceHooks,
});

/** One source definition, by kind. */
export const sourceSchema = z.discriminatedUnion("kind", [
  fsSource,
  feedSource,
  githubSource,
  httpSource,
  postgresSource,
], { error: 'must be one of "fs", "feed", "github", "http", "postgres"' });

/** One schedule (`scheduler.schedules[]`, and `POST /un/schedules`). */
export const scheduleSchema = z.strictObject({
  id: id.describe("The schedule's name."),
  cron: z.string().min(1).superRefine((value, ctx) => {
    try {
      new Cron(value, { paused: true });
    } catch (err) {
      ctx.addIssue({
        code: "custom",
        message: `is not a cron expression (${(err as Error).message})`,
      });
    }
  }).optional().describe(
    'Cron expression, 5 fields or 6 with seconds first (`"*/5 * * * *"`); exactly one of `cron` and `every`.',
  ),
  every: duration(1_000, 366 * 86_400_000).optional().describe(
    'Or an interval (`"30s"`): fires at every multiple of it since the epoch, so all processes agree on the ticks.',
  ),
  task: z.string().min(1).describe("The task type to run at each tick."),
  payload: z.record(z.string(), z.unknown()).default({}).describe("The task's payload."),
  queue: z.string().min(1).default("default").describe("The task's queue."),
  priority: priority.default(5).describe("The task's priority (9 first)."),
  timezone: z.string().optional().describe(
    "IANA time zone the cron expression is read in (`Europe/Berlin`); default the process's.",
  ),
  catchUp: z.enum(["none", "one", "all"]).default("none").describe(
    'Occurrences missed while no process ran (or the store was away over a minute): `"none"` skips them, `"one"` fires once, `"all"` fires each, up to `catchUpMax`.',
  ),
  catchUpMax: z.number().int().min(1).max(1000).default(10).describe(
    'The most missed occurrences `catchUp: "all"` fires (the latest ones).',
  ),
}).refine((s) => (s.cron === undefined) !== (s.every === undefined), {
  error: 'needs exactly one of "cron" or "every"',
});

const execCommandSchema = z.strictObject({
  command: z.array(z.string().min(1)).min(1).describe(
    "argv, no shell: the program and its arguments; `{name}` in an argument takes `payload.vars.name` as one argument.",
  ),
  cwd: z.string().optional().describe("Working directory."),
  env: z.record(z.string(), z.string()).default({}).describe(
    "Extra environment variables (`UN_TASK_ID`, `UN_TASK_TYPE`, `UN_ATTEMPT` are always set).",
  ),
  timeoutMs: ms(1, 86_400_000).optional().describe("The command's time limit."),
  paths: z.array(z.string().min(1)).default([]).describe(
    "Placeholders whose values are file paths: they must lie inside `fs` source roots or `files.allow`.",
  ),
  allowOptions: z.boolean().default(false).describe(
    'Let a placeholder value start with "-" (by default refused, so a payload cannot pass an option).',
  ),
});

/** The whole configuration schema. */
export const configSchema = z.strictObject({
  api: z.strictObject({
    host: z.string().min(1).default("127.0.0.1").describe(
      "Where the API listens. A non-loopback host needs `api.token`.",
    ),
    port: int(0, 65535).default(4242).describe("The API's port; 0 picks a free one."),
    // RFC 6750 token characters only, so the same string works in a header, a
    // cookie and `UN_TOKEN`.
    token: z.string().regex(/^[A-Za-z0-9\-._~+/]+=*$/, {
      error: "must be letters, digits and -._~+/ only (optionally ending in =), no spaces",
    }).min(16, { error: "must be at least 16 characters" }).optional().describe(
      "Bearer token on `/un/*` and `/metrics`: 16+ of letters, digits and `-._~+/` (`=` padding at the end); browsers log in at `/un/login`.",
    ),
    bodyLimitBytes: int(1_024, 64 * 1024 * 1024).default(1024 * 1024).describe(
      "Larger request bodies get 413.",
    ),
    allowedHosts: z.array(z.string().min(1)).default([]).describe(
      "Host names besides loopback names, IP addresses and the bound host that requests may carry in `Host` (a reverse proxy's name); any other gets 421 (DNS rebinding).",
    ),
    cors: z.strictObject({
      origins: z.array(
        z.string().regex(/^https?:\/\/[^/\s]+$/, {
          error:
            'must be an origin such as "https://app.example.com" (scheme, host, port; no path)',
        }),
      ).default([]).describe(
        "Browser origins (`https://app.example.com`) that may call the API and get CORS headers.",
      ),
    }).prefault({}),
    readTimeoutMs: ms(100, 3_600_000).default(30_000).describe(
      "A request's head, and then its body, must arrive within this long (slow-client guard).",
    ),
    sseMaxBufferedBytes: int(4 * 1024, 1024 * 1024 * 1024).default(4 * 1024 * 1024).describe(
      "Bytes an SSE client may have waiting unread; past it the client is dropped (it resumes with Last-Event-ID).",
    ),
    inspect: z.boolean().default(true).describe("Serve `/un/inspect` (the live actor inspector)."),
    scanLimit: z.strictObject({
      max: int(1, 1000).default(5).describe(
        "Manual scans (`POST /un/sources/:id/scan`, `POST /un/scan`) allowed per source per `windowMs`; past it 429 with `Retry-After`.",
      ),
      windowMs: ms(1_000, 86_400_000).default(300_000).describe(
        "The window of `api.scanLimit.max`.",
      ),
    }).prefault({}),
  }).prefault({}),
  redis: z.strictObject({
    url: z.string().regex(/^rediss?:\/\//, { error: "must be a redis:// or rediss:// URL" })
      .optional().describe(
        "Share everything through this Redis instead of the embedded store ([distributed mode](distributed.md)).",
      ),
    prefix: z.string().min(1).max(64).default("un:").describe(
      "Prefix of every key, so apps can share a Redis.",
    ),
    events: z.boolean().default(true).describe(
      "Mirror bus events to Redis Streams and pub/sub (`false` turns the bridge off; the log stays).",
    ),
    streamReclaimMs: ms(10, 3_600_000).default(5_000).describe(
      "How often the event stream is checked for entries a dead process read but never acknowledged.",
    ),
    streamMinIdleMs: ms(10, 86_400_000).default(30_000).describe(
      "An entry read but not acknowledged for this long is taken over by another process.",
    ),
    processedTtlMs: ms(1_000, 7 * 86_400_000).default(3_600_000).describe(
      "How long an applied event id is remembered, so a re-delivered entry runs its hooks once.",
    ),
  }).prefault({}),
  store: z.strictObject({
    path: z.string().min(1).default(".un/").describe(
      "The embedded store's directory (one process at a time; a lock file says who).",
    ),
  }).prefault({}),
  queues: queuesSchema,
  workers: z.strictObject({
    concurrency: int(1, 256).default(4).describe(
      "Tasks run at once in this process (`un workers --scale N` at run time).",
    ),
    queues: workerQueues,
    ...workerIsolation,
    leaseMs: ms(100, 3_600_000).default(30_000).describe(
      "Lease length of a claimed task; workers renew at a third of it.",
    ),
    timeoutMs: ms(1, 86_400_000).default(300_000).describe(
      "Default per-task timeout (aborts `ctx.signal`).",
    ),
    maxAttempts: int(1, 100).default(3).describe("Default attempts per task."),
    backoffBaseMs: ms(1, 3_600_000).default(1_000).describe(
      "Retry delay: exponential from this base with full jitter.",
    ),
    backoffMaxMs: ms(1, 86_400_000).default(300_000).describe(
      "Cap of the retry delay (at least `workers.backoffBaseMs`).",
    ),
    shutdownGraceMs: ms(0, 3_600_000).default(10_000).describe(
      "On SIGINT/SIGTERM, how long running tasks may take to finish before they are handed back.",
    ),
    resources: z.record(z.string(), z.number().min(0)).default({}).describe(
      'Capacity tasks can ask for: `{ "gpu": 1 }`; a task with `resources: { "gpu": 1 }` waits for it.',
    ),
    maxLoad: z.number(load).min(0.01, load).max(1000, load).optional().describe(
      "Load guard: over this 1-minute load average per core, no new task is claimed (running ones finish) until it is under 90 % of it ([operating.md](operating.md#load-guard)).",
    ),
    minFreeMemoryMb: int(1, 16_777_216).optional().describe(
      "Load guard: under this much available memory (MB; MemAvailable on Linux), no new task is claimed until it is under 90 % of what is available.",
    ),
  }).prefault({}),
  prioritizer: prioritizerSchema,
  scheduler: z.strictObject({
    tickMs: ms(10, 60_000).default(250).describe(
      "How often due tasks, expired leases and deadlines are checked.",
    ),
    cleanupMs: ms(100, 86_400_000).default(60_000).describe("Retention clean-up interval."),
    schedules: z.array(scheduleSchema).default([]).describe(
      "Cron and interval schedules ([below](#schedules)).",
    ),
    sourceLeaseMs: ms(200, 600_000).default(15_000).describe(
      "Distributed mode: a source is scanned by the one process holding its lease; when that process dies, another takes the source over within this time.",
    ),
    heartbeatMs: ms(100, 600_000).default(5_000).describe(
      "How often each process records itself for `GET /un/processes`; one not heard from for three of these drops out of the list.",
    ),
  }).prefault({}),
  supervisor: z.strictObject({
    maxRestarts: int(0, 1000).default(5).describe(
      "One-for-one restart intensity: at most this many restarts within `supervisor.withinMs`, then the process exits (code 70).",
    ),
    withinMs: ms(100, 86_400_000).default(60_000).describe(
      "The window of `supervisor.maxRestarts`.",
    ),
  }).prefault({}),
  sources: z.array(sourceSchema).default([]).describe("What to watch ([below](#sources))."),
  hooks: z.array(hookSchema).default([]).describe("Event pattern → task ([below](#hooks))."),
  handlers: z.string().min(1).optional().describe(
    "Your handlers module: its default export maps task types to handlers, `schemas` their payloads ([tasks.md](tasks.md#handlers)).",
  ),
  files: z.strictObject({
    allow: z.array(z.string().min(1)).default([]).describe(
      "Paths that `file.metadata` and `exec` path placeholders may read besides the roots of `fs` sources.",
    ),
  }).prefault({}),
  exec: z.strictObject({
    commands: z.record(z.string(), execCommandSchema).default({}).describe(
      "Commands the `exec` task may run, by name ([below](#exec-commands)).",
    ),
  }).prefault({}),
  http: z.strictObject({
    allow: z.array(z.string().min(1)).default(["public"]).describe(
      'Hosts that `http` tasks and sources added at run time may reach: names (`api.example.com`, `*.example.com`), IP addresses and CIDRs (`10.0.0.0/8`), and `"public"` for every public address; config-file sources are not checked ([security.md](security.md)).',
    ),
    signingSecret: z.string().min(1).optional().describe(
      "HMAC-SHA256 key for `X-Un-Signature: t=<unix seconds>,v1=<hex>`, sent only to `signTo` hosts ([verify](security.md#signatures)).",
    ),
    signTo: z.array(z.string().min(1)).default([]).describe(
      "Hosts (same patterns as `http.allow`) whose requests are signed with `http.signingSecret`.",
    ),
    timeoutMs: ms(1, 3_600_000).default(30_000).describe(
      "One request's time limit (the task's own timeout still applies).",
    ),
    disableAfter: int(1, 1_000_000).default(10).describe(
      "Consecutive deliveries that fail for good before a webhook subscription is switched off (`subscription.disabled`).",
    ),
  }).prefault({}),
  events: z.strictObject({
    maxCount: int(100, 100_000_000).default(100_000).describe(
      "Event log retention: at least this many events stay.",
    ),
    maxAgeMs: ms(1_000, 365 * 86_400_000).default(7 * 86_400_000).describe(
      "Event log retention: older events are removed.",
    ),
    bufferMax: int(1, 10_000_000).default(10_000).describe(
      "Events a process keeps in memory while the store (Redis) is unreachable; beyond it publishes get 503 and internal events are dropped (counted).",
    ),
    // 10 ms: a worker process of 16 slots on 20 ms tasks then makes about one
    // write per ten tasks instead of one per four (~10 % less CPU per task,
    // measured), and other processes see an event at most 10 ms later.
    flushMs: ms(0, 1_000).default(10).describe(
      "Group commit: how long an event made inside the runtime may wait to be written with the ones after it (one store write, one stream entry, one message per batch); API publishes are written at once.",
    ),
  }).prefault({}),
  retention: z.strictObject({
    maxFinishedTasks: int(0, 100_000_000).default(10_000).describe("Finished tasks kept."),
    finishedTaskMaxAgeMs: ms(1_000, 365 * 86_400_000).default(7 * 86_400_000).describe(
      "Finished tasks older than this are removed.",
    ),
    resultTtlMs: ms(1_000, 365 * 86_400_000).default(86_400_000).describe(
      "How long a finished task's result stays.",
    ),
  }).prefault({}),
  log: z.strictObject({
    level: z.enum(["debug", "info", "warn", "error"]).default("info").describe(
      "Logs go to stderr from this level up.",
    ),
    format: z.enum(["text", "json"]).default("text").describe(
      "`json`: one object per line.",
    ),
  }).prefault({}),
});

/** The validated configuration. */
export type Config = z.output<typeof configSchema>;
/** A validated source definition. */
export type SourceSpec = z.output<typeof sourceSchema>;
/** A validated hook. */
export type HookSpec = z.output<typeof hookSchema>;
/** A validated cron schedule. */
export type ScheduleSpec = z.output<typeof scheduleSchema>;
/** The raw config as written in JSON. */
export type ConfigInput = z.input<typeof configSchema>;
