/**
 * Events (`/un/ui/events`): a live tail of the event stream
 * (`GET /un/events/stream?type=<pattern>`) with a pattern filter, pause and
 * each event's JSON on a click. The tail itself runs in ui/assets/events.js.
 */

import { Panel, Table } from "../components/bits.tsx";
import type { Page } from "../page.ts";

/**
 * Builds the events page.
 */
export function eventsPage(pattern: string | undefined): Page {
  return {
    title: "Events",
    page: "events",
    scripts: ["events.js"],
    body: (
      <div>
        <h1>Events</h1>
        <form id="tail" class="filters">
          <label>
            <span>
              pattern, such as <code>task.**</code>, <code>file.*</code> or <code>**</code>
            </span>
            <input name="type" value={pattern?.slice(0, 200) ?? "**"} size={18} />
          </label>
          <button type="submit" class="primary">Follow</button>
          <button type="button" id="tail-pause">Pause</button>
          <button type="button" id="tail-clear">Clear</button>
          <span id="tail-count" class="muted small"></span>
        </form>
        <p id="tail-problem" role="alert"></p>
        <Panel>
          <Table
            class="events"
            columns={["time", "type", "subject", ["source", "wide"]]}
            bodyId="events"
          />
          <p class="muted small">newest first, the last 500; click an event for its JSON</p>
        </Panel>
      </div>
    ),
  };
}
