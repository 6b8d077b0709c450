/**
 * The actor inspector (`/un/ui/actors`; `/un/inspect` redirects here): the
 * live supervision tree with each actor's state on its machine's states,
 * restarts and last error; a selected actor's chart (generated from its
 * machine) and context; and the message log with filter, pause and idle
 * loops folded. One self-contained page (script and style inline), driven by
 * `GET /un/inspect/actors[/:id]` and `GET /un/inspect/stream` in
 * ui/assets/actors.js.
 */

import { raw } from "hono/html";
import type { ActorInfo } from "../../lib/control.ts";
import { Panel, Table } from "../components/bits.tsx";
import type { Page } from "../page.ts";

/** JSON inside a `<script>`: `<` escaped so no text in it can close the element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c");
}

/**
 * Builds the inspector page.
 */
export function actorsPage(actors: ActorInfo[]): Page {
  return {
    title: "un inspector",
    page: "actors",
    scripts: ["actors.js"],
    styles: ["inspector.css"],
    body: (
      <div class="stack">
        <h1>
          Actors{" "}
          <span class="muted small">
            un inspector · messages are recorded while this page is open
          </span>
        </h1>
        <div class="grid">
          <Panel title="Supervision tree">
            <Table
              class="actors"
              columns={["actor", "state", ["restarts", "num"], "last error"]}
              bodyId="actors"
            />
            <p class="muted small">click an actor for its chart and context</p>
          </Panel>
          <section class="panel" id="actor-detail">
            <h2 id="detail-title">No actor selected</h2>
            <div id="chart"></div>
            <h2>Context</h2>
            <pre class="json" id="context">select an actor</pre>
          </section>
        </div>
        <Panel title="Messages">
          <div class="filters">
            <input
              id="filter"
              placeholder="filter: worker-2, task.enqueue, …"
              aria-label="filter"
            />
            <button type="button" id="pause">Pause</button>
            <button type="button" id="clear">Clear</button>
            <span id="msg-count" class="muted small"></span>
          </div>
          <Table
            class="messages"
            columns={[["#", "num wide"], "time", "from", "to", "type", "summary"]}
            bodyId="messages"
          />
        </Panel>
        <script type="application/json" id="initial-actors">{raw(scriptJson(actors))}</script>
      </div>
    ),
  };
}
