/**
 * The PostgreSQL source, without the actor: one {@link PostgresSource} per
 * scanner keeps what outlives a connection (cursors, recent changes, status
 * writes); each connection attempt is a {@link PostgresConnection} that
 * installs the triggers, LISTENs, turns notifications into `db.changed` events
 * and runs the catch-up query. The actor (`actors/postgres-scanner.ts`) only
 * decides when to connect, reconnect and report.
 *
 * Catch-up (with `catchUpColumn`) finds rows inserted or updated while no
 * connection listened; it cannot see rows deleted meanwhile, nor rows whose
 * column is NULL or was set to a value below the cursor (an `updated_at` taken
 * at the start of a transaction that commits late). Notifications carry every
 * operation while connected.
 */

// @ts-types="@types/pg"
import pg from "pg";
import { errorText } from "../errors.ts";
import { backoffMs, RECONNECT_BACKOFF } from "../backoff.ts";
import { SerialQueue } from "../keyed-queue.ts";
import type { SourceSpec } from "../config/load.ts";
import type { RuntimeDeps } from "../protocol/deps.ts";
import type { Coordination, SourceStore } from "../store/types.ts";
import { reportScan } from "../metrics/scan-times.ts";
import type { CloudEvent, Json } from "../events/cloud-event.ts";
import type { SourceStatus } from "./scanner.ts";
import { STATUS_KEY } from "./scanner.ts";
import {
  catchUpPage,
  CHANNEL,
  installTrigger,
  installTriggerFunction,
  latestCursor,
  resolveTable,
  type WatchedTable,
} from "./postgres-sql.ts";
import { changeEvent, type DbOperation, parseChange } from "./postgres-change.ts";
import { parseColumnName, parseTableName, TableProblem } from "./postgres-names.ts";
import { CursorBook, latestWins, RecentChanges } from "./postgres-state.ts";

/** A validated `kind: "postgres"` source. */
export type PostgresSpec = Extract<SourceSpec, { kind: "postgres" }>;

/** What a connection tells its owner. Nothing is called after `failed` or `close()`. */
export interface ConnectionHandlers {
  /** An event to publish (the actor sends it to the supervisor). */
  publish(event: CloudEvent): void;
  /** Listening. `problems` names configured tables that are not watched, and why. */
  ready(info: { tables: string[]; problems: string[] }): void;
  /** The connection failed or was lost; it is closed already. */
  failed(error: Error): void;
}

/**
 * Reconnect delay after `failures` consecutive failures: 250 ms doubling,
 * capped at 30 s (quick after one dropped connection, gentle on a server
 * that stays down).
 */
export function reconnectDelay(failures: number): number {
  return backoffMs(failures, RECONNECT_BACKOFF);
}

/**
 * The long-lived half of a PostgreSQL source (one per scanner actor).
 *
 * @example
 * ```ts
 * const source = new PostgresSource(spec, deps);
 * const conn = source.connect({ publish, ready, failed });
 * await conn.scan(); // rows changed since the cursor, emitted as UPSERT
 * conn.close();
 * ```
 */
export class PostgresSource {
  readonly spec: PostgresSpec;
  readonly deps: RuntimeDeps<SourceStore & Coordination>;
  readonly recent: RecentChanges = new RecentChanges();
  readonly saveStatus: (status: SourceStatus) => void;
  #cursors: Promise<CursorBook> | null = null;
  readonly #open = new Set<PostgresConnection>();

  constructor(spec: PostgresSpec, deps: RuntimeDeps<SourceStore & Coordination>) {
    this.spec = spec;
    this.deps = deps;
    const log = deps.log.child(`source:${spec.id}`);
    this.saveStatus = latestWins(
      (status: SourceStatus) =>
        deps.store.setSourceState(spec.id, STATUS_KEY, status as unknown as Json),
      (error) => log.warn("status not saved", { error }),
    );
  }

