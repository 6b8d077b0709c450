/**
 * The GitHub source, webhook side: what `POST /un/github/webhook` needs.
 *
 * - {@link verifyDelivery}: checks `X-Hub-Signature-256` (HMAC-SHA256 of the raw
 *   body, compared in constant time by `@octokit/webhooks-methods`) and reads
 *   `X-GitHub-Event` / `X-GitHub-Delivery`.
 * - {@link mapDelivery}: push, release, pull_request, issues, ping (and any
 *   other event) to `github.<event>`; a push to the default branch also gives
 *   `github.repo.updated` with `via: "webhook"`.
 * - {@link dedupeDelivery}: a delivery id seen before gives nothing; a head sha
 *   already announced (by polling or an earlier webhook) gives no second
 *   `github.repo.updated`.
 * - {@link receiveWebhook}: all of it for a route: picks the source by the
 *   payload's repository, and returns the CloudEvents to publish.
 */

import { verify } from "@octokit/webhooks-methods";
import { UnError } from "../errors.ts";
import type { CloudEvent, Json } from "../events.ts";
import type { Store } from "../store/types.ts";
import {
  claimAnnouncement,
  type GithubSourceSpec,
  type RepoUpdatedData,
  withSourceLock,
} from "./github.ts";
import {
  boundedUnion,
  changeEvent,
  type PollChange,
  type SourceState,
  sourceState,
} from "./poller.ts";

/** Source state key of the delivery ids already received. */
export const DELIVERIES_KEY = "deliveries";
/** How many delivery ids a source remembers. */
export const MAX_DELIVERIES = 1000;

/** The signature is missing (while a secret is set) or does not match: answer 401. */
export class WebhookSignatureError extends UnError {
  constructor(message: string) {
    super("invalid_signature", message, 401);
  }
}

/** The request is not a GitHub delivery (headers or body missing or malformed): answer 400. */
export class WebhookPayloadError extends UnError {
  constructor(message: string) {
    super("invalid_webhook", message, 400);
  }
}

/** Request headers as a `Headers` object or a plain record (any case). */
export type HeaderInput = Headers | Record<string, string | undefined>;

/** A verified delivery. */
export interface WebhookDelivery {
  /** `X-GitHub-Event`: push, release, pull_request, issues, ping... */
  event: string;
  /** `X-GitHub-Delivery`: a GUID, the same on a redelivery. */
  deliveryId: string;
  payload: { [key: string]: Json };
}

function header(headers: HeaderInput, name: string): string | null {
  if (headers instanceof Headers) return headers.get(name);
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === wanted && value !== undefined) return value;
  }
  return null;
}

/**
 * The JSON payload of a raw body: JSON, or the `payload=` form GitHub sends
 * when a hook's content type is `application/x-www-form-urlencoded`.
 *
 * @example
 * ```ts
 * parsePayload('{"zen":"Keep it logically awesome."}').zen; // "Keep it logically awesome."
 * ```
 */
export function parsePayload(rawBody: string): { [key: string]: Json } {
  const text = rawBody.startsWith("payload=")
    ? new URLSearchParams(rawBody).get("payload") ?? ""
    : rawBody;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new WebhookPayloadError("webhook body is not JSON");
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new WebhookPayloadError("webhook body is not a JSON object");
  }
  return value as { [key: string]: Json };
}

/** `payload.a.b.c`, or undefined. */
function field(payload: Json | undefined, path: string[]): Json | undefined {
  let node: Json | undefined = payload;
  for (const key of path) {
    if (node === null || typeof node !== "object" || Array.isArray(node)) return undefined;
    node = node[key];
  }
  return node;
}

function str(payload: Json | undefined, ...path: string[]): string | null {
  const node = field(payload, path);
  return typeof node === "string" ? node : typeof node === "number" ? String(node) : null;
}

function bool(payload: Json | undefined, ...path: string[]): boolean {
  return field(payload, path) === true;
}

