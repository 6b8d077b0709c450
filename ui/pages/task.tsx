/**
 * One task (`/un/ui/tasks/:id`): its facts, payload, result, error with
 * stack, dependencies and the prioritizer's explanation (as
 * `GET /un/tasks/:id` gives it), with buttons that retry, cancel or
 * re-prioritize it through the JSON API. Live on events about the task and
 * its dependencies.
 */

import { explainTask } from "../../lib/tasks/priority.ts";
import { resourceWaitOf } from "../../lib/safety/resource-fit.ts";
import { isTerminal, type Task } from "../../lib/tasks/task.ts";
import { Badge, Fact, JsonBlock, Live, Panel, Progress, Scroll } from "../components/bits.tsx";
import { duration, TimeFact } from "../components/time.tsx";
import { taskQueryString } from "../data/task-query.ts";
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
      <TimeFact name="created" at={task.createdAt} now={now} />
      <TimeFact name="started" at={task.startedAt} now={now} />
      <TimeFact name="finished" at={task.finishedAt} now={now}>
        {took ? ` (took ${took})` : ""}
      </TimeFact>
      <TimeFact name="run at" at={task.runAt} now={now} optional />
      <TimeFact name="deadline" at={task.deadline} now={now} optional />
      <TimeFact name="expires" at={task.expiresAt} now={now} optional />
      {task.timeoutMs ? <Fact name="timeout">{duration(task.timeoutMs)}</Fact> : null}
      {task.key
        ? (
          <Fact name="key">
            <a
              href={`/un/ui/tasks${taskQueryString({ key: task.key })}`}
              title="tasks with this key"
            >
              <code>{task.key}</code>
            </a>
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
            <a
              href={`/un/ui/tasks${taskQueryString({ correlationId: task.correlationId })}`}
              title="tasks with this correlation id"
            >
              <code>{task.correlationId}</code>
            </a>
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
        <Panel title="Facts">
          <Facts task={task} now={ui.now} />
        </Panel>
        <Panel title="Why it runs when it does">
          {explanation.formula ? <p class="mono small">{explanation.formula}</p> : null}
          <ul>{(explanation.notes ?? []).map((n) => <li key={n}>{n}</li>)}</ul>
          <p class="muted small">score {task.score} · sort key {task.sortKey}</p>
        </Panel>
      </div>
      <Panel title="Error" id="task-error">
        <ErrorPart task={task} />
      </Panel>
      <div class="grid">
        <Panel title="Payload">
          <JsonBlock value={task.payload} />
        </Panel>
        <Panel title="Result">
          <JsonBlock value={task.result} />
        </Panel>
      </div>
      <Panel title="Dependencies">
        <Dependencies ids={task.dependsOn} found={found} />
      </Panel>
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
