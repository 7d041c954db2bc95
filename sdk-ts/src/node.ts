/**
 * {@link NetNode}: the SDK's handle to one event bus.
 *
 * Every method is one call into the engine through `@net-mesh/core`; the SDK adds
 * serialization of JS values (`JSON.stringify`), camelCase option names, typed errors and
 * async iteration, and nothing else.
 *
 * Threading: `emit*`, `subscribe*`, `stats` return at once; `poll`, `flush`, `shutdown` and
 * the `*Async` emits run on the libuv thread pool. Under `block` backpressure an emit may wait
 * for room, so there only the `*Async` emits are allowed (the others throw an
 * {@link InvalidArgumentError} pointing to them): the event loop never blocks.
 *
 * @module
 */
import {
  Bus,
  normalizeConfig as nativeNormalize,
  type BatchOutcome,
  type BusConfig,
  type NormalizedConfig,
  type Receipt,
  type ShutdownReport,
  type Stats,
} from '@net-mesh/core';

import { BatchResult } from './batch.js';
import { Channel } from './channel.js';
import { type NodeOptions, RENAMED, toEngineConfig } from './config.js';
import { InvalidArgumentError, InvalidJsonError, type ValidationError, fromNative, typed, typedAsync } from './errors.js';
import { NetEvent, eventsOf, rawText } from './event.js';
import type { Filter } from './filter.js';
import { type Schema, check } from './schema.js';
import { type Decoder, type LagPolicy, SKIP, Subscription, lagPolicy } from './subscription.js';

/** A partition key: every event emitted with the same key lands on the same shard. */
export type Key = string | Uint8Array;

/** How events of several shards are ordered in one result. */
export type Ordering = 'per_shard' | 'insertion_time';

/** Options of {@link NetNode.poll}. */
export interface PollOptions {
  /** Most events to return, 1..=100000 (default 100). */
  limit?: number | undefined;
  /** Resume after the events a previous poll or subscription returned. */
  cursor?: string | null | undefined;
  /** Only events matching this filter (evaluated inside the engine). */
  filter?: Filter | string | null | undefined;
  ordering?: Ordering | undefined;
}

/** One page of a poll. */
export interface PollPage<T = NetEvent> {
  events: T[];
  /** Pass to the next poll to continue exactly after these events. */
  cursor: string;
  /** Events the cursor pointed at that retention evicted before this read. */
  skipped: bigint;
  /** More events (possibly not matching the filter) remain. */
  hasMore: boolean;
}

/** Options of {@link NetNode.subscribe}. */
export interface SubscribeOptions {
  /** Only events matching this filter (evaluated inside the engine). */
  filter?: Filter | string | null | undefined;
  /** `'beginning'` (default: every retained event) or `'latest'` (only new ones). */
  from?: 'beginning' | 'latest' | undefined;
  /** Resume from a cursor (excludes `from`). */
  cursor?: string | null | undefined;
  /** Events fetched per wake-up, 1..=100000 (default 256). */
  batch?: number | undefined;
  ordering?: Ordering | undefined;
  /**
   * What to do when retention evicted events before they were read: `'warn'` (default: a
   * process warning of type `LaggedWarning`, iteration goes on), `'throw'` (`next()` rejects
   * with a `LaggedError`; the subscription stays usable) or a function called with the
   * number of events skipped. Every lag is counted in `subscription.skipped` and `.lags`.
   */
  onLag?: LagPolicy | undefined;
}

/** Options of {@link NetNode.subscribeTyped}. */
export interface TypedSubscribeOptions<T> extends SubscribeOptions {
  /** Validates (and may transform) each payload. */
  schema?: Schema<T> | undefined;
  /**
   * Called for a payload the schema rejects, which is then skipped. Without it the
   * iterator throws the {@link ValidationError} (and can be resumed).
   */
  onInvalid?: ((error: ValidationError, event: NetEvent) => void) | undefined;
}

/** JSON text for `value`, or an {@link InvalidJsonError} if it has none. */
function serialize(value: unknown, what: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (cause) {
    throw new InvalidJsonError(`${what} cannot be serialized to JSON: ${(cause as Error).message}`, {}, { cause });
  }
  if (text === undefined) throw new InvalidJsonError(`${what} cannot be serialized to JSON (it is ${typeof value})`);
  return text;
}

/** JSON array text for `values`, refusing elements that JSON would silently turn into null. */
function serializeAll(values: readonly unknown[]): string {
  if (!Array.isArray(values)) throw new InvalidArgumentError('emitBatch: values must be an array');
  for (let i = 0; i < values.length; i++) {
    const v: unknown = values[i];
    if (v === undefined || typeof v === 'function' || typeof v === 'symbol') {
      throw new InvalidJsonError(`values[${i}] cannot be serialized to JSON (it is ${typeof v})`);
    }
  }
  return serialize(values, 'values');
}

/** The engine's subscribe options for the SDK's (the SDK-only callbacks removed). */
function nativeSubscribeOptions(opts: SubscribeOptions): Record<string, unknown> {
  const { onLag: _l, schema: _s, onInvalid: _i, ...rest } = opts as TypedSubscribeOptions<unknown>;
  return rest;
}

/** A handle to one event bus; see the module docs. */
export class NetNode {
  readonly #bus: Bus;

  private constructor(bus: Bus) {
    this.#bus = bus;
  }

  /**
   * Creates a node. Options use camelCase names for the engine's keys (`shards`,
   * `bufferCapacity`, `backpressure`, ...); the engine validates them strictly and rejects
   * with a {@link ConfigError} naming the offending key.
   */
  static async create(options: NodeOptions = {}): Promise<NetNode> {
    const config = toEngineConfig(options);
    try {
      return new NetNode(new Bus(config));
    } catch (err) {
      throw fromNative(err, RENAMED);
    }
  }

