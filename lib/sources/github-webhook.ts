/**
 * The GitHub source, webhook side: what `POST /un/github/webhook` needs.
 *
 * - {@link verifyDelivery}: checks `X-Hub-Signature-256` (HMAC-SHA256 of the raw
 *   body, compared in constant time by `@octokit/webhooks-methods`) and reads
 *   `X-GitHub-Event` / `X-GitHub-Delivery`.
 * - {@link mapDelivery} (from `github-map.ts`, re-exported): push, release,
 *   pull_request, issues, ping (and any other event) to `github.<event>`; a
 *   push to the default branch also gives `github.repo.updated`.
 * - {@link dedupeDelivery}: a delivery id seen before gives nothing; a head sha
 *   already announced (by polling or an earlier webhook) gives no second
 *   `github.repo.updated`.
 * - {@link receiveWebhook}: all of it for a route: picks the source by the
 *   payload's repository, and returns the CloudEvents to publish.
 */

import { verify } from "@octokit/webhooks-methods";
import { UnError } from "../errors.ts";
import type { CloudEvent } from "../events.ts";
import type { Store } from "../store/types.ts";
import { claimAnnouncement, type GithubSourceSpec, withSourceLock } from "./github.ts";
import {
  mapDelivery,
  parsePayload,
  str,
  type WebhookDelivery,
  WebhookPayloadError,
  webhookRepo,
} from "./github-map.ts";
import {
  boundedUnion,
  changeEvent,
  type PollChange,
  type SourceState,
  sourceState,
} from "./poller.ts";

export { mapDelivery, parsePayload, type WebhookDelivery, WebhookPayloadError, webhookRepo };

/** Source state key of the delivery ids already received. */
export const DELIVERIES_KEY = "deliveries";
/** How many delivery ids a source remembers. */
export const MAX_DELIVERIES = 1000;

/**
 * The signature is missing (while a secret is set) or does not match: answer 401.
 *
 * @example
 * ```ts
 * throw new WebhookSignatureError("X-Hub-Signature-256 does not match the body");
 * ```
 */
export class WebhookSignatureError extends UnError {
  constructor(message: string) {
    super("invalid_signature", message, 401);
  }
}

/** Request headers as a `Headers` object or a plain record (any case). */
export type HeaderInput = Headers | Record<string, string | undefined>;

function header(headers: HeaderInput, name: string): string | null {
  if (headers instanceof Headers) return headers.get(name);
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === wanted && value !== undefined) return value;
  }
  return null;
}

/**
 * Verifies a delivery: with a `secret`, `X-Hub-Signature-256` must be present
 * and match the raw body (else {@link WebhookSignatureError}); the event and
 * delivery headers must be present (else {@link WebhookPayloadError}).
 *
 * @example
 * ```ts
 * const delivery = await verifyDelivery({ secret, headers: request.headers, rawBody: await request.text() });
 * delivery.event; // "push"
 * ```
 */
export async function verifyDelivery(
  options: { secret?: string; headers: HeaderInput; rawBody: string },
): Promise<WebhookDelivery> {
  const { secret, headers, rawBody } = options;
  if (secret) {
    const signature = header(headers, "x-hub-signature-256");
    if (!signature) throw new WebhookSignatureError("missing X-Hub-Signature-256 header");
    const ok = rawBody !== "" && /^sha256=[0-9a-f]{64}$/i.test(signature) &&
      await verify(secret, rawBody, signature.toLowerCase());
    if (!ok) throw new WebhookSignatureError("X-Hub-Signature-256 does not match the body");
  }
  const event = header(headers, "x-github-event");
  if (!event || !/^[a-z_]{1,64}$/.test(event)) {
    throw new WebhookPayloadError("missing or malformed X-GitHub-Event header");
  }
  const deliveryId = header(headers, "x-github-delivery");
  if (!deliveryId || deliveryId.length > 200) {
    throw new WebhookPayloadError("missing or malformed X-GitHub-Delivery header");
  }
  return { event, deliveryId, payload: parsePayload(rawBody) };
}

