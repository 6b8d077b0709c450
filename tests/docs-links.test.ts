/**
 * Every relative link in README.md and docs/*.md leads somewhere: the file it
 * names exists, and a `#anchor` (on its own or after a Markdown file) is the
 * slug of one of that file's headings as GitHub renders it (github-slugger:
 * lowercase, spaces to `-`, punctuation dropped, `-1`, `-2` for repeats).
 * Links inside code (fenced blocks, inline spans) are examples, not links.
 * A failure lists every broken link with its file and line.
 */
import assert from "node:assert/strict";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import GithubSlugger from "github-slugger";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** One link as written: the file it is in, its line and its target. */
interface Link {
  file: string;
  line: number;
  target: string;
}

/** The Markdown pages a reader follows: the README and the reference. */
function pages(): string[] {
  const docs = [...Deno.readDirSync(join(ROOT, "docs"))]
    .filter((entry) => entry.isFile && entry.name.endsWith(".md"))
    .map((entry) => join(ROOT, "docs", entry.name));
  return [join(ROOT, "README.md"), ...docs.sort()];
}

/** The page's lines with fenced code blocks blanked (line numbers kept). */
function proseLines(text: string): string[] {
  let fence: string | null = null;
  return text.split("\n").map((line) => {
    const open = /^\s*(`{3,}|~{3,})/.exec(line);
    if (fence === null && open) {
      fence = open[1];
      return "";
    }
    if (fence !== null) {
      if (line.trim().startsWith(fence)) fence = null;
      return "";
    }
    return line;
  });
}

/** Inline links `[text](target)`, images and reference definitions `[x]: target`. */
function linksIn(file: string): Link[] {
  const out: Link[] = [];
  proseLines(Deno.readTextFileSync(file)).forEach((raw, i) => {
    // Inline code may show link syntax as an example.
    const line = raw.replace(/(`+)[\s\S]*?\1/g, "");
    for (const m of line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      out.push({ file, line: i + 1, target: m[1] });
    }
    const definition = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/.exec(line);
    if (definition) out.push({ file, line: i + 1, target: definition[1] });
  });
  return out;
}

/** The anchors GitHub gives a Markdown file's headings (and any `<a id>`/`name`). */
function anchorsOf(file: string): Set<string> {
  const slugger = new GithubSlugger();
  const anchors = new Set<string>();
  for (const line of proseLines(Deno.readTextFileSync(file))) {
    const heading = /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) anchors.add(slugger.slug(headingText(heading[1])));
    for (const m of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(m[1]);
  }
  return anchors;
}

/** A heading's text as rendered: links keep their text, code and emphasis lose their marks. */
function headingText(source: string): string {
  return source
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/<[^>]+>/g, "")
    .replace(/[`*_]/g, "");
}

/** Why a link is broken, or null when it leads somewhere. */
function problem(link: Link, anchors: (file: string) => Set<string>): string | null {
  const { target } = link;
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return null; // http:, https:, mailto:
  const hash = target.indexOf("#");
  const path = decodeURIComponent(hash === -1 ? target : target.slice(0, hash));
  const anchor = hash === -1 ? null : decodeURIComponent(target.slice(hash + 1));
  const file = path === "" ? link.file : resolve(dirname(link.file), path);
  let isFile = false;
  try {
    isFile = Deno.statSync(file).isFile;
  } catch {
    return `${path} does not exist`;
  }
  if (anchor === null) return null;
  if (!isFile || !file.endsWith(".md")) return `#${anchor}: ${path} is not a Markdown file`;
  if (anchors(file).has(anchor)) return null;
  return `no heading in ${relative(ROOT, file)} has the anchor #${anchor}`;
}

Deno.test("relative links in README.md and docs/*.md lead to a file and a heading", () => {
  const cache = new Map<string, Set<string>>();
  const anchors = (file: string): Set<string> => {
    if (!cache.has(file)) cache.set(file, anchorsOf(file));
    return cache.get(file)!;
  };
  const links = pages().flatMap(linksIn);
  assert.ok(links.length > 0, "no links found: the parser is broken");
  const broken = links.flatMap((link) => {
    const why = problem(link, anchors);
    return why === null
      ? []
      : [`${relative(ROOT, link.file)}:${link.line}: ${link.target}: ${why}`];
  });
  assert.deepEqual(broken, [], `broken links:\n${broken.join("\n")}`);
});

Deno.test("the anchor rules are GitHub's", () => {
  const slugger = new GithubSlugger();
  assert.equal(slugger.slug(headingText("How it fits together")), "how-it-fits-together");
  assert.equal(
    slugger.slug(headingText("`un why`: what holds a task?")),
    "un-why-what-holds-a-task",
  );
  assert.equal(slugger.slug(headingText("Fan-out and batches")), "fan-out-and-batches");
  assert.equal(slugger.slug(headingText("Fan-out and batches")), "fan-out-and-batches-1");
  assert.equal(slugger.slug(headingText("[Links](x.md) and *marks*")), "links-and-marks");
});
