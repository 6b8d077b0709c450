/**
 * The `noop` built-in: returns its payload. For trials, benchmarks and checking
 * that hooks fire without running any code.
 */

import type { Json } from "../events/cloud-event.ts";
import type { Handler } from "./types.ts";

/**
 * Returns the task's payload as its result.
 */
export const noopHandler: Handler<Json, Json> = (task) => task.payload;
