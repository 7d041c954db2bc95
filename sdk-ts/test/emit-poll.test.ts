// The SDK's emit and poll: round trips, batches, cursors, filters, orderings, options.
import { afterEach, describe, expect, it } from 'vitest';

import {
  BatchResult,
  ConfigError,
  InvalidArgumentError,
  InvalidJsonError,
  NetEvent,
  NetNode,
  type NodeOptions,
  toEngineConfig,
} from '../src/index.js';
import { rejected, take, thrown } from './helpers.js';

const nodes: NetNode[] = [];
async function node(options?: NodeOptions): Promise<NetNode> {
  const n = await NetNode.create(options);
  nodes.push(n);
  return n;
}
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.shutdown()));
});

describe('options', () => {
  it('maps camelCase options to engine keys and nothing more', async () => {
    const n = await node({
      shards: 4,
      bufferCapacity: 1024,
      backpressure: { mode: 'sample', keepOneIn: 3, highWater: 0.5 },
      partitionKey: 'user.id',
      drainBatch: 64,
      drainWorkers: 1,
      drainLingerNs: 2000,
      maxEventBytes: 4096,
      adapter: { type: 'memory', maxEventsPerShard: 100, maxBytesPerShard: 1 << 20 },
    });
    expect(n.config).toEqual({
      num_shards: 4,
      ring_capacity: 1024,
      backpressure: { mode: 'sample', keep_one_in: 3, high_water: 0.5 },
      partition_key: 'user.id',
      drain_batch: 64,
      drain_workers: 1,
      drain_linger_ns: 2000,
      max_event_bytes: 4096,
      adapter: { type: 'memory', max_events_per_shard: 100, max_bytes_per_shard: 1 << 20 },
    });
    expect(toEngineConfig({ backpressure: { mode: 'block', timeoutMs: 5 } })).toEqual({
      backpressure: { mode: 'block', timeout_ms: 5 },
    });
    expect((await node({ backpressure: 'drop_newest' })).config.backpressure).toEqual({ mode: 'drop_newest' });
  });

  it('lets the engine reject unknown options, naming the key', async () => {
    const unknown = (await rejected(NetNode.create({ shard: 4 } as NodeOptions))) as ConfigError;
    expect(unknown).toBeInstanceOf(ConfigError);
    expect(unknown.key).toBe('shard');
    expect(unknown.message).toContain('unknown key');
    const range = (await rejected(NetNode.create({ bufferCapacity: 1000 }))) as ConfigError;
    expect([range.key, range.option]).toEqual(['ring_capacity', 'bufferCapacity']);
    const nested = (await rejected(NetNode.create({ backpressure: { mode: 'block', timeout: 5 } as never }))) as ConfigError;
    expect(nested.key).toBe('backpressure.timeout');
    const mode = (await rejected(NetNode.create({ backpressure: 'drop_oldes' as never }))) as ConfigError;
    expect(mode.key).toBe('backpressure.mode');
    expect(thrown(() => NetNode.normalizeConfig({ bufferCapacity: 3 }))).toMatchObject({
      key: 'ring_capacity',
      option: 'bufferCapacity',
    });
    expect(NetNode.normalizeConfig({ shards: 3 }).num_shards).toBe(3);
    const twice = (await rejected(NetNode.create({ shards: 2, num_shards: 2 } as never))) as ConfigError;
    expect([twice.kind, twice.key]).toEqual(['config', 'num_shards']);
  });
});

