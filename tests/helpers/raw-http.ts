/**
 * One HTTP/1.1 request over a plain socket, for what `fetch` will not send
 * as given (a foreign `Host` header, as a DNS-rebinding page sends it).
 */

/**
 * Sends one request with exactly these headers and returns the status and body.
 *
 * @example
 * ```ts
 * const { status } = await rawRequest(un.url, "GET", "/health", { host: "evil.example" });
 * ```
 */
export async function rawRequest(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body = "",
): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(base);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  try {
    const lines = [`${method} ${path} HTTP/1.1`, "Connection: close"];
    for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
    if (body) lines.push(`Content-Length: ${new TextEncoder().encode(body).length}`);
    await conn.write(new TextEncoder().encode(lines.join("\r\n") + "\r\n\r\n" + body));
    const text = await new Response(conn.readable).text();
    const status = Number(text.match(/^HTTP\/1\.1 (\d{3})/)?.[1] ?? 0);
    return { status, body: text.slice(text.indexOf("\r\n\r\n") + 4) };
  } catch (err) {
    try {
      conn.close();
    } catch {
      // closed with its readable
    }
    throw err;
  }
}
