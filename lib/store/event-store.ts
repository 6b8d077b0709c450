/**
 * The event side of the store: the durable event log every `GET /un/events`,
 * SSE resume and the inspector's throughput read from.
 */

import type { CloudEvent } from "../events/cloud-event.ts";

/** History query of the event log; oldest first. */
export interface EventQuery {
  /** Only events whose type matches this pattern (`file.*`, `task.**`). */
  type?: string;
  /** Only events with an id greater than this one. */
  after?: string;
  limit: number;
}

/** The event log: appended in order, read back by type and position. */
export interface EventStore {
  appendEvents(events: CloudEvent[]): Promise<void>;
  eventHistory(query: EventQuery): Promise<CloudEvent[]>;
}
