/**
 * Redaction of source URLs (lib/sources/redact.ts): query values, user info
 * and passwords hidden, names and the rest of the URL kept.
 */

import assert from "node:assert/strict";
import { redactSpec, redactText, redactUrl } from "../lib/sources/redact.ts";

Deno.test("redactUrl hides query values and user info, keeps names, host and path", () => {
  const cases: Array<[string, string]> = [
    ["https://feed.example/rss?api_key=abc", "https://feed.example/rss?api_key=[redacted]"],
    ["https://f.example/rss?a=1&b=&c#top", "https://f.example/rss?a=[redacted]&b=&[redacted]#top"],
    ["https://f.example/rss", "https://f.example/rss"],
    ["https://f.example/rss?", "https://f.example/rss?"],
    ["https://ghp_token@github.com/o/r", "https://[redacted]@github.com/o/r"],
    ["postgres://app:pw@db:5432/main", "postgres://app:[redacted]@db:5432/main"],
    [
      "postgres://app:p@ss@db/main?password=x",
      "postgres://app:[redacted]@db/main?password=[redacted]",
    ],
    ["https://h.example?k=v", "https://h.example?k=[redacted]"],
    ["http://[::1]:8080/x?k=v", "http://[::1]:8080/x?k=[redacted]"],
    ["not a url ?k=v", "not a url ?k=v"],
    ["./relative?k=v", "./relative?k=v"],
  ];
  for (const [url, shown] of cases) assert.equal(redactUrl(url), shown, url);
});

Deno.test("redactText and redactSpec find URLs in messages and definitions", () => {
  assert.equal(
    redactText("error sending request for url (http://127.0.0.1:9/f.xml?token=t): refused"),
    "error sending request for url (http://127.0.0.1:9/f.xml?token=[redacted]): refused",
  );
  assert.deepEqual(
    redactSpec({
      kind: "http",
      url: "https://api.example/v1?key=k",
      headers: { authorization: "Bearer x" },
      secret: "s",
      hooks: [{ task: "noop", payload: { link: "https://x.example/?sig=abc" } }],
      interval: 1000,
    }),
    {
      kind: "http",
      url: "https://api.example/v1?key=[redacted]",
      headers: { authorization: "[redacted]" },
      secret: "[redacted]",
      hooks: [{ task: "noop", payload: { link: "https://x.example/?sig=[redacted]" } }],
      interval: 1000,
    },
  );
});
