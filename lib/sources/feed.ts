/**
 * The feed source (`kind: "feed"`): RSS 0.9x, 1.0 (RDF), 2.0 and Atom, parsed
 * by `rss-parser` from text we fetched ourselves, so we control the request:
 * conditional GET (`If-None-Match` / `If-Modified-Since`, a 304 costs no
 * parse), the charset, a size cap and cancellation.
 *
 * Each item gives `feed.item.new` once, across polls and restarts: the ids
 * seen are kept in source state (the most recent {@link MAX_SEEN_IDS}).
 */

import { errorText } from "../errors.ts";
import Parser from "rss-parser";
import type { SourceSpec } from "../config/load.ts";
import {
  boundedUnion,
  parseRetryAfter,
  type PollChange,
  type PollerFactory,
  PollError,
  pollRequest,
  readBody,
  refusedAnswer,
  sha256Hex,
} from "./poller.ts";
import { redactUrl } from "./redact.ts";

/** A feed source definition. */
export type FeedSourceSpec = Extract<SourceSpec, { kind: "feed" }>;

/** How many item ids a feed remembers (most recent first; more if the feed itself lists more). */
export const MAX_SEEN_IDS = 1000;

/** Longest `summary` in an event: enough to triage, not the whole article. */
const SUMMARY_CHARS = 280;

/** Source state keys of a feed. */
const SEEN_KEY = "seen";
const VALIDATORS_KEY = "validators";

/** What a conditional GET needs from the previous answer. */
type Validators = { etag: string | null; lastModified: string | null };

/** `data` of a `feed.item.new` event. */
export type FeedItemData = {
  feedUrl: string;
  id: string;
  title: string | null;
  link: string | null;
  published: string | null;
  summary: string | null;
  author: string | null;
};

/** The item fields rss-parser gives that we read (its own type leaves some out). */
interface ParsedItem {
  guid?: unknown;
  id?: unknown;
  "rdf:about"?: unknown;
  link?: unknown;
  title?: unknown;
  isoDate?: unknown;
  pubDate?: unknown;
  contentSnippet?: unknown;
  summary?: unknown;
  content?: unknown;
  creator?: unknown;
  author?: unknown;
}

const parser = new Parser<Record<string, unknown>, ParsedItem>();

function text(value: unknown): string | null {
  return typeof value === "string" && value.trim() !== "" ? value.trim() : null;
}

/**
 * The charset of a feed body: a byte-order mark, else the Content-Type
 * `charset`, else the XML declaration's `encoding`, else UTF-8 (the XML
 * default). RFC 7303 puts the HTTP charset above the declaration.
 */
