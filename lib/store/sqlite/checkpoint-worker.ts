/**
 * The embedded store's background checkpointer (a Web Worker, started by
 * `sqlite/checkpointer.ts`): a second connection to the store's file that
 * copies committed WAL frames into the database every {@link EVERY_MS}, on
 * its own thread.
 *
 * Only PASSIVE checkpoints: they take no lock a writer waits for, so the
 * event loop's connection never blocks on this one (a checkpoint that finds
 * the checkpoint lock taken is skipped and comes again). Errors are not
 * reported: the writing connection keeps its own automatic checkpoint, which
 * meets them and reports them as it always did.
 */

import { DatabaseSync } from "node:sqlite";

/** How often the WAL is copied into the database while the store is open. */
const EVERY_MS = 50;

/** What the checkpointer sends this worker. */
type Command = { type: "open"; file: string; done: SharedArrayBuffer } | { type: "close" };

interface WorkerScope {
  onmessage: ((event: MessageEvent<Command>) => void) | null;
  close(): void;
}

const scope = globalThis as unknown as WorkerScope;
let db: DatabaseSync | null = null;
let timer: ReturnType<typeof setInterval> | null = null;
let done: Int32Array | null = null;

function checkpoint(): void {
  try {
    db?.prepare("PRAGMA wal_checkpoint(PASSIVE)").get();
  } catch {
    // Busy, full, damaged: the writer's own checkpoint meets it and says so.
  }
}

scope.onmessage = ({ data }) => {
  if (data.type === "open") {
    done = new Int32Array(data.done);
    try {
      db = new DatabaseSync(data.file);
      // Never wait for a lock: the next round tries again.
      db.exec("PRAGMA busy_timeout = 0");
      // As the writer: the checkpoint syncs the WAL before and the file after copying.
      db.exec("PRAGMA synchronous = NORMAL");
      timer = setInterval(checkpoint, EVERY_MS);
    } catch {
      db = null;
    }
    return;
  }
  if (timer !== null) clearInterval(timer);
  try {
    db?.close();
  } catch {
    // Closing a connection that never got far: nothing to keep.
  }
  db = null;
  if (done !== null) {
    Atomics.store(done, 0, 1);
    Atomics.notify(done, 0);
  }
  scope.close();
};
