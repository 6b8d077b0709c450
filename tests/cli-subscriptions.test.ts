/**
 * `un subscriptions` against a real `un start`: add (the secret printed
 * once), the table and `--json` (no secret), delete; a URL `http.allow` does
 * not allow is refused with the server's message.
 */

import assert from "node:assert/strict";
import { runCli } from "./helpers/cli.ts";
import { startUn } from "./helpers/un-process.ts";

const cli = (args: string[], url: string) => runCli(args, { UN_URL: url });

Deno.test("cli: un subscriptions add, list, delete", async () => {
  await using un = await startUn({ config: { http: { allow: ["127.0.0.1"] } } });
  const added = await cli(
    ["subscriptions", "add", "file.*", "http://127.0.0.1:9/hook", "--ordered", "--json"],
    un.url,
  );
  assert.equal(added.code, 0, added.stderr);
  const { subscription } = JSON.parse(added.stdout);
  assert.match(subscription.secret, /^whsec_/);
  assert.equal(subscription.ordered, true);

  const table = await cli(["subscriptions"], un.url);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, new RegExp(subscription.id));
  assert.match(table.stdout, /file\.\*/);

  const json = await cli(["subscriptions", "--json"], un.url);
  const listed = JSON.parse(json.stdout).subscriptions;
  assert.equal(listed.length, 1);
  assert.equal(listed[0].secret, undefined);

  const refused = await cli(["subscriptions", "add", "x.*", "http://10.9.8.7/"], un.url);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /http\.allow/);

  const deleted = await cli(["subscriptions", "delete", subscription.id], un.url);
  assert.equal(deleted.code, 0, deleted.stderr);
  assert.match(deleted.stdout, /deleted subscription/);
  const none = await cli(["subscriptions"], un.url);
  assert.match(none.stdout, /no subscriptions/);
});
