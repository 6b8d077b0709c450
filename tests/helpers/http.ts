/**
 * Small HTTP helpers for black-box tests against a running `un`.
 */

/** A JSON response: status and parsed body. */
export interface JsonResponse<T = Record<string, unknown>> {
  status: number;
  body: T;
}

/**
 * Calls the API and parses the JSON answer (the body is always consumed).
 *
 * @example
 * ```ts
 * const { status, body } = await api(url, "POST", "/un/tasks/create", { type: "noop" });
 * ```
 */
export async function api<T = Record<string, unknown>>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<JsonResponse<T>> {
  const res = await fetch(base + path, {
    method,
    headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = { raw: text };
  }
  return { status: res.status, body: parsed as T };
}

/**
 * Polls `check` until it returns a value that is not undefined/false, or fails
 * with `what` after `timeoutMs`.
 *
 * @example
 * ```ts
 * const task = await eventually(async () => { ... return done ? task : undefined; }, 5_000, "task done");
 * ```
 */
export async function eventually<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs: number,
  what: string,
  intervalMs = 25,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value as T;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}${last ? `: ${last}` : ""}`);
}

/**
 * A loopback port nothing listens on.
 *
 * @example
 * ```ts
 * const url = `http://127.0.0.1:${closedPort()}`;
 * ```
 */
export function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}
