/**
 * The GitHub source (`kind: "github"`), polling side: asks the REST API for the
 * head commit of the default branch with `If-None-Match` (an unchanged repo
 * costs a 304, which GitHub does not count against the rate limit), honours
 * `X-RateLimit-Remaining: 0` / `X-RateLimit-Reset` and `Retry-After`, and
 * announces each new head sha once as `github.repo.updated`.
 *
 * "Once" holds across polling and webhooks: both paths claim a sha in the
 * shared "announced" set ({@link claimAnnouncement}) before announcing it.
 */

import { z } from "zod";
import type { SourceSpec } from "../config/load.ts";
import { KeyedQueue } from "../keyed-queue.ts";
import {
  boundedUnion,
  parseRetryAfter,
  type PollChange,
  type PollerFactory,
  PollError,
  pollRequest,
  type PollResult,
  readBody,
  refusedAnswer,
  type SourceState,
} from "./poller.ts";

/** A GitHub source definition. */
export type GithubSourceSpec = Extract<SourceSpec, { kind: "github" }>;

/** Source state key of the head shas already announced (by polling or webhook). */
export const ANNOUNCED_KEY = "announcedShas";
/** How many announced shas a repo remembers. */
export const MAX_ANNOUNCED = 500;
/** Source state key of the commits list's ETag. */
const ETAG_KEY = "etag";

/** `data` of `github.repo.updated`. */
export type RepoUpdatedData = {
  repo: string;
  sha: string;
  message: string | null;
  author: string | null;
  url: string | null;
  via: "poll" | "webhook";
};

/** The part of `GET /repos/{owner}/{repo}/commits` we read. */
const commitList = z.array(z.object({
  sha: z.string().min(1),
  html_url: z.string().nullish(),
  commit: z.object({
    message: z.string().nullish(),
    author: z.object({ name: z.string().nullish() }).nullish(),
  }),
  author: z.object({ login: z.string().nullish() }).nullish(),
}));

/** Per-source queue so a poll and a webhook never read-modify-write the announced set at once. */
const perSource = new KeyedQueue();

/**
 * Claims head shas for announcement: returns those not announced before (by
 * either path) and records them, atomically within this process.
 *
 * @example
 * ```ts
 * const fresh = await claimAnnouncement(state, "repo", ["6113728f..."]);
 * fresh.has("6113728f..."); // true the first time, false after
 * ```
 */
export function claimAnnouncement(
  state: SourceState,
  sourceId: string,
  shas: string[],
): Promise<Set<string>> {
  return perSource.run(sourceId, async () => {
    const known = (await state.get<string[]>(ANNOUNCED_KEY)) ?? [];
    const knownSet = new Set(known);
    const fresh = shas.filter((sha) => !knownSet.has(sha));
    if (fresh.length) await state.set(ANNOUNCED_KEY, boundedUnion(fresh, known, MAX_ANNOUNCED));
    return new Set(fresh);
  });
}

/**
 * Runs `fn` under the source's in-process lock (webhook delivery dedupe uses it too).
 */
export function withSourceLock<T>(sourceId: string, fn: () => Promise<T>): Promise<T> {
  return perSource.run(`${sourceId}\u0000deliveries`, fn);
}

/**
 * Request headers of every GitHub API call: JSON media type, API version and
 * the token when one is set (the `User-Agent` GitHub requires comes with
 * every poll request).
 */
export function githubHeaders(token: string | undefined): Headers {
  const headers = new Headers({
    Accept: "application/vnd.github+json",
    "X-GitHub-Api-Version": "2022-11-28",
  });
  if (token) headers.set("Authorization", `Bearer ${token}`);
  return headers;
}

/**
 * How long GitHub asks us to wait, from `Retry-After` or an exhausted
 * `X-RateLimit-Remaining` with its `X-RateLimit-Reset` (epoch seconds); null
 * when the budget is not used up.
 */
export function rateLimitWait(headers: Headers, now: number): number | null {
  const retryAfter = parseRetryAfter(headers.get("retry-after"), now);
  if (retryAfter !== null) return retryAfter;
  if (headers.get("x-ratelimit-remaining")?.trim() !== "0") return null;
  const reset = Number(headers.get("x-ratelimit-reset"));
  // Without a usable reset time, wait a minute: GitHub's secondary limits suggest at least that.
  return Number.isFinite(reset) && reset > 0 ? Math.max(0, reset * 1000 - now) : 60_000;
}

/** JSON.parse that gives `undefined` (then refused by the schema) instead of throwing. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** `https://api.github.com/repos/owner/name/commits?per_page=1`, tolerating a trailing slash in apiUrl. */
function commitsUrl(source: GithubSourceSpec): string {
  const [owner, name] = source.repo.split("/");
  const base = source.apiUrl.replace(/\/+$/, "");
  return `${base}/repos/${encodeURIComponent(owner)}/${
    encodeURIComponent(name)
  }/commits?per_page=1`;
}

/**
 * Makes the poller of a GitHub source.
 */
export const createGithubPoller: PollerFactory<GithubSourceSpec> = (source, state, allow) => {
  return {
    async poll(signal) {
      const headers = githubHeaders(source.token);
      const etag = await state.get<string>(ETAG_KEY);
      if (etag) headers.set("If-None-Match", etag);
      const response = await pollRequest(commitsUrl(source), { headers }, {
        allow,
        field: "apiUrl",
        signal,
      });
      const wait = rateLimitWait(response.headers, Date.now());

      if ((response.status === 403 || response.status === 429) && wait !== null) {
        const until = new Date(Date.now() + wait).toISOString();
        throw await refusedAnswer(
          response,
          `GitHub rate limit reached (HTTP ${response.status}); waiting until ${until}`,
          wait,
        );
      }
      const result = (changes: PollChange[], commit?: () => Promise<void>): PollResult => ({
        changes,
        ...(wait !== null ? { retryAfterMs: wait } : {}),
        ...(commit ? { commit } : {}),
      });
      if (response.status === 304) {
        await response.body?.cancel();
        return result([]);
      }
      // 409: the repository is empty; nothing to announce yet.
      if (response.status === 409) {
        await response.body?.cancel();
        return result([]);
      }
      if (!response.ok) {
        const hint = response.status === 404 ? " (no such repo, or the token cannot see it)" : "";
        throw await refusedAnswer(response, `GitHub API HTTP ${response.status}${hint}`);
      }
      const parsed = commitList.safeParse(
        parseJson(new TextDecoder().decode(await readBody(response))),
      );
      if (!parsed.success) {
        throw new PollError("GitHub API answered with something that is not a commit list");
      }
      const head = parsed.data[0];
      const nextEtag = response.headers.get("etag");
      const saveEtag = async () => {
        if (nextEtag) await state.set(ETAG_KEY, nextEtag);
      };
      if (!head) return result([], saveEtag);

      // The first poll of a source with emitExisting false records the head silently.
      const silent = etag === null && !source.emitExisting &&
        (await state.get<string[]>(ANNOUNCED_KEY)) === null;
      const fresh = await claimAnnouncement(state, source.id, [head.sha]);
      if (silent || !fresh.has(head.sha)) return result([], saveEtag);
      const data: RepoUpdatedData = {
        repo: source.repo,
        sha: head.sha,
        message: head.commit.message ?? null,
        author: head.commit.author?.name ?? head.author?.login ?? null,
        url: head.html_url ?? null,
        via: "poll",
      };
      return result([{ type: "github.repo.updated", subject: source.repo, data }], saveEtag);
    },
  };
};
