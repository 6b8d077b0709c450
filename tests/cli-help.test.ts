/**
 * `un help` and the usage lines stay true to the commands: the help lists
 * every command main.ts dispatches (and every `un store` subcommand), and each
 * command's own usage text (the line a usage error prints) names every flag
 * the command accepts. Read off the sources, so a new command or flag without
 * its usage fails here.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { USAGE } from "../cli/help.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const read = (path: string) => Deno.readTextFileSync(join(ROOT, path));

/** Command name → its module, as main.ts (or cli/store.ts) loads them. */
function dispatched(path: string): Map<string, string> {
  const found = new Map<string, string>();
  const entry =
    /^\s+"?([\w-]+)"?: async \(\) => \(await import\("\.\/(?:cli\/)?([\w-]+\.ts)"\)\)/gm;
  for (const m of read(path).matchAll(entry)) found.set(m[1], join("cli", m[2]));
  return found;
}

/** The flags a command module declares to parseArgs (`name: { type: ... }`). */
function declaredFlags(source: string): string[] {
  const option = /(?:^\s+|[{,]\s*)"?([a-z][a-z-]*)"?: \{ type: "(?:string|boolean)"/gm;
  return [...new Set([...source.matchAll(option)].map((m) => m[1]))];
}

/** The text of the module's upper-case string constants (USAGE, ADD_USAGE, FILTERS, ...). */
function usageText(source: string): string {
  const constant = /^const [A-Z][A-Z_]* =[\s\S]*?;$/gm;
  return [...source.matchAll(constant)].map((m) => m[0]).join("\n");
}

Deno.test("un help lists every command main.ts dispatches", () => {
  const commands = dispatched("main.ts");
  assert.ok(commands.size > 10, "main.ts's command table was not found");
  const missing = [...commands.keys()].filter((name) =>
    !new RegExp(`^  ${name}\\b`, "m").test(USAGE)
  );
  assert.deepEqual(missing, [], `un help does not list: ${missing.join(", ")}`);
});

Deno.test("un help lists every un store subcommand", () => {
  const subcommands = dispatched("cli/store.ts");
  assert.ok(subcommands.size > 0, "cli/store.ts's subcommand table was not found");
  const missing = [...subcommands.keys()].filter((name) =>
    !new RegExp(`^  store ${name}\\b`, "m").test(USAGE)
  );
  assert.deepEqual(missing, [], `un help does not list: store ${missing.join(", store ")}`);
});

Deno.test("each command's usage text names every flag it accepts", () => {
  const modules = new Set([
    ...dispatched("main.ts").values(),
    ...dispatched("cli/store.ts").values(),
  ]);
  const problems: string[] = [];
  for (const module of modules) {
    const source = read(module);
    const usage = usageText(source);
    if (usage === "") continue; // a dispatcher (help, store) has no flags of its own
    for (const flag of declaredFlags(source)) {
      if (!new RegExp(`--${flag}\\b`).test(usage)) problems.push(`${module}: --${flag}`);
    }
  }
  assert.deepEqual(problems, [], `flags missing from their usage text:\n${problems.join("\n")}`);
});
