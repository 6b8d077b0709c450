/**
 * The CloudEvent of a file change: `file.created|modified|deleted|renamed`,
 * subject = the path relative to the root with forward slashes.
 */

import { join } from "node:path";
import {
  type CloudEvent,
  createEvent,
  type EventPriority,
  sourceUri,
} from "../events/cloud-event.ts";
import type { FileChange } from "./reconcile.ts";

/** Where a change happened. */
export interface FileEventContext {
  sourceId: string;
  /** Absolute root of the watched tree. */
  root: string;
  priority: EventPriority;
}

/**
 * Builds the event of one change. `data` has `sourceId`, `path` (absolute),
 * `relativePath`, `size` and `mtimeMs` (of the last known entry for a
 * deletion); a rename adds `from` / `to` (relative) and `fromPath` (absolute).
 */
export function fileEvent(change: FileChange, context: FileEventContext): CloudEvent {
  const { entry } = change;
  const data: Record<string, string | number> = {
    sourceId: context.sourceId,
    path: join(context.root, entry.path),
    relativePath: entry.path,
    size: entry.size,
    mtimeMs: entry.mtimeMs,
  };
  if (change.kind === "renamed") {
    data.from = change.from.path;
    data.to = entry.path;
    data.fromPath = join(context.root, change.from.path);
  }
  return createEvent({
    type: `file.${change.kind}`,
    source: sourceUri(context.sourceId),
    subject: entry.path,
    priority: context.priority,
    data,
  });
}