function num(payload: Json | undefined, ...path: string[]): number | null {
  const value = str(payload, ...path);
  return value === null || Number.isNaN(Number(value)) ? null : Number(value);
}

/**
 * `owner/name` of the repository a delivery is about (to pick the source, and
 * so its secret, before verifying), or null.
 *
 * @example
 * ```ts
 * webhookRepo(parsePayload(rawBody)); // "Codertocat/Hello-World"
 * ```
 */
export function webhookRepo(payload: { [key: string]: Json }): string | null {
  return str(payload, "repository", "full_name");
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

const ZERO_SHA = /^0+$/;

/**
 * The changes a delivery means: `github.<event>` with the fields a hook wants,
 * plus `github.repo.updated` for a push that moved the default branch.
 *
 * @example
 * ```ts
 * mapDelivery({ event: "ping", deliveryId: "d1", payload }, "Codertocat/Hello-World");
 * // [{ type: "github.ping", subject: "Codertocat/Hello-World", data: { ... } }]
 * ```
 */
export function mapDelivery(delivery: WebhookDelivery, fallbackRepo: string): PollChange[] {
  const p = delivery.payload;
  const repo = webhookRepo(p) ?? fallbackRepo;
  const base = { repo, deliveryId: delivery.deliveryId, action: str(p, "action") };
  const type = `github.${delivery.event}`;
  switch (delivery.event) {
    case "push": {
      const ref = str(p, "ref");
      const after = str(p, "after");
      const deleted = bool(p, "deleted");
      const headCommit = {
        message: str(p, "head_commit", "message"),
        author: str(p, "head_commit", "author", "name") ?? str(p, "pusher", "name"),
        url: str(p, "head_commit", "url"),
      };
      const changes: PollChange[] = [{
        type,
        subject: repo,
        data: {
          ...base,
          ref,
          before: str(p, "before"),
          after,
          created: bool(p, "created"),
          deleted,
          forced: bool(p, "forced"),
          pusher: str(p, "pusher", "name"),
          commits: Array.isArray(p.commits) ? p.commits.length : 0,
          compare: str(p, "compare"),
          headCommit,
        },
      }];
      const defaultBranch = str(p, "repository", "default_branch") ??
        str(p, "repository", "master_branch");
      if (
        after && !ZERO_SHA.test(after) && !deleted && defaultBranch &&
        ref === `refs/heads/${defaultBranch}`
      ) {
        const data: RepoUpdatedData = { repo, sha: after, ...headCommit, via: "webhook" };
        changes.push({ type: "github.repo.updated", subject: repo, data });
      }
      return changes;
    }
    case "release":
      return [{
        type,
        subject: str(p, "release", "html_url") ?? repo,
        data: {
          ...base,
          tag: str(p, "release", "tag_name"),
          name: str(p, "release", "name"),
          url: str(p, "release", "html_url"),
          prerelease: bool(p, "release", "prerelease"),
          author: str(p, "release", "author", "login"),
        },
      }];
    case "pull_request":
    case "issues": {
      const key = delivery.event === "issues" ? "issue" : "pull_request";
      return [{
        type,
        subject: str(p, key, "html_url") ?? repo,
        data: {
          ...base,
          number: num(p, key, "number"),
          title: str(p, key, "title"),
          state: str(p, key, "state"),
          url: str(p, key, "html_url"),
          author: str(p, key, "user", "login"),
          ...(key === "pull_request"
            ? { head: str(p, key, "head", "sha"), base: str(p, key, "base", "ref") }
            : {}),
        },
      }];
    }
    case "ping":
      return [{
        type,
        subject: repo,
        data: { ...base, zen: str(p, "zen"), hookId: num(p, "hook_id") },
      }];
    default:
      return [{ type, subject: repo, data: { ...base, sender: str(p, "sender", "login") } }];
  }
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
