/**
 * The `http.allow` / `http.signTo` matcher (lib/safety/outbound.ts): which
 * addresses are public, how IPs, CIDRs, names and wildcards match, and what
 * `checkOutboundUrl` refuses (IP literals, /etc/hosts names, localhost).
 */

import assert from "node:assert/strict";
import { ValidationError } from "../lib/errors.ts";
import {
  addressAllowed,
  checkOutboundUrl,
  hostMatchesName,
  isPublicAddress,
  isSignTarget,
} from "../lib/safety/outbound.ts";

Deno.test("public: unicast internet addresses only", () => {
  for (const address of ["93.184.216.34", "8.8.8.8", "1.1.1.1", "172.32.0.1", "2606:4700::1111"]) {
    assert.ok(isPublicAddress(address), `${address} is public`);
  }
  const refused = [
    ["127.0.0.1", "loopback"],
    ["127.255.0.9", "loopback /8"],
    ["::1", "v6 loopback"],
    ["10.1.2.3", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["fc00::1", "unique local"],
    ["fd12:3456::1", "unique local"],
    ["169.254.169.254", "cloud metadata"],
    ["fe80::1", "v6 link-local"],
    ["0.0.0.0", "unspecified"],
    ["::", "v6 unspecified"],
    ["100.64.0.1", "CGNAT"],
    ["224.0.0.1", "multicast"],
    ["ff02::1", "v6 multicast"],
    ["255.255.255.255", "broadcast"],
    ["192.0.2.1", "documentation"],
    ["2001:db8::1", "v6 documentation"],
    ["240.0.0.1", "reserved"],
    ["::ffff:127.0.0.1", "IPv4-mapped loopback"],
    ["::ffff:10.0.0.1", "IPv4-mapped private"],
    ["::ffff:169.254.169.254", "IPv4-mapped metadata"],
    ["::7f00:1", "IPv4-compatible loopback"],
    ["64:ff9b::7f00:1", "NAT64"],
    ["2002:7f00:1::", "6to4"],
    ["not-an-ip", "not an address"],
  ];
  for (const [address, what] of refused) {
    assert.equal(isPublicAddress(address), false, `${address} (${what}) is not public`);
    assert.equal(addressAllowed(address, ["public"]), false, `${address} not allowed by public`);
  }
});

Deno.test("IP and CIDR entries, v4 and v6; IPv4-mapped forms match as IPv4", () => {
  assert.ok(addressAllowed("127.0.0.1", ["127.0.0.1"]));
  assert.ok(addressAllowed("::ffff:127.0.0.1", ["127.0.0.1"]));
  assert.ok(!addressAllowed("127.0.0.2", ["127.0.0.1"]));
  assert.ok(addressAllowed("127.0.0.1", ["127.0.0.1/32"]));
  assert.ok(!addressAllowed("127.0.0.2", ["127.0.0.1/32"]));
  assert.ok(addressAllowed("10.200.3.4", ["10.0.0.0/8"]));
  assert.ok(!addressAllowed("11.0.0.1", ["10.0.0.0/8"]));
  assert.ok(addressAllowed("::ffff:10.9.9.9", ["10.0.0.0/8"]));
  assert.ok(addressAllowed("10.9.9.9", ["::ffff:10.0.0.0/104"]));
  assert.ok(addressAllowed("::1", ["::1/128"]));
  assert.ok(addressAllowed("::1", ["::1"]));
  assert.ok(addressAllowed("fd00:1::5", ["fd00::/8"]));
  assert.ok(!addressAllowed("fe80::1", ["fd00::/8"]));
  assert.ok(!addressAllowed("10.0.0.1", ["::/0"]), "a v6 range never covers a v4 address");
  assert.ok(addressAllowed("10.0.0.1", ["public", "10.0.0.0/8"]));
  assert.ok(
    !addressAllowed("10.0.0.1", ["10.0.0.0/33", "nonsense/8"]),
    "a bad CIDR matches nothing",
  );
  // The entry localhost covers loopback addresses too.
  assert.ok(addressAllowed("127.0.0.1", ["localhost"]));
  assert.ok(addressAllowed("::1", ["localhost"]));
  assert.ok(!addressAllowed("10.0.0.1", ["localhost"]));
});

Deno.test("names: exact (case-insensitive, trailing dot) and *. wildcards below a domain", () => {
  assert.ok(hostMatchesName("api.example.com", ["api.example.com"]));
  assert.ok(hostMatchesName("API.Example.COM.", ["api.example.com"]));
  assert.ok(hostMatchesName("api.example.com", ["API.EXAMPLE.COM"]));
  assert.ok(!hostMatchesName("example.com", ["api.example.com"]));
  assert.ok(hostMatchesName("a.example.com", ["*.example.com"]));
  assert.ok(hostMatchesName("a.b.example.com", ["*.example.com"]));
  assert.ok(!hostMatchesName("example.com", ["*.example.com"]), "the wildcard is below, not at");
  assert.ok(!hostMatchesName("badexample.com", ["*.example.com"]));
  assert.ok(!hostMatchesName("example.com.evil.net", ["*.example.com"]));
  assert.ok(!hostMatchesName("127.0.0.1", ["127.0.0.1"]), "IP literals are not names");
  assert.ok(!hostMatchesName("anything.example", ["public"]));
});

Deno.test("signTo: names and IP literals, never resolved", () => {
  assert.ok(isSignTarget("https://hooks.example.com/un", ["hooks.example.com"]));
  assert.ok(isSignTarget("https://x.hooks.example.com/un", ["*.hooks.example.com"]));
  assert.ok(!isSignTarget("https://other.example.com/un", ["hooks.example.com"]));
  assert.ok(isSignTarget("http://127.0.0.1:8080/x", ["127.0.0.1"]));
  assert.ok(isSignTarget("http://[::1]:8080/x", ["::1/128"]));
  assert.ok(!isSignTarget("http://127.0.0.1:8080/x", []));
  assert.ok(!isSignTarget("not a url", ["public"]));
});

/** A name other than localhost that /etc/hosts maps to loopback, if the machine has one. */
async function loopbackAlias(): Promise<string | undefined> {
  const hosts = await Deno.readTextFile("/etc/hosts").catch(() => "");
  for (const line of hosts.split("\n")) {
    const [address, ...names] = line.replace(/#.*/, "").trim().split(/\s+/);
    if (!/^(127\.|::1$)/.test(address ?? "")) continue;
    const alias = names.find((n) => n && !/(^|\.)localhost$/i.test(n));
    if (alias) return alias;
  }
  return undefined;
}

async function refusal(url: string, allow: string[]): Promise<ValidationError> {
  try {
    await checkOutboundUrl(url, allow, "payload.url");
  } catch (error) {
    assert.ok(error instanceof ValidationError, String(error));
    return error;
  }
  throw new Error(`${url} was allowed by ${JSON.stringify(allow)}`);
}

Deno.test("checkOutboundUrl: literals, localhost, /etc/hosts names, and messages", async () => {
  const loop = await refusal("http://127.0.0.1:8080/hook", ["public"]);
  assert.equal(
    loop.message,
    'payload.url: host 127.0.0.1 is not allowed by http.allow (["public"]); ' +
      "add it to http.allow to let un reach it",
  );
  assert.equal(loop.status, 400);
  assert.deepEqual(loop.details, {
    field: "payload.url",
    host: "127.0.0.1",
    address: "127.0.0.1",
    allow: ["public"],
    reason: "not_allowed",
  });
  // The URL parser's odd IPv4 spellings and mapped v6 end up as the address they are.
  await refusal("http://0x7f.1/", ["public"]);
  await refusal("http://2130706433/", ["public"]);
  await refusal("http://[::ffff:127.0.0.1]/", ["public"]);
  await refusal("http://[::1]:80/", ["public"]);
  await refusal("http://169.254.169.254/latest/meta-data/", ["public"]);

  // localhost is loopback without asking DNS; listing the name allows it.
  const local = await refusal("http://localhost:4242/", ["public"]);
  assert.match(local.message, /host localhost \(resolves to 127\.0\.0\.1\) is not allowed/);
  await refusal("http://app.localhost/", ["public"]);
  await checkOutboundUrl("http://localhost:4242/", ["localhost"], "url");
  await checkOutboundUrl("http://127.0.0.1:4242/", ["localhost"], "url");

  // Other names go through the system resolver, /etc/hosts included: a loopback alias there
  // (the machine's own name, ip6-localhost) is refused for what it resolves to.
  const alias = await loopbackAlias();
  if (alias) {
    const refused = await refusal(`http://${alias}:8080/`, ["public"]);
    assert.match(refused.message, new RegExp(`host ${alias} \\(resolves to (127\\.|::1)`));
    await checkOutboundUrl(`http://${alias}:8080/`, ["127.0.0.0/8", "::1"], "url");
    await checkOutboundUrl(`http://${alias}:8080/`, [alias], "url");
  }

  await checkOutboundUrl("http://127.0.0.1:8080/", ["127.0.0.1"], "url");
  await checkOutboundUrl("http://127.0.0.1:8080/", ["127.0.0.0/8"], "url");
  await checkOutboundUrl("http://[::1]:8080/", ["::1"], "url");
  await checkOutboundUrl("https://hooks.example.com/", ["*.example.com"], "url"); // by name, unresolved
  const other = await refusal("http://127.0.0.2:1/", ["127.0.0.1/32"]);
  assert.match(
    other.message,
    /host 127\.0\.0\.2 is not allowed by http\.allow \(\["127\.0\.0\.1\/32"\]\)/,
  );

  const unresolved = await refusal("http://no-such-host.invalid/", ["public"]);
  assert.equal(unresolved.details.reason, "unresolved");
  assert.match(unresolved.message, /payload\.url: could not resolve host no-such-host\.invalid/);
  const bad = await refusal("not a url", ["public"]);
  assert.equal(bad.details.reason, "bad_url");
});
