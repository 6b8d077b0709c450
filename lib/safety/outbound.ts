/**
 * What un may reach on behalf of an API caller: `http.allow` (host names,
 * wildcards, IP addresses, CIDRs and the word "public") checked against a
 * URL's host and every address it resolves to, and `http.signTo`, the hosts
 * whose requests carry the signature.
 */

import { ValidationError } from "../errors.ts";

/**
 * Refuses a URL whose host `allow` does not cover: a 400 naming the field and
 * the host. Names are resolved, so a public-looking name that points at a
 * loopback or private address is refused too.
 */
export async function checkOutboundUrl(
  url: string,
  allow: readonly string[],
  field: string,
): Promise<void> {
  // Filled in by the outbound-requests change.
  await Promise.resolve();
  void url, allow, field, ValidationError;
}

/** Whether requests to `url` are signed (its host matches `http.signTo`). */
export function isSignTarget(url: string, signTo: readonly string[]): boolean {
  void url, signTo;
  return false;
}
