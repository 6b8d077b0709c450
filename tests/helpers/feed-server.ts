/**
 * An RSS 2.0 feed served on loopback whose items a test adds while `un`
 * polls it, and what a process announced of a feed source.
 */

import type { UnProcess } from "./un-process.ts";
import { history } from "./events.ts";

/**
 * A running feed server: `feed.items` (titles, also guids) is what it serves
 * now, `feed.requests` how often it was asked.
 *
 * @example
 * ```ts
 * const blog = feedServer(["first"]);
 * blog.feed.items.push("second");
 * await blog.server.shutdown();
 * ```
 */
export function feedServer(initial: string[]) {
  const feed = { items: [...initial], requests: 0 };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () => {
    feed.requests++;
    const items = feed.items.map((id) =>
      `<item><title>${id}</title><link>https://blog.example/${id}</link><guid>${id}</guid></item>`
    ).join("");
    return new Response(
      `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>` +
        `<link>https://blog.example/</link><description>d</description>${items}</channel></rss>`,
      { headers: { "content-type": "application/rss+xml" } },
    );
  });
  const { port } = server.addr as Deno.NetAddr;
  return { feed, server, url: `http://127.0.0.1:${port}/feed.xml` };
}

/**
 * Titles of the feed items a source announced (`feed.item.new`), oldest first.
 *
 * @example
 * ```ts
 * await eventually(async () => (await itemsOf(un, "blog")).length === 1, { message: "first poll" });
 * ```
 */
export async function itemsOf(un: UnProcess, sourceId: string): Promise<string[]> {
  return (await history(un, "feed.item.new"))
    .filter((e) => e.source === `/un/sources/${sourceId}`)
    .map((e) => String((e.data as { title: string }).title));
}
