// Typings of @net-mesh/core, the native binding of the net-mesh engine. Written by hand and
// type-checked (tsc --strict) together with the tests in sdk-ts/, which call every member.
//
// Conventions: every u64 is a `bigint`; data shapes use the engine's field names (the same in
// every language); every error is an `Error` whose `code` is one of the engine's stable
// kinds (see `NetErrorKind`).

/** The engine's stable error kinds (`tests/cross_lang/errors.json`). */
export type NetErrorKind =
  | 'internal'
  | 'invalid_argument'
  | 'invalid_json'
  | 'config'
  | 'backpressure'
  | 'dropped'
  | 'timeout'
  | 'shutting_down'
  | 'invalid_cursor'
  | 'invalid_filter'
  | 'payload_too_large'
  | 'adapter';

/** Every error the binding throws or rejects with. */
export interface NativeError extends Error {
  /** The stable kind. */
  code: NetErrorKind;
  /** The stable negative code of the kind (the C ABI status). */
  errno: number;
  /** `config`: the dotted path of the offending key. */
  key?: string;
  /** `backpressure`, `dropped`: the shard whose ring was full. */
  shard?: number;
  /** `dropped`: which policy dropped the event. */
  reason?: 'drop_newest' | 'sampled' | 'drop_oldest' | 'adapter_failed';
  /** `payload_too_large`: the event's size in bytes. */
  size?: number;
  /** `payload_too_large`: the configured `max_event_bytes`. */
  max?: number;
}

/** A backpressure mode: a name, or an object with `mode` and that mode's parameters. */
export type BackpressureConfig =
  | 'drop_oldest'
  | 'drop_newest'
  | 'fail_producer'
  | 'block'
  | 'sample'
  | { mode: 'drop_oldest' | 'drop_newest' | 'fail_producer' }
  | { mode: 'block'; timeout_ms?: number }
  | { mode: 'sample'; keep_one_in?: number; high_water?: number };

/**
 * A mesh peer (`docs/mesh.md`, "The JSON form"): `"ADDR@CARD"`, `{addr, card}`, or a peer
 * reached through a relay, `{card, via}`. A card is a node's 128-byte card as 256 hex digits
 * (`adapter_connection.card` in a mesh bus's stats, or `net keygen --show`).
 */
export type MeshPeerConfig =
  | string
  | { addr: string; card: string }
  | { card: string; via: string | { addr: string; card: string } };

/**
 * The adapter: `'memory'` (retention bounds optional), a networked adapter (Redis Streams,
 * NATS JetStream) with its `url` and settings (`docs/bus.md`), or the encrypted mesh with the
 * address to bind, the mesh PSK (exactly one of `psk_hex` / `psk_file`) and its peers
 * (`docs/mesh.md`).
 */
export type AdapterConfig =
  | 'memory'
  | { type: 'memory'; max_events_per_shard?: number; max_bytes_per_shard?: number }
  | {
      type: 'redis';
      url: string;
      prefix?: string;
      max_len_per_shard?: number;
      connect_timeout_ms?: number;
      command_timeout_ms?: number;
      reconnect_timeout_ms?: number;
    }
  | {
      type: 'jetstream';
      url: string;
      prefix?: string;
      replicas?: number;
      max_messages_per_shard?: number;
      storage?: 'file' | 'memory';
      duplicate_window_ms?: number;
      connect_timeout_ms?: number;
      request_timeout_ms?: number;
      reconnect_timeout_ms?: number;
    }
  | ({
      type: 'mesh';
      /** `IP:port` to bind; port 0 takes a free port (see `adapter_connection.local_addr`). */
      listen: string;
      /** Identity key file (`net keygen --out F`); absent: a fresh identity per start. */
      key_file?: string | null;
      peers?: MeshPeerConfig[];
      stream_id?: number;
      connect_timeout_ms?: number;
      credit_timeout_ms?: number;
      retry_after_ms?: number;
      max_events_per_shard?: number;
      max_bytes_per_shard?: number;
    } & ({ psk_hex: string; psk_file?: undefined } | { psk_file: string; psk_hex?: undefined }));

/**
 * The engine's bus configuration (`docs/bus.md`). Parsed strictly by the engine: an unknown
 * key, an unknown mode or a value out of range throws a `config` error whose `key` names it.
 * Keys set to `undefined` count as absent.
 */
