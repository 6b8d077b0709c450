/**
 * GitHub's published example webhook deliveries (`@octokit/webhooks-examples`),
 * for tests that need real payloads.
 */

import assert from "node:assert/strict";
import examples from "@octokit/webhooks-examples" with { type: "json" };
import { sign } from "@octokit/webhooks-methods";

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

/** How {@link deliverWebhook} signs and labels a delivery. */
export interface DeliveryOptions {
  /** `X-GitHub-Delivery` (a fresh UUID by default). */
  delivery?: string;
  /** The secret it is signed with ({@link EXAMPLE_SECRET} by default); null sends it unsigned. */
  secret?: string | null;
  /** An `X-Hub-Signature-256` to send instead of a real signature. */
  signature?: string;
  /** More headers, sent as given. */
  headers?: Record<string, string>;
}

/**
 * POSTs `payload` to `url` the way GitHub delivers a webhook: its headers,
 * signed with the secret; answers the status and the JSON body.
 *
 * @example
 * ```ts
 * const res = await deliverWebhook(`${un.url}/un/github/webhook`, "push", example("push"));
 * ```
 */
export async function deliverWebhook(
  url: string,
  event: string,
  payload: Payload,
  options: DeliveryOptions = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const body = JSON.stringify(payload);
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "user-agent": "GitHub-Hookshot/044aadd",
    "X-GitHub-Event": event,
    "X-GitHub-Delivery": options.delivery ?? crypto.randomUUID(),
    ...options.headers,
  };
  const secret = options.secret === undefined ? EXAMPLE_SECRET : options.secret;
  if (options.signature) headers["X-Hub-Signature-256"] = options.signature;
  else if (secret !== null) headers["X-Hub-Signature-256"] = await sign(secret, body);
  const res = await fetch(url, { method: "POST", headers, body });
  return { status: res.status, body: await res.json() };
}
