/**
 * What a runtime does by default when the supervisor escalates (a child
 * crashed more than `supervisor.maxRestarts` times within `withinMs`): say so
 * in the log and on stderr, write what is still buffered (events, run
 * statistics), and exit with code 70, so the outer service manager
 * (systemd, Docker, Kubernetes) restarts un from a clean state.
 */

import { errorText } from "../errors.ts";
import type { Logger } from "../log.ts";

/** Exit code of an escalation (EX_SOFTWARE). */
export const ESCALATION_EXIT_CODE = 70;

/**
 * The escalation handler of a runtime.
 */
export function exitOnEscalation(
  log: Logger,
  limits: { maxRestarts: number; withinMs: number },
  flush: () => Promise<unknown>,
): (actorId: string, error: unknown, restarts: number) => void {
  return (actorId, error, restarts) => {
    const message = `actor ${actorId} crashed ${restarts + 1} times within ${limits.withinMs}ms ` +
      `(limit ${limits.maxRestarts}); last error: ${
        errorText(error)
      }. Exiting so the service manager can restart un.`;
    log.error(message);
    console.error(`un: ${message}`);
    flush().finally(() => Deno.exit(ESCALATION_EXIT_CODE));
  };
}
