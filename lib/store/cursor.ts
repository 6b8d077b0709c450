/**
 * The cursors of the listings (`GET /un/tasks`, `GET /un/batches`): where a
 * page ended, opaque to clients. A cursor is the last item's position in the
 * listing's order (a time, then its id), base64url, so a page that starts
 * after it never repeats an item however items change meanwhile.
 */

import type { TaskPosition } from "./types.ts";

/** A place in a listing ordered by a time, ties broken by id. */
export interface ListingPosition {
  at: number;
  id: string;
}

/** Ids are ULIDs; a task cursor naming anything else was not made here. */
const TASK_ID = /^[0-9A-Za-z]{1,64}$/;

/**
 * The cursor after `position` (its id may be any text: UTF-8, then base64url).
 *
 * @example
 * ```ts
 * encodeCursor({ at: 1700000000000, id: "b1" }); // "MTcwMDAwMDAwMDAwMC5iMQ"
 * ```
 */
export function encodeCursor(position: ListingPosition): string {
  const bytes = new TextEncoder().encode(`${position.at}.${position.id}`);
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_")
    .replace(/=+$/, "");
}

/** The position a cursor names, or null when it is not one {@link encodeCursor} made. */
export function decodeCursor(cursor: string): ListingPosition | null {
  if (!/^[A-Za-z0-9_-]{1,400}$/.test(cursor)) return null;
  let text: string;
  try {
    const binary = atob(cursor.replaceAll("-", "+").replaceAll("_", "/"));
    const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
  const dot = text.indexOf(".");
  const at = Number(text.slice(0, dot));
  const id = text.slice(dot + 1);
  if (dot < 1 || !/^\d+$/.test(text.slice(0, dot)) || !Number.isSafeInteger(at)) return null;
  return id.length > 0 ? { at, id } : null;
}

/** The cursor after a task of `GET /un/tasks` (ordered by creation). */
export function encodeTaskCursor(position: TaskPosition): string {
  return encodeCursor({ at: position.createdAt, id: position.id });
}

/** The task position a cursor names, or null when it is not a task cursor. */
export function decodeTaskCursor(cursor: string): TaskPosition | null {
  const position = decodeCursor(cursor);
  return position && TASK_ID.test(position.id) ? { createdAt: position.at, id: position.id } : null;
}
