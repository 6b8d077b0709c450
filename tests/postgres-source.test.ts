/**
 * The PostgreSQL source against a real PostgreSQL (`UN_TEST_PG_URL`, default
 * postgres://postgres@127.0.0.1:5432/test): the scanner actor runs under a
 * tiny parent with `systemId: "supervisor"` that collects what it publishes,
 * with a real SqliteStore in a temp dir. Without PostgreSQL the tests are
 * ignored, except under CI=true where they fail.
 */

// @ts-types="@types/pg"
import pg from "pg";
import assert from "node:assert/strict";
import { createActor, setup } from "xstate";
import { type PostgresScannerEvent, postgresScannerMachine } from "../actors/postgres-scanner.ts";
import { parseConfig, sourceSchema } from "../lib/config/load.ts";
import { parseFaults } from "../lib/protocol/deps.ts";
import type { CloudEvent, Json } from "../lib/events/cloud-event.ts";
import { silentLogger } from "../lib/log.ts";
import { ask } from "../lib/protocol/ask.ts";
import type { RuntimeMessage } from "../lib/protocol/messages.ts";
import { type ScannerInput, type SourceStatus, STATUS_KEY } from "../lib/sources/scanner.ts";
import { SqliteStore } from "../lib/store/sqlite/store.ts";
import { eventually } from "./helpers/eventually.ts";
import { PG_URL, withoutPostgres } from "./helpers/postgres.ts";

const ignore = await withoutPostgres();

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The test parent: stands where the supervisor would, collecting `event.publish`. */
const parentMachine = setup({
  types: {
    input: {} as ScannerInput & { events: CloudEvent[]; crashes: unknown[] },
    context: {} as { scanner: ScannerInput; events: CloudEvent[]; crashes: unknown[] },
    events: {} as RuntimeMessage,
  },
  actors: { scanner: postgresScannerMachine },
}).createMachine({
  context: ({ input }) => ({
    scanner: { deps: input.deps, source: input.source },
    events: input.events,
    crashes: input.crashes,
  }),
  invoke: {
    id: "scanner",
    src: "scanner",
    input: ({ context }) => context.scanner,
    onError: { actions: ({ context, event }) => context.crashes.push(event.error) },
  },
  on: {
    "event.publish": { actions: ({ context, event }) => context.events.push(event.event) },
    "source.scan": {
      actions: ({ self, event }) => self.getSnapshot().children.scanner?.send(event),
    },
  },
});

/** One scanner under the test parent, with its own store and tables. */
class Run {
  readonly events: CloudEvent[] = [];
  readonly crashes: unknown[] = [];
  readonly id = `pg-${crypto.randomUUID().slice(0, 8)}`;
  #parent: ReturnType<typeof createActor<typeof parentMachine>> | null = null;

  private constructor(readonly store: SqliteStore, readonly dir: string) {}

  static async open(): Promise<Run> {
    const dir = await Deno.makeTempDir({ prefix: "un-pg-" });
    return new Run(SqliteStore.open(dir), dir);
  }

