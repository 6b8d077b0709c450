/**
 * An example handlers module. Name it in `un.config.json`:
 *
 * ```json
 * {
 *   "handlers": "./examples/handlers.ts",
 *   "sources": [{ "id": "docs", "kind": "fs", "path": "./docs" }],
 *   "hooks": [{ "on": "file.created", "task": "word-count", "payload": { "path": "{subject}" } }]
 * }
 * ```
 *
 * @module
 */

import { z } from "zod";
import { defineHandler } from "../mod.ts";

/**
 * Payload schemas, by task type (optional). `POST /un/tasks/create` refuses a
 * `word-count` task without a `path` with a 400 naming `payload.path`, and the
 * worker checks tasks made by hooks the same way before the handler runs (a
 * bad payload fails permanently: a retry would not fix it).
 */
export const schemas = {
  "word-count": z.object({
    path: z.string({ error: "must be a file path" }).min(1, { error: "must be a file path" }),
  }),
};

/** Payload of `word-count`. */
export type WordCountPayload = z.output<typeof schemas["word-count"]>;
/** Result of `word-count`. */
export type WordCountResult = { path: string; words: number; lines: number };

/**
 * Counts the words and lines of a text file, streaming it so a large file
 * reports progress and stops promptly on cancel.
 *
 * @example
 * ```ts
 * // un publish / POST /un/tasks/create {"type":"word-count","payload":{"path":"README.md"}}
 * // -> result {"path":"README.md","words":812,"lines":120}
 * ```
 */
export const wordCount = defineHandler<WordCountPayload, WordCountResult>(async (task, ctx) => {
  // Checked against `schemas["word-count"]` before the handler runs.
  const { path } = task.payload;
  const { size } = await Deno.stat(path);
  using file = await Deno.open(path);
  let words = 0;
  let lines = 0;
  let read = 0;
  // A word cut by a chunk boundary must count once: remember if the last chunk ended inside one.
  let inWord = false;
  let reported = 0;
  const decoder = new TextDecoder();
  for await (const chunk of file.readable) {
    ctx.signal.throwIfAborted();
    for (const char of decoder.decode(chunk, { stream: true })) {
      if (char === "\n") lines++;
      const space = char.trim() === "";
      if (!space && !inWord) words++;
      inWord = !space;
    }
    read += chunk.byteLength;
    // Every MiB, not every chunk: each report is a store write and an event.
    if (read - reported >= 1024 * 1024) {
      reported = read;
      await ctx.progress(read / Math.max(size, read), `${read} of ${size} bytes`);
    }
  }
  await ctx.progress(1, `${read} bytes`);
  ctx.log.debug("counted", { path, words });
  return { path, words, lines };
});

export default {
  "word-count": wordCount,
};
