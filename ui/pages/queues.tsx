/**
 * Queues (`/un/ui/queues`): the `GET /un/queues` figures, live on `task.*`
 * events. Each row's last cell pauses or resumes the queue; a paused queue
 * is listed as such even before its first task.
 */

import { Live, Panel } from "../components/bits.tsx";
import { QueueTable } from "../components/queue-table.tsx";
import type { Page, UiContext } from "../page.ts";

/**
 * Builds the queues page.
 */
export async function queuesPage(ui: UiContext): Promise<Page> {
  const [queues, paused] = await Promise.all([
    ui.control.store.queueCounts(),
    ui.control.store.pausedQueues(),
  ]);
  const table = <QueueTable queues={queues} paused={new Set(paused)} />;
  return {
    title: "Queues",
    page: "queues",
    live: "task.**",
    body: (
      <div>
        <h1>Queues</h1>
        <Panel>
          <Live id="queue-table" url="/un/ui/queues">{table}</Live>
          <p class="muted small">tasks per queue and state; a figure opens those tasks</p>
        </Panel>
      </div>
    ),
    parts: { "queue-table": table },
  };
}
