/**
 * Short helpers for describing a route in the OpenAPI document
 * (hono-openapi's `describeRoute`): a JSON answer from a zod schema, and the
 * error answers a route can give, all of them the one error body.
 */

import { describeRoute, type DescribeRouteOptions, resolver } from "hono-openapi";
import type { MiddlewareHandler } from "hono";
import type { z } from "zod";
import { errorSchema } from "./schemas.ts";

/** What each error status means on this API. */
const PROBLEMS: Record<number, string> = {
  400: "The request is invalid; the message names the field, the value and what is allowed",
  404: "No such resource",
  409: "The resource's state refuses this",
  413: "The body is larger than api.bodyLimitBytes",
  429: "Too many requests; see Retry-After and details.retryAfterMs",
  502: "The work ran and failed; details carry it",
  503: "No process can do this now (an actor or the store is unavailable); try again",
};

type Responses = NonNullable<DescribeRouteOptions["responses"]>;

/**
 * A JSON answer described by a zod schema.
 */
export function answer(description: string, schema: z.ZodType): Responses[string] {
  return { description, content: { "application/json": { schema: resolver(schema) } } };
}

/**
 * Error answers, each with the error body.
 */
export function problems(...statuses: Array<keyof typeof PROBLEMS>): Responses {
  const error = resolver(errorSchema);
  return Object.fromEntries(statuses.map((status) => [status, {
    description: PROBLEMS[status],
    content: { "application/json": { schema: error } },
  }]));
}

/**
 * Describes an operation: its tag (the resource), a one-line summary, its
 * answers, and anything else OpenAPI allows (`description`, `parameters`…).
 *
 * @example
 * ```ts
 * app.get("/", describe("queues", "Task counts by queue and state", { 200: answer(...) }), handler);
 * ```
 */
export function describe(
  tag: string,
  summary: string,
  responses: Responses,
  more: Omit<DescribeRouteOptions, "tags" | "summary" | "responses"> = {},
): MiddlewareHandler {
  return describeRoute({ tags: [tag], summary, responses, ...more });
}
