/**
 * Names the Redis bridge uses under the store's prefix (default `un:`), so
 * several apps can share one Redis without hearing each other's events.
 */

/**
 * Keys, channels and the consumer group of the bridge under one prefix.
 */
export interface BridgeKeys {
  /** The event log's stream, which every process appends its events to (lib/store/redis/events.ts). */
  stream: string;
  /** The consumer group on {@link BridgeKeys.stream} that applies hooks once per event. */
  group: string;
  /**
   * The `PSUBSCRIBE` pattern for the channels of one event-type pattern
   * (`file.*`, `task.**`): Redis's `*` spans dots, so it matches a superset,
   * which the subscriber narrows down by the event type.
   */
  channelPattern(typePattern: string): string;
  /** Prefix of every event channel: the event type completes the name. */
  channels: string;
  /** The pub/sub channel of one event type. */
  channel(type: string): string;
  /** Marker of an event whose hooks are being applied or were applied (`SET NX PX`). */
  processed(eventId: string): string;
  /** Hash of which event types each process follows (lib/store/redis/bridge/interest.ts). */
  interest: string;
}

/** Characters that mean something in a `PSUBSCRIBE` pattern. */
const GLOB = /[\\*?[\]]/g;

/**
 * Builds the bridge's names under a prefix.
 *
 * @example
 * ```ts
 * const keys = bridgeKeys("un:");
 * keys.stream; // "un:events:stream"
 * keys.channelPattern("task.**"); // "un:events:task.*"
 * ```
 */
export function bridgeKeys(prefix: string): BridgeKeys {
  const channels = `${prefix}events:`;
  // A prefix such as "app[1]:" must match itself only, not a character class.
  const escaped = channels.replace(GLOB, (c) => `\\${c}`);
  return {
    stream: `${prefix}events:stream`,
    group: `${prefix}hooks`,
    // Segments of a type pattern are words, "*" or "**": no other glob characters.
    channelPattern: (typePattern) => `${escaped}${typePattern.replaceAll("**", "*")}`,
    channels,
    channel: (type) => `${channels}${type}`,
    processed: (eventId) => `${prefix}processed:${eventId}`,
    interest: `${prefix}bridge:interest`,
  };
}
