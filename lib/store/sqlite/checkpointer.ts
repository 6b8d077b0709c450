/**
 * Checkpoints off the event loop.
 *
 * A checkpoint copies the WAL's frames into the database file and syncs it.
 * Run by the writing connection (SQLite's automatic checkpoint, every
 * `wal_autocheckpoint` pages) it blocks the event loop for the whole copy and
 * its fsyncs: under a busy pool, ~100–190 ms every 10 000 pages, about a
 * tenth of the time. So once a store has written enough for that to matter
 * (its WAL file passed {@link START_BYTES}), a worker thread with a second
 * connection (`checkpoint-worker.ts`) checkpoints every 50 ms instead.
 *
 * - Its checkpoints are PASSIVE: no writer ever waits for them.
 * - While writes keep coming, SQLite cannot start the WAL over (that needs
 *   every frame copied when a write begins), so the writer keeps its
 *   automatic checkpoint as the backstop: when it comes, nearly every frame
 *   is already copied, and it costs its fsyncs (~10 ms) instead of the copy.
 *   If the worker cannot start, that automatic checkpoint does all the work,
 *   as before.
 * - Durability is the writer's: a write is acknowledged after its COMMIT
 *   reached the WAL, whatever a checkpoint does later.
 * - {@link Checkpointer.stop} closes the second connection before the store
 *   closes its own, so the writer's close stays the last one on the file
 *   (it checkpoints and removes the WAL, as it did).
 */

import type { Sql } from "./statements.ts";

/** The WAL file's size from which the worker is worth its thread (~2 000 pages). */
const START_BYTES = 8 * 1024 * 1024;
/** Commits between two looks at the WAL file's size. */
const CHECK_EVERY = 64;
/** How long `stop()` waits for a checkpoint under way before it ends the thread anyway. */
const STOP_WAIT_MS = 5_000;

/**
 * Starts and stops the background checkpointer of one connection.
 */
export class Checkpointer {
  #worker: Worker | null = null;
  #done: Int32Array | null = null;
  #commits = 0;
  /** No worker can run here (or one failed): the automatic checkpoint does it all. */
  #unavailable = false;
  /** The database file, "" for none (in memory); looked up on first use. */
  #file: string | null = null;

  constructor(private readonly sql: Sql) {}

  /** Called after each COMMIT: starts the worker once the WAL has grown past {@link START_BYTES}. */
  committed(): void {
    if (this.#worker !== null || this.#unavailable || ++this.#commits % CHECK_EVERY !== 0) return;
    this.#file ??= String(
      this.sql.get("SELECT file FROM pragma_database_list WHERE name = 'main'")?.file ?? "",
    );
    if (this.#file === "") return;
    let size: number;
    try {
      size = Deno.statSync(`${this.#file}-wal`).size;
    } catch {
      return;
    }
    if (size >= START_BYTES) this.#start(this.#file);
  }

  /** Closes the second connection and ends its thread; waits for a checkpoint under way. */
  stop(): void {
    const worker = this.#worker;
    if (worker === null) return;
    this.#worker = null;
    try {
      worker.postMessage({ type: "close" });
      Atomics.wait(this.#done!, 0, 0, STOP_WAIT_MS);
    } finally {
      worker.terminate();
    }
  }

  #start(file: string): void {
    const done = new SharedArrayBuffer(4);
    let worker: Worker;
    try {
      worker = new Worker(new URL("./checkpoint-worker.ts", import.meta.url).href, {
        type: "module",
      });
    } catch {
      this.#unavailable = true;
      return;
    }
    // A worker that fails is only a slower store, never an error of this process.
    worker.onerror = (event) => {
      event.preventDefault();
      this.#unavailable = true;
      if (this.#worker === worker) this.#worker = null;
      worker.terminate();
    };
    worker.postMessage({ type: "open", file, done });
    this.#worker = worker;
    this.#done = new Int32Array(done);
  }
}
