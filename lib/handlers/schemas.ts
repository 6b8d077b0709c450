/**
 * Payload schemas of task types: the built-ins' and those a handlers module
 * exports (`export const schemas = { embed: z.object({...}) }`). One
 * definition serves twice: `POST /un/tasks/create` refuses a payload that
 * does not fit with a 400 naming the field (lib/safety/admission.ts), and the
 * worker parses it again before the handler runs (tasks made by hooks and
 * schedules never passed the API), failing the task permanently.
 *
 * A schema travels with its handler function, so a {@link HandlerMap} (what
 * `loadHandlers` returns and `Runtime.start` takes) carries both.
 */

import type { z } from "zod";
import { formatIssues } from "../config/load.ts";
import { PermanentError } from "../errors.ts";
import type { Handler, HandlerMap } from "./types.ts";

/**
 * A payload schema: a zod schema (zod 4, or anything with zod's `safeParse`).
 */
export interface PayloadSchema {
  safeParse(input: unknown): { success: boolean; data?: unknown; error?: unknown };
}

const SCHEMAS = new WeakMap<Handler, PayloadSchema>();

/**
 * True when `value` can serve as a payload schema.
 */
export function isPayloadSchema(value: unknown): value is PayloadSchema {
  return value !== null && typeof value === "object" &&
    typeof (value as { safeParse?: unknown }).safeParse === "function";
}

/**
 * Attaches a payload schema to a handler (and returns the handler).
 *
 * @example
 * ```ts
 * const sleep = withPayloadSchema(defineHandler(sleepHandler), sleepPayload);
 * ```
 */
export function withPayloadSchema(handler: Handler, schema: PayloadSchema): Handler {
  SCHEMAS.set(handler, schema);
  return handler;
}

/**
 * The payload schema of a task type in a handler map, if its handler has one.
 */
export function payloadSchemaOf(handlers: HandlerMap, type: string): PayloadSchema | undefined {
  const handler = Object.hasOwn(handlers, type) ? handlers[type] : undefined;
  return handler ? SCHEMAS.get(handler) : undefined;
}

/**
 * A payload checked against a schema: the parsed payload, or the problems
 * (one line each, naming the field) and the first problem's field.
 */
export type PayloadCheck =
  | { ok: true; data: unknown }
  | { ok: false; field: string; problems: string[] };

/**
 * Checks a payload against a schema; `prefix` names the payload in messages
 * (`payload`, or `tasks[2].payload` in a batch).
 *
 * @example
 * ```ts
 * checkPayload(z.object({ ms: z.number() }), {}); // { ok: false, field: "payload.ms", problems: [...] }
 * ```
 */
export function checkPayload(
  schema: PayloadSchema,
  payload: unknown,
  prefix = "payload",
): PayloadCheck {
  const result = schema.safeParse(payload);
  if (result.success) return { ok: true, data: result.data };
  const issues = (result.error as { issues?: unknown } | undefined)?.issues;
  if (!Array.isArray(issues) || issues.length === 0) {
    return { ok: false, field: prefix, problems: [`${prefix} is not valid: ${result.error}`] };
  }
  const first = issues[0] as { path?: PropertyKey[]; code?: string; keys?: string[] };
  const path = [...(first.path ?? [])];
  // A key that is not one: the field is that key.
  if (first.code === "unrecognized_keys" && first.keys?.length) path.push(first.keys[0]);
  return {
    ok: false,
    field: [prefix, ...path.map(String)].join("."),
    problems: formatIssues(issues as z.core.$ZodIssue[], payload, prefix, schema),
  };
}

/**
 * Wraps a handlers module's handler so its payload is parsed with the
 * module's schema first: a payload that does not fit fails the task
 * permanently (it would not fit on a retry either), and the handler gets the
 * parsed payload (defaults applied, as the built-ins do).
 */
export function checkedHandler(type: string, handler: Handler, schema: PayloadSchema): Handler {
  const checked: Handler = (task, ctx) => {
    const check = checkPayload(schema, task.payload);
    if (!check.ok) throw new PermanentError(`${type}: ${check.problems.join("; ")}`);
    return handler({ ...task, payload: check.data as typeof task.payload }, ctx);
  };
  return withPayloadSchema(checked, schema);
}
