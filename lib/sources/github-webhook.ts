/**
 * The GitHub source, webhook side: what `POST /un/github/webhook` needs.
 *
 * - {@link authenticates}: a delivery is taken only when `X-Hub-Signature-256`
 *   (HMAC-SHA256 of the raw body, compared in constant time by
 *   `@octokit/webhooks-methods`) matches the source's secret, or, for a source
 *   without a secret, when the request carries the API token. Every other
 *   request gets the one {@link WebhookSignatureError} answer, whatever was
 *   wrong, so probing tells nothing about the sources.
 * - {@link readDelivery}: reads `X-GitHub-Event` / `X-GitHub-Delivery` and the
 *   body (only once the request is authenticated).
 * - {@link mapDelivery} (from `github-map.ts`, re-exported): push, release,
 *   pull_request, issues, ping (and any other event) to `github.<event>`; a
 *   push to the default branch also gives `github.repo.updated`.
 * - {@link dedupeDelivery}: a delivery id seen before gives nothing, nor does
 *   a push `(repo, ref, after)` seen before under another delivery id; a head
 *   sha already announced (by polling or an earlier webhook) gives no second
 *   `github.repo.updated`.
 * - {@link receiveWebhook}: all of it for a route: picks the source by the
 *   payload's repository, and returns the CloudEvents to publish.
 */

import { verify } from "@octokit/webhooks-methods";
import type { CloudEvent } from "../events/cloud-event.ts";
import { UnError } from "../errors.ts";
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
/** Source state key of the pushes (`repo ref after`) already received. */
export const PUSHES_KEY = "pushes";
/** How many pushes a source remembers. */
export const MAX_PUSHES = 1000;

/** The one message of every refused delivery: it says what to fix, nothing about the sources. */
export const WEBHOOK_REFUSED =
  "missing or wrong X-Hub-Signature-256: sign the body with the secret of the github source " +
  "the delivery is for";

/**
 * A delivery not authenticated for a github source: answered 401 with the
 * same body whatever the cause (unknown source, another kind, no secret,
 * missing or wrong signature). The cause is in `reason`, for the log only.
 */
export class WebhookSignatureError extends UnError {
  constructor(readonly reason: string = "") {
    super("invalid_signature", WEBHOOK_REFUSED, 401);
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
 * Whether `X-Hub-Signature-256` is present and is the HMAC-SHA256 of `rawBody`
 * with `secret`.
 */
export async function signatureMatches(
  secret: string,
  headers: HeaderInput,
  rawBody: string,
): Promise<boolean> {
  const signature = header(headers, "x-hub-signature-256");
  if (!signature || rawBody === "" || !/^sha256=[0-9a-f]{64}$/i.test(signature)) return false;
  return await verify(secret, rawBody, signature.toLowerCase());
}

/** A key no source has: unknown sources cost one HMAC too, so timing does not tell them apart. */
const DECOY_SECRET = crypto.randomUUID();

/**
 * The sources among `candidates` a request is authenticated for: signed with
 * the source's secret, or, for a source without a secret, `bearer` (the
 * request carries the API token; whoever holds it may drive un anyway).
 */
export async function authenticates(
  candidates: readonly GithubSourceSpec[],
  headers: HeaderInput,
  rawBody: string,
  bearer: boolean,
): Promise<GithubSourceSpec[]> {
  const out: GithubSourceSpec[] = [];
  for (const source of candidates) {
    const ok = source.secret ? await signatureMatches(source.secret, headers, rawBody) : bearer;
    if (ok) out.push(source);
  }
  if (!candidates.some((s) => s.secret)) await signatureMatches(DECOY_SECRET, headers, rawBody);
  return out;
}

/**
 * Reads an authenticated delivery: the event and delivery headers must be
 * present (else {@link WebhookPayloadError}, 400) and the body JSON.
 */
export function readDelivery(headers: HeaderInput, rawBody: string): WebhookDelivery {
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
 * The identity of a push, `repo ref after` (the repo in lower case), so the
 * same push redelivered under a new delivery id is seen as the same; a
 * branch deletion (`after` all zeros) adds `before`, so deleting a branch
 * that was recreated in between still counts. Null for other events.
 */
function pushKeyOf(changes: PollChange[]): string | null {
  const push = changes.find((c) => c.type === "github.push");
  if (!push) return null;
  const [repo, ref, after] = [
    str(push.data, "repo"),
    str(push.data, "ref"),
    str(push.data, "after"),
  ];
  if (!repo || !ref || !after) return null;
  const deletion = /^0+$/.test(after) ? ` ${str(push.data, "before") ?? ""}` : "";
  return `${repo.toLowerCase()} ${ref} ${after}${deletion}`;
}

/** Records `key` in the bounded list under `stateKey`; false when it was there already. */
async function remember(
  state: SourceState,
  stateKey: string,
  key: string,
  max: number,
): Promise<boolean> {
  const seen = (await state.get<string[]>(stateKey)) ?? [];
  if (seen.includes(key)) return false;
  await state.set(stateKey, boundedUnion([key], seen, max));
  return true;
}

/**
 * Drops what was already received: null for a delivery id seen before (a
 * redelivery) or a push `(repo, ref, after)` seen before under another id,
 * else the changes without any `github.repo.updated` whose sha polling or an
 * earlier webhook announced. Records all three in the source's stored state,
 * so every process of a cluster agrees.
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
  const pushKey = pushKeyOf(changes);
  const isNew = await withSourceLock(sourceId, async () => {
    if (!await remember(state, DELIVERIES_KEY, deliveryId, MAX_DELIVERIES)) return false;
    return pushKey === null || await remember(state, PUSHES_KEY, pushKey, MAX_PUSHES);
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
 * Everything `POST /un/github/webhook` does before publishing, for one set of
 * sources: picks the enabled github sources watching the payload's
 * repository, takes the first the request authenticates for (see
 * {@link authenticates}), maps, dedupes and builds the CloudEvents. Throws
 * {@link WebhookPayloadError} (400) for a body that is not JSON and
 * {@link WebhookSignatureError} (401, the one answer) when no source takes it.
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
  /** The request carries the API token (lets a source without a secret take it). */
  bearer?: boolean;
}): Promise<WebhookReceipt> {
  const repo = webhookRepo(parsePayload(options.rawBody))?.toLowerCase() ?? null;
  const candidates = options.sources.filter((s) => s.enabled && s.repo.toLowerCase() === repo);
  const [source] = await authenticates(
    candidates,
    options.headers,
    options.rawBody,
    options.bearer ?? false,
  );
  if (!source) {
    throw new WebhookSignatureError(
      candidates.length ? `not signed for ${candidates.map((s) => s.id).join(", ")}` : `no source`,
    );
  }
  const delivery = readDelivery(options.headers, options.rawBody);
  const changes = mapDelivery(delivery, source.repo);
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
