/**
 * Node options: camelCase names for the engine's configuration keys.
 *
 * {@link toEngineConfig} only renames keys (`shards` → `num_shards`, `bufferCapacity` →
 * `ring_capacity`, `timeoutMs` → `timeout_ms`, ...). It checks nothing else: the engine parses
 * the result strictly, so an unknown option, an unknown mode or a value out of range is a
 * {@link ConfigError} from the engine, with the engine's message, whose `key` names the
 * engine key and whose `option` names what the caller wrote. Engine key names are accepted as
 * they are; giving one key under both names is an error.
 *
 * @module
 */
import type { BusConfig, MeshPeerConfig } from '@net-mesh/core';

import { ConfigError } from './errors.js';

/** What to do when a shard's ring is full (`docs/bus.md`, "Backpressure modes"). */
export type Backpressure =
  | 'drop_oldest'
  | 'drop_newest'
  | 'fail_producer'
  | 'block'
  | 'sample'
  | { mode: 'drop_oldest' | 'drop_newest' | 'fail_producer' }
  /** Wait up to `timeoutMs` (default 100) for room; use the `*Async` emit methods. */
  | { mode: 'block'; timeoutMs?: number }
  /** Above `highWater` (fraction of the ring, default 0.8) keep 1 in `keepOneIn` (default 10). */
  | { mode: 'sample'; keepOneIn?: number; highWater?: number };

/**
 * A mesh peer: `"ADDR@CARD"`, `{addr, card}`, or `{card, via}` for a peer behind a relay
 * (`docs/mesh.md`). A bus's own entry is `` `${c.local_addr}@${c.card}` `` with
 * `c = node.stats().adapter_connection`.
 */
export type MeshPeer = MeshPeerConfig;

/**
 * Where events are kept: the memory adapter (optionally with retention bounds per shard), a
 * networked adapter given its `url`, or the encrypted mesh (`docs/mesh.md`, "The JSON form":
 * bind `listen`, give the mesh PSK as exactly one of `pskHex` / `pskFile`, list `peers`).
 */
export type Adapter =
  | 'memory'
  | { type: 'memory'; maxEventsPerShard?: number; maxBytesPerShard?: number }
  | {
      type: 'redis';
      url: string;
      prefix?: string;
      maxLenPerShard?: number;
      connectTimeoutMs?: number;
      commandTimeoutMs?: number;
      reconnectTimeoutMs?: number;
    }
  | {
      type: 'jetstream';
      url: string;
      prefix?: string;
      replicas?: number;
      maxMessagesPerShard?: number;
      storage?: 'file' | 'memory';
      duplicateWindowMs?: number;
      connectTimeoutMs?: number;
      requestTimeoutMs?: number;
      reconnectTimeoutMs?: number;
    }
  | ({
      type: 'mesh';
      /** `IP:port` to bind; port 0 takes a free port. */
      listen: string;
      /** `key_file`: identity key file (`net keygen --out F`); absent: a fresh identity. */
      keyFile?: string | null;
      peers?: MeshPeer[];
      /** `stream_id`: the stream used towards every peer (default 1). */
      streamId?: number;
      connectTimeoutMs?: number;
      /** `credit_timeout_ms`: longest wait for a peer's credit per batch (default 2000). */
      creditTimeoutMs?: number;
      /** `retry_after_ms`: how long a failed peer is skipped (default 1000). */
      retryAfterMs?: number;
      maxEventsPerShard?: number;
      maxBytesPerShard?: number;
    } & (
      | { /** `psk_hex`: the mesh PSK as 64 hex digits. */ pskHex: string; pskFile?: undefined }
      | { /** `psk_file`: a mode-0600 file holding it. */ pskFile: string; pskHex?: undefined }
    ));

