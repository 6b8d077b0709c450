/**
 * Checks a task request against what the operator allowed before it is
 * stored: an `http` task's URL against `http.allow`, a `file.metadata` path
 * against the file roots. A refusal is a 400 at the door instead of a task
 * that fails later (the handlers check again at run time, for tasks made by
 * hooks and schedules).
 */

import type { Config } from "../config.ts";
import type { TaskRequest } from "../messages.ts";
import { checkReadablePath, fileRoots } from "./files.ts";
import { checkOutboundUrl } from "./outbound.ts";

/** Throws a ValidationError (400) for the first request that reaches what it may not. */
export async function admitTaskRequests(
  requests: readonly TaskRequest[],
  config: Config,
  cwd: string = Deno.cwd(),
): Promise<void> {
  for (const [index, request] of requests.entries()) {
    const field = requests.length > 1 ? `tasks[${index}].payload` : "payload";
    const payload = request.payload;
    if (payload === null || typeof payload !== "object" || Array.isArray(payload)) continue;
    if (request.type === "http" && typeof payload.url === "string") {
      await checkOutboundUrl(payload.url, config.http.allow, `${field}.url`);
    }
    if (request.type === "file.metadata" && typeof payload.path === "string") {
      await checkReadablePath(payload.path, fileRoots(config, cwd), `${field}.path`);
    }
  }
}