describe('emit', () => {
  it('serializes values and round-trips them through poll', async () => {
    const n = await node();
    const values = [{ a: 1, nested: { b: [1, 2] } }, [1, 'two'], 'text', 42, null, true];
    const receipts = values.map((v) => n.emit(v));
    expect(receipts.map((r) => r.seq)).toEqual([0n, 1n, 2n, 3n, 4n, 5n]);
    await n.flush();
    const page = await n.poll();
    expect(page.events).toHaveLength(values.length);
    expect(page.events[0]).toBeInstanceOf(NetEvent);
    expect(page.events.map((e) => e.json())).toEqual(values);
    expect(page.events.map((e) => e.raw)).toEqual(values.map((v) => JSON.stringify(v)));
    const e = page.events[1] as NetEvent;
    expect([e.shard, e.position, e.seq]).toEqual([0, 1n, 1n]);
    expect(e.tsNs).toBeGreaterThan(1_600_000_000_000_000_000n);
    expect(JSON.parse(JSON.stringify(e))).toMatchObject({ raw: '[1,"two"]', position: '1', seq: '1' });
  });

  it('emits raw text and bytes exactly as given', async () => {
    const n = await node();
    const texts = ['{ "spaced" : true }', '{"bytes":"é"}', '"😀 and 日本"', '["\\u0000", "€"]', '1'];
    n.emitRaw(texts[0] as string);
    n.emitRaw(new TextEncoder().encode(texts[1]));
    n.emitRawBatch(texts.slice(2));
    await n.flush();
    expect((await n.poll()).events.map((e) => e.raw)).toEqual(texts);
    expect((await take(n.subscribe(), texts.length)).map((e) => e.raw)).toEqual(texts);
  });

  it('refuses values JSON cannot represent instead of dropping them', async () => {
    const n = await node();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const bad of [undefined, () => 1, Symbol('s'), 10n, cyclic]) {
      expect(thrown(() => n.emit(bad))).toBeInstanceOf(InvalidJsonError);
    }
    expect(thrown(() => n.emitBatch([{ ok: 1 }, undefined]))).toBeInstanceOf(InvalidJsonError);
    expect(thrown(() => n.emitBatch([() => 1]))).toBeInstanceOf(InvalidJsonError);
    expect(thrown(() => n.emitBatch('nope' as never))).toBeInstanceOf(InvalidArgumentError);
    expect(thrown(() => n.emitRaw(5 as never))).toBeInstanceOf(InvalidArgumentError);
    expect(n.stats().accepted).toBe(0n);
  });

  it('reports per-event outcomes of batches', async () => {
    const n = await node({ maxEventBytes: 32 });
    const ok = n.emitBatch([{ a: 1 }, { b: 2 }]);
    expect(ok).toBeInstanceOf(BatchResult);
    expect([ok.ok, ok.length, ok.accepted]).toEqual([true, 2, 2]);
    expect(ok.receipt(1)).toEqual({ shard: 0, seq: 1n });
    const mixed = n.emitRawBatch(['{"fine":1}', 'not json', `{"big":"${'x'.repeat(40)}"}`, new TextEncoder().encode('[4]')]);
    expect([mixed.ok, mixed.accepted]).toEqual([false, 2]);
    expect(mixed.failures.map((f) => [f.index, f.error.kind])).toEqual([
      [1, 'invalid_json'],
      [2, 'payload_too_large'],
    ]);
    expect(mixed.receipt(1)).toBeUndefined();
    expect(mixed.error(0)).toBeUndefined();
    expect(mixed.outcomes().map((o) => o.ok)).toEqual([true, false, false, true]);
    expect(mixed.receipt(99)).toBeUndefined();
  });

  it('has async variants with the same results', async () => {
    const n = await node();
    expect(await n.emitAsync({ a: 1 })).toEqual({ shard: 0, seq: 0n });
    expect(await n.emitRawAsync('{"b":2}')).toEqual({ shard: 0, seq: 1n });
    expect((await n.emitBatchAsync([1, 2, 3])).accepted).toBe(3);
    expect((await n.emitRawBatchAsync(['4', 'x'])).failures[0]?.error).toBeInstanceOf(InvalidJsonError);
    expect(await rejected(n.emitAsync(undefined))).toBeInstanceOf(InvalidJsonError);
  });

  it('keeps events with one key on one shard, in order', async () => {
    const n = await node({ shards: 4 });
    const receipts = Array.from({ length: 40 }, (_, i) => n.emit({ i }, 'device-1'));
    expect(new Set(receipts.map((r) => r.shard)).size).toBe(1);
    await n.flush();
    const page = await n.poll({ limit: 100 });
    expect(page.events.map((e) => e.json<{ i: number }>().i)).toEqual(receipts.map((_, i) => i));
  });
});

describe('poll', () => {
  it('resumes exactly after the last event, across shards and pages', async () => {
    const n = await node({ shards: 4 });
    for (let i = 0; i < 500; i++) n.emit({ i });
    await n.flush();
    const seen: number[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await n.poll({ limit: 37, ...(cursor === undefined ? {} : { cursor }) });
      seen.push(...page.events.map((e) => e.json<{ i: number }>().i));
      cursor = page.cursor;
      if (!page.hasMore) break;
    }
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 500 }, (_, i) => i));
    for (let i = 500; i < 510; i++) n.emit({ i });
    await n.flush();
    const after = await n.poll({ cursor, limit: 100 });
    expect(after.events.map((e) => e.json<{ i: number }>().i).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 10 }, (_, i) => 500 + i),
    );
    expect(after.skipped).toBe(0n);
  });

  it('filters inside the engine and moves the cursor past rejected events', async () => {
    const n = await node({ shards: 2 });
    for (let i = 0; i < 100; i++) n.emit({ kind: i % 3 === 0 ? 'fizz' : 'other', i, tags: [`t${i % 2}`] });
    await n.flush();
    const fizz = await n.poll({ limit: 1000, filter: { path: 'kind', eq: 'fizz' } });
    expect(fizz.events).toHaveLength(34);
    const combined = await n.poll({
      limit: 1000,
      filter: { and: [{ path: 'i', gte: 90 }, { not: { path: 'tags.0', eq: 't0' } }] },
    });
    expect(combined.events.map((e) => e.json<{ i: number }>().i).sort((a, b) => a - b)).toEqual([91, 93, 95, 97, 99]);
    const none = await n.poll({ limit: 1000, filter: { path: 'kind', prefix: 'nope' }, cursor: fizz.cursor });
    expect(none.events).toHaveLength(0);
    expect((await n.poll({ filter: '{"path":"i","in":[1,2]}' })).events).toHaveLength(2);
  });

  it('orders by insertion time deterministically', async () => {
    const n = await node({ shards: 3 });
    for (let i = 0; i < 60; i++) {
      n.emit({ i });
      if (i % 20 === 19) await n.flush();
    }
    await n.flush();
    const a = await n.poll({ limit: 100, ordering: 'insertion_time' });
    const b = await n.poll({ limit: 100, ordering: 'insertion_time' });
    expect(a.events.map((e) => e.raw)).toEqual(b.events.map((e) => e.raw));
    const ts = a.events.map((e) => e.tsNs);
    expect(ts).toEqual([...ts].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)));
  });

  it('is non-destructive: independent readers see the same events', async () => {
    const n = await node();
    n.emitBatch([1, 2, 3]);
    await n.flush();
    const [x, y] = await Promise.all([n.poll(), n.poll()]);
    expect(x.events.map((e) => e.raw)).toEqual(['1', '2', '3']);
    expect(y.events.map((e) => e.raw)).toEqual(['1', '2', '3']);
  });

  it('counts in stats with bigint counters', async () => {
    const n = await node({ shards: 2 });
    n.emitBatch(Array.from({ length: 10 }, (_, i) => i));
    await n.flush();
    const s = n.stats();
    expect([s.accepted, s.delivered, s.in_flight]).toEqual([10n, 10n, 0n]);
    expect(s.shards).toHaveLength(2);
    expect(n.running).toBe(true);
  });
});
