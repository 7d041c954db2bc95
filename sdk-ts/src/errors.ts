/**
 * Typed errors: one `Error` subclass per stable engine error kind.
 *
 * The native binding reports every failure as an `Error` whose `code` is the engine's kind
 * (`'backpressure'`, `'config'`, ...) and whose `errno` is the kind's stable negative code;
 * both are pinned in `tests/cross_lang/errors.json`. {@link fromNative} turns such an error
 * into the matching subclass, keeping the engine's message and details and the original as
 * `cause`. Everything is a {@link NetError}, so `instanceof NetError` catches them all and
 * `err.kind` tells them apart.
 *
 * Two errors come from the SDK itself and have no engine kind of their own:
 * {@link ValidationError} (a schema rejected a value; it is an {@link InvalidArgumentError})
 * and {@link LaggedError} (a subscriber fell behind retention).
 *
 * @module
 */
import type { NativeError, NetErrorKind } from '@net-mesh/core';

export type { NetErrorKind };

/** The stable negative code of each kind. */
export const ERROR_CODES: Readonly<Record<NetErrorKind, number>> = Object.freeze({
  internal: -1,
  invalid_argument: -2,
  invalid_json: -3,
  config: -4,
  backpressure: -5,
  dropped: -6,
  timeout: -7,
  shutting_down: -8,
  invalid_cursor: -9,
  invalid_filter: -10,
  payload_too_large: -11,
  adapter: -12,
});

/** Details the engine attaches to some kinds. */
export interface ErrorDetails {
  /** `config`: the dotted path of the offending engine key. */
  key?: string;
  /** `config`: the SDK option name the caller used for that key, when it was renamed. */
  option?: string;
  /** `backpressure`, `dropped`: the shard whose ring was full. */
  shard?: number;
  /** `dropped`: the policy that dropped the event (`drop_newest` or `sampled`). */
  reason?: string;
  /** `payload_too_large`: the event's size in bytes. */
  size?: number;
  /** `payload_too_large`: the configured maximum. */
  max?: number;
}

/** The base class of every net-mesh error. */
export class NetError extends Error {
  /** The stable engine kind. */
  readonly kind: NetErrorKind;
  /** Same as `kind` (Node's convention for error codes). */
  readonly code: NetErrorKind;
  /** The kind's stable negative code. */
  readonly errno: number;
  readonly key?: string;
  readonly option?: string;
  readonly shard?: number;
  readonly reason?: string;
  readonly size?: number;
  readonly max?: number;

  constructor(kind: NetErrorKind, message: string, details: ErrorDetails = {}, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.kind = kind;
    this.code = kind;
    this.errno = ERROR_CODES[kind];
    Object.assign(this, definedOnly(details));
  }
}

function definedOnly(details: ErrorDetails): ErrorDetails {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(details)) if (v !== undefined) out[k] = v;
  return out as ErrorDetails;
}

/** Declares the subclass for one kind. */
function kindClass<K extends NetErrorKind>(kind: K) {
  return class extends NetError {
    static readonly kind: K = kind;
    constructor(message: string, details: ErrorDetails = {}, options?: ErrorOptions) {
      super(kind, message, details, options);
    }
  };
}

/** A bug or a caught panic inside the engine or the binding. */
export class InternalError extends kindClass('internal') {}
/** An argument was missing, of the wrong type or out of range. */
export class InvalidArgumentError extends kindClass('invalid_argument') {}
/** An event is not valid JSON (or a value cannot be serialized to JSON). */
export class InvalidJsonError extends kindClass('invalid_json') {}
/** The configuration is invalid; `key` names the engine key (and `option` the SDK name). */
export class ConfigError extends kindClass('config') {}
/** The shard's ring is full and the mode is `fail_producer`. */
export class BackpressureError extends kindClass('backpressure') {}
/** The event was dropped by `drop_newest` or `sample` (see `reason`) and counted. */
export class DroppedError extends kindClass('dropped') {}
/** A bounded wait expired (`block` backpressure, flush). */
export class TimeoutError extends kindClass('timeout') {}
/** The node is shutting down or shut down. */
export class ShuttingDownError extends kindClass('shutting_down') {}
/** A cursor is malformed, corrupt or from another bus layout. */
export class InvalidCursorError extends kindClass('invalid_cursor') {}
/** A filter is not valid in the filter language. */
export class InvalidFilterError extends kindClass('invalid_filter') {}
/** An event is larger than `maxEventBytes`. */
export class PayloadTooLargeError extends kindClass('payload_too_large') {}
/** The adapter (storage backend) failed. */
export class AdapterError extends kindClass('adapter') {}

/** The class of each kind. */
export const ERROR_CLASSES: Readonly<Record<NetErrorKind, new (message: string, details?: ErrorDetails, options?: ErrorOptions) => NetError>> =
  Object.freeze({
    internal: InternalError,
    invalid_argument: InvalidArgumentError,
    invalid_json: InvalidJsonError,
    config: ConfigError,
    backpressure: BackpressureError,
    dropped: DroppedError,
    timeout: TimeoutError,
    shutting_down: ShuttingDownError,
    invalid_cursor: InvalidCursorError,
    invalid_filter: InvalidFilterError,
    payload_too_large: PayloadTooLargeError,
    adapter: AdapterError,
  });

/** One problem a schema reported. */
export interface ValidationIssue {
  path: ReadonlyArray<PropertyKey>;
  message: string;
}

/** A schema rejected a value (at publish, or on receipt in a typed subscription). */
export class ValidationError extends InvalidArgumentError {
  /** What the schema reported. */
  readonly issues: ReadonlyArray<ValidationIssue>;
  /** The rejected value. */
  readonly value: unknown;

  constructor(message: string, issues: ReadonlyArray<ValidationIssue>, value: unknown, options?: ErrorOptions) {
    super(message, {}, options);
    this.issues = issues;
    this.value = value;
  }
}

/**
 * A subscriber fell behind retention: `skipped` events were evicted before it read them.
 * Thrown only under the `'throw'` lag policy (`subscribe({ onLag: 'throw' })`).
 */
export class LaggedError extends Error {
  readonly skipped: bigint;

  constructor(skipped: bigint) {
    super(`subscriber lagged: ${skipped} events were evicted unread`);
    this.name = 'LaggedError';
    this.skipped = skipped;
  }
}

function isKind(code: unknown): code is NetErrorKind {
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);
}

/**
 * The typed error for an error thrown by `@net-mesh/core` (its `code` is an engine kind);
 * anything else is returned unchanged.
 */
export function fromNative(err: unknown, renamed?: Readonly<Record<string, string>>): unknown {
  if (err instanceof NetError || !(err instanceof Error)) return err;
  const native = err as Partial<NativeError>;
  if (!isKind(native.code)) return err;
  const details: ErrorDetails = {};
  if (typeof native.key === 'string') {
    details.key = native.key;
    const option = renamed?.[native.key.split('.')[0] ?? ''];
    if (option !== undefined) details.option = option;
  }
  if (typeof native.shard === 'number') details.shard = native.shard;
  if (typeof native.reason === 'string') details.reason = native.reason;
  if (typeof native.size === 'number') details.size = native.size;
  if (typeof native.max === 'number') details.max = native.max;
  return new ERROR_CLASSES[native.code](err.message, details, { cause: err });
}

/** Runs `f`, rethrowing native errors as typed ones. */
export function typed<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    throw fromNative(err);
  }
}

/** Awaits `p`, rethrowing native errors as typed ones. */
export async function typedAsync<T>(p: () => Promise<T>): Promise<T> {
  try {
    return await p();
  } catch (err) {
    throw fromNative(err);
  }
}
