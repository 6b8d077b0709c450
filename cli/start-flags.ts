/**
 * The `deno run` flags `un start` runs with. deno.json's `start` and `un`
 * tasks and the Dockerfile's ENTRYPOINT spell them out (tests/compose.test.ts
 * checks that they do), and the tests and benches that start `un` use this list.
 *
 * - `--unstable-no-legacy-abort`: a request's signal aborts only when its
 *   client disconnects (not when the response is done), and Deno prints no
 *   deprecation notice at shutdown.
 * - `--v8-flags=--no-memory-reducer,--expose-gc,--no-flush-bytecode`: V8's
 *   memory reducer collects garbage again and again once a process has been
 *   idle for 8 s, and each collection ages the JIT's code until most of it is
 *   thrown away, so the next burst of tasks ran at cold speed for tens of
 *   thousands of tasks (measured: ~57 µs of CPU per no-op task on Redis when
 *   warm, 80–100 µs after 12 s idle). In its place the runtime makes one
 *   memory-reducing collection per quiet spell (lib/processes/idle-gc.ts,
 *   which needs `gc` exposed), and bytecode is never flushed, so that
 *   collection costs no speed. An idle process gives back what its last
 *   burst needed (100 000 tasks queued at once: ~140 MB RSS once idle,
 *   ~370 MB kept without it).
 */
export const START_FLAGS: readonly string[] = [
  "-A",
  "--unstable-no-legacy-abort",
  "--v8-flags=--no-memory-reducer,--expose-gc,--no-flush-bytecode",
];
