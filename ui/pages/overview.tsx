/**
 * The overview (`/un/ui`): tasks finished per minute over the last hour,
 * queue depths, recent tasks and failures (live on `task.*` events), and the
 * processes and sources (refreshed every few seconds: their changes are not
 * task events).
 */

import { viewSource } from "../../lib/sources/manage.ts";
import type { Task } from "../../lib/tasks/task.ts";
import { Live, Panel } from "../components/bits.tsx";
import { ProcessTable } from "../components/process-table.tsx";
import { QueueTable } from "../components/queue-table.tsx";
import { SourceTable } from "../components/source-table.tsx";
import { Sparkline } from "../components/sparkline.tsx";
import { TaskTable } from "../components/task-table.tsx";
import type { Page, UiContext } from "../page.ts";

/** Failed and dead tasks, newest finished first. */
function latestFailures(failed: Task[], dead: Task[], limit: number): Task[] {
  return [...failed, ...dead]
    .sort((a, b) => (b.finishedAt ?? b.createdAt) - (a.finishedAt ?? a.createdAt))
    .slice(0, limit);
}

async function taskPart({ control, throughput, now }: UiContext) {
  const store = control.store;
  const [series, queues, recent, failed, dead] = await Promise.all([
    throughput.series(now),
    store.queueCounts(),
    store.listTasks({ limit: 10 }),
    store.listTasks({ state: "failed", limit: 10 }),
    store.listTasks({ state: "dead", limit: 10 }),
  ]);
  const perMinute = (series.okTotal / 60).toFixed(1);
  return (
    <div class="stack">
      <div class="grid">
        <Panel title="Last hour" id="throughput">
          <div class="figures">
            <span class="figure">
              <b data-figure="succeeded">{series.okTotal}</b>succeeded
            </span>
            <span class="figure">
              <b data-figure="failed">{series.badTotal}</b>failed or dead
            </span>
            <span class="figure">
              <b>{perMinute}</b>per minute
            </span>
          </div>
          <Sparkline
            ok={series.ok}
            bad={series.bad}
            label={`tasks per minute over the last hour: ${series.okTotal} succeeded, ${series.badTotal} failed`}
          />
          <p class="muted small">
            one bar a minute; failures below the line
            {series.partial ? "; the first minutes are partial" : ""}
          </p>
        </Panel>
        <Panel title={<a href="/un/ui/queues">Queues</a>}>
          <QueueTable queues={queues} compact />
        </Panel>
      </div>
      <div class="grid">
        <Panel title={<a href="/un/ui/tasks">Recent tasks</a>} id="recent-tasks">
          <TaskTable tasks={recent} now={now} compact />
        </Panel>
        <Panel title={<a href="/un/ui/tasks?state=failed">Recent failures</a>} id="recent-failures">
          <TaskTable
            tasks={latestFailures(failed, dead, 10)}
            now={now}
            empty="no failures"
            compact
            errors
          />
        </Panel>
      </div>
    </div>
  );
}

async function systemPart({ control, now }: UiContext) {
  const store = control.store;
  const [processes, sources] = await Promise.all([store.listProcesses(now), store.listSources()]);
  const views = await Promise.all(sources.map((s) => viewSource(store, s)));
  return (
    <div class="grid">
      <Panel title={<a href="/un/ui/processes">Workers</a>}>
        <ProcessTable processes={processes} self={control.processId} now={now} />
      </Panel>
      <Panel title={<a href="/un/ui/sources">Sources</a>}>
        <SourceTable sources={views} now={now} />
      </Panel>
    </div>
  );
}

/**
 * Builds the overview.
 */
export async function overviewPage(ui: UiContext): Promise<Page> {
  const [tasks, system] = await Promise.all([taskPart(ui), systemPart(ui)]);
  return {
    title: "Overview",
    page: "overview",
    live: "task.**",
    body: (
      <div class="stack">
        <Live id="ov-tasks" url="/un/ui">{tasks}</Live>
        <Live id="ov-system" url="/un/ui" everySeconds={5} onEvents={false}>{system}</Live>
      </div>
    ),
    parts: { "ov-tasks": tasks, "ov-system": system },
  };
}
