/**
 * The field types the configuration schema is built from. Each names its
 * range in its error message, so errors read
 * `workers.concurrency must be an integer 1..256, got 0`.
 */

import { z } from "zod";
import { parseDuration } from "../duration.ts";
import { assertPattern } from "../events/wildcard.ts";
import { taskPriority } from "../tasks/task.ts";

/** An integer in `min..max`; the message names the range. */
export function int(min: number, max: number) {
  const msg = `must be an integer ${min}..${max}`;
  return z.number({ error: msg }).int({ error: msg }).min(min, { error: msg }).max(max, {
    error: msg,
  });
}

/** Milliseconds as a number only (keys ending in `Ms`). */
export function ms(min: number, max: number) {
  return int(min, max);
}

/**
 * A duration: milliseconds or a string like "30s"; range checked after parsing.
 * The range is also kept as metadata, since the transform hides it from the
 * JSON Schema the configuration reference is generated from.
 */
export function duration(min: number, max: number) {
  const allowed =
    `must be a duration ${min}ms..${max}ms (a number of ms or "500ms", "30s", "5m", "1h")`;
  return z.union([z.number(), z.string()], { error: allowed }).transform((value, ctx) => {
    const parsed = parseDuration(value);
    if (parsed === null || parsed < min || parsed > max) {
      ctx.addIssue({ code: "custom", message: allowed });
      return z.NEVER;
    }
    return parsed;
  }).meta({ durationMs: { min, max } });
}

/** An event type pattern (`file.*`, `task.**`). */
export const pattern = z.string().superRefine((value, ctx) => {
  try {
    assertPattern(value);
  } catch (err) {
    ctx.addIssue({ code: "custom", message: (err as Error).message.replace(/^pattern /, "") });
  }
});

/** A task priority, 9 first. */
export const priority = taskPriority;
/** The id of a source or schedule. */
export const id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$/, {
  error: "must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit",
});
