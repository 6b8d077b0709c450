/**
 * Reading a `text/event-stream` response (the `--follow` of `un events`).
 * Hand-written: the format is a dozen lines of parsing, and the one
 * well-kept parser on npm (eventsource-parser) is not among our pinned
 * dependencies.
 */

/**
 * One server-sent event. `un` sends events as plain `message`s (the CloudEvent,
 * type inside, as data; `?named=1` names them by type) and ends a stream it
 * drops for reading too slowly with an `overflow` event.
 */
export interface SseMessage {
  id?: string;
  /** The `event:` name, `"message"` when the frame has none. */
  event: string;
  data: string;
}

/**
 * Yields the events of an SSE body until it ends; comments (heartbeats, and
 * `: connected` once the stream is live) go to `onComment` when given.
 */
export async function* readSse(
  body: ReadableStream<Uint8Array>,
  onComment?: (text: string) => void,
): AsyncGenerator<SseMessage> {
  let buffer = "";
  let message: { id?: string; event?: string; data: string[] } = { data: [] };
  for await (const chunk of body.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    let newline: number;
    while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + (buffer.startsWith("\r\n", newline) ? 2 : 1));
      if (line === "") {
        if (message.data.length > 0) {
          yield {
            id: message.id,
            event: message.event ?? "message",
            data: message.data.join("\n"),
          };
        }
        message = { data: [] };
        continue;
      }
      if (line.startsWith(":")) {
        onComment?.(line.slice(1).trim());
        continue;
      }
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "data") message.data.push(value);
      else if (field === "event") message.event = value;
      else if (field === "id") message.id = value;
    }
  }
}
