/**
 * events_per_s: events sent to the supervisor, routed to the bus and delivered
 * to a subscriber, in-process. `events_logged_per_s` also counts the time
 * until every event is in the durable event log (stop flushes it).
 */

import { benchRuntime, report, until } from "./harness.ts";

const N = 200_000;
const CHUNK = 5_000;

const { runtime, cleanup } = await benchRuntime({}, "api");
let delivered = 0;
runtime.subscribe("bench.*", () => {
  delivered++;
});
const started = performance.now();
for (let sent = 0; sent < N; sent += CHUNK) {
  for (let i = 0; i < CHUNK; i++) {
    runtime.send({
      type: "event.emit",
      init: { type: "bench.tick", source: "/un/bench", data: { i: sent + i } },
    });
  }
  // Let the event log's batch writes run between chunks, as they would in a live process.
  await new Promise((r) => setTimeout(r, 0));
}
await until(() => delivered >= N, 60_000, "delivery");
const deliveredAt = performance.now();
await runtime.stop("bench");
const loggedAt = performance.now();
report({
  events_per_s: Math.round(N / ((deliveredAt - started) / 1_000)),
  events_logged_per_s: Math.round(N / ((loggedAt - started) / 1_000)),
});
await cleanup();