/**
 * Verifies and maps in one step.
 *
 * @example
 * ```ts
 * const { delivery, changes } = await verifyAndMap({ secret, headers, rawBody });
 * ```
 */
export async function verifyAndMap(
  options: { secret?: string; headers: HeaderInput; rawBody: string; repo?: string },
): Promise<{ delivery: WebhookDelivery; changes: PollChange[] }> {
  const delivery = await verifyDelivery(options);
  return { delivery, changes: mapDelivery(delivery, options.repo ?? "") };
}

/**
 * Drops what was already received: null for a delivery id seen before (a
 * redelivery), else the changes without any `github.repo.updated` whose sha
 * polling or an earlier webhook announced. Records both.
 *
 * @example
 * ```ts
 * const fresh = await dedupeDelivery(sourceState(store, "repo"), "repo", delivery.deliveryId, changes);
 * if (fresh === null) return; // a redelivery
 * ```
 */
export async function dedupeDelivery(
  state: SourceState,
  sourceId: string,
  deliveryId: string,
  changes: PollChange[],
): Promise<PollChange[] | null> {
  const isNew = await withSourceLock(sourceId, async () => {
    const seen = (await state.get<string[]>(DELIVERIES_KEY)) ?? [];
    if (seen.includes(deliveryId)) return false;
    await state.set(DELIVERIES_KEY, boundedUnion([deliveryId], seen, MAX_DELIVERIES));
    return true;
  });
  if (!isNew) return null;
  const shas = changes.flatMap((c) => c.type === "github.repo.updated" ? [shaOf(c)] : []);
  const fresh = shas.length ? await claimAnnouncement(state, sourceId, shas) : new Set<string>();
  return changes.filter((c) => c.type !== "github.repo.updated" || fresh.has(shaOf(c)));
}

function shaOf(change: PollChange): string {
  return str(change.data, "sha") ?? "";
}

/** What {@link receiveWebhook} made of a delivery. */
export interface WebhookReceipt {
  sourceId: string;
  event: string;
  deliveryId: string;
  /** True for a redelivery of an id already received: nothing to publish. */
  duplicate: boolean;
  /** The CloudEvents to publish (`event.publish` to the supervisor). */
  events: CloudEvent[];
}

/**
 * Everything `POST /un/github/webhook` does before publishing: picks the
 * github source watching the payload's repository, verifies with its secret,
 * maps, dedupes and builds the CloudEvents. Throws {@link WebhookSignatureError}
 * (401), {@link WebhookPayloadError} (400) or an `UnError` 404 when no source
 * watches the repository.
 *
 * @example
 * ```ts
 * const receipt = await receiveWebhook({ sources, store, headers: c.req.raw.headers, rawBody: await c.req.text() });
 * for (const event of receipt.events) supervisor.send({ type: "event.publish", event });
 * return c.json({ ok: true, duplicate: receipt.duplicate, events: receipt.events.length }, 202);
 * ```
 */
export async function receiveWebhook(options: {
  sources: GithubSourceSpec[];
  store: Store;
  headers: HeaderInput;
  rawBody: string;
}): Promise<WebhookReceipt> {
  const repo = webhookRepo(parsePayload(options.rawBody));
  const source = options.sources.find((s) =>
    s.enabled && repo !== null && s.repo.toLowerCase() === repo.toLowerCase()
  );
  if (!source) {
    throw new UnError(
      "unknown_repo",
      `no enabled github source watches ${repo ?? "(no repository in payload)"}`,
      404,
      {
        repo,
      },
    );
  }
  const { delivery, changes } = await verifyAndMap({
    secret: source.secret,
    headers: options.headers,
    rawBody: options.rawBody,
    repo: source.repo,
  });
  const state = sourceState(options.store, source.id);
  const fresh = await dedupeDelivery(state, source.id, delivery.deliveryId, changes);
  return {
    sourceId: source.id,
    event: delivery.event,
    deliveryId: delivery.deliveryId,
    duplicate: fresh === null,
    events: (fresh ?? []).map((change) => changeEvent(source, change)),
  };
}
