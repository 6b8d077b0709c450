/**
 * The Docker Compose deployment, checked without a Docker engine (none runs
 * here): docker-compose.yml is parsed and its topology checked (Redis with AOF,
 * one api, scalable workers, one scanner, all built from this repository's
 * Dockerfile, each service's environment a valid un config; the image and
 * `deno task start` run un with cli/start-flags.ts's flags), and then the
 * same topology runs as plain processes on a private Redis: 1 `--role api`,
 * 2 `--role worker`, 1 `--role scanner`, one config. A task created through
 * the api runs on a worker; a file dropped in the watched dir is seen by the
 * scanner and its hook task runs on a worker.
 *
 * The process test needs `redis-server`; without it it is ignored, except
 * under `CI=true` where it fails.
 */

import assert from "node:assert/strict";
import { join, resolve } from "node:path";
import ignore from "ignore";
import YAML from "yaml";
import { START_FLAGS } from "../cli/start-flags.ts";
import { applyEnv, parseConfig } from "../lib/config/load.ts";
import { ROLES } from "../runtime/roles.ts";
import { history } from "./helpers/events.ts";
import { api } from "./helpers/http.ts";
import { redisServerForTests, startRedis } from "./helpers/redis-server.ts";
import { processId, REPO, startMany, type UnProcess } from "./helpers/un-process.ts";
import { eventually } from "./helpers/eventually.ts";

/** The parts of a Compose service this test reads. */
interface Service {
  image?: string;
  build?: { context: string; dockerfile?: string };
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  container_name?: string;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}

interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

/** Compose's `${VAR}`, `${VAR:-default}` and `${VAR-default}` with VAR unset, and `$$`. */
function interpolateUnset(value: string): string {
  return value.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}/g,
    (m, _name, def) => m === "$$" ? "$" : def ?? "",
  );
}

const compose = YAML.parse(await Deno.readTextFile(join(REPO, "docker-compose.yml")), {
  merge: true, // Compose honours `<<:` merge keys; the file uses one for the shared un settings.
}) as Compose;
const UN_SERVICES: Record<string, string> = { api: "api", worker: "worker", scanner: "scanner" };

Deno.test("compose: Redis with AOF on a volume, one api, scalable workers and a scanner", () => {
  assert.deepEqual(Object.keys(compose.services).sort(), ["api", "redis", "scanner", "worker"]);
  const redis = compose.services.redis;
  assert.match(redis.image ?? "", /^redis:7/);
  assert.match((redis.command ?? []).join(" "), /--appendonly yes/);
  const data = (redis.volumes ?? []).find((v) => v.endsWith(":/data"));
  assert.ok(data, "redis keeps /data on a volume");
  assert.ok(data.split(":")[0] in (compose.volumes ?? {}), "a named volume, declared");

  const images = new Set<string | undefined>();
  for (const [name, role] of Object.entries(UN_SERVICES)) {
    const service = compose.services[name];
    images.add(service.image);
    assert.equal(resolve(REPO, service.build?.context ?? "?"), REPO, `${name} builds the repo`);
    assert.equal(service.build?.dockerfile ?? "Dockerfile", "Dockerfile");
    const command = service.command ?? [];
    assert.ok(ROLES.includes(role as never));
    assert.deepEqual(command.slice(command.indexOf("--role"), command.indexOf("--role") + 2), [
      "--role",
      role,
    ]);
    assert.equal(service.environment?.UN_REDIS_URL, "redis://redis:6379", name);
    assert.equal(service.depends_on?.redis?.condition, "service_healthy", name);
    assert.match((service.healthcheck?.test ?? []).join(" "), /127\.0\.0\.1:4242\/health/, name);
  }
  assert.equal(images.size, 1, "one image for every role");

  const worker = compose.services.worker;
  assert.equal(worker.container_name, undefined, "a fixed name would stop --scale worker=4");
  assert.equal(worker.ports, undefined, "a published port would stop --scale worker=4");
  const apiService = compose.services.api;
  assert.deepEqual(apiService.ports, ["4242:4242"]);
  assert.equal(apiService.environment?.UN_API_HOST, "0.0.0.0");
});

Deno.test("compose: each service's environment, on the repository's config, is a valid config", async () => {
  const fileConfig = JSON.parse(await Deno.readTextFile(join(REPO, "un.config.json")));
  for (const name of Object.keys(UN_SERVICES)) {
    const env = Object.fromEntries(
      Object.entries(compose.services[name].environment ?? {}).map((
        [k, v],
      ) => [k, interpolateUnset(String(v))]),
    );
    const raw = structuredClone(fileConfig);
    assert.deepEqual(applyEnv(raw, env), [], name);
    // Throws on a non-loopback bind without a token, a bad URL, ...
    const config = parseConfig(raw);
    assert.equal(config.redis.url, "redis://redis:6379");
    if (name === "api") {
      assert.equal(config.api.host, "0.0.0.0");
      assert.ok(config.api.token, "the api has a token (a placeholder unless UN_API_TOKEN is set)");
    } else {
      assert.equal(config.api.host, "127.0.0.1", `${name} keeps its API on loopback`);
    }
  }
});

Deno.test("compose: deno task start and deno task un run un with its start flags", async () => {
  const tasks = JSON.parse(await Deno.readTextFile(join(REPO, "deno.json"))).tasks;
  for (const name of ["start", "un"]) {
    const argv = (tasks[name] as string).split(/\s+/);
    for (const flag of START_FLAGS) assert.ok(argv.includes(flag), `deno task ${name} has ${flag}`);
  }
});

