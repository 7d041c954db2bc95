/**
 * Per-event outcomes of a batch emit.
 *
 * The engine reports one outcome per event (a batch is never all-or-nothing):
 * {@link BatchResult} wraps the binding's column form and turns each failure into its typed
 * error.
 *
 * @module
 */
import type { BatchOutcome, Receipt } from '@net-mesh/core';

import { type NetError, fromNative } from './errors.js';

/** One event's outcome. */
export type Outcome = { ok: true; receipt: Receipt } | { ok: false; error: NetError };

/** The outcomes of one batch, in input order. */
export class BatchResult {
  /** Number of events in the batch. */
  readonly length: number;
  /** Number of accepted events. */
  readonly accepted: number;
  /** The events that were not accepted, with why. */
  readonly failures: ReadonlyArray<{ readonly index: number; readonly error: NetError }>;
  readonly #outcome: BatchOutcome;
  readonly #errors: Map<number, NetError>;

  /** @internal */
  constructor(outcome: BatchOutcome) {
    this.#outcome = outcome;
    this.length = outcome.shard.length;
    this.accepted = outcome.accepted;
    this.failures = outcome.failures.map(({ index, error }) => ({ index, error: fromNative(error) as NetError }));
    this.#errors = new Map(this.failures.map((f) => [f.index, f.error]));
  }

  /** True when every event was accepted. */
  get ok(): boolean {
    return this.failures.length === 0;
  }

  /** The receipt of event `i`, or `undefined` if it was not accepted. */
  receipt(i: number): Receipt | undefined {
    if (!Number.isInteger(i) || i < 0 || i >= this.length || this.#errors.has(i)) return undefined;
    return { shard: this.#outcome.shard[i] as number, seq: this.#outcome.seq[i] as bigint };
  }

  /** Why event `i` was not accepted, or `undefined` if it was. */
  error(i: number): NetError | undefined {
    return this.#errors.get(i);
  }

  /** Every outcome, in input order. */
  outcomes(): Outcome[] {
    const out: Outcome[] = [];
    for (let i = 0; i < this.length; i++) {
      const error = this.#errors.get(i);
      out.push(error ? { ok: false, error } : { ok: true, receipt: this.receipt(i) as Receipt });
    }
    return out;
  }
}
