/**
 * What un may reach on behalf of an API caller: `http.allow` (host names,
 * wildcards, IP addresses, CIDRs and the word "public") checked against a
 * URL's host and every address it resolves to, and `http.signTo`, the hosts
 * whose requests carry the signature.
 *
 * A host is allowed when its name matches a name pattern (the operator named
 * it, so it is not resolved), or when it is an IP literal or a name whose
 * every address an IP, CIDR or `public` entry covers. A name that does not
 * resolve is refused: without its addresses nothing says it is not private.
 */

import { lookup } from "node:dns/promises";
import ipaddr from "ipaddr.js";
import { ValidationError } from "../errors.ts";

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** One compiled `http.allow` / `http.signTo` entry. */
type Pattern =
  | { kind: "public" }
  | { kind: "name"; name: string }
  | { kind: "wildcard"; suffix: string }
  | { kind: "range"; range: [Address, number] };

/** Loopback, what the entry `localhost` covers besides the name itself (RFC 6761). */
const LOOPBACK: readonly [Address, number][] = [
  ipaddr.parseCIDR("127.0.0.0/8"),
  ipaddr.parseCIDR("::1/128"),
];
/** Every globally routed IPv6 unicast address lies here; ::/8 forms (IPv4-compatible) do not. */
const GLOBAL_V6 = ipaddr.parseCIDR("2000::/3");

const compiled = new WeakMap<readonly string[], Pattern[]>();

/** Lower case without the trailing dot, so `Example.COM.` and `example.com` are one name. */
function normalizeName(name: string): string {
  return name.toLowerCase().replace(/\.$/, "");
}

/** An IP address as ipaddr.js holds it, IPv4-mapped IPv6 turned into its IPv4 address. */
function parseAddress(text: string): Address | null {
  const bare = text.replace(/^\[(.*)\]$/, "$1");
  if (ipaddr.IPv4.isValidFourPartDecimal(bare) || ipaddr.IPv6.isValid(bare)) {
    return ipaddr.process(bare);
  }
  return null;
}

function compilePattern(entry: string): Pattern[] {
  const text = entry.trim();
  if (text.toLowerCase() === "public") return [{ kind: "public" }];
  if (text.toLowerCase() === "localhost") {
    return [
      { kind: "name", name: "localhost" },
      ...LOOPBACK.map((range) => ({
        kind: "range" as const,
        range,
      })),
    ];
  }
  if (text.includes("/")) {
    try {
      const [address, bits] = ipaddr.parseCIDR(text);
      // An IPv4-mapped CIDR (::ffff:10.0.0.0/104) is the IPv4 CIDR addresses are matched as.
      if (address.kind() === "ipv6" && (address as ipaddr.IPv6).isIPv4MappedAddress()) {
        return [{
          kind: "range",
          range: [(address as ipaddr.IPv6).toIPv4Address(), Math.max(0, bits - 96)],
        }];
      }
      return [{ kind: "range", range: [address, bits] }];
    } catch {
      return []; // Not a CIDR: matches nothing rather than something unintended.
    }
  }
  const address = parseAddress(text);
  if (address) return [{ kind: "range", range: [address, address.kind() === "ipv4" ? 32 : 128] }];
  if (text.startsWith("*.")) return [{ kind: "wildcard", suffix: normalizeName(text.slice(1)) }];
  return [{ kind: "name", name: normalizeName(text) }];
}

/** The compiled patterns of a list (config lists are compiled once). */
function patternsOf(list: readonly string[]): Pattern[] {
  let patterns = compiled.get(list);
  if (!patterns) {
    patterns = list.flatMap(compilePattern);
    compiled.set(list, patterns);
  }
  return patterns;
}

/**
 * Whether an address is public unicast: not loopback, private (10/8,
 * 172.16/12, 192.168/16, fc00::/7), link-local (169.254/16, fe80::/10),
 * CGNAT, multicast, unspecified, broadcast, documentation, NAT64, 6to4,
 * Teredo or otherwise reserved. IPv4-mapped IPv6 counts as its IPv4 address.
 *
 * @example
 * ```ts
 * isPublicAddress("93.184.216.34"); // true
 * isPublicAddress("::ffff:169.254.169.254"); // false
 * ```
 */
export function isPublicAddress(address: string): boolean {
  const parsed = parseAddress(address);
  if (!parsed) return false;
  if (parsed.kind() === "ipv4") return parsed.range() === "unicast";
  return parsed.range() === "unicast" && (parsed as ipaddr.IPv6).match(GLOBAL_V6);
}

/**
 * Whether a host name matches a name pattern of `list` (exact, case
 * insensitive, or `*.example.com` for any name below example.com, not
 * example.com itself). IP literals never match name patterns.
 */
export function hostMatchesName(host: string, list: readonly string[]): boolean {
  if (parseAddress(host)) return false;
  const name = normalizeName(host);
  return patternsOf(list).some((p) =>
    (p.kind === "name" && p.name === name) || (p.kind === "wildcard" && name.endsWith(p.suffix))
  );
}

/**
 * Whether an IP address is covered by an IP, CIDR, `localhost` or `public`
 * entry of `list`.
 *
 * @example
 * ```ts
 * addressAllowed("10.1.2.3", ["10.0.0.0/8"]); // true
 * addressAllowed("::ffff:127.0.0.1", ["127.0.0.1"]); // true
 * ```
 */
