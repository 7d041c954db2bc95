/**
 * `@net-mesh/sdk`: the TypeScript SDK of net-mesh, a thin skin over the Rust engine
 * (`@net-mesh/core`).
 *
 * ```ts
 * import { NetNode } from '@net-mesh/sdk';
 *
 * const node = await NetNode.create({ shards: 4 });
 * node.emit({ token: 'hello', index: 0 });
 * for await (const event of node.subscribe()) {
 *   console.log(event.raw);
 *   break;
 * }
 * await node.shutdown();
 * ```
 *
 * @module
 */
export { NetNode } from './node.js';
export type { Key, Ordering, PollOptions, PollPage, SubscribeOptions, TypedSubscribeOptions } from './node.js';
export type { NodeOptions, Backpressure, Adapter, MeshPeer } from './config.js';
export { toEngineConfig } from './config.js';
export { NetEvent } from './event.js';
export { Subscription, LAGGED_WARNING } from './subscription.js';
export type { LagPolicy } from './subscription.js';
export { BatchResult } from './batch.js';
export type { Outcome } from './batch.js';
export { Channel } from './channel.js';
export type { ChannelSubscribeOptions, Envelope } from './channel.js';
export type { Filter, JsonValue } from './filter.js';
export type { Schema, SafeParseResult } from './schema.js';
export {
  NetError,
  InternalError,
  InvalidArgumentError,
  InvalidJsonError,
  ConfigError,
  BackpressureError,
  DroppedError,
  TimeoutError,
  ShuttingDownError,
  InvalidCursorError,
  InvalidFilterError,
  PayloadTooLargeError,
  AdapterError,
  ValidationError,
  LaggedError,
  ERROR_CLASSES,
  ERROR_CODES,
  fromNative,
} from './errors.js';
export type { NetErrorKind, ErrorDetails, ValidationIssue } from './errors.js';
export type { Receipt, Stats, ShutdownReport, NormalizedConfig, BusConfig } from '@net-mesh/core';
