/** `un store ack-reset`: not built yet. */

import { UsageError } from "./errors.ts";

/** Runs `un store ack-reset`. */
export function storeAckResetCommand(_args: string[]): Promise<number> {
  return Promise.reject(new UsageError("un store ack-reset is not available yet"));
}
