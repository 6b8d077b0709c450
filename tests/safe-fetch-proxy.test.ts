/**
 * Checked outbound requests behind a proxy (HTTP_PROXY and NO_PROXY, as
 * fetch reads them): each hop is still checked against `http.allow`, then
 * goes to the proxy, which connects; without a proxy it goes straight to the
 * checked address.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { REPO } from "./helpers/un-process.ts";

const FIXTURE = join(REPO, "tests", "fixtures", "safe-fetch-once.ts");
/** Where `localhost` resolves. */
const LOOPBACK = ["127.0.0.1", "::1"];

async function once(url: string, allow: string[], env: Record<string, string>): Promise<string> {
  const clean = Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([k]) => !/^(https?|no|all)_proxy$/i.test(k)),
  );
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", FIXTURE, url, JSON.stringify(allow)],
    env: { ...clean, ...env },
    clearEnv: true,
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  return new TextDecoder().decode(out.stdout).trim();
}

Deno.test("behind a proxy a checked request goes to the proxy; a refused one goes nowhere", async () => {
  let targetHits = 0;
  const proxied: string[] = [];
  const target = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    targetHits++;
    return new Response("from the target");
  });
  const proxy = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    proxied.push(req.url);
    return new Response("from the proxy");
  });
  try {
    const url = `http://localhost:${target.addr.port}/x`;
    const viaProxy = { HTTP_PROXY: `http://127.0.0.1:${proxy.addr.port}` };

    assert.equal(await once(url, LOOPBACK, viaProxy), "200 from the proxy");
    assert.deepEqual(proxied, [url], "the proxy got the request, absolute");
    assert.equal(targetHits, 0);

    const refused = await once(url, ["public"], viaProxy);
    assert.match(refused, /^refused: url: host localhost .*not allowed by http\.allow/);
    assert.equal(proxied.length, 1, "a refused request is not sent to the proxy either");

    assert.equal(
      await once(url, LOOPBACK, { ...viaProxy, NO_PROXY: "localhost" }),
      "200 from the target",
    );
    assert.equal(await once(url, LOOPBACK, {}), "200 from the target");
    assert.equal(targetHits, 2);
  } finally {
    await target.shutdown();
    await proxy.shutdown();
  }
});
