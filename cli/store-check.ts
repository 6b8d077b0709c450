/** `un store check`: not built yet. */

import { UsageError } from "./errors.ts";

/** Runs `un store check`. */
export function storeCheckCommand(_args: string[]): Promise<number> {
  return Promise.reject(new UsageError("un store check is not available yet"));
}
