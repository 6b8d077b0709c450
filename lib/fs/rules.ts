/**
 * Which paths of a watched tree belong to an fs source: `include` globs,
 * `exclude` globs, `.gitignore` files (root and nested, each relative to its
 * own directory) and the paths that are never watched (`.git/`, the store
 * directory). Paths are relative to the root, with forward slashes.
 */

import ignore, { type Ignore } from "ignore";
import picomatch from "picomatch";

/** What decides whether a path is part of a source. */
export interface RulesOptions {
  /** Globs relative to the root (picomatch); empty = every file. Files only: they never prune a directory. */
  include?: readonly string[];
  /** Globs relative to the root; a matching directory is skipped with everything under it. */
  exclude?: readonly string[];
  /** Honour `.gitignore` files of the tree. */
  gitignore?: boolean;
  /** Relative directories always skipped (the store directory when it lies inside the tree). */
  alwaysIgnore?: readonly string[];
}

type Matcher = (path: string) => boolean;

const NOTHING: Matcher = () => false;

function globMatcher(globs: readonly string[] | undefined): Matcher | null {
  // dot: a user who writes `**/*.md` means hidden directories too, as .gitignore does.
  return globs && globs.length > 0 ? picomatch([...globs], { dot: true }) : null;
}

/** Parent directories of `rel`, outermost first ("a/b/c" → ["a", "a/b"]). */
function ancestors(rel: string): string[] {
  const parts = rel.split("/");
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) out.push(parts.slice(0, i).join("/"));
  return out;
}

/**
 * The path rules of one source.
 *
 * @example
 * ```ts
 * const rules = new PathRules({ include: ["**\/*.md"], exclude: ["drafts/**"], gitignore: true });
 * rules.setGitignore("", "*.tmp\n");
 * rules.acceptsFile("docs/a.md"); // true
 * rules.acceptsFile("drafts/b.md"); // false
 * rules.ignoresDir(".git"); // true
 * ```
 */
export class PathRules {
  /** Whether `.gitignore` files count (the walker reads them only then). */
  readonly gitignore: boolean;
  readonly #include: Matcher | null;
  readonly #exclude: Matcher;
  readonly #always: readonly string[];
  /** `.gitignore` rules by the directory holding the file ("" = root). */
  readonly #ignores = new Map<string, Ignore>();
  /** Verdicts of {@link ignoresDir}, valid until the `.gitignore` rules change. */
  readonly #dirCache = new Map<string, boolean>();

  constructor(options: RulesOptions = {}) {
    this.gitignore = options.gitignore ?? false;
    this.#include = globMatcher(options.include);
    this.#exclude = globMatcher(options.exclude) ?? NOTHING;
    this.#always = (options.alwaysIgnore ?? []).filter((p) => p !== "");
  }

  /**
   * Sets (or with null, forgets) the `.gitignore` of directory `dir`.
   */
  setGitignore(dir: string, text: string | null): void {
    if (text === null) {
      if (!this.#ignores.delete(dir)) return;
    } else {
      this.#ignores.set(dir, ignore().add(text));
    }
    this.#dirCache.clear();
  }

  /**
   * Directories whose `.gitignore` is loaded.
   */
  gitignoreDirs(): string[] {
    return [...this.#ignores.keys()];
  }

  /**
   * True when directory `rel` (and so everything under it) is not part of the
   * source: always-ignored, excluded, or ignored by a `.gitignore`, itself or
   * through a parent.
   */
  ignoresDir(rel: string): boolean {
    if (rel === "") return false;
    const cached = this.#dirCache.get(rel);
    if (cached !== undefined) return cached;
    const parent = rel.includes("/") ? rel.slice(0, rel.lastIndexOf("/")) : "";
    const verdict = this.ignoresDir(parent) || this.#ignoresOwnDir(rel);
    this.#dirCache.set(rel, verdict);
    return verdict;
  }

  /**
   * True when file `rel` is part of the source.
   */
  acceptsFile(rel: string): boolean {
    if (rel === "") return false;
    const parent = rel.includes("/") ? rel.slice(0, rel.lastIndexOf("/")) : "";
    if (this.ignoresDir(parent)) return false;
    if (this.#exclude(rel) || this.#gitignored(rel, false)) return false;
    return this.#include === null || this.#include(rel);
  }

  #ignoresOwnDir(rel: string): boolean {
    if (rel.split("/").includes(".git")) return true;
    if (this.#always.some((p) => rel === p || rel.startsWith(p + "/"))) return true;
    return this.#exclude(rel) || this.#gitignored(rel, true);
  }

  /**
   * Applies the `.gitignore` files from the root down to the path's directory;
   * a deeper file's decision (ignore, or `!` re-include) wins, as in git.
   */
  #gitignored(rel: string, isDir: boolean): boolean {
    if (!this.gitignore || this.#ignores.size === 0) return false;
    let ignored = false;
    for (const dir of ["", ...ancestors(rel)]) {
      const ig = this.#ignores.get(dir);
      if (!ig) continue;
      const local = (dir === "" ? rel : rel.slice(dir.length + 1)) + (isDir ? "/" : "");
      const result = ig.test(local);
      if (result.ignored) ignored = true;
      else if (result.unignored) ignored = false;
    }
    return ignored;
  }
}
