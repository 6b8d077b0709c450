/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): what a
 * subscription's deliveries carry, so receivers can check them with the
 * standard's own libraries. The secret is `whsec_` and base64 key bytes; each
 * attempt is signed afresh (`webhook-timestamp` is the attempt's time, so a
 * retry hours later is not refused as stale), under the same `webhook-id`.
 */

import { Buffer } from "node:buffer";
import { createHmac, randomBytes } from "node:crypto";

/** The prefix of a Standard Webhooks secret. */
export const SECRET_PREFIX = "whsec_";

/** A new secret: `whsec_` and 24 random bytes in base64. */
export function newWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(24).toString("base64");
}

/** True when `secret` is `whsec_` and base64 of at least 16 bytes. */
export function isWebhookSecret(secret: string): boolean {
  if (!secret.startsWith(SECRET_PREFIX)) return false;
  const encoded = secret.slice(SECRET_PREFIX.length);
  return /^[A-Za-z0-9+/]+={0,2}$/.test(encoded) && Buffer.from(encoded, "base64").length >= 16;
}

/**
 * The three headers of a signed delivery: `webhook-id`, `webhook-timestamp`
 * (unix seconds) and `webhook-signature` (`v1,<base64 HMAC-SHA256 of
 * "<id>.<timestamp>.<body>">`).
 *
 * @example
 * ```ts
 * const headers = webhookHeaders(secret, "evt_01J...", JSON.stringify(event));
 * ```
 */
export function webhookHeaders(
  secret: string,
  id: string,
  body: string,
  nowMs = Date.now(),
): Record<string, string> {
  const timestamp = String(Math.floor(nowMs / 1000));
  const key = Buffer.from(secret.slice(SECRET_PREFIX.length), "base64");
  const mac = createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest("base64");
  return {
    "webhook-id": id,
    "webhook-timestamp": timestamp,
    "webhook-signature": `v1,${mac}`,
  };
}
