/**
 * The layout's import rules (docs/architecture in DESIGN's "Layout"), read off
 * the source: `lib/` never imports `actors/`, `routes/`, `cli/`, `runtime/` or
 * `ui/`; `actors/` never imports `routes/` or `cli/`; and no module reaches
 * itself again through its imports (type-only and on-demand imports count:
 * a cycle is a cycle to a reader). A failure names the offending edges.
 */
import assert from "node:assert/strict";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const FOLDERS = ["lib", "actors", "routes", "cli", "runtime", "ui"];
const SPECIFIER = /(?:\bfrom|\bimport)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g;

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of Deno.readDirSync(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) out.push(...sourceFiles(path));
    else if (/\.tsx?$/.test(entry.name)) out.push(path);
  }
  return out;
}

/** Repo-relative module → the repo-relative modules it imports. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const files = [...FOLDERS.flatMap((f) => sourceFiles(join(ROOT, f))), join(ROOT, "main.ts")];
  for (const file of files) {
    // Comments may show imports as examples; only code counts.
    const code = Deno.readTextFileSync(file).replace(/\/\*[\s\S]*?\*\/|^\s*\/\/.*$/gm, "");
    const targets = [...code.matchAll(SPECIFIER)].map((m) =>
      relative(ROOT, resolve(dirname(file), m[1]))
    );
    graph.set(relative(ROOT, file), [...new Set(targets)]);
  }
  return graph;
}

const top = (path: string) => path.split("/")[0];

const FORBIDDEN: Record<string, string[]> = {
  lib: ["actors", "routes", "cli", "runtime", "ui"],
  actors: ["routes", "cli", "ui"],
};

Deno.test("lib/ and actors/ import only downward", () => {
  const broken: string[] = [];
  for (const [from, targets] of importGraph()) {
    const banned = FORBIDDEN[top(from)] ?? [];
    for (const to of targets) if (banned.includes(top(to))) broken.push(`${from} → ${to}`);
  }
  assert.deepEqual(broken, [], `imports against the layout's direction:\n${broken.join("\n")}`);
});

Deno.test("no module imports itself back through others", () => {
  const graph = importGraph();
  const cycles: string[] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, "open");
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === "open") {
        cycles.push([...stack.slice(stack.indexOf(next)), next].join(" → "));
      } else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  assert.deepEqual(cycles, [], `import cycles:\n${cycles.join("\n")}`);
});

Deno.test("the graph reader sees the imports it checks", () => {
  // Guards the two tests above against passing on an empty or misread graph.
  const graph = importGraph();
  assert.ok(graph.size > 150, `only ${graph.size} modules read`);
  assert.ok(graph.get("actors/worker.ts")?.some((to) => to.startsWith("lib/")));
});
