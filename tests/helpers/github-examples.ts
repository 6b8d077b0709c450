/**
 * GitHub's published example webhook deliveries (`@octokit/webhooks-examples`),
 * for tests that need real payloads.
 */

import assert from "node:assert/strict";
import examples from "@octokit/webhooks-examples" with { type: "json" };

/** A webhook payload. */
export type Payload = Record<string, unknown>;

/** The repository most of GitHub's examples are about. */
export const EXAMPLE_REPO = "Codertocat/Hello-World";
/** The repository GitHub's ping examples are about. */
export const PING_REPO = "Octocoders/Hello-World";
/** The secret GitHub's documentation signs its examples with. */
export const EXAMPLE_SECRET = "It's a Secret to Everybody";

const definitions = examples as unknown as Array<{ name: string; examples: Payload[] }>;

/**
 * A copy of a real example delivery of `event` about `repo` (the first one
 * `pick` accepts); fails the test when there is none.
 *
 * @example
 * ```ts
 * const push = example("push", (p) => p.ref === "refs/heads/master");
 * ```
 */
export function example(
  event: string,
  pick: (p: Payload) => boolean = () => true,
  repo = EXAMPLE_REPO,
): Payload {
  const found = definitions.find((d) => d.name === event)?.examples.find((p) =>
    (p.repository as { full_name?: string } | undefined)?.full_name === repo && pick(p)
  );
  assert.ok(found, `no ${event} example`);
  return structuredClone(found);
}
