/**
 * `un scan [id]`: scan one source now (or every enabled source) and print the
 * changes found. Manual scans are rate limited per source (`api.scanLimit`);
 * a refused scan exits 1 and says when to retry.
 */

import type { ScanRecord } from "../lib/sources/scan-history.ts";
import { parse } from "./args.ts";
import { UnClient } from "./client.ts";
import { UsageError } from "./errors.ts";
import { printJson } from "./format.ts";

const USAGE = "un scan [source-id] [--json]";

/**
 * A scan as one line.
 */
export function scanLine(id: string, scan: ScanRecord): string {
  if (scan.error !== null) return `${id}: failed after ${scan.durationMs}ms: ${scan.error}`;
  const n = scan.changes ?? 0;
  return `${id}: ${n} ${n === 1 ? "change" : "changes"} in ${scan.durationMs}ms`;
}

/**
 * Runs `un scan`.
 */
export async function scanCommand(args: string[]): Promise<number> {
  const { values, positionals: rest } = parse(args, { json: { type: "boolean" } }, USAGE);
  if (rest.length > 1) {
    throw new UsageError(`unexpected argument ${JSON.stringify(rest[1])}; usage: ${USAGE}`);
  }
  const client = UnClient.fromEnv();
  const body = { requestedBy: "cli" };
  if (rest[0] !== undefined) {
    const id = rest[0];
    // A refused or failed scan is an error answer: the client throws and main prints it (exit 1).
    const answer = await client.json(client.api.un.sources[":id"].scan.$post({
      param: { id: encodeURIComponent(id) },
      json: body,
    }));
    if (values.json) printJson(answer);
    else console.log(scanLine(id, answer.scan));
    return 0;
  }
  const { results } = await client.json(client.api.un.scan.$post({ json: body }));
  if (values.json) printJson({ results });
  else if (results.length === 0) console.log("no enabled sources");
  else {
    for (const r of results) {
      console.log(
        "scan" in r
          ? scanLine(r.source, r.scan)
          : `${r.source}: ${r.error.code}: ${r.error.message}`,
      );
    }
  }
  return results.every((r) => r.ok) ? 0 : 1;
}
