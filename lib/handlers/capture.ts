/**
 * Bounded capture of a byte stream as text, for command output and response
 * bodies: a task result is stored and sent in events, so it must stay small
 * whatever the command or server produces.
 */

/** Output kept per stream: 64 KiB. */
const CAPTURE_LIMIT_BYTES = 64 * 1024;

/** What {@link captureText} kept. */
export interface CapturedText {
  /** The kept bytes, decoded as UTF-8. */
  text: string;
  /** Every byte the stream produced, kept or not. */
  bytes: number;
  /** True when bytes were dropped. */
  truncated: boolean;
}

/** How {@link captureText} bounds a stream. */
export interface CaptureOptions {
  /** Bytes kept; default 64 KiB. */
  limit?: number;
  /** Keep the first bytes (`head`, default) or the last ones (`tail`: error output ends with the cause). */
  keep?: "head" | "tail";
  /**
   * Read to the end even past the limit (default true). A child process blocks
   * once its pipe is full, so its output must be drained; a response body need
   * not be, and is cancelled instead.
   */
  drain?: boolean;
  /** Stops reading and returns what was kept (a background grandchild may hold a pipe open forever). */
  signal?: AbortSignal;
}

/**
 * Reads a stream to its end (or to the limit when `drain` is false) and keeps
 * at most `limit` bytes of it.
 *
 * @example
 * ```ts
 * const res = await fetch("http://127.0.0.1:8080/");
 * const { text, truncated } = await captureText(res.body!, { drain: false });
 * ```
 */
export async function captureText(
  stream: ReadableStream<Uint8Array>,
  options: CaptureOptions = {},
): Promise<CapturedText> {
  const limit = options.limit ?? CAPTURE_LIMIT_BYTES;
  const keep = options.keep ?? "head";
  const drain = options.drain ?? true;
  const chunks: Uint8Array[] = [];
  let kept = 0;
  let bytes = 0;
  const reader = stream.getReader();
  // Cancelling ends the pending read with `done`, so the loop below exits.
  const stop = () => void reader.cancel().catch(() => {});
  options.signal?.addEventListener("abort", stop, { once: true });
  if (options.signal?.aborted) stop();
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      if (keep === "head") {
        if (kept < limit) {
          const part = value.subarray(0, limit - kept);
          chunks.push(part);
          kept += part.byteLength;
        }
        // Past the limit with a byte to spare we know it is truncated; stop here.
        if (!drain && bytes > limit) break;
      } else {
        chunks.push(value);
        kept += value.byteLength;
        // Drop whole chunks from the front while the rest still covers the limit.
        while (chunks.length > 1 && kept - chunks[0].byteLength >= limit) {
          kept -= chunks.shift()!.byteLength;
        }
      }
    }
  } finally {
    options.signal?.removeEventListener("abort", stop);
    // Stops the producer when we leave early (limit reached, or an error).
    await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
  const joined = new Uint8Array(kept);
  let offset = 0;
  for (const chunk of chunks) {
    joined.set(chunk, offset);
    offset += chunk.byteLength;
  }
  const window = keep === "head" ? joined : joined.subarray(Math.max(0, kept - limit));
  return {
    text: new TextDecoder().decode(window),
    bytes,
    truncated: bytes > window.byteLength,
  };
}
