/**
 * What processes sharing one store agree on: named leases (source
 * leadership, fenced), once-per-tick claims (schedules) and the registry of
 * running processes. Trivial on the embedded store, where one process owns
 * the file; meaningful on Redis.
 */

/**
 * A named lease as held now: by whom, under which fence (it grows with every
 * change of holder, so it tells one holding from a later one of the same holder).
 */
export interface LeaseHolding {
  holder: string;
  fence: number;
}

/**
 * A running process as it last recorded itself (`GET /un/processes`): each
 * process refreshes its record every `scheduler.heartbeatMs`, and one that
 * stops doing so (killed, cut off) drops out of the list.
 */
export interface ProcessRecord {
  /** The process id stamped on its events as `origin`. */
  id: string;
  role: string;
  host: string;
  pid: number;
  startedAt: number;
  /** When it last recorded itself. */
  seenAt: number;
  /** Worker slots (0 without a pool) and how many of them run a task. */
  concurrency: number;
  busy: number;
  paused: boolean;
  /**
   * Task types its workers can run (built-ins and its handlers module; empty
   * without a pool). Absent in records of older versions: unknown, so the
   * API cannot refuse a type on its account.
   */
  types?: string[];
  /** Names of the `exec` commands in its config (absent: unknown, as for `types`). */
  execCommands?: string[];
  /**
   * Capacity of each resource its workers have (`workers.resources`; empty
   * without a pool). Absent in records of older versions: unknown.
   */
  resources?: Record<string, number>;
}

/** Leases, ticks and the process registry. */
export interface Coordination {
  /** Takes or renews a named lease; returns its fence, or null when another holder has it. */
  acquireLease(name: string, holder: string, ttlMs: number, now: number): Promise<number | null>;
  releaseLease(name: string, holder: string): Promise<void>;
  /** Who holds a named lease at `now`, and its fence; null when nobody does (free, or run out). */
  leaseHolder(name: string, now: number): Promise<LeaseHolding | null>;
  /** True exactly once per (name, tick) across every process sharing the store. */
  claimTick(name: string, tick: number): Promise<boolean>;
  /** Records or refreshes a process; it is listed until `now + ttlMs` unless recorded again. */
  recordProcess(record: ProcessRecord, ttlMs: number, now: number): Promise<void>;
  /** The processes whose records have not run out at `now`, by id (run-out records are removed). */
  listProcesses(now: number): Promise<ProcessRecord[]>;
  /** Removes a process's record (it stopped cleanly). */
  forgetProcess(id: string): Promise<void>;
}
