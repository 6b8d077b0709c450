/**
 * The {@link SourceStatus} of an fs source, kept in memory and written to the
 * store (source state `"status"`) in order, one write at a time: a burst of
 * updates costs a handful of writes, not one each.
 */

import type { Json } from "../events/cloud-event.ts";
import type { Logger } from "../log.ts";
import { EMPTY_STATUS, type SourceStatus, STATUS_KEY } from "../sources/scanner.ts";
import type { SourceStore } from "../store/types.ts";

/**
 * Holds and saves one source's status.
 */
export class StatusRecorder {
  readonly #store: SourceStore;
  readonly #sourceId: string;
  readonly #log: Logger;
  #status: SourceStatus = { ...EMPTY_STATUS };
  #saving: Promise<void> | null = null;
  #dirty = false;

  constructor(store: SourceStore, sourceId: string, log: Logger) {
    this.#store = store;
    this.#sourceId = sourceId;
    this.#log = log;
  }

  /** The current status (a copy). */
  get(): SourceStatus {
    return { ...this.#status };
  }

  /**
   * Reads the saved status, so counters survive a restart.
   */
  async load(): Promise<void> {
    const saved = await this.#store.getSourceState(this.#sourceId, STATUS_KEY);
    if (saved !== null && typeof saved === "object" && !Array.isArray(saved)) {
      this.#status = { ...EMPTY_STATUS, ...(saved as Partial<SourceStatus>) };
    }
  }

  /**
   * Merges `patch` and schedules a save.
   */
  update(patch: Partial<SourceStatus>): void {
    this.#status = { ...this.#status, ...patch };
    this.#dirty = true;
    this.#saving ??= this.#drain();
  }

  /**
   * Resolves when every update so far is saved (or failed to save).
   */
  settled(): Promise<void> {
    return this.#saving ?? Promise.resolve();
  }

  async #drain(): Promise<void> {
    try {
      while (this.#dirty) {
        this.#dirty = false;
        const value = { ...this.#status } as unknown as Json;
        await this.#store.setSourceState(this.#sourceId, STATUS_KEY, value).catch((error) =>
          this.#log.warn("could not save source status", { source: this.#sourceId, error })
        );
      }
    } finally {
      this.#saving = null;
    }
  }
}
