/**
 * `un open`: the address of the instance's pages for a browser. In token
 * mode it is a one-time login link (valid two minutes), made from UN_TOKEN,
 * so the token itself never lands in the browser's history.
 */

import { newTicket } from "../lib/safety/session.ts";
import { parse, positionals } from "./args.ts";
import { UnClient } from "./client.ts";
import { UsageError } from "./errors.ts";
import { printJson } from "./format.ts";

const USAGE = "un open [PAGE] [--browser] [--json]";
/** The page a browser lands on by default. */
const DEFAULT_PAGE = "/un/ui";

/**
 * Runs `un open`.
 */
export async function openCommand(args: string[]): Promise<number> {
  const parsed = parse(
    args,
    { json: { type: "boolean" }, browser: { type: "boolean" } },
    USAGE,
  );
  if (parsed.positionals.length > 1) positionals(parsed.positionals, 1, USAGE);
  const page = parsed.positionals[0] ?? DEFAULT_PAGE;
  if (!page.startsWith("/") || page.startsWith("//")) {
    throw new UsageError(
      `PAGE must be a path such as ${DEFAULT_PAGE}, got ${JSON.stringify(page)}`,
    );
  }
  const client = UnClient.fromEnv();
  // Fails here (exit 1 or 2, with the reason) when the instance is away or the token is wrong.
  await client.json(client.api.un.workers.$get());
  const url = client.token
    ? `${client.baseUrl}/un/login?ticket=${newTicket(client.token)}&next=${
      encodeURIComponent(page)
    }`
    : `${client.baseUrl}${page}`;
  if (parsed.values.json) printJson({ url, oneTime: client.token !== undefined });
  else console.log(url);
  if (parsed.values.browser) await launchBrowser(url);
  return 0;
}

/** Hands the URL to the desktop's opener; says so when there is none. */
async function launchBrowser(url: string): Promise<void> {
  const opener = Deno.build.os === "darwin"
    ? "open"
    : Deno.build.os === "windows"
    ? "explorer"
    : "xdg-open";
  try {
    await new Deno.Command(opener, { args: [url], stdout: "null", stderr: "null" }).output();
  } catch {
    console.error(`un: could not run ${opener}; open the address above in a browser`);
  }
}