export function addressAllowed(address: string, list: readonly string[]): boolean {
  const parsed = parseAddress(address);
  if (!parsed) return false;
  return patternsOf(list).some((p) =>
    (p.kind === "public" && isPublicAddress(address)) ||
    (p.kind === "range" && p.range[0].kind() === parsed.kind() && parsed.match(p.range))
  );
}

/** The host of a URL without IPv6 brackets; null when it is not a URL with a host. */
export function urlHost(url: string): string | null {
  try {
    return new URL(url).hostname.replace(/^\[(.*)\]$/, "$1") || null;
  } catch {
    return null;
  }
}

/**
 * Resolves a host name to its addresses; node:dns `lookup` (the system
 * resolver, so /etc/hosts counts as it does for fetch) unless a test injects
 * another.
 */
export type Resolver = (name: string) => Promise<string[]>;

/** The system resolver: every address, in the order the resolver gives them. */
export const systemResolver: Resolver = async (name) =>
  (await lookup(name, { all: true, verbatim: true })).map((a) => a.address);

/** Addresses of a host: itself for an IP literal, loopback for localhost names, else `resolve`. */
async function resolveHost(
  host: string,
  resolve: Resolver,
  signal?: AbortSignal,
): Promise<string[]> {
  if (parseAddress(host)) return [host];
  const name = normalizeName(host);
  if (name === "localhost" || name.endsWith(".localhost")) return ["127.0.0.1", "::1"];
  const found = resolve(name);
  if (!signal) return await found;
  signal.throwIfAborted();
  let onAbort = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([found, aborted]);
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

/** How {@link checkOutboundUrl} and {@link allowedAddresses} resolve. */
export interface ResolveOptions {
  signal?: AbortSignal;
  /** The resolver; {@link systemResolver} by default. */
  resolve?: Resolver;
}

/**
 * The one home of the `http.allow` rule for a host: `null` when the name
 * itself is listed (trusted, so not resolved here), else the addresses the
 * host resolves to, every one of them allowed. Resolves once: a caller that
 * connects to exactly these addresses connects where the check looked, which
 * a second resolution (DNS rebinding) cannot change.
 *
 * Throws the {@link ValidationError} {@link checkOutboundUrl} documents
 * (`not_allowed` or `unresolved`), or the signal's reason when aborted.
 *
 * @example
 * ```ts
 * await allowedAddresses("hooks.example.com", ["public"], "payload.url"); // ["93.184.216.34"]
 * await allowedAddresses("hooks.example.com", ["hooks.example.com"], "payload.url"); // null
 * ```
 */
export async function allowedAddresses(
  host: string,
  allow: readonly string[],
  field: string,
  options: ResolveOptions = {},
): Promise<string[] | null> {
  if (hostMatchesName(host, allow)) return null;
  const allowed = JSON.stringify(allow);
  let addresses: string[];
  try {
    addresses = await resolveHost(host, options.resolve ?? systemResolver, options.signal);
  } catch (error) {
    if (options.signal?.aborted) throw options.signal.reason;
    const why = (error as { code?: string }).code ?? (error as Error).message;
    throw new ValidationError(
      `${field}: could not resolve host ${host} (${why}) to check it against http.allow ` +
        `(${allowed}); list the name itself in http.allow to let un reach it unresolved`,
      { field, host, allow, reason: "unresolved" },
    );
  }
  const refused = addresses.find((address) => !addressAllowed(address, allow));
  if (refused === undefined && addresses.length > 0) return addresses;
  const at = refused === undefined || refused === host ? "" : ` (resolves to ${refused})`;
  throw new ValidationError(
    `${field}: host ${host}${at} is not allowed by http.allow (${allowed}); ` +
      `add it to http.allow to let un reach it`,
    { field, host, address: refused ?? null, allow, reason: "not_allowed" },
  );
}

/**
 * Refuses a URL whose host `allow` does not cover: a {@link ValidationError}
 * (400) naming the field, the host, the address it resolved to and what
 * `http.allow` allows. `details.reason` is `"not_allowed"`, `"unresolved"`
 * (DNS failed: may pass later) or `"bad_url"`.
 *
 * @example
 * ```ts
 * await checkOutboundUrl("https://hooks.example.com/x", ["public"], "payload.url"); // resolves
 * await checkOutboundUrl("http://127.0.0.1:8080/", ["public"], "payload.url");
 * // throws: payload.url: host 127.0.0.1 is not allowed by http.allow (["public"]); ...
 * ```
 */
export async function checkOutboundUrl(
  url: string,
  allow: readonly string[],
  field: string,
  options: ResolveOptions = {},
): Promise<void> {
  const host = urlHost(url);
  if (!host) {
    throw new ValidationError(`${field}: not a URL with a host`, {
      field,
      reason: "bad_url",
    });
  }
  await allowedAddresses(host, allow, field, options);
}

/**
 * Whether requests to `url` are signed: its host matches a name pattern of
 * `signTo`, or is an IP literal an IP/CIDR entry covers. Names are not
 * resolved here: signing follows the name the operator listed.
 */
export function isSignTarget(url: string, signTo: readonly string[]): boolean {
  const host = urlHost(url);
  if (!host || signTo.length === 0) return false;
  return parseAddress(host) ? addressAllowed(host, signTo) : hostMatchesName(host, signTo);
}
