/**
 * Tasks that ask for more resources than any worker has. On the embedded
 * store this process is the only worker, so a create asking for more than
 * its `workers.resources` is a 400 (it could never run). On Redis a bigger
 * worker may join later, so such a task is accepted and waits `queued`; its
 * explanation (`GET /un/tasks/:id`) says which resource and how much is
 * missing, weighed against the capacities the live workers record
 * (lib/processes/registry.ts).
 */

import type { Config } from "../config/load.ts";
import { ValidationError } from "../errors.ts";
import type { TaskRequest } from "../protocol/messages.ts";
import type { ResourceWait } from "../tasks/priority.ts";
import { fits } from "../tasks/resources.ts";
import type { Coordination, ProcessRecord } from "../store/types.ts";
import type { Task } from "../tasks/task.ts";

/** States of a task that has not started: only those wait for resources. */
const NOT_STARTED: ReadonlySet<Task["state"]> = new Set([
  "waiting",
  "scheduled",
  "queued",
  "retrying",
]);

/**
 * Throws a ValidationError (400) for the first request that asks for more
 * of a resource than this process has, on the embedded store (where no
 * other worker can take it). Does nothing on Redis.
 */
export function checkResourceFit(requests: readonly TaskRequest[], config: Config): void {
  if (config.redis.url !== undefined) return;
  const capacity = config.workers.resources;
  for (const [index, request] of requests.entries()) {
    const asked = request.resources ?? {};
    if (fits(asked, capacity)) continue;
    const [name, amount] = Object.entries(asked).find(([n, a]) => a > (capacity[n] ?? 0))!;
    const field = `${requests.length > 1 ? `tasks[${index}].` : ""}resources.${name}`;
    const has = name in capacity ? `${name}: ${capacity[name]}` : `no ${name}`;
    throw new ValidationError(
      `${field}: the task needs ${name}: ${amount} but this process has ${has} ` +
        `(workers.resources), so it could never run`,
      { field, resource: name, value: amount, capacity: capacity[name] ?? 0 },
    );
  }
}

/**
 * Why a task that has not started cannot run on any live worker for want of
 * resources, or null (it fits one, it asks for none, no worker is alive, or
 * some live worker does not record its capacity: an older version).
 */
export function resourceWait(
  asked: Readonly<Record<string, number>>,
  processes: readonly ProcessRecord[],
): ResourceWait | null {
  const needed = Object.entries(asked).filter(([, amount]) => amount > 0);
  const workers = processes.filter((p) => p.concurrency > 0);
  if (needed.length === 0 || workers.length === 0) return null;
  const capacities: Record<string, number>[] = [];
  for (const worker of workers) {
    if (worker.resources === undefined) return null;
    capacities.push(worker.resources);
  }
  if (capacities.some((capacity) => fits(asked, capacity))) return null;
  const most = (name: string) => Math.max(...capacities.map((c) => c[name] ?? 0));
  const missing = needed
    .filter(([name, amount]) => amount > most(name))
    .map(([resource, needs]) => ({ resource, needs, most: most(resource) }));
  const needs = needed.map(([name, amount]) => `${name}: ${amount}`).join(", ");
  const message = missing.length > 0
    ? `needs ${missing.map((m) => `${m.resource}: ${m.needs}`).join(", ")}; the most any live ` +
      `process has is ${missing.map((m) => `${m.resource}: ${m.most}`).join(", ")}`
    : `needs ${needs}; no live process has all of it at once (the most any has: ${
      needed.map(([name]) => `${name}: ${most(name)}`).join(", ")
    })`;
  return { message, missing };
}

/**
 * {@link resourceWait} for a stored task, against the processes alive now.
 * A task that started, or asks for nothing, costs no store read; a store
 * that cannot be read gives null (the task is shown without it).
 */
export async function resourceWaitOf(
  task: Task,
  store: Pick<Coordination, "listProcesses">,
  now: number,
): Promise<ResourceWait | null> {
  if (!NOT_STARTED.has(task.state) || !Object.values(task.resources).some((a) => a > 0)) {
    return null;
  }
  try {
    return resourceWait(task.resources, await store.listProcesses(now));
  } catch {
    return null;
  }
}
