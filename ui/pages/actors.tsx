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
import { Scroll } from "../components/bits.tsx";
import type { Page } from "../page.ts";

/** JSON inside a `<script>`: `<` escaped so no text in it can close the element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c");
}

/**
 * Builds the inspector page.
 *
 * @example
 * ```ts
 * const page = actorsPage(control.inspect.actors());
 * ```
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
          <section class="panel">
            <h2>Supervision tree</h2>
            <Scroll>
              <table class="actors">
                <thead>
                  <tr>
                    <th>actor</th>
                    <th>state</th>
                    <th class="num">restarts</th>
                    <th>last error</th>
                  </tr>
                </thead>
                <tbody id="actors"></tbody>
              </table>
            </Scroll>
            <p class="muted small">click an actor for its chart and context</p>
          </section>
          <section class="panel" id="actor-detail">
            <h2 id="detail-title">No actor selected</h2>
            <div id="chart"></div>
            <h2>Context</h2>
            <pre class="json" id="context">select an actor</pre>
          </section>
        </div>
        <section class="panel">
          <h2>Messages</h2>
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
          <Scroll>
            <table class="messages">
              <thead>
                <tr>
                  <th class="num wide">#</th>
                  <th>time</th>
                  <th>from</th>
                  <th>to</th>
                  <th>type</th>
                  <th>summary</th>
                </tr>
              </thead>
              <tbody id="messages"></tbody>
            </table>
          </Scroll>
        </section>
        <script type="application/json" id="initial-actors">{raw(scriptJson(actors))}</script>
      </div>
    ),
  };
}
