/**
 * Validator middleware: a route's JSON body, query string and path
 * parameters are checked with zod schemas before its handler runs, and the
 * handler reads `c.req.valid("json" | "query" | "param")`, typed from the
 * schema (and so is `hc<AppType>`'s request). A failure is lib/validate.ts's
 * 400, `{ error: { code: "invalid_request", message, details: { field, … } } }`.
 *
 * Not Hono's `validator()` nor hono-openapi's: their `json` target parses
 * the body itself (a malformed body becomes their own "Malformed JSON" 400,
 * with no depth limit, and a body sent without a JSON `Content-Type` is
 * taken as `{}`), and their `query` target turns a repeated key into an
 * array. These read the request as the routes always did (routes/body.ts
 * `readJson`, `c.req.query()`, `c.req.param()`) and carry hono-openapi's
 * metadata, so routes/openapi.ts documents the very schemas they check with.
 */

import type { Context, Env, MiddlewareHandler } from "hono";
import { resolver, uniqueSymbol } from "hono-openapi";
import type { z } from "zod";
import { validate } from "../lib/validate.ts";
import { readJson } from "./body.ts";

/** The parts of a request a validator checks. */
type Target = "json" | "query" | "param";

/**
 * A validator for `target`: what a client sends (`in`, the schema's input)
 * and what the handler reads (`out`).
 */
export type Validator<T extends Target, In, Out> = MiddlewareHandler<
  Env,
  string,
  { in: { [K in T]: In }; out: { [K in T]: Out } }
>;

function validatorOf<T extends Target, In, Out>(
  target: T,
  schema: z.ZodType,
  read: (c: Context) => unknown,
  check: (input: unknown) => Out,
): Validator<T, In, Out> {
  const middleware: MiddlewareHandler = async (c, next) => {
    c.req.addValidatedData(target, check(await read(c)) as object);
    await next();
  };
  // hono-openapi builds an operation's parameters and request body from middleware carrying this.
  return Object.assign(middleware, { [uniqueSymbol]: { target, ...resolver(schema) } });
}

/** How {@link jsonBody} reads and checks a body when the route needs more than the schema. */
export interface JsonBodyOptions<Out> {
  /** Reads the body (default: routes/body.ts `readJson`, 400 for an empty or malformed body). */
  read?: (c: Context) => Promise<unknown>;
  /** Checks it (default: the schema, through lib/validate.ts `validate`). */
  parse?: (input: unknown) => Out;
}

/**
 * Validates the JSON body; the handler reads `c.req.valid("json")`.
 *
 * `parse` is for bodies whose checks say more than a schema can (task
 * batches, source kinds naming the key meant); `schema` then still
 * describes the body in the OpenAPI document and types the client.
 *
 * @example
 * ```ts
 * app.post("/scale", jsonBody(strictObject({ concurrency: intIn(1, 256) })), (c) =>
 *   c.json({ concurrency: c.req.valid("json").concurrency }));
 * ```
 */
export function jsonBody<S extends z.ZodType, Out = z.output<S>>(
  schema: S,
  options: JsonBodyOptions<Out> = {},
): Validator<"json", z.input<S>, Out> {
  const parse = options.parse ?? ((input: unknown) => validate(schema, input, "body") as Out);
  return validatorOf("json", schema, options.read ?? readJson, parse);
}

/**
 * Validates the query string (one value per key, as `c.req.query()` gives
 * it); the handler reads `c.req.valid("query")`.
 */
export function query<S extends z.ZodType>(schema: S): Validator<"query", z.input<S>, z.output<S>> {
  return validatorOf(
    "query",
    schema,
    (c) => c.req.query(),
    (input) => validate(schema, input, "query"),
  );
}

/**
 * Validates the path parameters; the handler reads `c.req.valid("param")`.
 */
export function params<S extends z.ZodType>(
  schema: S,
): Validator<"param", z.input<S>, z.output<S>> {
  return validatorOf(
    "param",
    schema,
    (c) => c.req.param(),
    (input) => validate(schema, input, "path"),
  );
}
