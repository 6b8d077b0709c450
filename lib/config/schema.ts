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
import { parseDuration } from "../duration.ts";
import { assertPattern } from "../events/wildcard.ts";

/** An integer in `min..max`; the message names the range. */
function int(min: number, max: number) {
  const msg = `must be an integer ${min}..${max}`;
  return z.number({ error: msg }).int({ error: msg }).min(min, { error: msg }).max(max, {
    error: msg,
  });
}

/** Milliseconds as a number only (keys ending in `Ms`). */
function ms(min: number, max: number) {
  return int(min, max);
}

/** A duration: milliseconds or a string like "30s"; range checked after parsing. */
function duration(min: number, max: number) {
  const allowed =
    `must be a duration ${min}ms..${max}ms (a number of ms or "500ms", "30s", "5m", "1h")`;
  return z.union([z.number(), z.string()], { error: allowed }).transform((value, ctx) => {
    const parsed = parseDuration(value);
    if (parsed === null || parsed < min || parsed > max) {
      ctx.addIssue({ code: "custom", message: allowed });
      return z.NEVER;
    }
    return parsed;
  });
}

const pattern = z.string().superRefine((value, ctx) => {
  try {
    assertPattern(value);
  } catch (err) {
    ctx.addIssue({ code: "custom", message: (err as Error).message.replace(/^pattern /, "") });
  }
});

const priority = int(0, 9);
const id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$/, {
  error: "must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit",
});

/** Keys every source kind has. */
const sourceBase = {
  id,
  enabled: z.boolean().default(true),
  /** Poll interval (polling kinds) or periodic rescan (fs). */
  interval: duration(100, 7 * 86_400_000).optional(),
  /** Priority given to this source's events. */
  priority: z.enum(["critical", "high", "normal", "low"]).default("normal"),
  /** First scan emits everything found as new (default) or silently records a baseline. */
  emitExisting: z.boolean().default(true),
};

const hookSchema = z.strictObject({
  on: pattern,
  task: z.string().min(1).max(200),
  priority: priority.optional(),
  queue: z.string().min(1).max(100).optional(),
  delayMs: ms(0, 30 * 86_400_000).optional(),
  payload: z.record(z.string(), z.unknown()).optional(),
  /** Dedupe key template, e.g. "embed:{subject}"; a live task with the key absorbs the new one. */
  key: z.string().min(1).max(500).optional(),
  maxAttempts: int(1, 100).optional(),
  timeoutMs: ms(1, 86_400_000).optional(),
});

/** The hooks shorthand on a source: task types run for each of its events. */
const sourceHooks = z.array(hookSchema.partial({ on: true })).optional();

