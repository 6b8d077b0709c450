/**
 * The in-process event bus: subscribers by type pattern, delivery in order,
 * isolation between subscribers (one that throws is logged and skipped; the
 * others still get the event). Events of other processes (through the Redis
 * bridge) reach only subscribers that want them: the bridge subscribes to
 * their channels only ({@link EventBus.remotePatterns}) and asks
 * {@link EventBus.wantsRemote} before it parses a message. Which subscribers
 * take an event type is worked out once per type (until the subscribers
 * change), not by asking every subscriber's pattern for every event.
 */

import type { CloudEvent } from "./cloud-event.ts";
import { compilePattern, type TypeMatcher } from "./wildcard.ts";

/** A subscriber. It may be async; the bus does not wait for it. */
export type Subscriber = (event: CloudEvent) => void | Promise<void>;

interface Subscription {
  pattern: string;
  matches: TypeMatcher;
  fn: Subscriber;
  name: string;
  remote: boolean;
}

/**
 * Options of {@link EventBus.subscribe}.
 */
export interface SubscribeOptions {
  /** Also events made by other processes (default true). */
  remote?: boolean;
}

/**
 * Delivers events to subscribers whose pattern matches the event type.
 *
 * @example
 * ```ts
 * const bus = new EventBus((name, err) => console.error(name, err));
 * const off = bus.subscribe("file.*", (e) => console.log(e.subject), "printer");
 * bus.publish(event);
 * off();
 * ```
 */
export class EventBus {
  #subs: Subscription[] = [];
  /** Per event type: the subscribers it goes to, made and remote (cleared when subscribers change). */
  #routes = new Map<string, { local: Subscription[]; remote: Subscription[] }>();
  #interest = new Set<() => Promise<void> | void>();
  #remoteSynced: Promise<unknown> = Promise.resolve();
  #onError: (name: string, error: unknown, event: CloudEvent) => void;
  /** Events delivered so far, made here or elsewhere: how busy the process is. */
  delivered = 0;

  constructor(onError: (name: string, error: unknown, event: CloudEvent) => void) {
    this.#onError = onError;
  }

  /** Adds a subscriber; returns the function that removes it. */
  subscribe(
    pattern: string,
    fn: Subscriber,
    name = pattern,
    options: SubscribeOptions = {},
  ): () => void {
    const remote = options.remote ?? true;
    const sub: Subscription = { pattern, matches: compilePattern(pattern), fn, name, remote };
    this.#subs = [...this.#subs, sub];
    this.#routes.clear();
    if (remote) this.#interestChanged();
    return () => {
      const before = this.#subs.length;
      this.#subs = this.#subs.filter((s) => s !== sub);
      this.#routes.clear();
      if (remote && this.#subs.length < before) this.#interestChanged();
    };
  }

  /** The distinct patterns of the subscribers that want other processes' events. */
  remotePatterns(): string[] {
    return [...new Set(this.#subs.filter((sub) => sub.remote).map((sub) => sub.pattern))];
  }

  /**
   * Calls `fn` whenever {@link EventBus.remotePatterns} may have changed (it
   * may return a promise: when the change is in effect); returns how to stop.
   */
  onRemoteInterest(fn: () => Promise<void> | void): () => void {
    this.#interest.add(fn);
    return () => this.#interest.delete(fn);
  }

  /** Resolves once every subscriber added so far also hears other processes' events. */
  async remoteSynced(): Promise<void> {
    await this.#remoteSynced;
  }

  #interestChanged(): void {
    // Chained to the previous change: a change that finds nothing new to do
    // (an earlier one, still under way, already took its pattern in) must not
    // report "in effect" before that earlier one is.
    this.#remoteSynced = Promise.allSettled([
      this.#remoteSynced,
      ...[...this.#interest].map((fn) => fn()),
    ]);
  }

  /** Delivers one event made in this process to every matching subscriber. */
  publish(event: CloudEvent): void {
    this.#deliver(event, false);
  }

  /** Delivers an event another process made to the matching subscribers that want those. */
  publishRemote(event: CloudEvent): void {
    this.#deliver(event, true);
  }

  /** True when some subscriber wants other processes' events of this type. */
  wantsRemote(type: string): boolean {
    return this.#subs.some((sub) => sub.remote && sub.matches(type));
  }

  #deliver(event: CloudEvent, remote: boolean): void {
    this.delivered++;
    const route = this.#routes.get(event.type) ?? this.#route(event.type);
    // A subscriber added or removed during delivery changes the next event's
    // route, not this one's (as when the list itself was walked).
    for (const sub of remote ? route.remote : route.local) {
      try {
        const out = sub.fn(event);
        if (out instanceof Promise) out.catch((err) => this.#onError(sub.name, err, event));
      } catch (err) {
        this.#onError(sub.name, err, event);
      }
    }
  }

  #route(type: string): { local: Subscription[]; remote: Subscription[] } {
    const local = this.#subs.filter((sub) => sub.matches(type));
    const route = { local, remote: local.filter((sub) => sub.remote) };
    // Bounded: event types are few, but a publisher may invent many.
    if (this.#routes.size >= 1_000) this.#routes.clear();
    this.#routes.set(type, route);
    return route;
  }

  /** Number of subscribers (for /metrics and the inspector). */
  get size(): number {
    return this.#subs.length;
  }
}
