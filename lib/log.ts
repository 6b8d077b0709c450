/**
 * Logs that say what happened: one line per fact, to stderr, as text
 * (`2026-11-23T12:00:00.000Z INFO  worker   task 01J.. succeeded in 12ms`) or JSON.
 * stdout stays free for `un start`'s first line (the URL) and CLI output.
 *
 * Lines about a task carry `task` (its id), `type`, `queue` and
 * `correlationid` ({@link taskFields}); lines about a source carry `source`,
 * so `log.format: json` can be filtered by any of them. A logger named
 * `source:<id>` or `task:<type>` adds that field to each of its lines.
 */

/** Log levels, least to most severe. */
export type LogLevel = "debug" | "info" | "warn" | "error";
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Structured fields of a log line. */
export type LogFields = Record<string, unknown>;

/**
 * The fields of a line about a task.
 */
export function taskFields(
  task: { id: string; type: string; queue: string; correlationId?: string | null },
): LogFields {
  const fields: LogFields = { task: task.id, type: task.type, queue: task.queue };
  if (task.correlationId) fields.correlationid = task.correlationId;
  return fields;
}

/**
 * A logger that adds `fields` to every line (a line's own fields win).
 *
 * @example
 * ```ts
 * const taskLog = withFields(log, taskFields(task));
 * taskLog.info("fetched", { bytes: 120 }); // task, type, queue and bytes
 * ```
 */
export function withFields(log: Logger, fields: LogFields): Logger {
  const merged = (extra?: LogFields) => (extra ? { ...fields, ...extra } : fields);
  return {
    debug: (m, f) => log.debug(m, merged(f)),
    info: (m, f) => log.info(m, merged(f)),
    warn: (m, f) => log.warn(m, merged(f)),
    error: (m, f) => log.error(m, merged(f)),
    child: (name) => withFields(log.child(name), fields),
  };
}

/** Fields a component's name carries: `source:<id>` → source, `task:<type>` → type. */
function componentFields(component: string): LogFields | undefined {
  const colon = component.indexOf(":");
  if (colon < 0) return undefined;
  const value = component.slice(colon + 1);
  switch (component.slice(0, colon)) {
    case "source":
      return { source: value };
    case "task":
      return { type: value };
  }
  return undefined;
}

/** A logger bound to a component name. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger for a sub-component. */
  child(component: string): Logger;
}

const encoder = new TextEncoder();

/**
 * Creates a logger.
 */
export function createLogger(
  options: { level: LogLevel; format: "text" | "json"; write?: (line: string) => void },
  component = "un",
): Logger {
  const min = RANK[options.level];
  const write = options.write ?? ((line: string) => Deno.stderr.writeSync(encoder.encode(line)));
  const own = componentFields(component);
  const emit = (level: LogLevel, message: string, fields?: LogFields) => {
    if (RANK[level] < min) return;
    const time = new Date().toISOString();
    if (options.format === "json") {
      write(JSON.stringify({ time, level, component, message, ...own, ...fields }) + "\n");
      return;
    }
    const extra = fields && Object.keys(fields).length
      ? " " + Object.entries(fields).map(([k, v]) => `${k}=${formatValue(v)}`).join(" ")
      : "";
    write(`${time} ${level.toUpperCase().padEnd(5)} ${component.padEnd(10)} ${message}${extra}\n`);
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    child: (name) => createLogger(options, name),
  };
}

function formatValue(value: unknown): string {
  if (value instanceof Error) return JSON.stringify(value.message);
  if (typeof value === "string") return /[\s"=]/.test(value) ? JSON.stringify(value) : value;
  return JSON.stringify(value);
}

/** A logger that drops everything (tests, benchmarks). */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLogger,
};

/** Reports a repeating failure once, and its end once. */
export interface FailureLog {
  /** A failure: logged as a warning the first time, at debug level while it repeats. */
  failed(error: unknown): void;
  /** Success again: logged once if it had been failing. */
  ok(): void;
}

/**
 * Logs a failure that repeats every tick (the store is down) once instead of
 * ten times a second, and says when it is over.
 *
 * @example
 * ```ts
 * const ticks = failureLog(log, "scheduler tick");
 * try { await tick(); ticks.ok(); } catch (err) { ticks.failed(err); }
 * ```
 */
export function failureLog(log: Logger, what: string): FailureLog {
  let since: number | null = null;
  let repeats = 0;
  return {
    failed(error) {
      if (since === null) {
        since = Date.now();
        log.warn(`${what} failed; retrying`, { error });
      } else {
        repeats++;
        log.debug(`${what} failed again`, { error, repeats });
      }
    },
    ok() {
      if (since === null) return;
      log.info(`${what} works again`, { failedForMs: Date.now() - since, failures: repeats + 1 });
      since = null;
      repeats = 0;
    },
  };
}
