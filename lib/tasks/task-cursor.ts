/**
 * The cursor of `GET /un/tasks`: where a page ended, opaque to clients. It is
 * the last task's creation time and id (the listing's order), base64url, so a
 * page that starts after it never repeats a task however tasks change state.
 */

import type { TaskPosition } from "../store/types.ts";

/** Ids are ULIDs; a cursor naming anything else was not made here. */
const ID = /^[0-9A-Za-z]{1,64}$/;

/**
 * The cursor after `task`.
 *
 * @example
 * ```ts
 * encodeTaskCursor({ createdAt: 1700000000000, id: "01J..." }); // "MTcwMDAwMDAwMDAwMC4wMUou..."
 * ```
 */
export function encodeTaskCursor(position: TaskPosition): string {
  const text = `${position.createdAt}.${position.id}`;
  return btoa(text).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/**
 * The position a cursor names, or null when it is not one this API made.
 */
export function decodeTaskCursor(cursor: string): TaskPosition | null {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) return null;
  let text: string;
  try {
    text = atob(cursor.replaceAll("-", "+").replaceAll("_", "/"));
  } catch {
    return null;
  }
  const dot = text.indexOf(".");
  const createdAt = Number(text.slice(0, dot));
  const id = text.slice(dot + 1);
  if (dot < 1 || !/^\d+$/.test(text.slice(0, dot)) || !Number.isSafeInteger(createdAt)) return null;
  return ID.test(id) ? { createdAt, id } : null;
}