  /**
   * The cursors, loaded from the store once (a failed load is retried next time).
   */
  cursors(): Promise<CursorBook> {
    this.#cursors ??= CursorBook.load(
      this.deps.store,
      this.spec.id,
      (error) => this.deps.log.warn("catch-up cursor not saved", { source: this.spec.id, error }),
    ).catch((err) => {
      this.#cursors = null;
      throw err;
    });
    return this.#cursors;
  }

  /**
   * Opens a connection; it reports through `handlers`.
   */
  connect(handlers: ConnectionHandlers): PostgresConnection {
    const connection: PostgresConnection = new PostgresConnection(
      this,
      handlers,
      () => this.#open.delete(connection),
    );
    this.#open.add(connection);
    return connection;
  }

  /**
   * Closes every open connection. For a crashing actor: XState v5 does not
   * stop the children of an actor that errors, so the connection (an invoked
   * child) would stay open, and keep publishing, next to its restarted twin.
   */
  closeAll(): void {
    for (const connection of this.#open) connection.close();
  }
}

/**
 * One connection: setup, LISTEN, notifications, catch-up; closed on failure
 * or `close()`. Make it with {@link PostgresSource.connect}.
 */
export class PostgresConnection {
  readonly #source: PostgresSource;
  readonly #handlers: ConnectionHandlers;
  readonly #client: pg.Client;
  readonly #tables = new Map<string, WatchedTable>();
  readonly #ready: Promise<void>;
  /** Configured tables that are not watched, and why. */
  readonly #problems: string[] = [];
  #column: string | null = null;
  /** Set first thing in setup, so notifications (after LISTEN) always have it. */
  #book: CursorBook | null = null;
  #connecting: Promise<unknown> | null = null;
  #done = false;
  // Catch-ups run one at a time: two over the same range would emit twice.
  readonly #catchUps = new SerialQueue();

  readonly #onEnd: () => void;

