/** `un doctor`: not built yet. */

import { UsageError } from "./errors.ts";

/** Runs `un doctor`. */
export function doctorCommand(_args: string[]): Promise<number> {
  return Promise.reject(new UsageError("un doctor is not available yet"));
}
