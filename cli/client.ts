/**
 * The HTTP client the CLI commands share: base URL from `UN_URL` (default
 * `http://127.0.0.1:4242`), bearer token from `UN_TOKEN`, JSON in and out,
 * and errors sorted into "unreachable" (exit 2) and "the server said no" (exit 1).
 */

import { ApiError, UnreachableError, UsageError } from "./errors.ts";

/**
 * Where `un start` listens unless told otherwise.
 *
 * @example
 * ```ts
 * new UnClient(Deno.env.get("UN_URL") ?? DEFAULT_URL);
 * ```
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
 * A client of one `un` instance.
 *
 * @example
 * ```ts
 * const client = UnClient.fromEnv();
 * const { tasks } = await client.get<{ tasks: Task[] }>("/un/tasks?limit=10");
 * ```
 */
export class UnClient {
  readonly baseUrl: string;

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
  }

  /** A client for `UN_URL` and `UN_TOKEN`. */
  static fromEnv(): UnClient {
    return new UnClient(
      Deno.env.get("UN_URL") || DEFAULT_URL,
      Deno.env.get("UN_TOKEN") || undefined,
    );
  }

  /** Sends a request; the raw response (any status). Throws UnreachableError when nothing answers. */
  async fetch(
    method: string,
    path: string,
    options: { body?: unknown; headers?: Record<string, string>; signal?: AbortSignal } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { accept: "application/json", ...options.headers };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let body: string | undefined;
    if (options.body !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(options.body);
    }
    try {
      return await fetch(this.baseUrl + path, {
        method,
        headers,
        body,
        signal: options.signal ?? AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (err) {
      throw new UnreachableError(this.baseUrl, reasonOf(err));
    }
  }

  /** Sends a JSON request and returns the JSON answer; an error answer throws ApiError. */
  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.fetch(method, path, { body });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    if (!res.ok) {
      const error =
        (json as { error?: { code?: string; message?: string; details?: Record<string, unknown> } })
          ?.error;
      throw new ApiError(
        res.status,
        error?.code ?? "http_error",
        error?.message ?? (text.slice(0, 200) || res.statusText),
        error?.details ?? {},
      );
    }
    if (json === null) {
      throw new UnreachableError(
        this.baseUrl,
        `answered ${res.status} without JSON; is UN_URL an un instance?`,
      );
    }
    return json as T;
  }

  /** `GET` a JSON resource. */
  get<T>(path: string): Promise<T> {
    return this.request<T>("GET", path);
  }

  /** `POST` JSON. */
  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>("POST", path, body);
  }

  /** `DELETE` a resource. */
  delete<T>(path: string): Promise<T> {
    return this.request<T>("DELETE", path);
  }
}
