/**
 * Asking an actor and hearing its answer: the one `ask`.
 *
 * A message that is asked carries a request id (`replyTo`) and nothing else
 * of the ask; the pending replies (resolver and timer) stay here, with the
 * asking side, and the receiver settles one by its id (`answer`, `refuse`,
 * `settle`). Why this design:
 * - Messages stay plain data. A resolver inside the event (what this
 *   replaced) cannot be logged, compared or shown by the inspector, and every
 *   receiver had to remember to settle it.
 * - Most askers are not actors (routes, the composition root, the bridge's
 *   link), so XState's own way, `sendTo` back to the asker's ref, would need a
 *   reply actor in every actor system (and in every test's stand-in
 *   supervisor), and one more XState event per answer, for nothing: the answer
 *   goes to a promise either way.
 * - One table ({@link Replies}) types both ends: `ask` infers what it resolves
 *   with from the message type, and `answer` checks the receiver's value.
 * The map is per process; ids never repeat within one, so several runtimes in
 * one process (tests) cannot answer each other's asks. An answer after the
 * timeout, or a second one, finds nothing and is dropped.
 */

import { UnavailableError } from "../errors.ts";
import type { AskMessage, AskType, Replies, ReplyTo } from "./messages.ts";

/** What an ask waits on. */
interface Pending {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

const pending = new Map<number, Pending>();
let lastId = 0;

/** The message of type `T`. */
export type AskMessageOf<T extends AskType> = Extract<AskMessage, { type: T }>;

/** Where a message of type `T` goes: the supervisor, a control plane, or one actor. */
export interface AskTarget<T extends AskType> {
  send(message: AskMessageOf<T>): void;
}

/** A message of type `T` without its `type` and `replyTo`: what `ask` is given. */
export type AskBody<T extends AskType> = Omit<AskMessageOf<T>, "type" | "replyTo">;

/** How long to wait, and what else ends the wait. */
export interface AskOptions {
  /** Default 10 s. */
  timeoutMs?: number;
  /** Stops waiting (rejecting with the signal's reason), as when the asking actor stops. */
  signal?: AbortSignal;
}

/** How long an ask waits by default (a route's request, a pool's info). */
const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * Sends a message with a `replyTo` and resolves with its answer, whose type
 * {@link Replies} gives. Rejects with the receiver's refusal, or with
 * UnavailableError when no answer comes in time: an actor that does not
 * answer (restarting, overloaded) makes the runtime unavailable for this
 * request, not broken, so routes answer 503.
 *
 * @example
 * ```ts
 * const info = await ask(control, "workers.info", {}); // PoolInfo
 * const { changes } = await ask(control, "source.scan", { request }, { timeoutMs: 120_000 });
 * ```
 */
export function ask<T extends AskType>(
  to: AskTarget<T>,
  type: T,
  body: AskBody<T>,
  options: AskOptions = {},
): Promise<Replies[T]> {
  const { timeoutMs = DEFAULT_TIMEOUT_MS, signal } = options;
  const id = ++lastId;
  return new Promise<Replies[T]>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      pending.delete(id);
    };
    const onAbort = () => {
      done();
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      done();
      reject(
        new UnavailableError(`no answer to ${type} within ${timeoutMs}ms`, {
          message: type,
          timeoutMs,
        }),
      );
    }, timeoutMs);
    signal?.addEventListener("abort", onAbort, { once: true });
    pending.set(id, {
      resolve: (value) => {
        done();
        resolve(value as Replies[T]);
      },
      reject: (error) => {
        done();
        reject(error);
      },
    });
    try {
      to.send({ type, ...body, replyTo: id } as AskMessageOf<T>);
    } catch (error) {
      pending.get(id)?.reject(error);
    }
  });
}

/**
 * Answers an ask (nothing when the message was not asked, or its asker
 * stopped waiting).
 *
 * @example
 * ```ts
 * answer(event.replyTo, poolInfo); // event: { type: "workers.info", replyTo }
 * ```
 */
export function answer<T extends AskType>(
  replyTo: ReplyTo<T> | undefined,
  value: Replies[T],
): void {
  if (replyTo !== undefined) pending.get(replyTo)?.resolve(value);
}

/**
 * Refuses an ask: its asker's promise rejects with `error`.
 */
export function refuse(replyTo: ReplyTo<AskType> | undefined, error: unknown): void {
  if (replyTo !== undefined) pending.get(replyTo)?.reject(error);
}

/**
 * Answers an ask with the outcome of `work` once it settles.
 */
export function settle<T extends AskType>(
  replyTo: ReplyTo<T> | undefined,
  work: Promise<Replies[T]>,
): void {
  work.then((value) => answer(replyTo, value), (error) => refuse(replyTo, error));
}
