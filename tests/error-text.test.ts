/**
 * `errorText`: what logs, `/health`, source statuses and the CLI say about a
 * failure.
 */

import assert from "node:assert/strict";
import { errorText } from "../lib/errors.ts";

Deno.test("an error reads as its message; anything else thrown reads as itself", () => {
  assert.equal(errorText(new Error("boom")), "boom");
  assert.equal(errorText("plain string"), "plain string");
  assert.equal(errorText(42), "42");
  assert.equal(errorText(undefined), "undefined");
});

Deno.test("a wrapped network failure names its cause once", () => {
  const refused = new Error("Connection refused");
  assert.equal(
    errorText(new TypeError("fetch failed", { cause: refused })),
    "fetch failed: Connection refused",
  );
  assert.equal(
    errorText(new Error("fetch failed: Connection refused", { cause: refused })),
    "fetch failed: Connection refused",
  );
  assert.equal(errorText(new Error("gave up", { cause: "not an error" })), "gave up");
});
