/**
 * Push subscriptions as async iterators.
 *
 * A {@link Subscription} asks the binding for the next batch only when the consumer has used
 * up the previous one; the binding resolves that request as soon as the engine stores events
 * (no polling, no timers). Iteration ends when the node shuts down (after the remaining
 * events) or when the consumer stops: `break`, `return` or an exception in a `for await` loop
 * closes the subscription, and a pending request ends at once, so nothing keeps the process
 * alive afterwards.
 *
 * Lag: when retention evicted events before the subscriber read them (the engine's
 * `Lagged{skipped}` item), the subscription counts it (`skipped`, `lags`) and applies its
 * {@link LagPolicy}: `'warn'` (the default) emits a process warning of type `LaggedWarning`
 * and iteration continues; a function is called with `skipped` and iteration continues;
 * `'throw'` makes `next()` reject with a {@link LaggedError} (the subscription stays open,
 * so a caller that catches it can keep iterating, from the first event after the gap). The
 * Python SDK has the same policy (`on_lag="warn" | "raise" | callable`).
 *
 * `cursor` is exact at any point, also in the middle of a batch: resuming from it (with
 * `poll` or `subscribe({ cursor })`) yields exactly the events this subscription has not
 * handed out yet.
 *
 * @module
 */
import type { EventColumns, Subscription as NativeSubscription } from '@net-mesh/core';

import { InvalidArgumentError, LaggedError, fromNative } from './errors.js';

const DONE: IteratorResult<never, undefined> = Object.freeze({ value: undefined, done: true });

/**
 * What a subscription does when it lagged (see the module docs): `'warn'` (default), `'throw'`,
 * or a function called with the number of events skipped.
 */
export type LagPolicy = 'warn' | 'throw' | ((skipped: bigint) => void);

/** The `type` of the process warning the `'warn'` lag policy emits. */
export const LAGGED_WARNING = 'LaggedWarning';

/** Checks a lag policy given by the caller. */
export function lagPolicy(value: unknown): LagPolicy {
  if (value === undefined) return 'warn';
  if (value === 'warn' || value === 'throw' || typeof value === 'function') return value as LagPolicy;
  throw new InvalidArgumentError(`onLag must be 'warn', 'throw' or a function, got ${describe(value)}`);
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : value === null ? 'null' : typeof value;
}

/** What a decoder returns for a row the subscription should pass over. */
export const SKIP: unique symbol = Symbol('net-mesh.skip');

/** Turns row `i` of a batch into what the subscription yields (or {@link SKIP}). */
export type Decoder<T> = (cols: EventColumns, i: number) => T | typeof SKIP;

/** A push subscription; see the module docs. */
export class Subscription<T> implements AsyncIterableIterator<T> {
  readonly #native: NativeSubscription;
  readonly #decode: Decoder<T>;
  readonly #onLag: LagPolicy;
  #cols: EventColumns | null = null;
  #i = 0;
  #lag = 0;
  /** The engine ended the subscription (the node shut down and everything was read). */
  #ended = false;
  /** The consumer closed it (nothing more is handed out). */
  #closed = false;
  #skipped = 0n;
  #lags = 0;

  /** @internal Subscriptions come from `NetNode#subscribe` and friends. */
  constructor(native: NativeSubscription, decode: Decoder<T>, onLag: LagPolicy = 'warn') {
    this.#native = native;
    this.#decode = decode;
    this.#onLag = onLag;
  }

  /** The next item; `done` once the node shut down and everything was read, or after close. */
  next(): Promise<IteratorResult<T, undefined>> {
    // The common case, an item already delivered, resolves without an async function.
    try {
      const ready = this.#take();
      if (ready !== undefined) return Promise.resolve(ready);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#fetch();
  }

  /** The next buffered item or the end, or `undefined` if a batch must be fetched first. */
  #take(): IteratorResult<T, undefined> | undefined {
    for (;;) {
      if (this.#closed) return DONE;
      const cols = this.#cols;
      if (cols !== null) {
        if (cols.lagged.length > this.#lag) this.#reportLag(cols, this.#i);
        if (this.#i < cols.shard.length) {
          const value = this.#decode(cols, this.#i++);
          if (value === SKIP) continue;
          return { value, done: false };
        }
      }
      return this.#ended ? DONE : undefined;
    }
  }

  /** Waits for the next batch, then takes from it. */
  async #fetch(): Promise<IteratorResult<T, undefined>> {
    for (;;) {
      let next: EventColumns | null;
      try {
        next = await this.#native.next();
      } catch (err) {
        throw fromNative(err);
      }
      if (next === null) {
        this.#ended = true;
        this.#cols = null;
        return DONE;
      }
      // Closed while waiting: the batch is kept unconsumed, so `cursor` still covers it.
      this.#cols = next;
      this.#i = 0;
      this.#lag = 0;
      const ready = this.#take();
      if (ready !== undefined) return ready;
    }
  }

  /** Lag markers up to row `i` (all of them once the batch is used up). */
  #reportLag(cols: EventColumns, i: number): void {
    const markers = cols.lagged;
    while (this.#lag < markers.length) {
      const marker = markers[this.#lag];
      if (marker === undefined || (marker.at > i && i < cols.shard.length)) return;
      this.#lag++;
      this.#lags++;
      this.#skipped += marker.skipped;
      this.#lagged(marker.skipped);
    }
  }

  /** Applies the lag policy to one lag of `skipped` events. */
  #lagged(skipped: bigint): void {
    const policy = this.#onLag;
    if (policy === 'throw') throw new LaggedError(skipped);
    if (policy !== 'warn') {
      policy(skipped);
      return;
    }
    process.emitWarning(
      `subscriber fell behind retention: ${skipped} events were evicted unread ` +
        `(${this.#skipped} in ${this.#lags} lag${this.#lags === 1 ? '' : 's'} on this subscription)`,
      { type: LAGGED_WARNING, code: 'NET_MESH_LAGGED' },
    );
  }

  /** Closes the subscription (what `break` in a `for await` loop does). */
  async return(): Promise<IteratorResult<T, undefined>> {
    this.close();
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Ends the subscription: iteration stops and a pending `next()` finishes at once. */
  close(): void {
    this.#closed = true;
    this.#native.close();
  }

  /** True once the subscription ended (closed, or the node shut down and all was read). */
  get closed(): boolean {
    return this.#closed || (this.#ended && (this.#cols === null || this.#i >= this.#cols.shard.length));
  }

  /** Events lost to retention so far (the sum of every lag). */
  get skipped(): bigint {
    return this.#skipped;
  }

  /** How many times this subscription lagged so far (each lag skipped one run of events). */
  get lags(): number {
    return this.#lags;
  }

  /** A cursor that resumes right after the last item handed out. */
  get cursor(): string {
    const cols = this.#cols;
    const unconsumed = cols === null ? 0 : cols.shard.length - this.#i;
    return this.#native.cursor(unconsumed);
  }
}
