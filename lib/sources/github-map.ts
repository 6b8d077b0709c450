/**
 * GitHub webhook deliveries as `un` changes: the payload parsed (JSON or the
 * `payload=` form encoding), the repository it is about, and the mapping of
 * push, release, pull_request, issues, ping (and any other event) to
 * `github.<event>` changes with the fields a hook needs. A push that moves the
 * default branch also gives `github.repo.updated` with `via: "webhook"`.
 */

import { UnError } from "../errors.ts";
import type { Json } from "../events/cloud-event.ts";
import type { RepoUpdatedData } from "./github.ts";
import type { PollChange } from "./poller.ts";

/**
 * The request is not a GitHub delivery (headers or body missing or malformed): answer 400.
 */
export class WebhookPayloadError extends UnError {
  constructor(message: string) {
    super("invalid_webhook", message, 400);
  }
}

/** A verified delivery. */
export interface WebhookDelivery {
  /** `X-GitHub-Event`: push, release, pull_request, issues, ping... */
  event: string;
  /** `X-GitHub-Delivery`: a GUID, the same on a redelivery. */
  deliveryId: string;
  payload: { [key: string]: Json };
}

/**
 * The JSON payload of a raw body: JSON, or the `payload=` form GitHub sends
 * when a hook's content type is `application/x-www-form-urlencoded`.
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

/**
 * `payload.a.b.c` as a string (numbers too), or null.
 */
export function str(payload: Json | undefined, ...path: string[]): string | null {
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
 */
export function webhookRepo(payload: { [key: string]: Json }): string | null {
  return str(payload, "repository", "full_name");
}

const ZERO_SHA = /^0+$/;

/**
 * The changes a delivery means: `github.<event>` with the fields a hook wants,
 * plus `github.repo.updated` for a push that moved the default branch.
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