  /**
   * The configuration a node created with `options` would run with (engine keys, every
   * default filled in), without creating one; rejects like {@link NetNode.create}.
   */
  static normalizeConfig(options: NodeOptions = {}): NormalizedConfig {
    const config = toEngineConfig(options);
    try {
      return nativeNormalize(config);
    } catch (err) {
      throw fromNative(err, RENAMED);
    }
  }

  /** Creates a node from the engine's own configuration (JSON text or an object). */
  static async fromConfig(config: BusConfig | string): Promise<NetNode> {
    return typed(() => new NetNode(new Bus(config)));
  }

  /** The `@net-mesh/core` bus, for calls the SDK does not wrap. */
  get bus(): Bus {
    return this.#bus;
  }

  /** Serializes `value` with `JSON.stringify` and emits it. */
  emit(value: unknown, key?: Key): Receipt {
    const text = serialize(value, 'value');
    try {
      return this.#bus.ingest(text, key);
    } catch (err) {
      throw fromNative(err);
    }
  }

  /** Emits JSON text or UTF-8 bytes as they are (the engine validates them). */
  emitRaw(json: string | Uint8Array, key?: Key): Receipt {
    try {
      return typeof json === 'string' ? this.#bus.ingest(json, key) : this.#bus.ingestRaw(json, key);
    } catch (err) {
      throw fromNative(err);
    }
  }

  /** Serializes and emits many values as one batch; one outcome per value. */
  emitBatch(values: readonly unknown[]): BatchResult {
    const text = serializeAll(values);
    return new BatchResult(typed(() => this.#bus.ingestJsonArray(text)));
  }

  /** Emits many pre-serialized events (JSON text or bytes) as one batch. */
  emitRawBatch(events: ReadonlyArray<string | Uint8Array>): BatchResult {
    return new BatchResult(typed(() => this.#bus.ingestBatch(events)));
  }

  /** {@link emit} off the JS thread (required under `block` backpressure). */
  async emitAsync(value: unknown, key?: Key): Promise<Receipt> {
    const text = serialize(value, 'value');
    return typedAsync(() => this.#bus.ingestAsync(text, key));
  }

  /** {@link emitRaw} off the JS thread. */
  async emitRawAsync(json: string | Uint8Array, key?: Key): Promise<Receipt> {
    return typedAsync(() => this.#bus.ingestAsync(json, key));
  }

  /** {@link emitBatch} off the JS thread. */
  async emitBatchAsync(values: readonly unknown[]): Promise<BatchResult> {
    const text = serializeAll(values);
    return new BatchResult(await typedAsync<BatchOutcome>(() => this.#bus.ingestJsonArrayAsync(text)));
  }

  /** {@link emitRawBatch} off the JS thread. */
  async emitRawBatchAsync(events: ReadonlyArray<string | Uint8Array>): Promise<BatchResult> {
    return new BatchResult(await typedAsync<BatchOutcome>(() => this.#bus.ingestBatchAsync(events)));
  }

  /** Reads events without consuming them; any number of readers, each with its cursor. */
  async poll(options: PollOptions = {}): Promise<PollPage> {
    const page = await typedAsync(() => this.#bus.poll(options));
    return { events: eventsOf(page.events), cursor: page.cursor, skipped: page.skipped, hasMore: page.has_more };
  }

  /** Events pushed as the engine stores them, as an async iterable of {@link NetEvent}. */
  subscribe(options: SubscribeOptions = {}): Subscription<NetEvent> {
    return this.#open(options, (cols, i) => new NetEvent(cols, i));
  }

  /** Like {@link subscribe}, yielding each payload parsed (and validated if `schema` is set). */
  subscribeTyped<T>(options: TypedSubscribeOptions<T> = {}): Subscription<T> {
    const { schema, onInvalid } = options;
    const decode: Decoder<T> = (cols, i) => {
      const value: unknown = JSON.parse(rawText(cols, i));
      if (schema === undefined) return value as T;
      try {
        return check(schema, value, 'event payload');
      } catch (err) {
        if (onInvalid === undefined) throw err;
        onInvalid(err as ValidationError, new NetEvent(cols, i));
        return SKIP;
      }
    };
    return this.#open(options, decode);
  }

  #open<T>(options: SubscribeOptions, decode: Decoder<T>): Subscription<T> {
    const onLag = lagPolicy(options.onLag);
    const native = typed(() => this.#bus.subscribe(nativeSubscribeOptions(options)));
    return new Subscription(native, decode, onLag);
  }

  /**
   * A typed channel named `name` over this bus; with a schema (zod or any `safeParse`), values
   * are validated at publish and on receipt.
   */
  channel<T>(name: string, schema?: Schema<T>): Channel<T> {
    return new Channel<T>(this, name, schema);
  }

  /** A snapshot of the engine's counters (every counter a `bigint`). */
  stats(): Stats {
    return typed(() => this.#bus.stats());
  }

  /** Resolves once every event emitted before the call is visible to `poll` and `subscribe`. */
  async flush(timeoutMs?: number): Promise<void> {
    await typedAsync(() => this.#bus.flush(timeoutMs));
  }

  /**
   * Stops accepting events, drains what was accepted, and reports. Subscriptions deliver
   * what is left and then end. Idempotent; `poll` keeps working afterwards.
   */
  async shutdown(): Promise<ShutdownReport> {
    return typedAsync(() => this.#bus.shutdown());
  }

  /** The configuration the node runs with (engine keys, defaults filled in). */
  get config(): NormalizedConfig {
    return typed(() => this.#bus.config);
  }

  /** True until shutdown starts. */
  get running(): boolean {
    return typed(() => this.#bus.running);
  }
}
