/** `un store recover`: not built yet. */

import { UsageError } from "./errors.ts";

/** Runs `un store recover`. */
export function storeRecoverCommand(_args: string[]): Promise<number> {
  return Promise.reject(new UsageError("un store recover is not available yet"));
}
