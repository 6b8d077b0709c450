/**
 * Event-stream clients that stop reading cannot hurt the process: 48 raw TCP
 * clients open `GET /un/events/stream` and never read while 40 000 events
 * stream, then disconnect. Throughout, `/health` answers within a second and
 * the process stays under 300 MB RSS; each client is dropped at its byte
 * budget, and the process stops cleanly on SIGTERM afterwards. A real
 * `un start`, real sockets.
 */

import assert from "node:assert/strict";
import { api } from "./helpers/http.ts";
import { startUn } from "./helpers/un-process.ts";
import { eventually } from "./helpers/eventually.ts";

const CLIENTS = 48;
const EVENTS = 40_000;
/** A noop task makes three events: queued, started, succeeded. */
const TASKS = Math.ceil(EVENTS / 3);
const BATCH = 100;
const PAYLOAD = "x".repeat(300);
/**
 * Not a speed figure (bench/ measures those): a process whose event loop is
 * held by its stream clients does not answer for the whole run (300 s before
 * the fix), while a loaded test machine can delay a healthy answer by a
 * second or two.
 */
const MAX_HEALTH_MS = 5_000;
const MAX_RSS_MB = 300;

/** The resident memory of a process, in MB (Linux). */
function rssMb(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(status);
  assert.ok(kb, `no VmRSS in /proc/${pid}/status`);
  return Number(kb[1]) / 1024;
}

/** Polls `/health` every ~200 ms until stopped; records the slowest answer and the peak RSS. */
function watch(url: string, pid: number) {
  const worst = { ms: 0, at: "", rssMb: 0 };
  let running = true;
  let phase = "start";
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(300_000) });
      await res.body?.cancel();
      assert.equal(res.status, 200, `/health answered ${res.status} (${phase})`);
      const ms = performance.now() - started;
      if (ms > worst.ms) Object.assign(worst, { ms, at: phase });
      worst.rssMb = Math.max(worst.rssMb, rssMb(pid));
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  })();
  return {
    worst,
    set phase(value: string) {
      phase = value;
    },
    async stop() {
      running = false;
      await loop;
    },
  };
}

/** Opens an event stream on a raw socket that is never read. */
async function openSilentClient(port: number): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const head = `GET /un/events/stream HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
    "Accept: text/event-stream\r\nUser-Agent: silent-client\r\n\r\n";
  await conn.write(new TextEncoder().encode(head));
  return conn;
}

/** Counts the events of `type` in the log (pages of 1 000). */
async function countEvents(url: string, type: string): Promise<number> {
  let count = 0;
  let after = "";
  for (;;) {
    const res = await api<{ events: Array<{ id: string }> }>(
      url,
      "GET",
      `/un/events/history?type=${type}&limit=1000${after ? `&after=${after}` : ""}`,
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    count += res.body.events.length;
    if (res.body.events.length < 1000) return count;
    after = res.body.events[res.body.events.length - 1].id;
  }
}

Deno.test({
  name:
    `${CLIENTS} SSE clients that never read while ${EVENTS} events stream, then disconnect: /health stays fast, memory bounded`,
  sanitizeResources: false,
  async fn() {
    await using un = await startUn();
    const pid = un.proc.pid;
    const port = Number(new URL(un.url).port);
    const health = watch(un.url, pid);
    const clients: Deno.TcpConn[] = [];
    try {
      for (let i = 0; i < CLIENTS; i++) clients.push(await openSilentClient(port));
      // Let the server take the requests in (the drops below prove every one subscribed).
      await new Promise((resolve) => setTimeout(resolve, 500));
      health.phase = "streaming";
      for (let i = 0; i < TASKS; i += BATCH) {
        const tasks = Array.from(
          { length: Math.min(BATCH, TASKS - i) },
          (_, j) => ({ type: "noop", payload: { n: i + j, pad: PAYLOAD } }),
        );
        const res = await api(un.url, "POST", "/un/tasks/create", { tasks });
        assert.equal(res.status, 201, JSON.stringify(res.body).slice(0, 500));
      }
      await eventually(async () => {
        const res = await api<Record<string, { queued: number; running: number }>>(
          un.url,
          "GET",
          "/health/queue",
        );
        const queues = Object.values((res.body as { queues?: object }).queues ?? res.body);
        return queues.every((q) => q.queued + q.running === 0);
      }, { timeoutMs: 60_000, intervalMs: 200, message: "every task to finish" });
      const drops = () => (un.stderrText().match(/event stream client dropped/g) ?? []).length;
      await eventually(() => drops() >= CLIENTS, {
        timeoutMs: 10_000,
        message: "every silent client to be dropped",
      });

      health.phase = "disconnect";
      for (const conn of clients.splice(0)) conn.close();
      // Keep watching while the server lets go of the clients.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
    } finally {
      for (const conn of clients) conn.close();
      await health.stop();
    }

    const events = await countEvents(un.url, "task.**");
    console.log(
      `events ${events}; worst /health ${health.worst.ms.toFixed(0)} ms (${health.worst.at}); ` +
        `peak RSS ${health.worst.rssMb.toFixed(0)} MB`,
    );
    assert.ok(events >= EVENTS, `only ${events} events streamed`);
    assert.ok(
      health.worst.ms < MAX_HEALTH_MS,
      `/health took ${health.worst.ms.toFixed(0)} ms (${health.worst.at})`,
    );
    assert.ok(health.worst.rssMb < MAX_RSS_MB, `RSS reached ${health.worst.rssMb.toFixed(0)} MB`);
    const status = await un.stop("SIGTERM", 15_000);
    assert.equal(
      status.code,
      0,
      `exit ${status.code} signal ${status.signal}\n${un.stderrText().slice(-3_000)}`,
    );
  },
});
