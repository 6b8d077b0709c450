/**
 * Routes change things only by asking the supervisor (a message with a
 * reply). An actor that does not answer in time rejects with
 * UnavailableError, which the app answers as 503.
 */

import type { ControlPlane } from "../lib/control.ts";
import { ask, type Reply, type RuntimeMessage } from "../lib/protocol/messages.ts";

/** How long a route waits for an actor's answer. */
const ASK_TIMEOUT_MS = 10_000;

/**
 * Sends a message with a reply to the runtime and waits for the answer.
 */
export function askRuntime<T>(
  control: Pick<ControlPlane, "send">,
  build: (reply: Reply<T>) => RuntimeMessage,
): Promise<T> {
  return ask<T>((message) => control.send(message), build, ASK_TIMEOUT_MS);
}