export interface BusConfig {
  num_shards?: number | undefined;
  ring_capacity?: number | undefined;
  backpressure?: BackpressureConfig | undefined;
  partition_key?: string | null | undefined;
  drain_batch?: number | undefined;
  drain_workers?: number | undefined;
  drain_linger_ns?: number | undefined;
  max_event_bytes?: number | undefined;
  adapter?: AdapterConfig | undefined;
}

/** The normalized configuration: every key, defaults filled in, object forms. */
export interface NormalizedConfig {
  num_shards: number;
  ring_capacity: number;
  backpressure:
    | { mode: 'drop_oldest' | 'drop_newest' | 'fail_producer' }
    | { mode: 'block'; timeout_ms: number }
    | { mode: 'sample'; keep_one_in: number; high_water: number };
  partition_key: string | null;
  drain_batch: number;
  drain_workers: number;
  drain_linger_ns: number;
  max_event_bytes: number;
  adapter:
    | { type: 'memory'; max_events_per_shard: number; max_bytes_per_shard: number }
    | ({ type: 'redis' | 'jetstream'; url: string } & Record<string, unknown>)
    | ({ type: 'mesh'; listen: string } & Record<string, unknown>);
}

/** Where an accepted event went. */
export interface Receipt {
  shard: number;
  seq: bigint;
}

/**
 * Per-event outcomes of a batch, in input order. Event `i` was accepted unless `failures`
 * has an entry with `index === i`; for accepted events `shard[i]`/`seq[i]` is the receipt.
 */
export interface BatchOutcome {
  accepted: number;
  shard: Uint16Array;
  seq: BigUint64Array;
  failures: Array<{ index: number; error: NativeError }>;
}

/**
 * Events in column form. There are `shard.length` events; event `i` is the JSON text
 * `text.slice(offsets[i], offsets[i + 1])` (byte for byte as emitted) with `shard[i]`,
 * `position[i]`, `seq[i]` and `ts_ns[i]`. `lagged` lists retention losses: `skipped` events
 * were evicted unread just before event `at`. One string per batch (instead of one per
 * event) keeps large batches cheap; slices of it are views, not copies.
 */
export interface EventColumns {
  text: string;
  offsets: Uint32Array;
  shard: Uint16Array;
  position: BigUint64Array;
  seq: BigUint64Array;
  ts_ns: BigUint64Array;
  lagged: Array<{ at: number; skipped: bigint }>;
}

/** A filter in the engine's filter language, as an object or as JSON text. */
export type FilterSpec = Record<string, unknown> | string;

/** Cross-shard order of a result. */
export type Ordering = 'per_shard' | 'insertion_time';

export interface PollOptions {
  /** 1..=100000; default 100. */
  limit?: number | undefined;
  /** Resume after the events a previous poll or subscription returned. */
  cursor?: string | null | undefined;
  filter?: FilterSpec | null | undefined;
  ordering?: Ordering | undefined;
}

export interface PollResult {
  events: EventColumns;
  cursor: string;
  skipped: bigint;
  has_more: boolean;
}

export interface SubscribeOptions {
  filter?: FilterSpec | null | undefined;
  /** Default `'beginning'`. Excludes `cursor`. */
  from?: 'beginning' | 'latest' | undefined;
  /** Resume from a cursor. Excludes `from`. */
  cursor?: string | null | undefined;
  /** Events fetched per wake-up and the default `next()` size (1..=100000; default 256). */
  batch?: number | undefined;
  ordering?: Ordering | undefined;
}

export interface DropCounts {
  drop_oldest: bigint;
  drop_newest: bigint;
  sampled: bigint;
  adapter_failed: bigint;
}

export interface RejectCounts {
  backpressure: bigint;
  timeout: bigint;
}

export interface ShardStats {
  shard: number;
  accepted: bigint;
  delivered: bigint;
  queued: bigint;
  dropped: DropCounts;
  rejected: RejectCounts;
}

