/**
 * `un subscriptions` against a real `un start`: add (the secret printed
 * once), the table and `--json` (no secret), delete; a URL `http.allow` does
 * not allow is refused with the server's message; update, disable and enable
 * (the secret never printed after add).
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

Deno.test("cli: un subscriptions update, disable, enable", async () => {
  await using un = await startUn({ config: { http: { allow: ["127.0.0.1"] } } });
  const added = await cli(
    ["subscriptions", "add", "file.*", "http://127.0.0.1:9/hook", "--ordered", "--json"],
    un.url,
  );
  const { id } = JSON.parse(added.stdout).subscription;

  const disabled = await cli(["subscriptions", "disable", id], un.url);
  assert.equal(disabled.code, 0, disabled.stderr);
  assert.equal(disabled.stdout.trim(), `disabled subscription ${id}`);
  assert.match((await cli(["subscriptions"], un.url)).stdout, /no \(disabled\)/);

  const enabled = await cli(["subscriptions", "enable", id, "--json"], un.url);
  assert.equal(enabled.code, 0, enabled.stderr);
  const view = JSON.parse(enabled.stdout).subscription;
  assert.equal(view.enabled, true);
  assert.equal(view.secret, undefined);

  const updated = await cli(
    ["subscriptions", "update", id, "--url", "http://127.0.0.1:8/other", "--unordered"],
    un.url,
  );
  assert.equal(updated.code, 0, updated.stderr);
  assert.equal(updated.stdout.trim(), `updated subscription ${id}`);
  const [listed] = JSON.parse((await cli(["subscriptions", "--json"], un.url)).stdout)
    .subscriptions;
  assert.equal(listed.url, "http://127.0.0.1:8/other");
  assert.equal(listed.ordered, false);

  const refused = await cli(["subscriptions", "update", id, "--url", "http://10.9.8.7/"], un.url);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /http\.allow/);
  const nothing = await cli(["subscriptions", "update", id], un.url);
  assert.equal(nothing.code, 2);
  assert.match(nothing.stderr, /nothing to change/);
  const unknown = await cli(["subscriptions", "enable", "sub_none"], un.url);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /not found/);
});
