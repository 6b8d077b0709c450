/**
 * Which paths an fs source watches: include / exclude globs, `.gitignore`
 * files (root and nested) and the paths that are never watched.
 */

import assert from "node:assert/strict";
import { PathRules } from "../lib/fs/rules.ts";

/** The accepted ones among `paths`. */
const accepted = (rules: PathRules, paths: string[]) => paths.filter((p) => rules.acceptsFile(p));

Deno.test("no rules: every file counts, except under .git/ and the store directory", () => {
  const rules = new PathRules({ alwaysIgnore: [".un"] });
  assert.deepEqual(
    accepted(rules, [
      "a.txt",
      ".hidden",
      "x/y/z.md",
      ".git/HEAD",
      "sub/.git/config",
      ".un/un.db",
      ".unrelated",
    ]),
    ["a.txt", ".hidden", "x/y/z.md", ".unrelated"],
  );
  assert.equal(rules.ignoresDir(".git"), true);
  assert.equal(rules.ignoresDir("vendor/lib/.git"), true);
  assert.equal(rules.ignoresDir(".un"), true);
  assert.equal(rules.ignoresDir("src"), false);
});

Deno.test("include globs pick files relative to the root; they never prune a directory", () => {
  const rules = new PathRules({ include: ["**/*.md", "config/*.json"] });
  assert.deepEqual(
    accepted(rules, [
      "a.md",
      "docs/b.md",
      ".github/c.md",
      "a.txt",
      "config/app.json",
      "config/x/app.json",
    ]),
    ["a.md", "docs/b.md", ".github/c.md", "config/app.json"],
  );
  // A directory may hold matching files deeper down, so the walk must enter it.
  assert.equal(rules.ignoresDir("src"), false);
});

Deno.test("exclude globs drop files and whole directories", () => {
  const rules = new PathRules({ exclude: ["**/node_modules/**", "*.log", "tmp"] });
  assert.equal(rules.ignoresDir("node_modules"), true);
  assert.equal(rules.ignoresDir("pkg/node_modules"), true);
  assert.equal(rules.ignoresDir("tmp"), true);
  assert.deepEqual(
    accepted(rules, ["a.log", "sub/a.log", "node_modules/x/y.js", "tmp/t.txt", "src/a.ts"]),
    // "*.log" is relative to the root: it does not reach into sub/.
    ["sub/a.log", "src/a.ts"],
  );
});

Deno.test("a root .gitignore: dir-only patterns, globs at any depth, negation", () => {
  const rules = new PathRules({ gitignore: true });
  rules.setGitignore("", "build/\n*.tmp\n!keep.tmp\n# comment\n/only-root.txt\n");
  assert.equal(rules.ignoresDir("build"), true);
  assert.equal(rules.ignoresDir("src/build"), true);
  assert.deepEqual(
    accepted(rules, [
      "build", // a file named build: "build/" matches directories only
      "build/out.js",
      "a.tmp",
      "deep/b.tmp",
      "keep.tmp",
      "only-root.txt",
      "sub/only-root.txt",
      "src/main.ts",
    ]),
    ["build", "keep.tmp", "sub/only-root.txt", "src/main.ts"],
  );
});

Deno.test("nested .gitignore files apply relative to their directory; deeper ones win", () => {
  const rules = new PathRules({ gitignore: true });
  rules.setGitignore("", "*.log\n");
  rules.setGitignore("sub", "/local.txt\nsecret.txt\n!important.log\n");
  assert.deepEqual(
    accepted(rules, [
      "local.txt",
      "sub/local.txt",
      "sub/deeper/local.txt",
      "secret.txt",
      "sub/x/secret.txt",
      "important.log",
      "sub/important.log",
      "sub/other.log",
    ]),
    ["local.txt", "sub/deeper/local.txt", "secret.txt", "sub/important.log"],
  );
  assert.deepEqual(rules.gitignoreDirs().sort(), ["", "sub"]);
});

Deno.test("a file under an ignored directory cannot be re-included (as in git)", () => {
  const rules = new PathRules({ gitignore: true });
  rules.setGitignore("", "build/\n!build/keep.js\n");
  assert.equal(rules.acceptsFile("build/keep.js"), false);
});

Deno.test("changing or forgetting a .gitignore changes the verdicts at once", () => {
  const rules = new PathRules({ gitignore: true });
  assert.equal(rules.ignoresDir("dist"), false);
  rules.setGitignore("", "dist/\n");
  assert.equal(rules.ignoresDir("dist"), true);
  assert.equal(rules.acceptsFile("dist/a.js"), false);
  rules.setGitignore("", null);
  assert.equal(rules.ignoresDir("dist"), false);
  assert.equal(rules.acceptsFile("dist/a.js"), true);
});

Deno.test("with gitignore off, .gitignore rules are not applied", () => {
  const rules = new PathRules({ gitignore: false });
  rules.setGitignore("", "*.txt\n");
  assert.equal(rules.acceptsFile("a.txt"), true);
});

Deno.test("exclude, include and .gitignore combine: a file must pass all three", () => {
  const rules = new PathRules({ include: ["**/*.md"], exclude: ["drafts/**"], gitignore: true });
  rules.setGitignore("", "private.md\n");
  assert.deepEqual(
    accepted(rules, ["a.md", "a.txt", "drafts/b.md", "private.md", "docs/private.md", "docs/c.md"]),
    ["a.md", "docs/c.md"],
  );
});