const fsSource = z.strictObject({
  ...sourceBase,
  kind: z.literal("fs"),
  path: z.string().min(1),
  include: z.array(z.string()).default([]),
  exclude: z.array(z.string()).default([]),
  gitignore: z.boolean().default(true),
  debounceMs: ms(0, 600_000).default(100),
  maxDelayMs: ms(0, 3_600_000).default(2_000),
  hooks: sourceHooks,
});
const feedSource = z.strictObject({
  ...sourceBase,
  kind: z.literal("feed"),
  url: z.url({ error: "must be an http(s) URL" }),
  hooks: sourceHooks,
});
const githubSource = z.strictObject({
  ...sourceBase,
  kind: z.literal("github"),
  repo: z.string().regex(/^[A-Za-z0-9_.\-]+\/[A-Za-z0-9_.\-]+$/, { error: 'must be "owner/name"' }),
  secret: z.string().min(1).optional(),
  token: z.string().min(1).optional(),
  apiUrl: z.url().default("https://api.github.com"),
  hooks: sourceHooks,
});
const httpSource = z.strictObject({
  ...sourceBase,
  kind: z.literal("http"),
  url: z.url({ error: "must be an http(s) URL" }),
  method: z.enum(["GET", "HEAD", "POST"]).default("GET"),
  headers: z.record(z.string(), z.string()).default({}),
  /** JSON pointer (RFC 6901, e.g. "/data/version"): hash only that part of a JSON body. */
  select: z.string().regex(/^(\/.*)?$/, { error: 'must be a JSON pointer such as "/data/version"' })
    .optional(),
  hooks: sourceHooks,
});
const postgresSource = z.strictObject({
  ...sourceBase,
  kind: z.literal("postgres"),
  url: z.string().regex(/^postgres(ql)?:\/\//, { error: "must be a postgres:// URL" }),
  tables: z.array(z.string().min(1)).min(1),
  catchUpColumn: z.string().min(1).optional(),
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

const scheduleSchema = z.strictObject({
  id,
  /** Cron expression (5 or 6 fields, seconds first when 6). */
  cron: z.string().min(1).superRefine((value, ctx) => {
    try {
      new Cron(value, { paused: true });
    } catch (err) {
      ctx.addIssue({
        code: "custom",
        message: `is not a cron expression (${(err as Error).message})`,
      });
    }
  }).optional(),
  /** Or an interval ("1s", "5m"): fires at every multiple of it since the epoch, so all processes agree on the ticks. */
  every: duration(1_000, 366 * 86_400_000).optional(),
  task: z.string().min(1),
  payload: z.record(z.string(), z.unknown()).default({}),
  queue: z.string().min(1).default("default"),
  priority: priority.default(5),
  timezone: z.string().optional(),
}).refine((s) => (s.cron === undefined) !== (s.every === undefined), {
  error: 'needs exactly one of "cron" or "every"',
});

const execCommandSchema = z.strictObject({
  /** argv: the program and its arguments; `{name}` in an argument takes `payload.vars.name`. */
  command: z.array(z.string().min(1)).min(1),
  cwd: z.string().optional(),
  env: z.record(z.string(), z.string()).default({}),
  timeoutMs: ms(1, 86_400_000).optional(),
  /** Placeholders whose values are file paths: they must lie inside `fs` source roots or `files.allow`. */
  paths: z.array(z.string().min(1)).default([]),
  /** Let a placeholder value start with "-" (by default refused, so a payload cannot pass an option). */
  allowOptions: z.boolean().default(false),
});

/** The whole configuration schema. */
export const configSchema = z.strictObject({
  api: z.strictObject({
    host: z.string().min(1).default("127.0.0.1"),
    port: int(0, 65535).default(4242),
    /**
     * Bearer token. RFC 6750 token characters only (letters, digits and
     * `-._~+/`, `=` padding at the end), at least 16 of them, so the same
     * string works in a header, a cookie and `UN_TOKEN`.
     */
    token: z.string().regex(/^[A-Za-z0-9\-._~+/]+=*$/, {
      error: "must be letters, digits and -._~+/ only (optionally ending in =), no spaces",
    }).min(16, { error: "must be at least 16 characters" }).optional(),
    bodyLimitBytes: int(1_024, 64 * 1024 * 1024).default(1024 * 1024),
    /**
     * Host names (besides loopback names and the bound host) that requests may
     * carry in `Host`, e.g. the name of a reverse proxy in front of un. Any
     * other `Host` gets 421 (a DNS-rebinding page names its own domain).
     */
    allowedHosts: z.array(z.string().min(1)).default([]),
    /** Browser origins (`https://app.example.com`) that may call the API and get CORS headers. */
    cors: z.strictObject({
      origins: z.array(
        z.string().regex(/^https?:\/\/[^/\s]+$/, {
          error:
            'must be an origin such as "https://app.example.com" (scheme, host, port; no path)',
        }),
      ).default([]),
    }).prefault({}),
    /** A request's headers, and then its body, must arrive within this long (slow-client guard). */
    readTimeoutMs: ms(100, 3_600_000).default(30_000),
    /** Bytes an SSE client may have waiting unread; past it the client is dropped (it resumes with Last-Event-ID). */
    sseMaxBufferedBytes: int(4 * 1024, 1024 * 1024 * 1024).default(4 * 1024 * 1024),
    /** Serve `/un/inspect` (the live actor inspector). */
    inspect: z.boolean().default(true),
    /** Manual scans (`POST /un/sources/:id/scan`, `POST /un/scan`): at most `max` per source per `windowMs`. */
    scanLimit: z.strictObject({
      max: int(1, 1000).default(5),
      windowMs: ms(1_000, 86_400_000).default(300_000),
    }).prefault({}),
  }).prefault({}),
  redis: z.strictObject({
    url: z.string().regex(/^rediss?:\/\//, { error: "must be a redis:// or rediss:// URL" })
      .optional(),
    prefix: z.string().min(1).max(64).default("un:"),
    /** Mirror bus events to Redis Streams and pub/sub. */
    events: z.boolean().default(true),
    /** How often the event stream is checked for entries a dead process read but never acknowledged. */
    streamReclaimMs: ms(10, 3_600_000).default(5_000),
    /** An entry read but not acknowledged for this long is taken over by another process. */
    streamMinIdleMs: ms(10, 86_400_000).default(30_000),
    /** How long an applied event id is remembered, so a re-delivered entry runs its hooks once. */
    processedTtlMs: ms(1_000, 7 * 86_400_000).default(3_600_000),
  }).prefault({}),
  store: z.strictObject({
    path: z.string().min(1).default(".un/"),
  }).prefault({}),
  workers: z.strictObject({
    concurrency: int(1, 256).default(4),
    /** Queues this process's workers take from; ["*"] = all. */
    queues: z.array(z.string().min(1)).min(1).default(["*"]),
    leaseMs: ms(100, 3_600_000).default(30_000),
    /** Default per-task timeout. */
    timeoutMs: ms(1, 86_400_000).default(300_000),
    maxAttempts: int(1, 100).default(3),
    backoffBaseMs: ms(1, 3_600_000).default(1_000),
    backoffMaxMs: ms(1, 86_400_000).default(300_000),
    /** On SIGINT/SIGTERM, how long running tasks may take to finish before they are handed back. */
    shutdownGraceMs: ms(0, 3_600_000).default(10_000),
    /** Capacity of resources tasks may ask for (`{ "gpu": 1 }`). */
    resources: z.record(z.string(), z.number().min(0)).default({}),
  }).prefault({}),
  prioritizer: z.strictObject({
    /** One priority level is worth this much waiting: aging without re-sorting. */
    priorityStepMs: ms(1, 86_400_000).default(60_000),
    /** Tasks whose deadline is this close get re-scored. */
    deadlineWindowMs: ms(0, 86_400_000).default(60_000),
    /** Learn a bonus for task types that run fast and succeed (shortest-job-first flavour). */
    learn: z.boolean().default(true),
  }).prefault({}),
  scheduler: z.strictObject({
    /** How often due tasks, leases and deadlines are checked. */
    tickMs: ms(10, 60_000).default(250),
    /** Retention clean-up interval. */
    cleanupMs: ms(100, 86_400_000).default(60_000),
    schedules: z.array(scheduleSchema).default([]),
    /**
     * Distributed mode: a source is scanned by the one process holding its lease;
     * when that process dies, another takes the source over within this time.
     */
    sourceLeaseMs: ms(200, 600_000).default(15_000),
    /**
     * How often each process records itself for `GET /un/processes`; one not
     * heard from for three of these (killed, cut off) drops out of the list.
     */
    heartbeatMs: ms(100, 600_000).default(5_000),
  }).prefault({}),
  supervisor: z.strictObject({
    /** One-for-one restart intensity: at most maxRestarts within withinMs, then the process exits. */
    maxRestarts: int(0, 1000).default(5),
    withinMs: ms(100, 86_400_000).default(60_000),
  }).prefault({}),
  sources: z.array(sourceSchema).default([]),
  hooks: z.array(hookSchema).default([]),
  /** Module exporting handlers (default export: a record of type -> handler). */
  handlers: z.string().min(1).optional(),
  /** Paths that `file.metadata` and `exec` path placeholders may read besides the roots of `fs` sources. */
  files: z.strictObject({
    allow: z.array(z.string().min(1)).default([]),
  }).prefault({}),
  exec: z.strictObject({
    commands: z.record(z.string(), execCommandSchema).default({}),
  }).prefault({}),
  /** The `http` built-in handler (outbound requests) and what run-time sources may reach. */
  http: z.strictObject({
    /**
     * Hosts that `http` tasks and sources added at run time may reach: host
     * names (`api.example.com`, `*.example.com`), IP addresses and CIDRs
     * (`10.0.0.0/8`, `::1/128`), and the word `"public"` for every public
     * address. Config-file sources are the operator's own and not checked.
     */
    allow: z.array(z.string().min(1)).default(["public"]),
    /** HMAC-SHA256 key for `X-Un-Signature: t=<unix seconds>,v1=<hex>`, sent only to `signTo` hosts. */
    signingSecret: z.string().min(1).optional(),
    /** Hosts (same patterns as `allow`) whose requests are signed with `signingSecret`. */
    signTo: z.array(z.string().min(1)).default([]),
    /** One request's time limit (the task's own timeout still applies). */
    timeoutMs: ms(1, 3_600_000).default(30_000),
  }).prefault({}),
  events: z.strictObject({
    maxCount: int(100, 100_000_000).default(100_000),
    maxAgeMs: ms(1_000, 365 * 86_400_000).default(7 * 86_400_000),
    /**
     * Events a process keeps in memory while the store (Redis) is unreachable;
     * beyond it publishes get 503 and internal events are dropped (counted).
     */
    bufferMax: int(1, 10_000_000).default(10_000),
    /**
     * How long an event made inside the runtime may wait to be written with
     * the ones after it (group commit: one store write, one stream entry and
     * one message per batch). A publish through the API is written at once.
     * 10 ms: a worker process of 16 slots on 20 ms tasks then makes about one
     * write per ten tasks instead of one per four (~10 % less CPU per task,
     * measured), and other processes see an event at most 10 ms later.
     */
    flushMs: ms(0, 1_000).default(10),
  }).prefault({}),
  retention: z.strictObject({
    maxFinishedTasks: int(0, 100_000_000).default(10_000),
    finishedTaskMaxAgeMs: ms(1_000, 365 * 86_400_000).default(7 * 86_400_000),
    resultTtlMs: ms(1_000, 365 * 86_400_000).default(86_400_000),
  }).prefault({}),
  log: z.strictObject({
    level: z.enum(["debug", "info", "warn", "error"]).default("info"),
    format: z.enum(["text", "json"]).default("text"),
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
