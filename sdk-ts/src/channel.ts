/**
 * Typed channels over the bus.
 *
 * `node.channel<T>(name, schema?)` publishes values of type `T` as events of the form
 * `{"channel": name, "payload": value}` and subscribes to them with an engine-side filter on
 * `channel`, so a subscriber only ever reads its channel's events. Every event of a channel
 * is emitted with the channel name as its partition key, so the channel's events share one
 * shard and keep their order. With a schema (zod, or anything with `safeParse`), a value is
 * validated at publish — an invalid one throws a {@link ValidationError} and is not emitted —
 * and each received payload is validated again (see `onInvalid`).
 *
 * The envelope is pinned across languages by `tests/cross_lang/bus/channel_cases.json` (the
 * Python SDK's `channel(name, model)` emits the same bytes). A payload JSON cannot carry
 * faithfully is refused with an {@link InvalidArgumentError} (the kind Python raises), where
 * `JSON.stringify` would change it silently or throw: `NaN` and infinities (which it writes
 * as `null`), `undefined`, functions and symbols as the payload or an array element (`null`
 * or a missing `payload` key), `bigint` values and cycles. An `undefined` object property is
 * left out, as JSON does.
 *
 * @module
 */
import type { Receipt } from '@net-mesh/core';

import { BatchResult } from './batch.js';
import { InvalidArgumentError, InvalidFilterError, NetError } from './errors.js';
import type { Filter } from './filter.js';
import type { NetNode, SubscribeOptions, TypedSubscribeOptions } from './node.js';
import { type Schema, type SafeParseResult, check } from './schema.js';
import type { Subscription } from './subscription.js';

/** The event a channel publishes. */
export interface Envelope<T> {
  channel: string;
  payload: T;
}

/** Options of {@link Channel.subscribe}: a subscription's, plus `onInvalid`. */
export type ChannelSubscribeOptions<T> = Omit<TypedSubscribeOptions<T>, 'schema'>;

/** A typed channel; see the module docs. */
export class Channel<T> {
  /** The channel name. */
  readonly name: string;
  readonly #node: NetNode;
  readonly #schema: Schema<T> | undefined;

  /** @internal Channels come from `NetNode#channel`. */
  constructor(node: NetNode, name: string, schema?: Schema<T>) {
    if (typeof name !== 'string' || name.length === 0) {
      throw new InvalidArgumentError('channel: name must be a non-empty string');
    }
    this.#node = node;
    this.name = name;
    this.#schema = schema;
  }

  /** The envelope for `value`, validated; throws {@link ValidationError}. */
  #envelope(value: T, what: string): Envelope<T> {
    const payload = this.#schema === undefined ? value : check(this.#schema, value, what);
    return { channel: this.name, payload };
  }

  /** The event text `publish(value)` emits (validated); throws like {@link publish}. */
  eventText(value: T): string {
    return envelopeText(this.#envelope(value, `channel ${this.name}: value`));
  }

  /** Validates and publishes one value. */
  publish(value: T): Receipt {
    return this.#node.emitRaw(this.eventText(value), this.name);
  }

  /** {@link publish} off the JS thread (required under `block` backpressure). */
  async publishAsync(value: T): Promise<Receipt> {
    return this.#node.emitRawAsync(this.eventText(value), this.name);
  }

  /**
   * Validates every value first (nothing is published if one is invalid), then publishes
   * them in order; one outcome per value.
   */
  publishBatch(values: readonly T[]): BatchResult {
    if (!Array.isArray(values)) throw new InvalidArgumentError('publishBatch: values must be an array');
    const envelopes = values.map((v, i) => envelopeText(this.#envelope(v, `channel ${this.name}: values[${i}]`)));
    const shard = new Uint16Array(envelopes.length);
    const seq = new BigUint64Array(envelopes.length);
    const failures: Array<{ index: number; error: NetError }> = [];
    envelopes.forEach((envelope, index) => {
      try {
        const r = this.#node.emitRaw(envelope, this.name);
        shard[index] = r.shard;
        seq[index] = r.seq;
      } catch (error) {
        if (!(error instanceof NetError)) throw error;
        failures.push({ index, error });
      }
    });
    // Failures are typed already; BatchResult passes typed errors through unchanged.
    return new BatchResult({ accepted: envelopes.length - failures.length, shard, seq, failures: failures as never });
  }

  /** Values published on this channel, pushed as they are stored. */
  subscribe(options: ChannelSubscribeOptions<T> = {}): Subscription<T> {
    const mine: Filter = { path: 'channel', eq: this.name };
    const filter = options.filter == null ? mine : { and: [mine, parseFilter(options.filter)] };
    const schema = this.#schema;
    const payload: Schema<T> = {
      safeParse(value: unknown): SafeParseResult<T> {
        const inner = (value as Envelope<unknown>).payload;
        return schema === undefined ? { success: true, data: inner as T } : schema.safeParse(inner);
      },
    };
    const opts: TypedSubscribeOptions<T> & SubscribeOptions = { ...options, filter, schema: payload };
    return this.#node.subscribeTyped<T>(opts);
  }
}

/** The JSON text of an envelope, refusing payloads JSON cannot carry (see the module docs). */
function envelopeText<T>(envelope: Envelope<T>): string {
  const refuse = (key: string, what: string): never => {
    throw new InvalidArgumentError(`channel payload: \`${key}\` is ${what}, which JSON cannot represent`);
  };
  function strict(this: unknown, key: string, value: unknown): unknown {
    switch (typeof value) {
      case 'number':
        return Number.isFinite(value) ? value : refuse(key, String(value));
      case 'bigint':
        return refuse(key, 'a bigint');
      case 'undefined':
      case 'function':
      case 'symbol':
        // Leaving out an object property is what JSON does; anywhere else the value is lost.
        return Array.isArray(this) || this === envelope ? refuse(key, typeof value) : value;
      default:
        return value;
    }
  }
  try {
    return JSON.stringify(envelope, strict);
  } catch (cause) {
    if (cause instanceof NetError) throw cause;
    throw new InvalidArgumentError(`channel payload cannot be serialized to JSON: ${(cause as Error).message}`, {}, { cause });
  }
}

function parseFilter(filter: Filter | string): Filter {
  if (typeof filter !== 'string') return filter;
  try {
    return JSON.parse(filter) as Filter;
  } catch (cause) {
    throw new InvalidFilterError(`invalid filter: not JSON: ${(cause as Error).message}`, {}, { cause });
  }
}
