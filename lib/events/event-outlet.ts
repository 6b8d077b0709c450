/**
 * Where this process's events go out: each is made once (id, time), handed
 * to the durable event log and delivered to the bus, whose subscribers (the
 * hooks, metrics, SSE, subscriptions) take it from there. Parts that only
 * announce something, such as a task's own lifecycle (`task.queued`,
 * `task.started`, `task.succeeded`...), use it directly: no actor needs those
 * events, so they are no message for the supervisor to route. Messages from
 * one actor to another still go through the supervisor.
 */

import type { EventBus } from "./bus.ts";
import type { EventLog } from "./event-log.ts";
import { type CloudEvent, createEvent, type EventInit } from "./cloud-event.ts";

/**
 * What a part that announces events needs.
 */
export interface EventSink {
  /** Makes one event, logs it and delivers it. */
  emit(init: EventInit): void;
  /** The same for several, in order. */
  emitMany(inits: readonly EventInit[]): void;
}

/**
 * The event log and the bus of one runtime, as one outlet.
 *
 * @example
 * ```ts
 * const outlet = new EventOutlet(eventLog, bus);
 * outlet.emit({ type: "worker.scaled", source: "/un/workers", data: { from: 4, to: 8 } });
 * await outlet.publish(event, true); // resolves once the event is in the log
 * ```
 */
export class EventOutlet implements EventSink {
  constructor(private readonly log: EventLog, private readonly bus: EventBus) {}

  emit(init: EventInit): void {
    const event = createEvent(init);
    this.log.write(event);
    this.bus.publish(event);
  }

  emitMany(inits: readonly EventInit[]): void {
    for (const init of inits) this.emit(init);
  }

  /**
   * A made event (a publish, a scanner's change): logged and delivered. With
   * `logged`, the promise settles once the log has it (`POST
   * /un/events/publish` answers only for logged events); subscribers get it
   * at once either way.
   */
  publish(event: CloudEvent, logged: true): Promise<void>;
  publish(event: CloudEvent, logged?: false): void;
  publish(event: CloudEvent, logged = false): Promise<void> | void {
    const stored = logged ? this.log.append(event) : void this.log.write(event);
    this.bus.publish(event);
    return stored;
  }

  /** An event another process made and logged (through the Redis bridge): local subscribers only. */
  deliver(event: CloudEvent): void {
    this.bus.publishRemote(event);
  }
}
