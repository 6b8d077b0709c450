/**
 * The signature un puts on requests to `http.signTo` hosts, and the check a
 * receiver runs. Stripe-style: `X-Un-Signature: t=<unix seconds>,v1=<hex>`
 * where v1 is HMAC-SHA256(secret, "<t>.<METHOD>.<url>.<body>"). Covering the
 * method and URL stops a delivery from being replayed against another
 * endpoint; covering the time lets a receiver refuse old captures.
 */

import { Buffer } from "node:buffer";
import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * The request header carrying the signature.
 */
export const SIGNATURE_HEADER = "X-Un-Signature";

/** How old (or how far in the future) a signature may be by default: 5 minutes. */
export const DEFAULT_TOLERANCE_SEC = 300;

/**
 * What a signature covers.
 */
export interface SignedRequest {
  /** HTTP method; compared upper case. */
  method: string;
  /** The full URL the request was sent to (scheme, host, port, path and query). */
  url: string;
  /** The raw body, exactly as sent ("" when there is none). */
  body: string | Uint8Array;
}

/**
 * The outcome of {@link verifySignature}: ok with the signature's time, or
 * why not (`bad_format`, `stale`: outside the tolerance, a replay or a
 * skewed clock; `mismatch`: wrong secret, or a changed method, URL or body).
 */
export type SignatureCheck =
  | { ok: true; timestamp: number }
  | { ok: false; reason: "bad_format" | "stale" | "mismatch"; message: string };

function hmac(secret: string, timestamp: number, request: SignedRequest): Buffer {
  const mac = createHmac("sha256", secret);
  mac.update(`${timestamp}.${request.method.toUpperCase()}.${request.url}.`);
  mac.update(request.body);
  return mac.digest();
}

/**
 * The `X-Un-Signature` value of a request: `t=<unix seconds>,v1=<hex>`.
 *
 * @example
 * ```ts
 * const header = signRequest("s3cret", { method: "POST", url: "https://hooks.example.com/un", body: "{}" });
 * // "t=1700000000,v1=9c1e..."
 * ```
 */
export function signRequest(
  secret: string,
  request: SignedRequest & { timestamp?: number },
): string {
  const timestamp = request.timestamp ?? Math.floor(Date.now() / 1000);
  return `t=${timestamp},v1=${hmac(secret, timestamp, request).toString("hex")}`;
}

/**
 * Checks an `X-Un-Signature` header against the request a receiver got:
 * the format, the time (within `toleranceSec`, default 300 s, of `now`, in
 * milliseconds since the epoch like `Date.now()`), then the HMAC in constant
 * time. Any one `v1` matching is enough (several allow rotating the secret).
 *
 * @example
 * ```ts
 * const check = verifySignature(secret, request.headers.get("x-un-signature"), {
 *   method: request.method, url: request.url, body: await request.text(),
 * });
 * if (!check.ok) return new Response(check.message, { status: 401 });
 * ```
 */
export function verifySignature(
  secret: string,
  header: string | null | undefined,
  request: SignedRequest,
  options: { toleranceSec?: number; now?: number } = {},
): SignatureCheck {
  let timestamp: number | null = null;
  const signatures: Buffer[] = [];
  for (const part of (header ?? "").split(",")) {
    const [key, value] = part.trim().split("=", 2);
    if (key === "t" && /^\d{1,12}$/.test(value ?? "")) timestamp = Number(value);
    if (key === "v1" && /^[0-9a-f]{64}$/i.test(value ?? "")) {
      signatures.push(Buffer.from(value, "hex"));
    }
  }
  if (timestamp === null || signatures.length === 0) {
    return {
      ok: false,
      reason: "bad_format",
      message: `${SIGNATURE_HEADER} must look like t=<unix seconds>,v1=<64 hex digits>`,
    };
  }
  const tolerance = options.toleranceSec ?? DEFAULT_TOLERANCE_SEC;
  const age = Math.floor((options.now ?? Date.now()) / 1000) - timestamp;
  if (Math.abs(age) > tolerance) {
    return {
      ok: false,
      reason: "stale",
      message:
        `signed ${age}s ago; only ${tolerance}s either way are accepted (replay or clock skew)`,
    };
  }
  const expected = hmac(secret, timestamp, request);
  if (!signatures.some((given) => timingSafeEqual(given, expected))) {
    return {
      ok: false,
      reason: "mismatch",
      message: "signature does not match the method, URL and body (or the secret differs)",
    };
  }
  return { ok: true, timestamp };
}
