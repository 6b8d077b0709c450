/**
 * Scanner actor logic by source kind. Each follows the contract of
 * lib/sources/scanner.ts.
 *
 * Loaded on demand: the PostgreSQL client, the feed parser and their friends
 * cost memory in every process, so only the kinds a process has sources of are
 * imported (`loadScanners`), and `scannerLogic` holds what is loaded.
 */

import type { AnyActorLogic } from "xstate";

const LOADERS: Record<string, () => Promise<AnyActorLogic>> = {
  fs: async () => (await import("./fs-scanner.ts")).fsScannerMachine,
  feed: async () => (await import("./poll-scanner.ts")).pollScannerMachine,
  github: async () => (await import("./poll-scanner.ts")).pollScannerMachine,
  http: async () => (await import("./poll-scanner.ts")).pollScannerMachine,
  postgres: async () => (await import("./postgres-scanner.ts")).postgresScannerMachine,
};

/** Scanner logic of the kinds loaded so far. */
export const scannerLogic: Record<string, AnyActorLogic> = {};

/**
 * Loads the scanner logic of these kinds (unknown kinds are skipped).
 */
export async function loadScanners(kinds: Iterable<string>): Promise<void> {
  for (const kind of new Set(kinds)) {
    if (!scannerLogic[kind] && LOADERS[kind]) scannerLogic[kind] = await LOADERS[kind]();
  }
}
