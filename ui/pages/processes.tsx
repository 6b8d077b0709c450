/**
 * Processes (`/un/ui/processes`): every process sharing the store, as
 * `un processes` shows them (`GET /un/processes`), refreshed every few
 * seconds (each process records itself on its heartbeat) and when a pool is scaled.
 */

import { Live, Panel } from "../components/bits.tsx";
import { ProcessTable } from "../components/process-table.tsx";
import type { Page, UiContext } from "../page.ts";

/**
 * Builds the processes page.
 */
export async function processesPage(ui: UiContext): Promise<Page> {
  const processes = await ui.control.store.listProcesses(ui.now);
  const busy = processes.reduce((n, p) => n + p.busy, 0);
  const slots = processes.reduce((n, p) => n + p.concurrency, 0);
  const table = (
    <div>
      <p>
        {processes.length} process{processes.length === 1 ? "" : "es"}, {busy} of {slots}{" "}
        workers busy
      </p>
      <ProcessTable processes={processes} self={ui.control.processId} now={ui.now} full />
    </div>
  );
  return {
    title: "Processes",
    page: "processes",
    // A pool scaled: its process's slots change.
    live: "worker.**",
    body: (
      <div>
        <h1>Processes</h1>
        <Panel>
          <Live id="process-table" url="/un/ui/processes" everySeconds={3}>
            {table}
          </Live>
        </Panel>
      </div>
    ),
    parts: { "process-table": table },
  };
}
