/**
 * CloudEvents 1.0 envelope used for every change `un` sees or makes.
 */

import { nextUlid } from "./ulid.ts";

/** Event priorities (a CloudEvents extension). */
export const EVENT_PRIORITIES = ["critical", "high", "normal", "low"] as const;
/** One of {@link EVENT_PRIORITIES}. */
export type EventPriority = typeof EVENT_PRIORITIES[number];

/** The task priority (0–9) an event priority maps to when a hook makes a task of it. */
export const EVENT_PRIORITY_TO_TASK: Record<EventPriority, number> = {
  critical: 9,
  high: 7,
  normal: 5,
  low: 2,
};

/** JSON values as they travel in payloads, results and event data. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A CloudEvent as `un` stores and sends it. */
export interface CloudEvent {
  /** ULID: sortable by time, unique across processes. */
  id: string;
  /** `/un/sources/<id>`, `/un/api`, `/un/runtime` ... */
  source: string;
  specversion: "1.0";
  type: string;
  /** RFC 3339 time. */
  time: string;
  subject?: string;
  datacontenttype: "application/json";
  data: Json;
  priority: EventPriority;
  correlationid?: string;
  /** Id of the process that made the event, so a bridge never echoes it back. */
  origin: string;
}

/** What a producer gives; the rest of the envelope is filled in. */
export interface EventInit {
  type: string;
  source: string;
  data?: Json;
  subject?: string;
  priority?: EventPriority;
  correlationid?: string;
}

/** The ISO form of the last millisecond asked for: events made in one ms share it. */
let isoMs = 0;
let isoText = new Date(0).toISOString();
function isoAt(now: number): string {
  if (now !== isoMs) {
    isoMs = now;
    isoText = new Date(now).toISOString();
  }
  return isoText;
}

/**
 * This process's id, stamped on every event as `origin`.
 * `UN_PROCESS_ID` overrides it (tests, containers with stable names).
 */
export const PROCESS_ID: string = Deno.env.get("UN_PROCESS_ID") ??
  `${Deno.hostname()}:${Deno.pid}:${nextUlid().slice(-6)}`;

/**
 * Makes a new event id. Monotonic within a process, so ids sort in the order
 * events were made even within one millisecond.
 */
export function newId(): string {
  return nextUlid();
}

/**
 * Builds a full CloudEvent.
 */
export function createEvent(init: EventInit): CloudEvent {
  // One clock read for the id and the time.
  const now = Date.now();
  const event: CloudEvent = {
    id: nextUlid(now),
    source: init.source,
    specversion: "1.0",
    type: init.type,
    time: isoAt(now),
    datacontenttype: "application/json",
    data: init.data ?? null,
    priority: init.priority ?? "normal",
    origin: PROCESS_ID,
  };
  if (init.subject !== undefined) event.subject = init.subject;
  if (init.correlationid !== undefined) event.correlationid = init.correlationid;
  return event;
}

/** `source` of events that a source (scanner) produced. */
export function sourceUri(sourceId: string): string {
  return `/un/sources/${sourceId}`;
}
