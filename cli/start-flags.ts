/**
 * The `deno run` flags `un start` runs with. deno.json's `start` and `un`
 * tasks and the Dockerfile's ENTRYPOINT spell them out (tests/compose.test.ts
 * checks that they do), and the tests and benches that start `un` use this list.
 *
 * - `--unstable-no-legacy-abort`: a request's signal aborts only when its
 *   client disconnects (not when the response is done), and Deno prints no
 *   deprecation notice at shutdown.
 * - `--v8-flags=--no-memory-reducer`: V8's memory reducer collects garbage
 *   whenever a process older than 30 s has been idle for 8 s, and that loses
 *   most of the JIT's optimized code, so the next burst of tasks runs at
 *   cold speed for tens of thousands of tasks (measured: ~57 µs of CPU per
 *   no-op task on Redis when warm, 80–100 µs after 12 s idle). A worker that
 *   waits between bursts is what un is for; the price is that an idle process
 *   keeps the memory its last burst needed (~230 MB RSS after 20 000 tasks
 *   created at once, against ~120 MB with the reducer).
 */
export const START_FLAGS: readonly string[] = [
  "-A",
  "--unstable-no-legacy-abort",
  "--v8-flags=--no-memory-reducer",
];
