/**
 * What a hook added at run time may say: the config's hook (`on`, `task`,
 * `payload`, `priority`, `queue`, `delayMs`, `key`, ...) plus `where`, a CEL
 * condition on the event (lib/expressions/expression.ts, the project's
 * expression library), `sample: {every: n}`, and `enabled`.
 */

import { z } from "zod";
import { hookSchema } from "../config/hooks.ts";
import { ValidationError } from "../errors.ts";
import type { CloudEvent, Json } from "../events/cloud-event.ts";
import { compileExpression, type Expression, ExpressionError } from "../expressions/expression.ts";
import { validate } from "../validate.ts";

/**
 * The event's fields a `where` can name (`data.size > 1000`,
 * `subject.endsWith(".md")`), and `event`, the whole event: its type is
 * `event.type` (`type` is a CEL function's name).
 */
export const WHERE_VARIABLES = [
  "event",
  "id",
  "source",
  "subject",
  "time",
  "data",
  "priority",
  "correlationid",
  "origin",
] as const;

/** A hook's definition as the API takes it. */
export const apiHookSchema = hookSchema.omit({ isolate: true }).extend({
  where: z.string().min(1).max(2_000).optional().describe(
    'A CEL condition on the event, e.g. `data.size > 1000 && subject.matches("\\\\.md$")`; ' +
      "variables: " + WHERE_VARIABLES.join(", ") + ". False when a field is missing.",
  ),
  sample: z.strictObject({
    every: z.number().int().min(1).max(1_000_000).describe("fire on every n-th matching event"),
  }).optional().describe("Fire on every n-th event that matches `on` and `where` (per process)."),
  enabled: z.boolean().default(true).describe("A disabled hook is kept but matches nothing."),
});

/** A parsed hook definition. */
export type ApiHookSpec = z.output<typeof apiHookSchema>;

/** The variables a `where` sees for an event. */
export function whereVariables(event: CloudEvent): Record<string, unknown> {
  return {
    event,
    id: event.id,
    source: event.source,
    subject: event.subject ?? null,
    time: event.time,
    data: event.data,
    priority: event.priority,
    correlationid: event.correlationid ?? null,
    origin: event.origin,
  };
}

/** Compiles a `where`; a bad one is a 400 naming the expression and the problem. */
export function compileWhere(source: string): Expression {
  try {
    return compileExpression(source, WHERE_VARIABLES);
  } catch (error) {
    if (!(error instanceof ExpressionError)) throw error;
    throw new ValidationError(`where ${JSON.stringify(source)} does not compile: ${error.reason}`, {
      field: "where",
      value: source,
    });
  }
}

/**
 * Validates a definition (400 naming the field, or the `where` that does not
 * compile) and returns it parsed.
 */
export function parseHookSpec(input: unknown): ApiHookSpec {
  const spec = validate(apiHookSchema, input, "hook");
  if (spec.where !== undefined) compileWhere(spec.where);
  return spec;
}

/** A parsed definition as stored (JSON). */
export function specJson(spec: ApiHookSpec): Record<string, Json> {
  return JSON.parse(JSON.stringify(spec)) as Record<string, Json>;
}
