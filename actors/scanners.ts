/**
 * Scanner actor logic by source kind. Each follows the contract of
 * lib/scanner.ts.
 */

import type { AnyActorLogic } from "xstate";

/** Scanner logic for each source kind this build has. */
export const scannerLogic: Record<string, AnyActorLogic> = {};
