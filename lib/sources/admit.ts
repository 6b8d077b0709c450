/**
 * What a source added at run time may reach: its URL's host against
 * `http.allow` (feed `url`, GitHub `apiUrl`, HTTP `url`, the host of a
 * postgres connection string) and an `fs` source's path inside the file roots.
 * Config-file sources are the operator's own and never pass here.
 */

import type { Config, SourceSpec } from "../config/load.ts";
import { ValidationError } from "../errors.ts";
import { addressAllowed, checkOutboundUrl, hostMatchesName } from "../safety/outbound.ts";
import { checkReadablePath, fileRoots } from "../safety/files.ts";

/**
 * Refuses (400 naming the field and the host or path) a run-time source that
 * reaches what the operator did not allow.
 */
export async function admitSource(
  spec: SourceSpec,
  config: Config,
  cwd: string = Deno.cwd(),
): Promise<void> {
  const allow = config.http.allow;
  switch (spec.kind) {
    case "feed":
    case "http":
      return await checkOutboundUrl(spec.url, allow, "url");
    case "github":
      return await checkOutboundUrl(spec.apiUrl, allow, "apiUrl");
    case "postgres":
      return await checkPostgresHost(spec.url, allow);
    case "fs":
      await checkReadablePath(spec.path, fileRoots(config, cwd), "path");
  }
}

/**
 * Refuses (a {@link ValidationError} naming `url`, the host and `http.allow`)
 * a postgres connection string whose host `allow` does not cover. The host is
 * read as pg-connection-string reads it: a `host` query parameter wins over
 * the URL's host, the host is percent-decoded, an empty one means the local
 * server (or PGHOST), and one that starts with `/` is a Unix socket, which is
 * local too. Checked when a source is added and before each connection.
 */
export async function checkPostgresHost(url: string, allow: readonly string[]): Promise<void> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ValidationError("url: not a postgres:// URL with a host", { field: "url" });
  }
  let host = parsed.searchParams.get("host") || parsed.hostname;
  try {
    host = decodeURIComponent(host); // as pg does: %2Fvar%2Frun%2Fpostgresql is a socket
  } catch {
    // Left encoded: the http URL below refuses what does not parse.
  }
  if (host.startsWith("/")) {
    if (hostMatchesName("localhost", allow) || addressAllowed("127.0.0.1", allow)) return;
    const allowed = JSON.stringify(allow);
    throw new ValidationError(
      `url: the Unix socket ${host} is on this machine, which http.allow (${allowed}) ` +
        `does not allow; add "localhost" to http.allow to let un reach it`,
      { field: "url", host, allow, reason: "not_allowed" },
    );
  }
  const bare = host.replace(/^\[(.*)\]$/, "$1") || "localhost";
  const authority = bare.includes(":") ? `[${bare}]` : bare;
  // An http URL, so the host is parsed (and IPv4 spellings normalized) as fetch would.
  await checkOutboundUrl(`http://${authority}/`, allow, "url");
}