  start(keys: Record<string, Json>): void {
    const source = sourceSchema.parse({ id: this.id, kind: "postgres", url: PG_URL, ...keys });
    const deps = {
      config: parseConfig({}),
      store: this.store,
      log: silentLogger,
      handlers: {},
      faults: parseFaults(undefined),
      now: () => Date.now(),
    };
    this.#parent = createActor(parentMachine, {
      systemId: "supervisor",
      input: { deps, source, events: this.events, crashes: this.crashes },
    });
    this.#parent.start();
  }

  changes(): { op: Json; pk: Json; catchUp: boolean }[] {
    return this.events.map((e) => {
      const data = e.data as Record<string, Json>;
      return { op: data.operation, pk: data.pk, catchUp: data.catchUp === true };
    });
  }

  async status(): Promise<SourceStatus | null> {
    return (await this.store.getSourceState(this.id, STATUS_KEY)) as SourceStatus | null;
  }

  /** Waits until the scanner listens (its status shows a finished scan). */
  listening(): Promise<unknown> {
    return eventually(async () => (await this.status())?.lastScanAt, {
      intervalMs: 10,
      message: "listening scanner",
    });
  }

  scannerAlive(): boolean {
    return this.#parent?.getSnapshot().children.scanner?.getSnapshot().status === "active";
  }

  send(message: PostgresScannerEvent): void {
    this.#parent?.getSnapshot().children.scanner?.send(message);
  }

  scan(): Promise<{ changes: number }> {
    const request = { sourceId: this.id, requestedBy: "test" };
    return ask({ send: (m) => this.#parent?.send(m) }, "source.scan", { request });
  }

  /** Stops the scanner and waits until PostgreSQL sees its connection gone. */
  async stop(admin: pg.Client): Promise<void> {
    this.#parent?.stop();
    this.#parent = null;
    await eventually(async () => (await backends(admin, this.id)).length === 0, {
      intervalMs: 10,
      message: "closed connection",
    });
    await sleep(50); // the socket closes on our side right after the server's
  }

  async close(admin: pg.Client): Promise<void> {
    await this.stop(admin);
    await this.store.close();
    await Deno.remove(this.dir, { recursive: true });
  }
}

async function backends(admin: pg.Client, sourceId: string): Promise<number[]> {
  const { rows } = await admin.query<{ pid: number }>(
    "SELECT pid FROM pg_stat_activity WHERE application_name = $1",
    [`un:${sourceId}`],
  );
  return rows.map((r) => r.pid);
}

/** Runs `body` with an admin connection, a fresh table name and a scanner run; cleans up. */
function pgTest(name: string, body: (admin: pg.Client, table: string, run: Run) => Promise<void>) {
  Deno.test({ name: `postgres source: ${name}`, ignore }, async () => {
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    const table = `un_test_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
    const run = await Run.open();
    try {
      await body(admin, table, run);
      assert.deepEqual(run.crashes, [], "the scanner never crashes");
    } finally {
      await run.close(admin);
      await admin.query(`DROP TABLE IF EXISTS ${table}, "${table}_B" CASCADE`);
      await admin.end();
    }
  });
}

const STAMPED =
  "(id int PRIMARY KEY, name text, updated_at timestamptz NOT NULL DEFAULT clock_timestamp())";

pgTest(
  "INSERT, UPDATE and DELETE each give one db.changed within 1 s",
  async (admin, table, run) => {
    await admin.query(
      `CREATE TABLE ${table} (id int, region text, name text, PRIMARY KEY (region, id))`,
    );
    run.start({ tables: [`public.${table}`], priority: "high" });
    await run.listening();
    const steps: [string, string][] = [
      [`INSERT INTO ${table} VALUES (7, 'eu', 'a')`, "INSERT"],
      [`UPDATE ${table} SET name = 'b' WHERE id = 7`, "UPDATE"],
      [`DELETE FROM ${table} WHERE id = 7`, "DELETE"],
    ];
    for (const [i, [sql, op]] of steps.entries()) {
      await admin.query(sql);
      await eventually(() => run.events.length === i + 1, {
        timeoutMs: 1_000,
        intervalMs: 10,
        message: `${op} event`,
      });
      const event = run.events[i];
      assert.equal(event.type, "db.changed");
      assert.equal(event.source, `/un/sources/${run.id}`);
      assert.equal(event.subject, `public.${table}`);
      assert.equal(event.priority, "high");
      assert.deepEqual(event.data, {
        table,
        schema: "public",
        operation: op,
        pk: { id: 7, region: "eu" },
      });
    }
    await sleep(200);
    assert.equal(run.events.length, 3, "exactly one event per change");
  },
);

pgTest(
  "first start emits existing rows; a restart resumes from the cursor; scan catches up",
  async (admin, table, run) => {
    await admin.query(`CREATE TABLE ${table} ${STAMPED}`);
    await admin.query(`INSERT INTO ${table} (id) VALUES (1), (2)`);
    run.start({ tables: [table], catchUpColumn: "updated_at" });
    await eventually(() => run.events.length === 2, { intervalMs: 10, message: "existing rows" });
    assert.deepEqual(run.changes(), [
      { op: "UPSERT", pk: { id: 1 }, catchUp: true },
      { op: "UPSERT", pk: { id: 2 }, catchUp: true },
    ]);
    await run.stop(admin);
    await admin.query(`INSERT INTO ${table} (id) VALUES (3)`); // while no scanner runs
    run.start({ tables: [table], catchUpColumn: "updated_at" });
    await eventually(() => run.events.length === 3, {
      intervalMs: 10,
      message: "row added while stopped",
    });
    assert.deepEqual(run.changes()[2], { op: "UPSERT", pk: { id: 3 }, catchUp: true });
    // Changes that no trigger reported (trigger disabled for a bulk load) are found by a scan.
    await admin.query(`ALTER TABLE ${table} DISABLE TRIGGER un_notify_change`);
    await admin.query(
      `UPDATE ${table} SET name = 'x', updated_at = clock_timestamp() WHERE id = 1`,
    );
    await admin.query(`ALTER TABLE ${table} ENABLE TRIGGER un_notify_change`);
    assert.deepEqual(await run.scan(), { changes: 1 });
    assert.deepEqual(run.changes()[3], { op: "UPSERT", pk: { id: 1 }, catchUp: true });
    assert.deepEqual(await run.scan(), { changes: 0 });
  },
);

pgTest(
  "emitExisting false: a silent baseline; interval: periodic catch-up",
  async (admin, table, run) => {
    await admin.query(`CREATE TABLE ${table} ${STAMPED}`);
    await admin.query(`INSERT INTO ${table} (id) VALUES (1), (2)`);
    run.start({ tables: [table], catchUpColumn: "updated_at", emitExisting: false, interval: 200 });
    await run.listening();
    await admin.query(`INSERT INTO ${table} (id) VALUES (3)`);
    await eventually(() => run.events.length === 1, {
      timeoutMs: 1_000,
      intervalMs: 10,
      message: "insert event",
    });
    assert.deepEqual(run.changes(), [{ op: "INSERT", pk: { id: 3 }, catchUp: false }]);
    await admin.query(`ALTER TABLE ${table} DISABLE TRIGGER un_notify_change`);
    await admin.query(`UPDATE ${table} SET updated_at = clock_timestamp() WHERE id = 2`);
    await eventually(() => run.events.length === 2, {
      timeoutMs: 1_000,
      intervalMs: 10,
      message: "periodic catch-up",
    });
    assert.deepEqual(run.changes()[1], { op: "UPSERT", pk: { id: 2 }, catchUp: true });
  },
);

pgTest("debug.crash crashes the scanner and releases its connection", async (admin, table, run) => {
  await admin.query(`CREATE TABLE ${table} ${STAMPED}`);
  run.start({ tables: [table] });
  await run.listening();
  assert.equal((await backends(admin, run.id)).length, 1);
  run.send({ type: "debug.crash", actor: `source:${run.id}` });
  await eventually(() => run.crashes.length === 1, { intervalMs: 10, message: "crash" });
  await eventually(async () => (await backends(admin, run.id)).length === 0, {
    intervalMs: 10,
    message: "connection released",
  });
  run.crashes.length = 0;
});

pgTest(
  "a killed connection reconnects and delivers every change made meanwhile, once",
  async (admin, table, run) => {
    await admin.query(`CREATE TABLE ${table} ${STAMPED}`);
    run.start({ tables: [table], catchUpColumn: "updated_at" });
    await run.listening();
    await admin.query(`INSERT INTO ${table} (id) VALUES (1), (2)`);
    await eventually(() => run.events.length === 2, {
      timeoutMs: 1_000,
      intervalMs: 10,
      message: "events before the cut",
    });

    // Hold the table so the scanner's reconnect waits (at its trigger install)
    // until the changes are committed: they happen while nobody listens.
    const blocker = new pg.Client({ connectionString: PG_URL });
    await blocker.connect();
    try {
      await blocker.query("BEGIN");
      await blocker.query(`LOCK TABLE ${table} IN SHARE ROW EXCLUSIVE MODE`);
      const [pid] = await backends(admin, run.id);
      await admin.query("SELECT pg_terminate_backend($1)", [pid]);
      await eventually(async () => (await run.status())?.failures === 1, {
        intervalMs: 10,
        message: "failure in status",
      });
      await eventually(async () => (await backends(admin, run.id)).some((p) => p !== pid), {
        intervalMs: 10,
        message: "reconnect",
      });
      await blocker.query(`INSERT INTO ${table} (id) VALUES (3), (4)`);
      await blocker.query(
        `UPDATE ${table} SET name = 'x', updated_at = clock_timestamp() WHERE id = 1`,
      );
      await blocker.query(`DELETE FROM ${table} WHERE id = 2`); // not seen: catch-up cannot see deletes
      await blocker.query("COMMIT");
    } finally {
      await blocker.end();
    }
    await eventually(() => run.events.length === 5, {
      intervalMs: 10,
      message: "caught-up changes",
    });
    assert.deepEqual(run.changes().slice(2), [
      { op: "UPSERT", pk: { id: 3 }, catchUp: true },
      { op: "UPSERT", pk: { id: 4 }, catchUp: true },
      { op: "UPSERT", pk: { id: 1 }, catchUp: true },
    ]);
    const status = await eventually(async () => {
      const s = await run.status();
      return s?.failures === 0 ? s : null;
    }, { intervalMs: 10, message: "recovered status" });
    assert.match(status.lastError ?? "", /terminat/);
    // Listening again: a new change arrives as a notification.
    await admin.query(`INSERT INTO ${table} (id) VALUES (5)`);
    await eventually(() => run.events.length === 6, {
      timeoutMs: 1_000,
      intervalMs: 10,
      message: "event after reconnect",
    });
    await sleep(200);
    assert.deepEqual(run.changes().slice(5), [{ op: "INSERT", pk: { id: 5 }, catchUp: false }]);
  },
);

pgTest(
  "a table without a primary key or a bad name is an error in status; other tables are watched",
  async (admin, table, run) => {
    await admin.query(`CREATE TABLE ${table} (id int, name text)`);
    await admin.query(`CREATE TABLE "${table}_B" (id int PRIMARY KEY)`); // quoted: case kept
    run.start({ tables: [table, `public."${table}_B"`, "t; DROP TABLE x"] });
    const error = await eventually(async () => (await run.status())?.lastError, {
      intervalMs: 10,
      message: "error in status",
    });
    assert.match(error, new RegExp(`${table}.*primary key`));
    assert.match(error, /"t; DROP TABLE x" is not a valid identifier/);
    await admin.query(`INSERT INTO "${table}_B" VALUES (1)`);
    await eventually(() => run.events.length === 1, {
      timeoutMs: 1_000,
      intervalMs: 10,
      message: "event of the good table",
    });
    assert.equal(run.events[0].subject, `public.${table}_B`);
    assert.ok(run.scannerAlive());
  },
);

pgTest(
  "an unreachable server is an error in status with growing backoff, not a crash",
  async (_admin, _table, run) => {
    const url = "postgres://postgres@127.0.0.1:9/test"; // discard port: nothing listens
    const started = Date.now();
    run.start({ url, tables: ["t"] });
    const first = await eventually(
      async () => (await run.status())?.failures === 2 ? run.status() : null,
      { intervalMs: 10, message: "failures" },
    );
    assert.match(first?.lastError ?? "", /ECONNREFUSED|connect/);
    await eventually(async () => ((await run.status())?.failures ?? 0) >= 4, {
      intervalMs: 10,
      message: "more failures",
    });
    const later = await run.status();
    assert.ok(
      later && first &&
        later.nextPollAt! - later.lastErrorAt! > first.nextPollAt! - first.lastErrorAt!,
    );
    // 250 + 500 + 1000 ms of backoff: four attempts take well over a second.
    assert.ok(Date.now() - started >= 1_500, "attempts are spaced out");
    assert.ok(run.scannerAlive());
    await assert.rejects(run.scan(), /not connected/);
  },
);
