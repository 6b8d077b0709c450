/**
 * One task (`/un/ui/tasks/:id`): its facts, payload, result, error with
 * stack, dependencies and the prioritizer's explanation (as
 * `GET /un/tasks/:id` gives it), with buttons that retry, cancel or
 * re-prioritize it through the JSON API. Live on events about the task and
 * its dependencies.
 */

import type { Child } from "hono/jsx";
import { explainTask } from "../../lib/tasks/priority.ts";
import { resourceWaitOf } from "../../lib/safety/resource-fit.ts";
import { isTerminal, type Task } from "../../lib/tasks/task.ts";
import { Badge, JsonBlock, Live, Progress, Scroll } from "../components/bits.tsx";
import { Ago, duration } from "../components/time.tsx";
import type { Page, UiContext } from "../page.ts";

/** Dependencies shown (a task may name many). */
const MAX_DEPENDENCIES = 50;
const NOT_STARTED = new Set(["waiting", "scheduled", "queued", "retrying"]);

function Actions({ task }: { task: Task }) {
  const api = `/un/tasks/${task.id}`;
  return (
    <div class="actions" id="task-actions">
      <button
        type="button"
        class="primary"
        data-api={`${api}/retry`}
        data-verb="retry"
        disabled={!isTerminal(task.state) || task.state === "succeeded"}
      >
        Retry
      </button>
      <button
        type="button"
        class="danger"
        data-api={api}
        data-method="DELETE"
        data-verb="cancel"
        data-confirm={`Cancel task ${task.id}?`}
        disabled={isTerminal(task.state)}
      >
        Cancel
      </button>
      <label>
        priority{" "}
        <select id="priority" name="priority" disabled={!NOT_STARTED.has(task.state)}>
          {[9, 8, 7, 6, 5, 4, 3, 2, 1, 0].map((p) => (
            <option key={p} value={p} selected={p === task.priority}>{p}</option>
          ))}
        </select>
      </label>
      <button
        type="button"
        data-api={`${api}/priority`}
        data-body-from="#priority"
        data-verb="priority"
        disabled={!NOT_STARTED.has(task.state)}
      >
        Set priority
      </button>
    </div>
  );
}

function Fact({ name, children }: { name: string; children?: Child }) {
  return (
    <>
      <dt>{name}</dt>
      <dd>{children}</dd>
    </>
  );
}

function Facts({ task, now }: { task: Task; now: number }) {
  const took = task.startedAt && task.finishedAt
    ? duration(task.finishedAt - task.startedAt)
    : null;
  return (
    <dl class="facts">
      <Fact name="state">
        <Badge state={task.state} />
      </Fact>
      <Fact name="type">{task.type}</Fact>
      <Fact name="queue">
        <a href={`/un/ui/tasks?queue=${encodeURIComponent(task.queue)}`}>{task.queue}</a>
      </Fact>
      <Fact name="priority">{task.priority}</Fact>
      <Fact name="attempts">{task.attempts} of {task.maxAttempts}</Fact>
      <Fact name="progress">
        <Progress value={task.progress} /> {task.progressMessage ?? ""}
      </Fact>
      <Fact name="worker">{task.workerId ?? "—"}</Fact>
      <Fact name="created">
        <Ago at={task.createdAt} now={now} />
      </Fact>
      <Fact name="started">
        <Ago at={task.startedAt} now={now} />
      </Fact>
      <Fact name="finished">
        <Ago at={task.finishedAt} now={now} />
        {took ? ` (took ${took})` : ""}
      </Fact>
      {task.runAt
        ? (
          <Fact name="run at">
            <Ago at={task.runAt} now={now} />
          </Fact>
        )
        : null}
      {task.deadline
        ? (
          <Fact name="deadline">
            <Ago at={task.deadline} now={now} />
          </Fact>
        )
        : null}
      {task.expiresAt
        ? (
          <Fact name="expires">
            <Ago at={task.expiresAt} now={now} />
          </Fact>
        )
        : null}
      {task.timeoutMs ? <Fact name="timeout">{duration(task.timeoutMs)}</Fact> : null}
      {task.key
        ? (
          <Fact name="key">
            <code>{task.key}</code>
          </Fact>
        )
        : null}
      {Object.keys(task.resources).length
        ? (
          <Fact name="resources">
            {Object.entries(task.resources).map(([k, v]) => `${k} ${v}`).join(", ")}
          </Fact>
        )
        : null}
      {task.correlationId
        ? (
          <Fact name="correlation">
            <code>{task.correlationId}</code>
          </Fact>
        )
        : null}
    </dl>
  );
}

