/**
 * `un store ack-reset`: an operator's word that they have seen Redis lose its
 * data (a restart without AOF or RDB, FLUSHALL, a failover to an empty
 * replica). Until then every process reports the loss on `/health`
 * (degraded); after it, each clears within one heartbeat. It asks a running
 * instance (`UN_URL`, `UN_TOKEN`), which records the acknowledgement in
 * Redis for the whole cluster. Safe to repeat: with nothing to acknowledge
 * it says so and exits 0.
 */

import { parse, positionals } from "./args.ts";
import { UnClient } from "./client.ts";
import { printJson } from "./format.ts";

const USAGE = "un store ack-reset [--json]";

/**
 * Runs `un store ack-reset`.
 */
export async function storeAckResetCommand(args: string[]): Promise<number> {
  const parsed = parse(args, { json: { type: "boolean" } }, USAGE);
  positionals(parsed.positionals, 0, USAGE);
  const client = UnClient.fromEnv();
  const answer = await client.json(client.api.un.store["ack-reset"].$post());
  if (parsed.values.json) {
    printJson(answer);
  } else if (answer.acknowledged && answer.reset) {
    console.log(
      `acknowledged: Redis lost its data at ${answer.reset.at}; ` +
        "every process clears it from /health within one heartbeat",
    );
  } else {
    console.log(`nothing to acknowledge: the ${answer.store} store reports no loss of data`);
  }
  return 0;
}