Deno.test("compose: the Dockerfile runs main.ts start from the cached deno.lock graph", async () => {
  const dockerfile = await Deno.readTextFile(join(REPO, "Dockerfile"));
  const instructions = dockerfile.replace(/\\\n/g, " ").split("\n").filter((l) =>
    l.trim() && !l.startsWith("#")
  );
  const from = instructions.find((l) => l.startsWith("FROM "));
  assert.match(from ?? "", /^FROM denoland\/deno:2\./);
  const entry = instructions.find((l) => l.startsWith("ENTRYPOINT "));
  const argv = JSON.parse(entry?.slice("ENTRYPOINT ".length) ?? "[]") as string[];
  assert.deepEqual([argv[0], argv[1]], ["deno", "run"]);
  assert.deepEqual(argv.slice(-2), ["main.ts", "start"]);
  for (const flag of START_FLAGS) assert.ok(argv.includes(flag), `the image runs with ${flag}`);
  assert.ok(instructions.some((l) => /^RUN deno cache .*main\.ts$/.test(l)));

  // What the image must contain is not in .dockerignore (gitignore rules, close enough).
  const dockerignore = ignore().add(await Deno.readTextFile(join(REPO, ".dockerignore")));
  for (
    const needed of ["main.ts", "deno.json", "deno.lock", "un.config.json", "lib/config/load.ts"]
  ) {
    assert.equal(dockerignore.ignores(needed), false, `${needed} is in the build context`);
  }
  assert.ok(dockerignore.ignores(".git/HEAD") && dockerignore.ignores(".un/un.db"));

  // The image build's `deno cache --frozen` fails when deno.lock is out of date.
  const cached = await new Deno.Command(Deno.execPath(), {
    args: ["cache", "--frozen", "main.ts"],
    cwd: REPO,
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(cached.code, 0, new TextDecoder().decode(cached.stderr));
});

const redisTests = redisServerForTests("compose");

/** The process that started a task (the origin of its `task.started`). */
async function ranOn(un: UnProcess, taskId: string): Promise<string> {
  return await eventually(async () => {
    const started = await history(un, "task.started");
    return started.find((e) => e.subject === taskId)?.origin;
  }, { timeoutMs: 5_000, message: `task.started of ${taskId}` });
}

async function succeeded(un: UnProcess, id: string): Promise<void> {
  await eventually(async () => {
    const res = await api<{ task: { state: string } }>(un.url, "GET", `/un/tasks/${id}`);
    return res.body.task?.state === "succeeded";
  }, { timeoutMs: 10_000, message: `task ${id} succeeded` });
}

Deno.test({
  name:
    `compose topology as plain processes: api, 2 workers, scanner on one Redis${redisTests.suffix}`,
  ignore: redisTests.ignore,
  async fn() {
    await using redis = await startRedis();
    const watched = await Deno.makeTempDir({ prefix: "un_compose_watch_" });
    // The repository's config (as in the image), on this test's Redis and watched dir.
    const config = {
      redis: { url: redis.url },
      workers: { concurrency: 1 },
      scheduler: { sourceLeaseMs: 2_000 },
      sources: [{ id: "inbox", kind: "fs", path: watched, debounceMs: 20 }],
      hooks: [{ on: "file.*", task: "file.metadata" }],
    };
    const roles = ["api", "worker", "worker", "scanner"];
    try {
      await using group = await startMany(
        roles.map((role) => ({ config, args: ["--role", role] })),
      );
      const procs = group.procs;
      const [apiProc, , , scanner] = procs;
      const workerIds = new Set(await Promise.all(procs.slice(1, 3).map(processId)));

      // Tasks created through the api run on the workers (both of them, one task each at a time).
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) {
        const res = await api<{ task: { id: string } }>(apiProc.url, "POST", "/un/tasks/create", {
          type: "sleep",
          payload: { ms: 150 },
        });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        ids.push(res.body.task.id);
      }
      for (const id of ids) await succeeded(apiProc, id);
      const ranOnSet = new Set(await Promise.all(ids.map((id) => ranOn(apiProc, id))));
      assert.deepEqual(ranOnSet, workerIds, "every task ran on a worker, both workers took some");

      // A file in the watched dir: the scanner sees it, its hook task runs on a worker.
      await Deno.writeTextFile(join(watched, "hello.md"), "# hello\n");
      const created = await eventually(async () => {
        const events = await history(apiProc, "file.created");
        return events.find((e) => e.subject?.endsWith("hello.md"));
      }, { timeoutMs: 10_000, message: "file.created of hello.md" });
      assert.equal(created.origin, await processId(scanner), "the scanner process saw the file");
      const task = await eventually(async () => {
        const res = await api<{ tasks: { id: string; payload: { event?: { id: string } } }[] }>(
          apiProc.url,
          "GET",
          "/un/tasks?type=file.metadata&limit=100",
        );
        return res.body.tasks.find((t) => t.payload.event?.id === created.id);
      }, { timeoutMs: 10_000, message: "the hook's file.metadata task" });
      await succeeded(apiProc, task.id);
      assert.ok(workerIds.has(await ranOn(apiProc, task.id)), "the hook task ran on a worker");
      const hookTasks = await api<{ tasks: unknown[] }>(
        apiProc.url,
        "GET",
        "/un/tasks?type=file.metadata&limit=100",
      );
      assert.equal(hookTasks.body.tasks.length, 1, "the hook ran once across the four processes");
    } finally {
      await Deno.remove(watched, { recursive: true }).catch(() => {});
    }
  },
});