  /** Use {@link PostgresSource.connect}. */
  constructor(source: PostgresSource, handlers: ConnectionHandlers, onEnd: () => void) {
    this.#source = source;
    this.#handlers = handlers;
    this.#onEnd = onEnd;
    this.#client = new pg.Client({
      connectionString: source.spec.url,
      // Lets an operator (and the tests) see which backend is whose.
      application_name: `un:${source.spec.id}`.slice(0, 63),
      connectionTimeoutMillis: 10_000,
      keepAlive: true,
    });
    this.#client.on("error", (err) => this.#fail(err));
    this.#client.on("end", () => this.#fail(new Error("connection to PostgreSQL ended")));
    this.#client.on("notification", (msg) => {
      if (msg.channel === CHANNEL && msg.payload) this.#onNotification(msg.payload);
    });
    this.#ready = this.#setup();
    this.#ready.then(
      () => {
        if (this.#done) return;
        this.#handlers.ready({ tables: [...this.#tables.keys()], problems: this.#problems });
      },
      (err) => this.#fail(err instanceof Error ? err : new Error(String(err))),
    );
  }

  /**
   * Runs the catch-up query of every table now (after setup); resolves with
   * the number of changes emitted (0 without `catchUpColumn`).
   */
  async scan(): Promise<number> {
    await this.#ready;
    const { deps, spec } = this.#source;
    const started = deps.now();
    let total = 0;
    for (const table of this.#tables.values()) {
      total += await this.#catchUp(table, this.#book?.get(table.key) ?? null);
    }
    reportScan(deps.store, spec.id, deps.now() - started);
    return total;
  }

  /**
   * UNLISTENs and ends the connection. Idempotent; reports nothing afterwards.
   */
  close(): void {
    if (this.#done) return;
    this.#done = true;
    this.#end();
  }

  #end(): void {
    this.#onEnd();
    const client = this.#client;
    client.removeAllListeners("notification");
    client.removeAllListeners("error");
    // A late socket error after we let go must not become an uncaught one.
    client.on("error", () => {});
    // Never connected (closed before setup got that far): nothing to end.
    if (this.#connecting === null) return;
    // Wait for a connect in flight: ending a half-open client would leave the
    // connect to finish later and hold a socket nobody closes.
    this.#connecting.then(
      () => client.query(`UNLISTEN ${pg.escapeIdentifier(CHANNEL)}`),
    ).catch(() => {}).finally(() => client.end().catch(() => {}));
  }

  #fail(error: Error): void {
    if (this.#done) return;
    this.#done = true;
    this.#end();
    this.#handlers.failed(error);
  }

  async #setup(): Promise<void> {
    const { spec, deps } = this.#source;
    const book = this.#book = await this.#source.cursors();
    if (this.#done) throw new Error("closed");
    this.#connecting = this.#client.connect();
    await this.#connecting;
    // Cursors of timestamp columns must read like the trigger's (UTC).
    await this.#client.query("SET TimeZone TO 'UTC'");
    this.#column = spec.catchUpColumn === undefined ? null : parseColumnName(spec.catchUpColumn);
    const fn = await installTriggerFunction(this.#client);
    for (const written of spec.tables) {
      try {
        const table = await resolveTable(this.#client, parseTableName(written), this.#column);
        await installTrigger(this.#client, fn, table, this.#column);
        this.#tables.set(table.key, table);
      } catch (err) {
        // A table the server refuses (no permission to add a trigger...) is
        // left out like a missing one; a lost connection fails the whole setup.
        const refused = err instanceof pg.DatabaseError && err.severity === "ERROR";
        if (this.#done || !(err instanceof TableProblem || refused)) throw err;
        this.#problems.push(`${written}: ${errorText(err)}`);
      }
    }
    if (this.#tables.size === 0) throw new Error(this.#problems.join("; "));
    // Decided before LISTEN: a notification moves the cursor of a table never
    // seen, which must not hide its existing rows from the first catch-up.
    const starts = new Map([...this.#tables.keys()].map((key) => [key, book.get(key)]));
    await this.#client.query(`LISTEN ${pg.escapeIdentifier(CHANNEL)}`);
    if (this.#column === null) return;
    for (const table of this.#tables.values()) {
      const start = starts.get(table.key);
      if (start === undefined && !spec.emitExisting) {
        book.advance(table.key, await latestCursor(this.#client, table, this.#column));
        continue;
      }
      await this.#catchUp(table, start ?? null);
    }
    deps.log.debug("postgres source listening", { source: spec.id, tables: this.#tables.size });
  }

  #catchUp(table: WatchedTable, from: string | null): Promise<number> {
    return this.#catchUps.run(() => this.#catchUpNow(table, from));
  }

  async #catchUpNow(table: WatchedTable, from: string | null): Promise<number> {
    const column = this.#column;
    const book = this.#book;
    if (column === null || book === null) return 0;
    let after = from;
    let emitted = 0;
    while (true) {
      const { rows, more } = await catchUpPage(this.#client, table, column, after);
      for (const row of rows) {
        const key = `${table.key}|${JSON.stringify(row.pk)}|${row.cursor}`;
        if (!this.#source.recent.absorb(key, "catchUp", this.#source.deps.now())) {
          this.#emit(table, "UPSERT", row.pk, true);
          emitted++;
        }
        book.advance(table.key, row.cursor);
        after = row.cursor;
      }
      if (!more || rows.length === 0) break;
    }
    book.advance(table.key, null);
    return emitted;
  }

  #onNotification(payload: string): void {
    if (this.#done) return;
    const change = parseChange(payload);
    if (change === null) {
      this.#source.deps.log.warn("not a un trigger payload", { channel: CHANNEL, payload });
      return;
    }
    const table = this.#tables.get(`${change.schema}.${change.table}`);
    if (!table) return; // another source's table on the shared channel
    if (change.operation !== "DELETE" && change.cursor !== null && this.#column !== null) {
      const key = `${table.key}|${JSON.stringify(change.pk)}|${change.cursor}`;
      if (this.#source.recent.absorb(key, "notify", this.#source.deps.now())) return;
      this.#book?.advance(table.key, change.cursor);
    }
    this.#emit(table, change.operation, change.pk, false);
  }

  #emit(
    table: WatchedTable,
    operation: DbOperation,
    pk: Record<string, Json> | null,
    catchUp: boolean,
  ): void {
    if (this.#done) return;
    const { id, priority } = this.#source.spec;
    this.#handlers.publish(changeEvent({ sourceId: id, priority, table, operation, pk, catchUp }));
  }
}
