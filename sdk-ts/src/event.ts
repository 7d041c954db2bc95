/**
 * Events as the SDK hands them out.
 *
 * The binding delivers events in column form (one array per field); a {@link NetEvent} is a
 * light view of one row, so a batch of thousands of events costs one small object per event
 * and fields are read only when asked for.
 *
 * @module
 */
import type { EventColumns } from '@net-mesh/core';

/** One stored event. */
export class NetEvent {
  readonly #cols: EventColumns;
  readonly #i: number;

  /** @internal Events come from `poll` and `subscribe`. */
  constructor(cols: EventColumns, index: number) {
    this.#cols = cols;
    this.#i = index;
  }

  /** The event's JSON text, byte for byte as it was emitted. */
  get raw(): string {
    return rawText(this.#cols, this.#i);
  }

  /** The shard it lives in. */
  get shard(): number {
    return this.#cols.shard[this.#i] as number;
  }

  /** Its position in the shard (dense, from 0; what cursors record). */
  get position(): bigint {
    return this.#cols.position[this.#i] as bigint;
  }

  /** The sequence number from the producer's receipt. */
  get seq(): bigint {
    return this.#cols.seq[this.#i] as bigint;
  }

  /** Insertion time, nanoseconds since the Unix epoch. */
  get tsNs(): bigint {
    return this.#cols.ts_ns[this.#i] as bigint;
  }

  /** The parsed payload. */
  json<T = unknown>(): T {
    return JSON.parse(this.raw) as T;
  }

  /** A plain-object copy (bigints as decimal strings), for logging. */
  toJSON(): { raw: string; shard: number; position: string; seq: string; tsNs: string } {
    return {
      raw: this.raw,
      shard: this.shard,
      position: this.position.toString(),
      seq: this.seq.toString(),
      tsNs: this.tsNs.toString(),
    };
  }
}

/** The JSON text of row `i` of a column batch. */
export function rawText(cols: EventColumns, i: number): string {
  const o = cols.offsets;
  return cols.text.slice(o[i], o[i + 1]);
}

/** The number of events in a column batch. */
export function countOf(cols: EventColumns): number {
  return cols.shard.length;
}

/** The events of a column batch. */
export function eventsOf(cols: EventColumns): NetEvent[] {
  const n = countOf(cols);
  const out = new Array<NetEvent>(n);
  for (let i = 0; i < n; i++) out[i] = new NetEvent(cols, i);
  return out;
}
