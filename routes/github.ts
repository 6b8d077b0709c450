/**
 * `POST /un/github/webhook`: GitHub deliveries for github sources.
 *
 * The raw body is read once, as text: the signature (`X-Hub-Signature-256`,
 * HMAC-SHA256 with the source's `secret`) is over those exact bytes. The
 * source is the one named by `?source=<id>`, else every enabled github source
 * whose `repo` is the payload's `repository.full_name`. The signature is
 * checked before anything is said about the source: a request that is not
 * signed for one of them (unknown id, a source of another kind, a source
 * without a secret, a missing or wrong signature) gets one and the same 401,
 * so probing learns nothing; the log says why. A source without a secret
 * takes only requests carrying `Authorization: Bearer <api.token>`.
 *
 * Once a delivery is authenticated, per source: drop a delivery id or a push
 * `(repo, ref, after)` seen before (200 `{ duplicate: true }`), map to
 * `github.*` events (`github.repo.updated` once per sha, shared with polling)
 * and publish them with `source: /un/sources/<id>` and the source's priority:
 * 202 `{ events: [ids] }`.
 *
 * GitHub cannot send our bearer token, so the app's bearer auth skips this
 * path; the signature is the authentication.
 */

import { timingSafeEqual } from "node:crypto";
import { type Context, Hono } from "hono";
import { z } from "zod";
import type { ControlWith } from "../lib/control.ts";
import type { SourceStore } from "../lib/store/types.ts";
import { ConflictError, ValidationError } from "../lib/errors.ts";
import type { CloudEvent } from "../lib/events/cloud-event.ts";
import type { Logger } from "../lib/log.ts";
import type { GithubSourceSpec } from "../lib/sources/github.ts";
import {
  authenticates,
  dedupeDelivery,
  mapDelivery,
  parsePayload,
  readDelivery,
  webhookRepo,
  WebhookSignatureError,
} from "../lib/sources/github-webhook.ts";
import { changeEvent, sourceState } from "../lib/sources/poller.ts";
import { parsedSources } from "../lib/store/source-store.ts";
import { ask } from "../lib/protocol/ask.ts";
import { answer, describe, problems } from "./describe.ts";
import { query } from "./validator.ts";

/**
 * The webhook's path (the app's bearer auth skips it).
 */
export const GITHUB_WEBHOOK_PATH = "/un/github/webhook";

/**
 * True for the webhook path (with or without a trailing slash).
 */
export function isWebhookPath(path: string): boolean {
  return path.replace(/\/+$/, "") === GITHUB_WEBHOOK_PATH;
}

/**
 * The github sources a delivery may be for: the one `?source=` names (even
 * disabled: that is said only after the signature), else the enabled ones
 * watching the payload's repository. Nothing is thrown about the sources
 * here; an empty list ends in the one refusal.
 */
async function candidates(
  control: ControlWith<SourceStore>,
  only: string | undefined,
  rawBody: string,
): Promise<GithubSourceSpec[]> {
  if (only !== undefined) {
    const source = await control.store.getSource(only);
    if (source?.spec?.kind !== "github") return [];
    return [{ ...source.spec, enabled: source.enabled }];
  }
  // A body that is not JSON is a 400 that tells nothing about the sources.
  const repo = webhookRepo(parsePayload(rawBody))?.toLowerCase();
  return parsedSources(await control.store.listSources())
    .filter((s) => s.enabled)
    .map((s) => s.spec)
    .filter((s): s is GithubSourceSpec => s.kind === "github")
    .filter((s) => repo !== undefined && s.repo.toLowerCase() === repo);
}

/** What a named source must also be once the caller proved it knows its secret. */
function checkNamed(source: GithubSourceSpec, rawBody: string): void {
  if (!source.enabled) {
    throw new ConflictError(`source ${source.id} is disabled`, { sourceId: source.id });
  }
  const repo = webhookRepo(parsePayload(rawBody));
  if (repo !== null && repo.toLowerCase() !== source.repo.toLowerCase()) {
    throw new ValidationError(
      `the delivery is about ${repo}, but source ${source.id} watches ${source.repo}`,
      { field: "repository.full_name", value: repo },
    );
  }
}

/** Source ids already warned about (a probe flood must not flood the log). */
const warned = new Set<string>();

