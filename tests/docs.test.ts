/**
 * `docs/configuration.md` is generated from the config schema (`deno task
 * docs`); this fails when the committed page is not what the schema and the
 * template render now, naming the first line that differs.
 */
import assert from "node:assert/strict";
import { renderConfigurationDoc } from "../docs/generate.ts";

Deno.test("docs/configuration.md matches the config schema", async () => {
  const expected = await renderConfigurationDoc();
  const actual = await Deno.readTextFile(new URL("../docs/configuration.md", import.meta.url));
  if (actual === expected) return;
  const want = expected.split("\n");
  const have = actual.split("\n");
  const line = want.findIndex((text, i) => text !== have[i]);
  const at = line === -1 ? want.length : line;
  assert.fail(
    `docs/configuration.md is stale: run \`deno task docs\` (first difference at line ${
      at + 1
    }:\n` +
      `  committed: ${have[at] ?? "(end of file)"}\n  generated: ${want[at] ?? "(end of file)"})`,
  );
});
