/**
 * `POST /un/github/webhook` tells a prober nothing: without a correct
 * signature, an unknown source, a source of another kind, a github source
 * without a secret, a disabled one and a github source with a secret but a
 * missing or wrong signature all get byte-identical answers (status, headers,
 * body). A correctly signed push still works, and the same push redelivered
 * under a new `X-GitHub-Delivery` id is announced once. Black-box against a
 * real `un start`, with GitHub's example payloads signed by
 * `@octokit/webhooks-methods`.
 */

import assert from "node:assert/strict";
import { sign } from "@octokit/webhooks-methods";
import {
  example,
  EXAMPLE_REPO as REPO,
  EXAMPLE_SECRET as SECRET,
  type Payload,
  PING_REPO,
} from "./helpers/github-examples.ts";
import { history } from "./helpers/events.ts";
import { closedPort } from "./helpers/http.ts";
import { startUn, type UnProcess } from "./helpers/un-process.ts";

const TOKEN = "probe-test-token-0123";
const AUTH = { authorization: `Bearer ${TOKEN}` };

/** Everything a prober sees of an answer, but the clock. */
interface Seen {
  status: number;
  headers: [string, string][];
  body: string;
}

async function probe(
  un: UnProcess,
  query: string,
  payload: Payload,
  signature?: string,
  delivery: string = crypto.randomUUID(),
): Promise<Seen> {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "X-GitHub-Event": "push",
    "X-GitHub-Delivery": delivery,
  };
  if (signature) headers["X-Hub-Signature-256"] = signature;
  const res = await fetch(`${un.url}/un/github/webhook${query}`, {
    method: "POST",
    headers,
    body: JSON.stringify(payload),
  });
  return {
    status: res.status,
    // The date and the request's own id differ per request, whatever the source.
    headers: [...res.headers].filter(([name]) => name !== "date" && name !== "x-request-id"),
    body: await res.text(),
  };
}

function githubSources(apiUrl: string) {
  const common = { kind: "github", apiUrl, interval: "1h", emitExisting: false };
  return [
    { ...common, id: "hello", repo: REPO, secret: SECRET },
    { ...common, id: "open", repo: PING_REPO },
    { ...common, id: "off", repo: REPO, secret: "another secret", enabled: false },
    { id: "inbox", kind: "fs", path: "./inbox" },
  ];
}

Deno.test("webhook probing without a correct signature gets one answer, whatever the source", async () => {
  await using un = await startUn({
    config: {
      api: { token: TOKEN },
      sources: githubSources(`http://127.0.0.1:${closedPort()}`),
    },
  });
  await Deno.mkdir(`${un.dir}/inbox`, { recursive: true });
  const push = example("push", (p) => p.ref === "refs/heads/master" && p.deleted === false);
  const ping = example("ping", undefined, PING_REPO);
  const body = JSON.stringify(push);
  const wrong = await sign("not the secret", body);

  const answers: Record<string, Seen> = {
    "unknown source": await probe(un, "?source=nobody", push),
    "unknown source, signed": await probe(un, "?source=nobody", push, await sign(SECRET, body)),
    "another kind": await probe(un, "?source=inbox", push),
    "no secret": await probe(un, "?source=open", ping),
    "no secret, signed": await probe(un, "?source=open", ping, await sign(SECRET, body)),
    "disabled": await probe(un, "?source=off", push),
    "unsigned": await probe(un, "?source=hello", push),
    "wrong signature": await probe(un, "?source=hello", push, wrong),
    "malformed signature": await probe(un, "?source=hello", push, "sha256=nope"),
    "by repo, unsigned": await probe(un, "", push),
    "by repo, wrong signature": await probe(un, "", push, wrong),
    "by repo, no secret": await probe(un, "", ping),
    "repo nobody watches": await probe(un, "", {
      ...ping,
      repository: { ...(ping.repository as Payload), full_name: "octo-org/nobody" },
    }),
  };
  const reference = answers["unknown source"];
  assert.equal(reference.status, 401);
  assert.deepEqual(JSON.parse(reference.body), {
    error: {
      code: "invalid_signature",
      message: "missing or wrong X-Hub-Signature-256: sign the body with the secret of the " +
        "github source the delivery is for",
      details: {},
    },
  });
  for (const [what, seen] of Object.entries(answers)) {
    assert.deepEqual(seen, reference, `${what} answers like an unknown source`);
  }
  for (const word of ["hello", "open", "inbox", "fs", "disabled", REPO, PING_REPO]) {
    assert.ok(!reference.body.includes(word), `the answer says nothing of ${word}`);
  }
  assert.deepEqual(await history(un, "github.push", AUTH), [], "nothing was published");

  // Correctly signed, un speaks: the disabled source says so.
  const off = await probe(un, "?source=off", push, await sign("another secret", body));
  assert.equal(off.status, 409, off.body);

  // A correctly signed push works as before; redelivered under a new id it is announced once.
  const first = await probe(un, "?source=hello", push, await sign(SECRET, body), "d-1");
  assert.equal(first.status, 202, first.body);
  const events = JSON.parse(first.body).events as string[];
  assert.deepEqual((await history(un, "github.push", AUTH)).map((e) => e.id), [events[0]]);
  for (const [query, delivery] of [["?source=hello", "d-2"], ["", "d-3"], ["", "d-1"]]) {
    const again = await probe(un, query, push, await sign(SECRET, body), delivery);
    assert.equal(again.status, 200, again.body);
    assert.deepEqual(JSON.parse(again.body), { duplicate: true, events: [], sources: ["hello"] });
  }
  const published = await history(un, "github.push", AUTH);
  assert.equal(published.length, 1, "one github.push for one push");
  assert.equal((published[0].data as { after: string }).after, push.after);
});

Deno.test("webhook without api.token: a source without a secret takes no unsigned delivery", async () => {
  await using un = await startUn({
    config: { sources: githubSources(`http://127.0.0.1:${closedPort()}`) },
  });
  const ping = example("ping", undefined, PING_REPO);
  const open = await probe(un, "?source=open", ping);
  const unknown = await probe(un, "?source=nobody", ping);
  assert.equal(open.status, 401);
  assert.deepEqual(open, unknown);
  assert.deepEqual(await history(un, "github.**"), []);
});
