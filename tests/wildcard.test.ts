/**
 * Event-type patterns as hooks, SSE filters and subscriptions use them: `*` is
 * one segment, `**` one or more, everything else is literal.
 */

import assert from "node:assert/strict";
import { assertPattern, compilePattern } from "../lib/events/wildcard.ts";
import { ValidationError } from "../lib/errors.ts";

function matches(pattern: string, types: string[]): string[] {
  const match = compilePattern(pattern);
  return types.filter((type) => match(type));
}

const TYPES = ["file.created", "file.deleted", "task.succeeded", "task.a.b", "github.push", "file"];

Deno.test("an exact type matches only itself", () => {
  assert.deepEqual(matches("file.created", TYPES), ["file.created"]);
  assert.deepEqual(matches("file", TYPES), ["file"]);
});

Deno.test("* matches exactly one segment", () => {
  assert.deepEqual(matches("file.*", TYPES), ["file.created", "file.deleted"]);
  assert.deepEqual(matches("*.push", TYPES), ["github.push"]);
  assert.deepEqual(matches("task.*", TYPES), ["task.succeeded"], "not task.a.b");
});

Deno.test("** matches one or more segments, and alone matches everything", () => {
  assert.deepEqual(matches("task.**", TYPES), ["task.succeeded", "task.a.b"]);
  assert.deepEqual(matches("**", TYPES), TYPES);
  assert.deepEqual(matches("**.b", TYPES), ["task.a.b"]);
});

Deno.test("dots and dashes are literal, not regex syntax", () => {
  assert.deepEqual(matches("file.*", ["fileXcreated", "file.created"]), ["file.created"]);
  assert.deepEqual(matches("app-x.*", ["app-x.up", "appx.up"]), ["app-x.up"]);
});

Deno.test("a malformed pattern is refused naming the field", () => {
  for (const bad of ["", "file..created", "file.*x", "file.c$", "a".repeat(201)]) {
    assert.throws(() => assertPattern(bad, "hooks[0].on"), (error: unknown) => {
      assert.ok(error instanceof ValidationError);
      assert.match(error.message, /^hooks\[0\]\.on /);
      return true;
    });
    assert.throws(() => compilePattern(bad), ValidationError);
  }
});
