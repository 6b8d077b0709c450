/**
 * The HTTP client the CLI commands share: Hono's typed client (`hc`) over
 * the API's own route types, so paths, parameters, bodies and answers are
 * checked against routes/ rather than cast. Base URL from `UN_URL` (default
 * `http://127.0.0.1:4242`), bearer token from `UN_TOKEN`, and errors sorted
 * into "unreachable" (exit 2) and "the server said no" (exit 1).
 */

import { type ClientResponse, hc } from "hono/client";
import type { SuccessStatusCode as SuccessStatus } from "hono/utils/http-status";
import type { JSONParsed } from "hono/utils/types";
import type { AppType } from "../routes/app.ts";
import { ApiError, UnreachableError, UsageError } from "./errors.ts";

/**
 * Where `un start` listens unless told otherwise.
 */
export const DEFAULT_URL = "http://127.0.0.1:4242";
/** A request that takes longer than this is treated as an unreachable instance. */
const REQUEST_TIMEOUT_MS = 30_000;

/** Short, human reason for a failed connection. */
function reasonOf(err: unknown): string {
  const text = err instanceof Error ? `${err.message} ${String(err.cause ?? "")}` : String(err);
  if (/refused/i.test(text)) return "connection refused";
  if (
    /timed? ?out|TimeoutError/i.test(text) ||
    (err instanceof DOMException && err.name === "TimeoutError")
  ) {
    return "timed out";
  }
  if (/dns|lookup|not known|resolve/i.test(text)) return "host not found";
  if (/reset|closed|broken pipe/i.test(text)) return "connection closed";
  return text.trim().split("\n")[0].slice(0, 120);
}

/**
 * A type as it comes over the wire: what `hc` gives for an answer built from
 * it (JSON values widened, `undefined` fields optional). The CLI formats
 * these, so its formatters take `Wire<Task>` rather than `Task`.
 */
export type Wire<T> = JSONParsed<T>;

/** The JSON of a successful answer: each 2xx answer the route may give. */
type Body<R> = R extends ClientResponse<infer T, infer S, "json">
  ? S extends SuccessStatus ? T : never
  : never;

/** The typed API of an instance, as `hc<AppType>` makes it. */
export type Api = ReturnType<typeof hc<AppType>>;

/**
 * A client of one `un` instance.
 *
 * @example
 * ```ts
 * const client = UnClient.fromEnv();
 * const { tasks } = await client.json(client.api.un.tasks.$get({ query: { limit: "10" } }));
 * ```
 */
export class UnClient {
  readonly baseUrl: string;
  /** The API, typed from routes/: `api.un.tasks[":id"].$get({ param: { id } })`. */
  readonly api: Api;

  constructor(baseUrl: string, readonly token?: string) {
    let url: URL;
    try {
      url = new URL(baseUrl);
    } catch {
      throw new UsageError(
        `UN_URL must be a URL such as ${DEFAULT_URL}, got ${JSON.stringify(baseUrl)}`,
      );
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new UsageError(`UN_URL must be an http(s) URL, got ${JSON.stringify(baseUrl)}`);
    }
    this.baseUrl = url.origin + url.pathname.replace(/\/+$/, "");
    this.api = hc<AppType>(this.baseUrl, {
      fetch: (input: RequestInfo | URL, init?: RequestInit) => this.#send(input, init),
    });
  }

  /** A client for `UN_URL` and `UN_TOKEN`. */
  static fromEnv(): UnClient {
    return new UnClient(
      Deno.env.get("UN_URL") || DEFAULT_URL,
      Deno.env.get("UN_TOKEN") || undefined,
    );
  }

  /**
   * Every request of {@link api}: the token, JSON wanted unless the call says
   * otherwise, a timeout unless the call brings its own signal; throws
   * UnreachableError when nothing answers.
   */
  async #send(input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (!headers.has("accept")) headers.set("accept", "application/json");
    if (this.token) headers.set("authorization", `Bearer ${this.token}`);
    try {
      return await fetch(input, {
        ...init,
        headers,
        signal: init.signal ?? AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (err) {
      throw new UnreachableError(this.baseUrl, reasonOf(err));
    }
  }

  /**
   * The JSON answer of a call on {@link api}; an error answer throws ApiError
   * with the server's code and message.
   */
  // deno-lint-ignore no-explicit-any
  async json<R extends ClientResponse<unknown, number, any>>(call: Promise<R>): Promise<Body<R>> {
    const res = await call;
    if (!res.ok) throw await errorOf(res);
    const text = await res.text();
    try {
      if (text) return JSON.parse(text) as Body<R>; // JSON as the route's type says
    } catch {
      // not JSON: said below
    }
    throw new UnreachableError(
      this.baseUrl,
      `answered ${res.status} without JSON; is UN_URL an un instance?`,
    );
  }
}

/**
 * The ApiError of an error answer: the server's `{ error: { code, message,
 * details } }`, or the status and the start of the body when it is not that.
 */
export async function errorOf(
  res: Pick<Response, "status" | "statusText" | "text">,
): Promise<ApiError> {
  const text = await res.text().catch(() => "");
  let error: { code?: string; message?: string; details?: Record<string, unknown> } | undefined;
  try {
    error = JSON.parse(text)?.error;
  } catch {
    error = undefined;
  }
  return new ApiError(
    res.status,
    error?.code ?? "http_error",
    error?.message ?? (text.slice(0, 200) || res.statusText),
    error?.details ?? {},
  );
}
