/**
 * `POST /un/github/webhook`: GitHub deliveries for github sources.
 *
 * The raw body is read once, as text: the signature (`X-Hub-Signature-256`,
 * HMAC-SHA256 with the source's `secret`) is over those exact bytes. The
 * source is the one named by `?source=<id>`, else every enabled github source
 * whose `repo` is the payload's `repository.full_name`. Then, per source:
 * verify (401, no event, when a secret is set and the signature is missing or
 * wrong), drop a delivery id seen before (200 `{ duplicate: true }`), map to
 * `github.*` events (`github.repo.updated` once per sha, shared with polling)
 * and publish them with `source: /un/sources/<id>` and the source's priority:
 * 202 `{ events: [ids] }`.
 *
 * GitHub cannot send our bearer token, so the app's bearer auth skips this
 * path; the signature is the authentication. A source without a secret on an
 * instance with `api.token` therefore needs `Authorization: Bearer <token>`.
 */

import { timingSafeEqual } from "node:crypto";
import { type Context, Hono } from "hono";
import type { ControlPlane } from "../lib/control.ts";
import { ConflictError, NotFoundError, UnError, ValidationError } from "../lib/errors.ts";
import type { CloudEvent } from "../lib/events.ts";
import type { GithubSourceSpec } from "../lib/sources/github.ts";
import {
  dedupeDelivery,
  parsePayload,
  verifyAndMap,
  webhookRepo,
  WebhookSignatureError,
} from "../lib/sources/github-webhook.ts";
import { changeEvent, sourceState } from "../lib/sources/poller.ts";
import { askRuntime } from "./ask.ts";

/**
 * The webhook's path (the app's bearer auth skips it).
 *
 * @example
 * ```ts
 * if (isWebhookPath(c.req.path)) return next();
 * ```
 */
export const GITHUB_WEBHOOK_PATH = "/un/github/webhook";

/**
 * True for the webhook path (with or without a trailing slash).
 *
 * @example
 * ```ts
 * isWebhookPath("/un/github/webhook/"); // true
 * ```
 */
export function isWebhookPath(path: string): boolean {
  return path.replace(/\/+$/, "") === GITHUB_WEBHOOK_PATH;
}

/** The github sources a delivery is for. */
async function candidates(
  control: ControlPlane,
  only: string | undefined,
  repo: string | null,
): Promise<GithubSourceSpec[]> {
  if (only !== undefined) {
    const source = await control.store.getSource(only);
    if (!source) throw new NotFoundError("source", only);
    if (source.kind !== "github") {
      throw new ValidationError(`source ${only} is a ${source.kind} source, not a github one`, {
        field: "source",
        value: only,
      });
    }
    if (!source.enabled) throw new ConflictError(`source ${only} is disabled`, { sourceId: only });
    const spec = source.spec as unknown as GithubSourceSpec;
    if (repo !== null && repo.toLowerCase() !== spec.repo.toLowerCase()) {
      throw new ValidationError(
        `the delivery is about ${repo}, but source ${only} watches ${spec.repo}`,
        {
          field: "repository.full_name",
          value: repo,
        },
      );
    }
    return [spec];
  }
  const matching = (await control.store.listSources())
    .filter((s) => s.kind === "github" && s.enabled)
    .map((s) => s.spec as unknown as GithubSourceSpec)
    .filter((s) => repo !== null && s.repo.toLowerCase() === repo.toLowerCase());
  if (!matching.length) {
    throw new UnError(
      "unknown_repo",
      repo === null
        ? "the delivery names no repository (repository.full_name); use ?source=<id>"
        : `no enabled github source watches ${repo}`,
      404,
      { repo },
    );
  }
  return matching;
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

/** Verifies, maps and dedupes a delivery for one source. */
async function receive(
  c: Context,
  control: ControlPlane,
  source: GithubSourceSpec,
  rawBody: string,
): Promise<Receipt> {
  const token = control.config.api.token;
  if (!source.secret && token && !hasBearer(c, token)) {
    throw new WebhookSignatureError(
      `source ${source.id} has no webhook secret and api.token is set: set the source's secret ` +
        `(and the same secret on GitHub), or send Authorization: Bearer <api.token>`,
    );
  }
  const { delivery, changes } = await verifyAndMap({
    secret: source.secret,
    headers: c.req.raw.headers,
    rawBody,
    repo: source.repo,
  });
  const state = sourceState(control.store, source.id);
  const fresh = await dedupeDelivery(state, source.id, delivery.deliveryId, changes);
  return {
    sourceId: source.id,
    duplicate: fresh === null,
    events: (fresh ?? []).map((change) => changeEvent(source, change)),
  };
}

/**
 * GitHub webhook route.
 *
 * @example
 * ```ts
 * app.route("/", githubRoutes(control));
 * ```
 */
export function githubRoutes(control: ControlPlane): Hono {
  const app = new Hono();
  app.post(GITHUB_WEBHOOK_PATH, async (c) => {
    const rawBody = await c.req.text();
    const repo = webhookRepo(parsePayload(rawBody));
    const sources = await candidates(control, c.req.query("source"), repo);
    const receipts: Receipt[] = [];
    let refused: WebhookSignatureError | null = null;
    for (const source of sources) {
      try {
        receipts.push(await receive(c, control, source, rawBody));
      } catch (err) {
        // Two sources of one repo may have different secrets: the delivery is for the one it verifies with.
        if (!(err instanceof WebhookSignatureError)) throw err;
        refused ??= err;
      }
    }
    if (!receipts.length) {
      throw refused ?? new WebhookSignatureError("no source accepted the delivery");
    }
    const accepted = receipts.map((r) => r.sourceId);
    if (receipts.every((r) => r.duplicate)) {
      return c.json({ duplicate: true, events: [], sources: accepted });
    }
    const events = receipts.flatMap((r) => r.events);
    for (const event of events) {
      await askRuntime<CloudEvent>(control, (reply) => ({ type: "event.publish", event, reply }));
    }
    return c.json({ duplicate: false, events: events.map((e) => e.id), sources: accepted }, 202);
  });
  return app;
}
