/**
 * The language of a file from its name, with GitHub Linguist's data
 * (`linguist-languages`): well-known file names (`Dockerfile`, `Makefile`) first,
 * then the longest matching extension (`.d.ts` before `.ts`).
 *
 * Linguist itself settles a shared extension (`.h`, `.md`, `.rs`) by reading the
 * content; from the name alone we rank the candidates instead (see {@link rank}).
 */

import * as languages from "linguist-languages";

/** One entry of Linguist's language list. */
type Language = languages.Language;

/**
 * Linguist's "popular" languages (its `popular.yml`) plus the data and prose
 * formats a pipeline meets every day: when an extension is primary for several
 * languages these win, so `.md` is Markdown rather than GCC Machine
 * Description and `.rs` Rust rather than RenderScript.
 */
const POPULAR = new Set<string>([
  "C",
  "C#",
  "C++",
  "CSS",
  "Clojure",
  "CoffeeScript",
  "Go",
  "HTML",
  "Haskell",
  "Java",
  "JavaScript",
  "Lua",
  "MATLAB",
  "Objective-C",
  "PHP",
  "Perl",
  "Python",
  "R",
  "Ruby",
  "Scala",
  "Shell",
  "Swift",
  "TeX",
  "TypeScript",
  "Vim Script",
  "JSON",
  "Markdown",
  "Rust",
  "SQL",
  "Text",
  "TOML",
  "XML",
  "YAML",
]);

/**
 * Dialects Linguist tells apart from YAML and JSON only by their content (an
 * `openapi:` key, ...). By name alone a `.yaml` file is YAML.
 */
const CONTENT_ONLY = new Set<string>([
  "MiniYAML",
  "OASv2-json",
  "OASv2-yaml",
  "OASv3-json",
  "OASv3-yaml",
]);

const byFilename = new Map<string, Language[]>();
const byExtension = new Map<string, Language[]>();
for (const language of Object.values(languages) as Language[]) {
  if (CONTENT_ONLY.has(language.name)) continue;
  for (const name of language.filenames ?? []) {
    byFilename.set(name, [...(byFilename.get(name) ?? []), language]);
  }
  for (const ext of language.extensions ?? []) {
    const key = ext.toLowerCase();
    byExtension.set(key, [...(byExtension.get(key) ?? []), language]);
  }
}

/**
 * Orders candidates: those whose primary extension this is first (`.tsx` is
 * TSX, though XML lists it too), then popular ones (`.h` is C), then the
 * shortest (most generic) name, then by name so the answer never depends on
 * the data's order.
 */
function rank(candidates: Language[], ext: string | null): Language {
  const score = (lang: Language) => [
    ext !== null && lang.extensions?.[0]?.toLowerCase() === ext ? 0 : 1,
    POPULAR.has(lang.name) ? 0 : 1,
    lang.name.length,
  ];
  return [...candidates].sort((a, b) => {
    const [sa, sb] = [score(a), score(b)];
    for (let i = 0; i < sa.length; i++) if (sa[i] !== sb[i]) return sa[i] - sb[i];
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  })[0];
}

/**
 * The Linguist language name for a file path, or `null` when the name says
 * nothing Linguist knows.
 */
export function detectLanguage(path: string): string | null {
  const name = path.split(/[\\/]/).pop() ?? "";
  if (!name) return null;
  const exact = byFilename.get(name);
  if (exact) return rank(exact, null).name;
  const lower = name.toLowerCase();
  // Every suffix starting at a dot, longest first; a leading dot alone
  // (".bashrc") is a name, which the filename table above already covered.
  for (let i = lower.indexOf(".", 1); i !== -1; i = lower.indexOf(".", i + 1)) {
    const ext = lower.slice(i);
    const candidates = byExtension.get(ext);
    if (candidates) return rank(candidates, ext).name;
  }
  return null;
}
