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