export function feedCharset(bytes: Uint8Array, contentType: string | null): string {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return "utf-8";
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return "utf-16be";
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return "utf-16le";
  const fromHeader = /;\s*charset\s*=\s*"?([\w.:-]+)"?/i.exec(contentType ?? "")?.[1];
  if (fromHeader) return fromHeader.toLowerCase();
  // The declaration is ASCII in every charset a feed may use, so latin1 reads it safely.
  const head = new TextDecoder("latin1").decode(bytes.subarray(0, 256));
  const declared = /^\s*<\?xml[^>]*\bencoding\s*=\s*["']([\w.:-]+)["']/i.exec(head)?.[1];
  return declared ? declared.toLowerCase() : "utf-8";
}

/**
 * Decodes a feed body by {@link feedCharset}; an unknown charset label falls
 * back to UTF-8 rather than failing the feed.
 */
export function decodeFeed(bytes: Uint8Array, contentType: string | null): string {
  const charset = feedCharset(bytes, contentType);
  try {
    return new TextDecoder(charset).decode(bytes);
  } catch {
    return new TextDecoder("utf-8").decode(bytes);
  }
}

/**
 * An item's identity, stable across polls: its guid (RSS), id (Atom) or
 * rdf:about (RSS 1.0); without one, its link plus the sha256 of its title.
 *
 * @example
 * ```ts
 * await itemId({ guid: "urn:uuid:1" }); // "urn:uuid:1"
 * await itemId({ link: "https://x/1", title: "Hi" }); // "https://x/1#8f434346..."
 * ```
 */
export async function itemId(item: ParsedItem): Promise<string> {
  const own = text(item.guid) ?? text(item.id) ?? text(item["rdf:about"]);
  if (own) return own;
  const title = text(item.title) ?? text(item.contentSnippet) ?? text(item.content) ?? "";
  return `${text(item.link) ?? ""}#${(await sha256Hex(title)).slice(0, 32)}`;
}

function summaryOf(item: ParsedItem): string | null {
  const full = text(item.contentSnippet) ?? text(item.summary);
  if (full === null) return null;
  const flat = full.replace(/\s+/g, " ");
  return flat.length > SUMMARY_CHARS ? flat.slice(0, SUMMARY_CHARS - 1) + "…" : flat;
}

/**
 * Parses feed text into `feed.item.new` data, in feed order (usually newest first).
 */
export async function parseFeed(xml: string, feedUrl: string): Promise<FeedItemData[]> {
  let feed: Parser.Output<ParsedItem>;
  try {
    feed = await parser.parseString(xml);
  } catch (error) {
    const reason = errorText(error);
    // xml2js reports on several lines; the status shows one.
    throw new PollError(`not a feed: ${reason.replace(/\s+/g, " ").trim()}`);
  }
  return await Promise.all(feed.items.map(async (item) => ({
    feedUrl,
    id: await itemId(item),
    title: text(item.title),
    link: text(item.link),
    published: text(item.isoDate) ?? text(item.pubDate),
    summary: summaryOf(item),
    author: text(item.creator) ?? text(item.author),
  })));
}

/**
 * Makes the poller of a feed source.
 */
export const createFeedPoller: PollerFactory<FeedSourceSpec> = (source, state, allow) => {
  return {
    async poll(signal) {
      const validators = await state.get<Validators>(VALIDATORS_KEY);
      const headers = new Headers({
        Accept:
          "application/rss+xml, application/atom+xml, application/rdf+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5",
      });
      if (validators?.etag) headers.set("If-None-Match", validators.etag);
      if (validators?.lastModified) headers.set("If-Modified-Since", validators.lastModified);

      const response = await pollRequest(source.url, { headers }, { allow, field: "url", signal });
      if (response.status === 304) {
        await response.body?.cancel();
        return { changes: [] };
      }
      if (!response.ok) {
        throw await refusedAnswer(
          response,
          `HTTP ${response.status} ${response.statusText}`.trim(),
          parseRetryAfter(response.headers.get("retry-after"), Date.now()),
        );
      }
      const bytes = await readBody(response);
      // Events carry the feed's URL without its query values (an api_key, say).
      const items = await parseFeed(
        decodeFeed(bytes, response.headers.get("content-type")),
        redactUrl(source.url),
      );

      const seen = await state.get<string[]>(SEEN_KEY);
      const known = new Set(seen ?? []);
      const fresh = items.filter((item) => !known.has(item.id));
      // First poll without emitExisting: a silent baseline.
      const announce = seen === null && !source.emitExisting ? [] : fresh;
      // Feeds list newest first; events go out oldest first, in the order things happened.
      const changes: PollChange[] = announce.toReversed().map((item) => ({
        type: "feed.item.new",
        subject: item.link ?? item.id,
        data: item,
      }));
      const next: Validators = {
        etag: response.headers.get("etag"),
        lastModified: response.headers.get("last-modified"),
      };
      return {
        changes,
        commit: async () => {
          // Ids still in the feed go first so a long-lived item is never forgotten (and re-announced).
          const max = Math.max(MAX_SEEN_IDS, items.length);
          await state.set(SEEN_KEY, boundedUnion(items.map((i) => i.id), seen ?? [], max));
          await state.set(VALIDATORS_KEY, next);
        },
      };
    },
  };
};
