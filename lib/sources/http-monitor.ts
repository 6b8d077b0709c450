/**
 * The HTTP endpoint monitor (`kind: "http"`): requests `url` on the interval and
 * compares the answer's status and the sha256 of its body (or, with `select`,
 * of one part of a JSON body) with the last healthy answer.
 *
 * - `http.changed` `{ url, oldStatus, newStatus, oldHash, newHash }` when status
 *   or hash differs; the first healthy answer is the baseline (no event).
 * - `http.down` `{ url, error, status? }` when it starts failing (network error,
 *   timeout, 5xx); `http.up` when it answers again.
 *
 * A down endpoint is a finding, not a failed poll: polling keeps its interval
 * (no backoff), so the recovery is noticed quickly.
 */

import type { SourceSpec } from "../config/load.ts";
import { OutboundRefusal } from "../safety/safe-fetch.ts";
import { errorText } from "../errors.ts";
import { type PollChange, type PollerFactory, pollRequest, readBody, sha256Hex } from "./poller.ts";
import { redactUrl } from "./redact.ts";

/** An HTTP source definition. */
export type HttpSourceSpec = Extract<SourceSpec, { kind: "http" }>;

/** Source state key of the last observation. */
const MONITOR_KEY = "monitor";

/** What the monitor remembers between polls. */
type MonitorState = {
  /** Status and hash of the last healthy answer (null before the first). */
  status: number | null;
  hash: string | null;
  down: boolean;
  /** Epoch ms the current outage started. */
  downSince: number | null;
};

/** One answer, or the failure to get one. */
type Observation =
  | { down: false; status: number; hash: string }
  | { down: true; error: string; status: number | null };

/**
 * The part of a JSON document an RFC 6901 pointer names, or undefined.
 *
 * @example
 * ```ts
 * selectPointer({ data: { items: [1, 2] } }, "/data/items/1"); // 2
 * selectPointer({ "a/b": 1 }, "/a~1b"); // 1
 * ```
 */
export function selectPointer(document: unknown, pointer: string): unknown {
  if (pointer === "") return document;
  let node = document;
  for (const raw of pointer.slice(1).split("/")) {
    const key = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    if (Array.isArray(node) && /^(0|[1-9]\d*)$/.test(key)) node = node[Number(key)];
    else if (node !== null && typeof node === "object" && !Array.isArray(node)) {
      node = Object.hasOwn(node, key) ? (node as Record<string, unknown>)[key] : undefined;
    } else return undefined;
  }
  return node;
}

/**
 * The hash that stands for an answer: sha256 of the body; with `select`, of the
 * canonical JSON of that part (so reformatting or other fields do not count);
 * for HEAD, of the validators (ETag, Last-Modified, Content-Length).
 */
export async function answerHash(
  body: Uint8Array,
  headers: Headers,
  method: string,
  select: string | undefined,
): Promise<string> {
  if (method === "HEAD") {
    return await sha256Hex(
      ["etag", "last-modified", "content-length"].map((h) => headers.get(h) ?? "").join("\n"),
    );
  }
  if (select === undefined) return await sha256Hex(body);
  let part: unknown;
  try {
    part = selectPointer(JSON.parse(new TextDecoder().decode(body)), select);
  } catch {
    // Not JSON (an error page, say): hash the whole body so a change still shows.
    return await sha256Hex(body);
  }
  return await sha256Hex(JSON.stringify(part === undefined ? null : part));
}

/**
 * Requests once; a network error, timeout or 5xx is a "down" observation. A
 * host `allow` refuses fails the poll instead: the endpoint may be fine, un
 * may not reach it. (A name that does not resolve is down, as it is unchecked.)
 */
async function observe(
  source: HttpSourceSpec,
  allow: readonly string[] | null,
  signal: AbortSignal,
): Promise<Observation> {
  let response: Response;
  try {
    response = await pollRequest(source.url, source, { allow, field: "url", signal });
  } catch (error) {
    // Stopping the actor is not an outage.
    if (signal.aborted) throw error;
    if (error instanceof OutboundRefusal && error.permanent) throw error;
    return { down: true, error: errorText(error), status: null };
  }
  if (response.status >= 500) {
    await response.body?.cancel();
    const error = `HTTP ${response.status} ${response.statusText}`.trim();
    return { down: true, error, status: response.status };
  }
  const body = await readBody(response);
  const hash = await answerHash(body, response.headers, source.method, source.select);
  return { down: false, status: response.status, hash };
}

/**
 * Makes the poller of an HTTP source.
 */
export const createHttpPoller: PollerFactory<HttpSourceSpec> = (source, state, allow) => {
  // Events and the status name the URL without its query values (an api_key, say).
  const url = redactUrl(source.url);
  return {
    async poll(signal) {
      const previous = await state.get<MonitorState>(MONITOR_KEY);
      const seen = await observe(source, allow, signal);
      const changes: PollChange[] = [];
      const now = Date.now();
      let next: MonitorState;
      if (seen.down) {
        const startsFailing = previous === null ? source.emitExisting : !previous.down;
        if (startsFailing) {
          changes.push({
            type: "http.down",
            subject: url,
            data: {
              url,
              error: seen.error,
              ...(seen.status !== null ? { status: seen.status } : {}),
            },
          });
        }
        next = {
          status: previous?.status ?? null,
          hash: previous?.hash ?? null,
          down: true,
          downSince: previous?.down ? previous.downSince : now,
        };
      } else {
        if (previous?.down) {
          const since = previous.downSince;
          changes.push({
            type: "http.up",
            subject: url,
            data: {
              url,
              status: seen.status,
              downSince: since,
              downForMs: since === null ? null : now - since,
            },
          });
        }
        if (
          previous?.status != null &&
          (previous.status !== seen.status || previous.hash !== seen.hash)
        ) {
          changes.push({
            type: "http.changed",
            subject: url,
            data: {
              url,
              oldStatus: previous.status,
              newStatus: seen.status,
              oldHash: previous.hash,
              newHash: seen.hash,
            },
          });
        }
        next = { status: seen.status, hash: seen.hash, down: false, downSince: null };
      }
      return {
        changes,
        ...(seen.down ? { problem: `${url} is down: ${seen.error}` } : {}),
        commit: () => state.set(MONITOR_KEY, next),
      };
    },
  };
};