function Dependencies({ ids, found }: { ids: string[]; found: Map<string, Task> }) {
  if (ids.length === 0) return <p class="muted">none</p>;
  return (
    <Scroll>
      <table>
        <tbody>
          {ids.slice(0, MAX_DEPENDENCIES).map((id) => {
            const dep = found.get(id);
            return (
              <tr>
                <td class="id">
                  <a href={`/un/ui/tasks/${id}`}>{id}</a>
                </td>
                <td>{dep?.type ?? "(removed)"}</td>
                <td>{dep ? <Badge state={dep.state} /> : null}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {ids.length > MAX_DEPENDENCIES
        ? <p class="muted small">and {ids.length - MAX_DEPENDENCIES} more</p>
        : null}
    </Scroll>
  );
}

function ErrorPart({ task }: { task: Task }) {
  const error = task.error;
  if (!error) return <p class="muted">none</p>;
  return (
    <div class="error-box">
      <p>
        <b>{error.name ?? "Error"}</b>: {error.message}
      </p>
      <p class="muted small">
        attempt {error.attempt}
        {error.permanent ? " · permanent: no more retries" : ""}
      </p>
      {error.stack ? <pre class="json" id="task-stack">{error.stack}</pre> : null}
    </div>
  );
}

/**
 * Builds a task's page, or null when there is no such task.
 *
 * @example
 * ```ts
 * const page = await taskDetailPage(ui, "01JD...");
 * ```
 */
export async function taskDetailPage(ui: UiContext, id: string): Promise<Page | null> {
  const store = ui.control.store;
  const task = /^[0-9A-Za-z]{1,64}$/.test(id) ? await store.getTask(id) : null;
  if (!task) return null;
  const wait = await resourceWaitOf(task, store, ui.now);
  const { explanation } = explainTask(task, wait);
  const deps = await Promise.all(
    task.dependsOn.slice(0, MAX_DEPENDENCIES).map((d) => store.getTask(d)),
  );
  const found = new Map(deps.filter((d): d is Task => d !== null).map((d) => [d.id, d]));
  const detail = (
    <div class="stack">
      <Actions task={task} />
      <div class="grid">
        <section class="panel">
          <h2>Facts</h2>
          <Facts task={task} now={ui.now} />
        </section>
        <section class="panel">
          <h2>Why it runs when it does</h2>
          {explanation.formula ? <p class="mono small">{explanation.formula}</p> : null}
          <ul>{(explanation.notes ?? []).map((n) => <li key={n}>{n}</li>)}</ul>
          <p class="muted small">score {task.score} · sort key {task.sortKey}</p>
        </section>
      </div>
      <section class="panel" id="task-error">
        <h2>Error</h2>
        <ErrorPart task={task} />
      </section>
      <div class="grid">
        <section class="panel">
          <h2>Payload</h2>
          <JsonBlock value={task.payload} />
        </section>
        <section class="panel">
          <h2>Result</h2>
          <JsonBlock value={task.result} />
        </section>
      </div>
      <section class="panel">
        <h2>Dependencies</h2>
        <Dependencies ids={task.dependsOn} found={found} />
      </section>
    </div>
  );
  return {
    title: `Task ${task.id}`,
    page: "tasks",
    live: "task.**",
    body: (
      <div>
        <h1>
          Task <span class="mono">{task.id}</span>
        </h1>
        <Live id="task-detail" url={`/un/ui/tasks/${task.id}`} watch={[task.id, ...task.dependsOn]}>
          {detail}
        </Live>
      </div>
    ),
    parts: { "task-detail": detail },
  };
}
