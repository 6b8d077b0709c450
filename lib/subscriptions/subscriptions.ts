/**
 * Outbound webhook subscriptions (`POST /un/events/subscribe`, `PATCH
 * /un/subscriptions/:id`): a plain module, no actor code. It checks a request
 * or a change (pattern, URL against `http.allow`, a `where` that compiles, a
 * Standard Webhooks secret), makes the stored record (generating a secret
 * when none is given) or applies the change, the API view (the secret left
 * out: it is shown once, at creation) and the `subscription.*` events the
 * dispatchers of every process react to.
 */

import { z } from "zod";
import { ValidationError } from "../errors.ts";
import { type CloudEvent, createEvent, type Json } from "../events/cloud-event.ts";
import { nextUlid } from "../events/ulid.ts";
import { assertPattern } from "../events/wildcard.ts";
import { compileExpression, ExpressionError } from "../expressions/expression.ts";
import { checkOutboundUrl } from "../safety/outbound.ts";
import type { StoredSubscription } from "../store/subscription-store.ts";
import { isWebhookSecret, newWebhookSecret } from "./signature.ts";

/** The `source` of `subscription.*` events. */
export const SUBSCRIPTION_EVENT_SOURCE = "/un/subscriptions";

/** The body of `POST /un/events/subscribe`. */
export const subscribeBody = z.strictObject({
  pattern: z.string().min(1),
  url: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }),
  secret: z.string().min(1).optional(),
  headers: z.record(z.string(), z.string()).optional(),
  where: z.string().min(1).optional(),
  ordered: z.boolean().optional(),
  maxAttempts: z.number().int().min(1).max(100).optional(),
});

/** What `POST /un/events/subscribe` takes. */
export type SubscribeRequest = z.infer<typeof subscribeBody>;

/** A subscription as the API shows it: everything but the secret. */
export type SubscriptionView = Omit<StoredSubscription, "secret">;

/** Variables a `where` sees: the event. */
export const WHERE_VARIABLES = ["event"] as const;

/** The body of `PATCH /un/subscriptions/:id`: any field of a subscribe (`null` removes `where` or `maxAttempts`), and `enabled`. */
export const patchSubscriptionBody = z.strictObject({
  ...subscribeBody.partial().shape,
  where: z.string().min(1).nullable().optional(),
  maxAttempts: z.number().int().min(1).max(100).nullable().optional(),
  enabled: z.boolean().optional(),
});

/** What `PATCH /un/subscriptions/:id` takes. */
export type SubscriptionPatch = z.infer<typeof patchSubscriptionBody>;

/**
 * Checks the fields a create or a change gives: the pattern, the `where`
 * (CEL over `event`), the secret's form and the URL against `allow` (400
 * naming the field otherwise). Absent fields are not checked.
 */
async function checkFields(
  request: Pick<SubscriptionPatch, "pattern" | "url" | "secret" | "where">,
  allow: readonly string[],
): Promise<void> {
  if (request.pattern !== undefined) assertPattern(request.pattern, "pattern");
  if (request.where !== undefined && request.where !== null) {
    try {
      compileExpression(request.where, WHERE_VARIABLES);
    } catch (err) {
      if (!(err instanceof ExpressionError)) throw err;
      throw new ValidationError(`where: ${err.reason}`, { field: "where" });
    }
  }
  if (request.secret !== undefined && !isWebhookSecret(request.secret)) {
    throw new ValidationError(
      "secret must be whsec_ and base64 of at least 16 bytes (a Standard Webhooks secret); " +
        "leave it out to have one made",
      { field: "secret" },
    );
  }
  if (request.url !== undefined) await checkOutboundUrl(request.url, allow, "url");
}

/**
 * Checks a request and makes the record to store, generating a secret when
 * none is given.
 */
export async function newSubscription(
  request: SubscribeRequest,
  allow: readonly string[],
  now: number,
): Promise<StoredSubscription> {
  await checkFields(request, allow);
  return {
    id: `sub_${nextUlid(now)}`,
    pattern: request.pattern,
    url: request.url,
    secret: request.secret ?? newWebhookSecret(),
    headers: request.headers ?? {},
    ...(request.where !== undefined ? { where: request.where } : {}),
    ordered: request.ordered ?? false,
    ...(request.maxAttempts !== undefined ? { maxAttempts: request.maxAttempts } : {}),
    enabled: true,
    failures: 0,
    createdAt: now,
    updatedAt: now,
  };
}

/**
 * Checks a change as a create is checked (400 naming the field; an empty
 * change is refused too), before it is applied.
 */
export async function checkSubscriptionPatch(
  patch: SubscriptionPatch,
  allow: readonly string[],
): Promise<void> {
  if (Object.keys(patch).length === 0) {
    throw new ValidationError(
      "nothing to change: give one of pattern, url, secret, headers, where, ordered, " +
        "maxAttempts, enabled",
    );
  }
  await checkFields(patch, allow);
}

/**
 * A subscription with a checked change applied (pure: the store may apply it
 * again when another write came first). `enabled: true` also clears the
 * failures in a row and the reason it was switched off.
 */
export function patchSubscription(
  current: StoredSubscription,
  patch: SubscriptionPatch,
  now: number,
): StoredSubscription {
  const { where, maxAttempts, enabled, ...plain } = patch;
  const next: StoredSubscription = { ...current };
  for (const [key, value] of Object.entries(plain)) {
    if (value !== undefined) Object.assign(next, { [key]: value });
  }
  if (where === null) delete next.where;
  else if (where !== undefined) next.where = where;
  if (maxAttempts === null) delete next.maxAttempts;
  else if (maxAttempts !== undefined) next.maxAttempts = maxAttempts;
  if (enabled === true) {
    next.enabled = true;
    next.failures = 0;
    delete next.disabledReason;
  } else if (enabled === false) next.enabled = false;
  next.updatedAt = Math.max(now, current.updatedAt + 1);
  return next;
}

/** The API view: the secret left out. */
export function viewSubscription(subscription: StoredSubscription): SubscriptionView {
  const { secret: _secret, ...view } = subscription;
  return view;
}

/** What happened to a subscription; the event type is `subscription.<change>`. */
export type SubscriptionChange = "created" | "updated" | "enabled" | "disabled" | "deleted";

/**
 * The `subscription.<change>` event (`subject` the id, `data.subscription`
 * the view, `data.reason` for `disabled`, `data.previous` for `updated`):
 * every process's dispatcher reloads its list on it.
 */
export function subscriptionEvent(
  change: SubscriptionChange,
  subscription: StoredSubscription,
  reason?: string,
  previous?: StoredSubscription,
): CloudEvent {
  return createEvent({
    type: `subscription.${change}`,
    source: SUBSCRIPTION_EVENT_SOURCE,
    subject: subscription.id,
    data: {
      subscription: viewSubscription(subscription) as unknown as Json,
      ...(reason ? { reason } : {}),
      ...(previous ? { previous: viewSubscription(previous) as unknown as Json } : {}),
    },
  });
}

/**
 * The events a change publishes: `subscription.updated`, then
 * `subscription.enabled` or `subscription.disabled` when it switched the
 * subscription on or off.
 */
export function patchEvents(before: StoredSubscription, after: StoredSubscription): CloudEvent[] {
  const events = [subscriptionEvent("updated", after, undefined, before)];
  if (!before.enabled && after.enabled) events.push(subscriptionEvent("enabled", after));
  if (before.enabled && !after.enabled) {
    events.push(subscriptionEvent("disabled", after, "disabled through the API"));
  }
  return events;
}