/** Options of {@link NetNode.create}; every one maps to one engine key. */
export interface NodeOptions {
  /** `num_shards`: number of shards, 1..=1024 (default 1). */
  shards?: number | undefined;
  /** `ring_capacity`: capacity of each shard's ring, a power of two (default 16384). */
  bufferCapacity?: number | undefined;
  /** `backpressure` (default `'drop_oldest'`). */
  backpressure?: Backpressure | undefined;
  /** `partition_key`: a dot path whose value picks the shard (same value, same shard). */
  partitionKey?: string | null | undefined;
  /** `drain_batch`: most events handed to the adapter at once (default 1024). */
  drainBatch?: number | undefined;
  /** `drain_workers`: drain threads, 0 = automatic (default). */
  drainWorkers?: number | undefined;
  /**
   * `drain_linger_ns`: longest wait, in nanoseconds, of a drain worker for more events while
   * they stream into a shard (default 5000; 0 = off; at most 1,000,000). See `docs/bus.md`.
   */
  drainLingerNs?: number | undefined;
  /** `max_event_bytes`: largest accepted event (default 1 MiB). */
  maxEventBytes?: number | undefined;
  /** `adapter` (default `'memory'`). */
  adapter?: Adapter | undefined;
}

/** SDK option name → engine key, for each level of the configuration. */
const TOP: Readonly<Record<string, string>> = {
  shards: 'num_shards',
  bufferCapacity: 'ring_capacity',
  partitionKey: 'partition_key',
  drainBatch: 'drain_batch',
  drainWorkers: 'drain_workers',
  drainLingerNs: 'drain_linger_ns',
  maxEventBytes: 'max_event_bytes',
};
const BACKPRESSURE: Readonly<Record<string, string>> = {
  timeoutMs: 'timeout_ms',
  keepOneIn: 'keep_one_in',
  highWater: 'high_water',
};
const ADAPTER: Readonly<Record<string, string>> = {
  maxEventsPerShard: 'max_events_per_shard',
  maxBytesPerShard: 'max_bytes_per_shard',
  maxLenPerShard: 'max_len_per_shard',
  maxMessagesPerShard: 'max_messages_per_shard',
  connectTimeoutMs: 'connect_timeout_ms',
  commandTimeoutMs: 'command_timeout_ms',
  requestTimeoutMs: 'request_timeout_ms',
  reconnectTimeoutMs: 'reconnect_timeout_ms',
  duplicateWindowMs: 'duplicate_window_ms',
  pskHex: 'psk_hex',
  pskFile: 'psk_file',
  keyFile: 'key_file',
  streamId: 'stream_id',
  creditTimeoutMs: 'credit_timeout_ms',
  retryAfterMs: 'retry_after_ms',
};

/** Engine top-level key → the SDK option name it came from (for error messages). */
export const RENAMED: Readonly<Record<string, string>> = Object.freeze(
  Object.fromEntries(Object.entries(TOP).map(([option, key]) => [key, option])),
);

function rename(value: unknown, names: Readonly<Record<string, string>>, path: string): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(value)) {
    const key = Object.hasOwn(names, name) ? (names[name] as string) : name;
    if (Object.hasOwn(out, key)) {
      throw new ConfigError(`invalid config key \`${path}${key}\`: given twice (as \`${name}\` and \`${key}\`)`, {
        key: `${path}${key}`,
        option: name,
      });
    }
    out[key] = v;
  }
  return out;
}

/** The engine configuration for `options` (keys renamed, nothing else; see the module docs). */
export function toEngineConfig(options: NodeOptions | BusConfig = {}): BusConfig {
  const out = rename(options, TOP, '') as Record<string, unknown>;
  if (out === null || typeof out !== 'object') return out;
  if (Object.hasOwn(out, 'backpressure')) out.backpressure = rename(out.backpressure, BACKPRESSURE, 'backpressure.');
  if (Object.hasOwn(out, 'adapter')) out.adapter = rename(out.adapter, ADAPTER, 'adapter.');
  return out as BusConfig;
}
