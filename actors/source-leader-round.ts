/**
 * The work of the source leader (actors/source-leader.ts), as plain async
 * functions: one round of taking and renewing source leases, and the release
 * of every lease held. The actor applies what a round decides.
 */

import type { SourceSpec } from "../lib/config/load.ts";
import type { RuntimeDeps } from "../lib/protocol/deps.ts";
import type { Coordination, SourceStore } from "../lib/store/types.ts";
import type { FailureLog } from "../lib/log.ts";
import { sourceLease } from "../lib/sources/lease.ts";
import { type ParsedSource, parsedSources } from "../lib/store/source-store.ts";
import type { ChildSpec } from "./supervisor.ts";

/** A source this process leads. */
export interface Held {
  fence: number;
  /** When the lease runs out unless renewed (epoch ms). */
  until: number;
  /** `updatedAt` of the definition the scanner runs, to restart it when the source is edited. */
  updatedAt: number;
}

/** What one round decided; the machine applies it (so a stopped leader spawns nothing). */
export interface Round {
  held: Record<string, Held>;
  spawn: ChildSpec[];
  stop: string[];
  /** Sources announced deleted that the store no longer lists (no need to remember them). */
  gone: string[];
}

/** What a round works from. */
export interface RoundInput {
  deps: RuntimeDeps<SourceStore & Coordination>;
  scannerChild(source: SourceSpec, fence: number): Promise<ChildSpec | null>;
  holder: string;
  /** Lease time to live. */
  ttlMs: number;
  /** Time between rounds. */
  periodMs: number;
  held: Record<string, Held>;
  /** Sources announced deleted: not led even while the store still lists them. */
  deleted: string[];
  /** Says a store outage once rather than every round. */
  failures?: FailureLog;
}

/**
 * One round: renew or take each enabled source's lease, drop what is gone or lost.
 */
export async function leaderRound(input: RoundInput): Promise<Round> {
  const { deps, holder, held, ttlMs, periodMs } = input;
  const { store, log } = deps;
  const now = deps.now();
  const next: Record<string, Held> = {};
  const result: Round = { held: next, spawn: [], stop: [], gone: [] };
  // Keep a source whose renewal failed only while its lease surely outlives the next round.
  const keepOrStop = (id: string) => {
    if (now + periodMs < held[id].until) next[id] = held[id];
    else result.stop.push(id);
  };
  let sources: ParsedSource[];
  try {
    const listed = await store.listSources();
    // The delete route announces first and deletes after: skip what is on its way out.
    result.gone = input.deleted.filter((id) => !listed.some((s) => s.id === id));
    // A source whose stored definition no longer parses is not led (the runtime logs it).
    sources = parsedSources(listed).filter((s) => s.enabled && !input.deleted.includes(s.id));
    input.failures?.ok();
  } catch (error) {
    if (input.failures) input.failures.failed(error);
    else log.warn("source leadership: cannot list sources", { error });
    Object.keys(held).forEach(keepOrStop);
    return result;
  }
  const enabled = new Set(sources.map((s) => s.id));
  for (const id of Object.keys(held)) {
    if (enabled.has(id)) continue;
    result.stop.push(id);
    await store.releaseLease(sourceLease(id), holder).catch(() => {});
    log.info("source leadership released (source disabled or deleted)", { source: id });
  }
  await Promise.all(sources.map(async (source) => {
    const mine = held[source.id];
    let fence: number | null;
    try {
      fence = await store.acquireLease(sourceLease(source.id), holder, ttlMs, now);
    } catch (error) {
      if (mine) keepOrStop(source.id);
      log.warn("source leadership: lease not renewed", { source: source.id, error });
      return;
    }
    if (fence === null) {
      if (mine) {
        result.stop.push(source.id);
        log.warn("source leadership lost: another process holds the lease", { source: source.id });
      }
      return;
    }
    const until = now + ttlMs;
    if (mine && mine.fence === fence && mine.updatedAt === source.updatedAt) {
      next[source.id] = { ...mine, until };
      return;
    }
    const child = await input.scannerChild(source.spec, fence);
    if (!child) {
      // No scanner for this kind here: leave the source to a process that has one.
      await store.releaseLease(sourceLease(source.id), holder).catch(() => {});
      if (mine) result.stop.push(source.id);
      return;
    }
    result.spawn.push(child);
    next[source.id] = { fence, until, updatedAt: source.updatedAt };
    log.info(mine ? "source scanner restarted (definition changed)" : "source leadership gained", {
      source: source.id,
      fence,
    });
  }));
  return result;
}

/**
 * Frees every lease this process holds; how many.
 */
export async function releaseHeld(
  input: Pick<RoundInput, "deps" | "holder" | "held">,
): Promise<number> {
  const ids = Object.keys(input.held);
  await Promise.all(ids.map((id) => input.deps.store.releaseLease(sourceLease(id), input.holder)));
  if (ids.length) input.deps.log.info("source leadership released", { sources: ids.join(",") });
  return ids.length;
}
