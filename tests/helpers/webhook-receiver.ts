/**
 * A webhook receiver on 127.0.0.1 for the subscription tests: each request's
 * Standard Webhooks signature is checked with the npm verifier (not our own
 * code) against the secret `secret()` gives at that moment, then `answer`
 * decides the status; events answered 200 are kept in order.
 */

import { Webhook } from "standardwebhooks";
import type { CloudEvent } from "../../lib/events/cloud-event.ts";

/** One event the receiver took. */
export interface Received {
  event: CloudEvent;
  contentType: string | null;
  headers: Headers;
}

/**
 * Starts a receiver; `url` is where it listens, `close()` stops it.
 *
 * @example
 * ```ts
 * let secret = "";
 * const rx = receiver(() => secret, () => 200);
 * ```
 */
export function receiver(secret: () => string, answer: (event: CloudEvent) => number) {
  const received: Received[] = [];
  const failures: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const body = await req.text();
    try {
      new Webhook(secret()).verify(body, Object.fromEntries(req.headers));
    } catch (err) {
      failures.push(String(err));
      return new Response("bad signature", { status: 401 });
    }
    const event = JSON.parse(body) as CloudEvent;
    const status = answer(event);
    if (status === 200) {
      received.push({ event, contentType: req.headers.get("content-type"), headers: req.headers });
    }
    return new Response(null, { status });
  });
  const url = `http://127.0.0.1:${server.addr.port}/hook`;
  return { url, received, failures, close: () => server.shutdown() };
}