/** The engine's counters (`docs/bus.md`, "Stats"). */
export interface Stats {
  accepted: bigint;
  delivered: bigint;
  in_flight: bigint;
  dropped: DropCounts;
  rejected: RejectCounts;
  adapter_errors: bigint;
  adapter_name: string;
  adapter: { stored: bigint; evicted: bigint; retained: bigint; retained_bytes: bigint };
  shards: ShardStats[];
  /** Connection state of a networked adapter (absent for the memory adapter). */
  adapter_connection?: {
    connected: boolean;
    errors: bigint;
    reconnects: bigint;
    last_error: string | null;
    /** Mesh only: the address its node is bound to (the real port when `listen` said 0). */
    local_addr?: string;
    /** Mesh only: its node's card (256 hex digits); `${local_addr}@${card}` is a peer entry. */
    card?: string;
  };
}

/** What `shutdown()` reports. */
export interface ShutdownReport {
  accepted: bigint;
  delivered: bigint;
  dropped: DropCounts;
  undelivered: bigint;
  adapter_error: string | null;
}

/** A push subscription, fed by the engine (no polling loop). */
export declare class Subscription {
  private constructor();
  /**
   * The next batch of at most `max` events (default: the `batch` option), as soon as at least
   * one is there; `null` once the bus shut down and everything was delivered, or after
   * `close()`.
   */
  next(max?: number): Promise<EventColumns | null>;
  /**
   * The cursor after every delivered event, minus the last `unconsumed` events of the last
   * batch (for a consumer that stopped in the middle of one).
   */
  cursor(unconsumed?: number): string;
  /** Ends the subscription; a pending `next()` resolves to `null` at once. */
  close(): void;
  readonly closed: boolean;
}

/** One event bus (the engine's `EventBus`). */
export declare class Bus {
  /** `config`: an object with the engine's keys, JSON text, or nothing for the defaults. */
  constructor(config?: BusConfig | string);
  /** Ingests JSON text; `key` sends every event with that key to one shard. */
  ingest(json: string, key?: string | Uint8Array): Receipt;
  /** Ingests UTF-8 JSON bytes. */
  ingestRaw(bytes: Uint8Array, key?: string | Uint8Array): Receipt;
  /** Ingests many events (JSON text or bytes), with per-event outcomes. */
  ingestBatch(events: ReadonlyArray<string | Uint8Array>): BatchOutcome;
  /** Ingests each element of JSON array text as one event (exactly as written), as a batch. */
  ingestJsonArray(text: string): BatchOutcome;
  /** `ingest`/`ingestRaw` on the thread pool: the way to ingest under `block` backpressure. */
  ingestAsync(event: string | Uint8Array, key?: string | Uint8Array): Promise<Receipt>;
  /** `ingestBatch` on the thread pool. */
  ingestBatchAsync(events: ReadonlyArray<string | Uint8Array>): Promise<BatchOutcome>;
  /** `ingestJsonArray` on the thread pool. */
  ingestJsonArrayAsync(text: string): Promise<BatchOutcome>;
  /** Reads events without consuming them. */
  poll(options?: PollOptions): Promise<PollResult>;
  /** Opens a push subscription. */
  subscribe(options?: SubscribeOptions): Subscription;
  /** Resolves when every event accepted before the call is visible to `poll`. */
  flush(timeoutMs?: number): Promise<void>;
  stats(): Stats;
  /** Stops accepting, drains, and reports. Idempotent; reads keep working afterwards. */
  shutdown(): Promise<ShutdownReport>;
  readonly config: NormalizedConfig;
  /** True until shutdown starts. */
  readonly running: boolean;
}

/** The engine's error kinds and codes, in code order. */
export declare function errorKinds(): Array<{ kind: NetErrorKind; code: number }>;

/**
 * The engine's normalized form of `config` (every key, defaults filled in), without building a
 * bus; throws the same `config` error `new Bus(config)` would.
 */
export declare function normalizeConfig(config?: BusConfig | string): NormalizedConfig;

/** The engine version the addon was built from. */
export declare function engineVersion(): string;

/** A workload `make bench` measures; see `src/bench.rs`. */
export type BenchWorkload = 'emit_raw' | 'emit_raw_batch' | 'emit_batch' | 'subscribe';

/**
 * Runs a benchmark workload directly against the engine (off the JS thread), for comparison
 * with the same workload through the binding. Measurement code, not API.
 */
export declare function engineBench(
  workload: BenchWorkload,
  options?: { events?: number; batch?: number; config?: BusConfig },
): Promise<{ events: number; seconds: number; eps: number }>;

/** The path the addon was loaded from. */
export declare const addonPath: string;
