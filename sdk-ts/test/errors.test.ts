// Bad input and use after shutdown: always a typed error with the engine's message.
import { type NativeError } from '@net-mesh/core';
import { describe, expect, it } from 'vitest';

import {
  ConfigError,
  InternalError,
  InvalidArgumentError,
  InvalidCursorError,
  InvalidFilterError,
  InvalidJsonError,
  NetError,
  NetNode,
  type NodeOptions,
  PayloadTooLargeError,
  ShuttingDownError,
  fromNative,
} from '../src/index.js';
import { drain, rejected, thrown } from './helpers.js';

describe('invalid configuration', () => {
  it.each<[string, NodeOptions, string]>([
    ['zero shards', { shards: 0 }, 'num_shards'],
    ['fractional shards', { shards: 2.5 }, 'num_shards'],
    ['string shards', { shards: '4' as never }, 'num_shards'],
    ['NaN shards', { shards: Number.NaN }, 'num_shards'],
    ['ring not a power of two', { bufferCapacity: 1000 }, 'ring_capacity'],
    ['unknown mode', { backpressure: 'drop_all' as never }, 'backpressure.mode'],
    ['param of another mode', { backpressure: { mode: 'drop_newest', timeoutMs: 5 } as never }, 'backpressure.timeout_ms'],
    ['high water above one', { backpressure: { mode: 'sample', highWater: 1.5 } }, 'backpressure.high_water'],
    ['empty partition key', { partitionKey: '' }, 'partition_key'],
    ['unknown adapter', { adapter: { type: 'kafka' } as never }, 'adapter.type'],
    ['unknown adapter option', { adapter: { type: 'memory', maxEvents: 5 } as never }, 'adapter.maxEvents'],
    ['unknown option', { bogus: true } as never, 'bogus'],
  ])('%s', async (_name, options, key) => {
    const err = (await rejected(NetNode.create(options))) as ConfigError;
    expect(err).toBeInstanceOf(ConfigError);
    expect(err).toBeInstanceOf(NetError);
    expect([err.kind, err.code, err.errno, err.key, err.name]).toEqual(['config', 'config', -4, key, 'ConfigError']);
    expect(err.message).toMatch(/^invalid config key `/);
    expect((err.cause as NativeError).code).toBe('config');
  });

  it('rejects configuration text that is not JSON', async () => {
    const err = (await rejected(NetNode.fromConfig('{num_shards: 4}'))) as ConfigError;
    expect([err.kind, err.key]).toEqual(['config', '<root>']);
  });
});

describe('invalid payloads and arguments', () => {
  it('raises typed errors with the engine message', async () => {
    const n = await NetNode.create({ maxEventBytes: 64 });
    const json = thrown(() => n.emitRaw('{"a":')) as InvalidJsonError;
    expect(json).toBeInstanceOf(InvalidJsonError);
    expect(json.message).toMatch(/^invalid JSON: /);
    const value = { pad: 'x'.repeat(100) };
    const big = thrown(() => n.emit(value)) as PayloadTooLargeError;
    expect(big).toBeInstanceOf(PayloadTooLargeError);
    expect([big.size, big.max]).toEqual([JSON.stringify(value).length, 64]);
    expect(thrown(() => n.emitRaw(null as never))).toBeInstanceOf(InvalidArgumentError);
    expect(thrown(() => n.emitRaw('{}', 42 as never))).toBeInstanceOf(InvalidArgumentError);
    expect(thrown(() => n.emitRawBatch([{}] as never))).toBeInstanceOf(InvalidArgumentError);
    expect(thrown(() => n.subscribe({ from: 'end' as never }))).toBeInstanceOf(InvalidArgumentError);
    expect(await rejected(n.poll({ limit: -1 }))).toBeInstanceOf(InvalidArgumentError);
    expect(await rejected(n.poll({ limit: 2.5 }))).toBeInstanceOf(InvalidArgumentError);
    expect(await rejected(n.poll({ cursor: 'AQEBAAAAAAA' }))).toBeInstanceOf(InvalidCursorError);
    expect(await rejected(n.poll({ filter: { path: 'a', between: [1, 2] } as never }))).toBeInstanceOf(InvalidFilterError);
    expect(await rejected(n.poll({ filter: '{not json' }))).toBeInstanceOf(InvalidFilterError);
    expect(await rejected(n.flush(Number.NaN))).toBeInstanceOf(InvalidArgumentError);
    expect(thrown(() => n.channel(''))).toBeInstanceOf(InvalidArgumentError);
    expect(n.stats().accepted).toBe(0n);
    await n.shutdown();
  });

  it('leaves non-engine errors untouched', () => {
    const plain = new TypeError('x');
    expect(fromNative(plain)).toBe(plain);
    expect(fromNative('str')).toBe('str');
    const odd = Object.assign(new Error('m'), { code: 'ENOENT' });
    expect(fromNative(odd)).toBe(odd);
    const internal = fromNative(Object.assign(new Error('boom'), { code: 'internal' }));
    expect(internal).toBeInstanceOf(InternalError);
  });
});

describe('use after shutdown', () => {
  it('refuses writes with ShuttingDownError and keeps reads working', async () => {
    const n = await NetNode.create();
    n.emitBatch([1, 2]);
    const report = await n.shutdown();
    expect(report.accepted).toBe(2n);
    expect(await n.shutdown()).toEqual(report);
    expect(n.running).toBe(false);
    const emit = thrown(() => n.emit({ late: true })) as ShuttingDownError;
    expect(emit).toBeInstanceOf(ShuttingDownError);
    expect([emit.kind, emit.errno, emit.message]).toEqual(['shutting_down', -8, 'the bus is shutting down']);
    expect(thrown(() => n.emitRaw('{}'))).toBeInstanceOf(ShuttingDownError);
    expect(await rejected(n.emitAsync({}))).toBeInstanceOf(ShuttingDownError);
    const batch = n.emitBatch([1, 2, 3]);
    expect(batch.accepted).toBe(0);
    expect(batch.failures.map((f) => f.error)).toEqual([
      expect.any(ShuttingDownError),
      expect.any(ShuttingDownError),
      expect.any(ShuttingDownError),
    ]);
    expect(await rejected(n.flush())).toBeInstanceOf(ShuttingDownError);
    expect((await n.poll()).events.map((e) => e.raw)).toEqual(['1', '2']);
    expect((await drain(n.subscribe())).map((e) => e.raw)).toEqual(['1', '2']);
    expect(n.stats().accepted).toBe(2n);
  });

  it('refuses every batch form and channel publish with ShuttingDownError, per event', async () => {
    const n = await NetNode.create();
    await n.shutdown();
    const big = Array.from({ length: 8193 }, (_, i) => String(i));
    const batches = [
      n.emitRawBatch(['1', Buffer.from('2')]),
      n.emitRawBatch(big),
      await n.emitRawBatchAsync(['1', '2']),
      await n.emitBatchAsync([1, 2]),
    ];
    for (const b of batches) {
      expect(b.accepted).toBe(0);
      expect(b.failures.length).toBe(b.length);
      for (const f of b.failures) expect(f.error).toBeInstanceOf(ShuttingDownError);
    }
    const ch = n.channel<number>('late');
    expect(thrown(() => ch.publish(1))).toBeInstanceOf(ShuttingDownError);
    expect(await rejected(ch.publishAsync(1))).toBeInstanceOf(ShuttingDownError);
    expect(ch.publishBatch([1, 2]).failures.map((f) => f.error)).toEqual([
      expect.any(ShuttingDownError),
      expect.any(ShuttingDownError),
    ]);
    // Argument errors still win over the shutdown: bad input is reported as such.
    expect(thrown(() => n.emitRawBatch([5 as never]))).toMatchObject({ kind: 'invalid_argument' });
    expect(n.stats().accepted).toBe(0n);
  });
});
