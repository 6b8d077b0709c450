/**
 * Outbound webhook subscriptions (`POST /un/events/subscribe`): a plain
 * module, no actor code. It checks a request (pattern, URL against
 * `http.allow`, a `where` that compiles, a Standard Webhooks secret), makes
 * the stored record (generating a secret when none is given), the API view
 * (the secret left out: it is shown once, at creation) and the
 * `subscription.*` events the dispatchers of every process react to.
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

/**
 * Checks a request and makes the record to store: the pattern, the `where`
 * (CEL over `event`), the secret's form and the URL against `allow` (400
 * naming the field otherwise).
 */
export async function newSubscription(
  request: SubscribeRequest,
  allow: readonly string[],
  now: number,
): Promise<StoredSubscription> {
  assertPattern(request.pattern, "pattern");
  if (request.where !== undefined) {
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
  await checkOutboundUrl(request.url, allow, "url");
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

/** The API view: the secret left out. */
export function viewSubscription(subscription: StoredSubscription): SubscriptionView {
  const { secret: _secret, ...view } = subscription;
  return view;
}

/** What happened to a subscription; the event type is `subscription.<change>`. */
export type SubscriptionChange = "created" | "deleted" | "disabled";

/**
 * The `subscription.<change>` event (`subject` the id, `data.subscription`
 * the view, `data.reason` for `disabled`): every process's dispatcher
 * reloads its list on it.
 */
export function subscriptionEvent(
  change: SubscriptionChange,
  subscription: StoredSubscription,
  reason?: string,
): CloudEvent {
  return createEvent({
    type: `subscription.${change}`,
    source: SUBSCRIPTION_EVENT_SOURCE,
    subject: subscription.id,
    data: {
      subscription: viewSubscription(subscription) as unknown as Json,
      ...(reason ? { reason } : {}),
    },
  });
}
