/**
 * Scanner actor logic by source kind. Each follows the contract of
 * lib/scanner.ts.
 */

import type { AnyActorLogic } from "xstate";
import { fsScannerMachine } from "./fs-scanner.ts";
import { pollScannerMachine } from "./poll-scanner.ts";
import { postgresScannerMachine } from "./postgres-scanner.ts";

/** Scanner logic for each source kind. */
export const scannerLogic: Record<string, AnyActorLogic> = {
  fs: fsScannerMachine,
  feed: pollScannerMachine,
  github: pollScannerMachine,
  http: pollScannerMachine,
  postgres: postgresScannerMachine,
};
