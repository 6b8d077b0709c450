/**
 * The embedded store's lock (an exclusive flock on `<store>/lock`): two
 * `un start` racing for one store never both run, a process killed with
 * `kill -9` and left a zombie does not hold the store, and `un store recover`
 * refuses while un runs on the store.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { runCli } from "./helpers/cli.ts";
import { MAIN, startUn, type UnProcess } from "./helpers/un-process.ts";
import { START_FLAGS } from "../cli/start-flags.ts";
import { acquireStoreLock, StoreLockedError } from "../lib/store/lock.ts";

const ROUNDS = 20;

Deno.test("two un start on one store at the same instant: exactly one runs, 20 times", async () => {
  const root = await Deno.makeTempDir({ prefix: "un_lock_race_" });
  const store = join(root, "store");
  // Separate working directories (each gets its own config file), one store.
  const dirs = [join(root, "a"), join(root, "b")];
  for (const dir of dirs) await Deno.mkdir(dir);
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const settled = await Promise.allSettled(
        dirs.map((cwd) => startUn({ cwd, config: { store: { path: store } } })),
      );
      const running = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
      const refused = settled.flatMap((s) => (s.status === "rejected" ? [s.reason] : []));
      try {
        assert.equal(running.length, 1, `round ${round}: ${running.length} of 2 started`);
        const [winner] = running;
        const message = String((refused[0] as Error).message);
        assert.match(message, /exited with code [12]/, `round ${round}: ${message}`);
        assert.match(
          message,
          new RegExp(`in use by process ${winner.proc.pid}\\b`),
          `round ${round}: the refusal names the holder ${winner.proc.pid}: ${message}`,
        );
      } finally {
        // kill -9: the kernel drops the lock, so the next round starts at once.
        await Promise.all(running.map((p) => p.kill()));
      }
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("the lock is the kernel's: a second taker is refused even in the same process, at once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "un_lock_same_" });
  try {
    const settled = await Promise.allSettled([acquireStoreLock(dir), acquireStoreLock(dir)]);
    const taken = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
    assert.equal(taken.length, 1, "exactly one acquire succeeds");
    const refused = settled.find((s) => s.status === "rejected") as PromiseRejectedResult;
    assert.ok(refused.reason instanceof StoreLockedError);
    assert.match(refused.reason.message, new RegExp(`in use by process ${Deno.pid}\\b`));
    taken[0]();
    // Released: taken again at once.
    (await acquireStoreLock(dir))();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a lock file naming a live process that does not hold the lock does not block start (pid reused)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "un_lock_stale_" });
  try {
    await Deno.mkdir(join(dir, ".un"));
    // pid 1 is always alive; after a reboot a stale lock file may well name it.
    await Deno.writeTextFile(join(dir, ".un", "lock"), JSON.stringify({ pid: 1 }));
    await using un = await startUn({ cwd: dir });
    const lock = JSON.parse(await Deno.readTextFile(join(dir, ".un", "lock")));
    assert.equal(lock.pid, un.proc.pid, "the lock file now names the holder");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("un start refuses a store whose lock another process holds, naming it", async () => {
  await using first = await startUn();
  const refused = await runCli(["start", "--config", first.configPath], {});
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, new RegExp(`store .* is in use by process ${first.proc.pid}\\b`));
});

/**
 * Starts `un start` under a parent that never reaps it (`sh` execs `sleep`
 * after starting un in the background), so after `kill -9` un stays a zombie,
 * as it does in a container without an init. Deno's own child handling reaps
 * at once, so a plain `Deno.Command` child cannot stay a zombie.
 */
async function startUnreaped(dir: string): Promise<{ pid: number; parent: Deno.ChildProcess }> {
  const config = join(dir, "un.config.json");
  await Deno.writeTextFile(config, JSON.stringify({ api: { port: 0 }, store: { path: ".un" } }));
  const script = `"$0" run ${START_FLAGS.join(" ")} "$1" start --config "$2" >"$3" 2>&1 &
echo $!
exec sleep 600`;
  const parent = new Deno.Command("sh", {
    args: ["-c", script, Deno.execPath(), MAIN, config, join(dir, "out.log")],
    cwd: dir,
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = parent.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  await reader.cancel();
  const pid = Number(text.trim());
  assert.ok(pid > 0, `un's pid from the shell: ${JSON.stringify(text)}`);
  // Wait until it holds the store: it prints its URL once the store is open.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const out = await Deno.readTextFile(join(dir, "out.log")).catch(() => "");
    if (/^http:\/\//m.test(out)) break;
    if (Date.now() > deadline) throw new Error(`un did not start:\n${out}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { pid, parent };
}

function processState(pid: number): string | null {
  try {
    // /proc/<pid>/stat: "pid (comm) S ..."; comm may hold spaces, so read after the last ')'.
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
  } catch {
    return null;
  }
}

Deno.test("after kill -9, an unreaped (zombie) un does not hold the store", async () => {
  const dir = await Deno.makeTempDir({ prefix: "un_lock_zombie_" });
  const { pid, parent } = await startUnreaped(dir);
  let second: UnProcess | undefined;
  try {
    Deno.kill(pid, "SIGKILL");
    for (let i = 0; i < 100 && processState(pid) !== "Z"; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(processState(pid), "Z", `un ${pid} is a zombie (its parent does not reap it)`);
    // The lock file still names the dead process; the kernel released the lock.
    assert.match(await Deno.readTextFile(join(dir, ".un", "lock")), new RegExp(`"pid":${pid}\\b`));
    second = await startUn({ cwd: dir });
    const health = await fetch(`${second.url}/health`);
    assert.equal(health.status, 200, await health.text());
    assert.equal(processState(pid), "Z", "the zombie was still there while the second started");
  } finally {
    await second?.stop();
    parent.kill("SIGKILL");
    await parent.status;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("un store recover refuses while un runs on the store, naming the process", async () => {
  await using un = await startUn();
  const result = await runCli(["store", "recover", "--config", un.configPath], {});
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, new RegExp(`in use by process ${un.proc.pid}\\b`));
  // The store is untouched: un still serves.
  const health = await fetch(`${un.url}/health`);
  assert.equal(health.status, 200, await health.text());
});