/** Says in the log (never in the answer) why a delivery was refused. */
function logRefusal(log: Logger, sources: GithubSourceSpec[], only: string | undefined): void {
  if (!sources.length) {
    log.debug("webhook delivery refused: no github source for it", { source: only ?? null });
    return;
  }
  for (const source of sources) {
    const reason = source.secret
      ? "X-Hub-Signature-256 is missing or does not match the source's secret"
      : "the source has no secret: set one (the same on GitHub), or send Authorization: Bearer <api.token>";
    const fields = { sourceId: source.id, reason };
    if (warned.has(source.id)) log.debug("webhook delivery refused", fields);
    else {
      warned.add(source.id);
      log.warn("webhook delivery refused (further refusals are logged at debug level)", fields);
    }
  }
}

/** `Authorization: Bearer <api.token>`, compared in constant time. */
function hasBearer(c: Context, token: string): boolean {
  const given = /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "")?.[1] ?? "";
  const a = new TextEncoder().encode(given);
  const b = new TextEncoder().encode(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** What one source made of a delivery. */
interface Receipt {
  sourceId: string;
  duplicate: boolean;
  events: CloudEvent[];
}

/** Maps and dedupes an authenticated delivery for one source. */
async function receive(
  control: ControlWith<SourceStore>,
  source: GithubSourceSpec,
  headers: Headers,
  rawBody: string,
): Promise<Receipt> {
  const delivery = readDelivery(headers, rawBody);
  const changes = mapDelivery(delivery, source.repo);
  const state = sourceState(control.store, source.id);
  const fresh = await dedupeDelivery(state, source.id, delivery.deliveryId, changes);
  return {
    sourceId: source.id,
    duplicate: fresh === null,
    events: (fresh ?? []).map((change) => changeEvent(source, change)),
  };
}

/** `?source=<id>` names the source; without it, the payload's repository does. */
const webhookQuery = z.object({
  source: z.string().optional().describe("the github source the delivery is for"),
});

/**
 * GitHub webhook route, relative to `/un/github`.
 */
export function githubRoutes(control: ControlWith<SourceStore>) {
  const log = control.log.child("github");
  return new Hono().post(
    "/webhook",
    describe("sources", "A GitHub webhook delivery for github sources", {
      202: answer(
        "The events it made (ids)",
        z.object({
          duplicate: z.literal(false),
          events: z.array(z.string()),
          sources: z.array(z.string()),
        }),
      ),
      200: answer(
        "Seen before: nothing new",
        z.object({
          duplicate: z.literal(true),
          events: z.array(z.string()),
          sources: z.array(z.string()),
        }),
      ),
      401: { description: "Not signed for any source (X-Hub-Signature-256)" },
      ...problems(400, 409),
    }, {
      description: "Authenticated by `X-Hub-Signature-256` (HMAC-SHA256 of the body with the " +
        "source's `secret`), not by the API token; the body is GitHub's JSON payload.",
      security: [],
      requestBody: {
        content: { "application/json": { schema: { type: "object" } } },
      },
    }),
    query(webhookQuery),
    async (c) => {
      const rawBody = await c.req.text();
      const only = c.req.valid("query").source;
      const headers = c.req.raw.headers;
      const found = await candidates(control, only, rawBody);
      const token = control.config.api.token;
      const bearer = token !== undefined && hasBearer(c, token);
      // Two sources of one repo may have different secrets: the delivery is for those it verifies with.
      const sources = await authenticates(found, headers, rawBody, bearer);
      if (!sources.length) {
        logRefusal(log, found, only);
        throw new WebhookSignatureError();
      }
      if (only !== undefined) checkNamed(sources[0], rawBody);
      const receipts: Receipt[] = [];
      for (const source of sources) {
        receipts.push(await receive(control, source, headers, rawBody));
      }
      const accepted = receipts.map((r) => r.sourceId);
      if (receipts.every((r) => r.duplicate)) {
        return c.json({ duplicate: true, events: [], sources: accepted });
      }
      const events = receipts.flatMap((r) => r.events);
      for (const event of events) {
        await ask(control, "event.publish", { event });
      }
      return c.json({ duplicate: false, events: events.map((e) => e.id), sources: accepted }, 202);
    },
  );
}
