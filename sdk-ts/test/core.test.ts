// @net-mesh/core directly: every member, argument checking, bigint crossing, handles.
import { createRequire } from 'node:module';

import * as core from '@net-mesh/core';
import { Bus, type NativeError, Subscription, addonPath, engineBench, engineVersion } from '@net-mesh/core';
import { afterAll, describe, expect, it } from 'vitest';

import { rejected, texts, thrown } from './helpers.js';

const buses: Bus[] = [];
function bus(config?: ConstructorParameters<typeof Bus>[0]): Bus {
  const b = new Bus(config);
  buses.push(b);
  return b;
}
afterAll(async () => {
  await Promise.all(buses.map((b) => b.shutdown()));
});

/** The addon's raw exports (what index.js wraps). */
type RawAddon = Record<string, (...args: unknown[]) => unknown>;
const raw = createRequire(import.meta.url)(addonPath) as RawAddon;

function code(f: () => unknown): string {
  return (thrown(f) as NativeError).code;
}

describe('Bus', () => {
  it('ingests JSON text and bytes and returns {shard, seq} with a bigint seq', () => {
    // Which shard an unkeyed event lands on is the engine's choice; seqs count per shard.
    const b = bus({ num_shards: 2 });
    const receipts = [b.ingest('{"a":1}'), b.ingestRaw(Buffer.from('{"a":2}')), b.ingestRaw(new TextEncoder().encode('[3]'))];
    const perShard = [0n, 0n];
    for (const r of receipts) {
      expect(Object.keys(r).sort()).toEqual(['seq', 'shard']);
      expect(r.shard === 0 || r.shard === 1).toBe(true);
      expect(r.seq).toBe(perShard[r.shard]);
      perShard[r.shard] = (perShard[r.shard] as bigint) + 1n;
    }
    expect(b.running).toBe(true);
  });

  it('sends events with one partition key to one shard', async () => {
    const b = bus({ num_shards: 8 });
    const shards = new Set<number>();
    for (let i = 0; i < 50; i++) shards.add(b.ingest(`{"i":${i}}`, 'user-7').shard);
    for (let i = 0; i < 50; i++) shards.add(b.ingestRaw(Buffer.from(`{"i":${i}}`), Buffer.from('user-7')).shard);
    expect(shards.size).toBe(1);
    const byPath = bus({ num_shards: 8, partition_key: 'user.id' });
    const receipts = [1, 2, 3, 4].map((i) => byPath.ingest(JSON.stringify({ user: { id: 'u1' }, i })));
    expect(new Set(receipts.map((r) => r.shard)).size).toBe(1);
    expect(receipts.map((r) => r.seq)).toEqual([0n, 1n, 2n, 3n]);
  });

  it('reports per-event outcomes of a batch in column form', () => {
    const b = bus();
    const out = b.ingestBatch(['{"a":1}', 'nope', Buffer.from('[1]')]);
    expect(out.accepted).toBe(2);
    expect(out.shard).toBeInstanceOf(Uint16Array);
    expect(out.seq).toBeInstanceOf(BigUint64Array);
    expect([...out.seq]).toEqual([0n, 0n, 1n]);
    expect(out.failures.map((f) => [f.index, f.error.code])).toEqual([[1, 'invalid_json']]);
    const arr = b.ingestJsonArray(JSON.stringify([{ x: 1 }, [2], 'three', null]));
    expect(arr.accepted).toBe(4);
    expect(code(() => b.ingestJsonArray('{"not":"an array"}'))).toBe('invalid_json');
    expect(code(() => b.ingestJsonArray('[1,'))).toBe('invalid_json');
    expect(b.ingestJsonArray('[]').accepted).toBe(0);
    for (const bad of ['', '[1,]', '[1,,2]', '[1] [2]', '["open]', '[1}', '  ']) {
      expect(code(() => b.ingestJsonArray(bad)), bad).toBe('invalid_json');
    }
    const nested = b.ingestJsonArray('[{"a":[1,{"b":"],"}]}, "}", [[]]]');
    expect(nested.accepted).toBe(3);
  });

  it('gives the same outcomes whichever way a batch crosses (arguments, array, joined string)', async () => {
    const b = bus();
    const items = ['{"a":1}', '"x\u0000y"', '[2]', '"raw \0 nul"', ''];
    for (const out of [b.ingestBatch(items), await b.ingestBatchAsync(items)]) {
      expect(out.accepted).toBe(2);
      expect(out.failures.map((f) => [f.index, f.error.code])).toEqual([
        [1, 'invalid_json'],
        [3, 'invalid_json'],
        [4, 'invalid_json'],
      ]);
    }
    const noNul = ['1', 'nope', '', '2'];
    expect(b.ingestBatch(noNul).failures.map((f) => f.index)).toEqual([1, 2]);
    expect((await b.ingestBatchAsync(noNul)).failures.map((f) => f.index)).toEqual([1, 2]);
    const clean = ['1', '"é😀"', '{"k":[true]}'];
    expect(b.ingestBatch(clean).accepted).toBe(3);
    expect((await b.ingestBatchAsync(clean)).accepted).toBe(3);
    await b.flush();
    const all = texts((await b.poll({ limit: 100 })).events);
    expect(all).toEqual(['{"a":1}', '[2]', '{"a":1}', '[2]', '1', '2', '1', '2', ...clean, ...clean]);
  });

  it('reads batches longer than the argument limit as an array, with the same outcomes', async () => {
    // 8192 events cross as call arguments, 8193 as the array itself.
    for (const n of [8192, 8193]) {
      const b = bus({ max_event_bytes: 16 });
      const items: Array<string | Uint8Array> = Array.from({ length: n }, (_, i) => `{"i":${i}}`);
      items[5] = 'nope';
      items[n - 1] = Buffer.from(`"${'x'.repeat(20)}"`);
      items[n - 2] = Buffer.from('[1]');
      const out = b.ingestBatch(items);
      expect(out.accepted).toBe(n - 2);
      expect(out.failures.map((f) => [f.index, f.error.code])).toEqual([
        [5, 'invalid_json'],
        [n - 1, 'payload_too_large'],
      ]);
      expect(code(() => b.ingestBatch([...items.slice(0, 3), 7 as never]))).toBe('invalid_argument');
      await b.flush();
      const page = await b.poll({ limit: 3, ordering: 'insertion_time' });
      expect(texts(page.events)).toEqual(['{"i":0}', '{"i":1}', '{"i":2}']);
    }
  });

  it('checks size before JSON in every batch form, as the engine does', async () => {
    const b = bus({ max_event_bytes: 8 });
    const items = ['[1]', '{not json at all}', 'nope', '"123456"'];
    const want = [
      [1, 'payload_too_large'],
      [2, 'invalid_json'],
    ];
    for (const out of [b.ingestBatch(items), await b.ingestBatchAsync(items)]) {
      expect(out.failures.map((f) => [f.index, f.error.code])).toEqual(want);
    }
    const arr = b.ingestJsonArray('[[1], {"long": "enough"}, 2]');
    expect(arr.failures.map((f) => [f.index, f.error.code])).toEqual([[1, 'payload_too_large']]);
    await b.flush();
    const all = texts((await b.poll({ limit: 100 })).events);
    expect(all).toEqual(['[1]', '"123456"', '[1]', '"123456"', '[1]', '2']);
  });

  it('keeps the bytes of array elements exactly as written', async () => {
    const b = bus();
    b.ingestJsonArray('[ {"a" : 1} ,\n[1, 2],"s\\u00e9"]');
    await b.flush();
    expect(texts((await b.poll()).events)).toEqual(['{"a" : 1}', '[1, 2]', '"s\\u00e9"']);
  });

  it('runs the async variants off the JS thread with the same results', async () => {
    const b = bus();
    expect(await b.ingestAsync('{"a":1}')).toEqual({ shard: 0, seq: 0n });
    expect(await b.ingestAsync(Buffer.from('{"a":2}'), 'k')).toEqual({ shard: 0, seq: 1n });
    expect((await b.ingestBatchAsync(['1', 'x'])).accepted).toBe(1);
    expect((await b.ingestJsonArrayAsync('[1,2]')).accepted).toBe(2);
    expect(await rejected(b.ingestAsync('{'))).toMatchObject({ code: 'invalid_json' });
    expect(await rejected(b.ingestAsync(5 as never))).toMatchObject({ code: 'invalid_argument' });
  });

  it('polls, flushes, and reports stats and shutdown with bigint counters', async () => {
    const b = new Bus({ num_shards: 2 });
    for (let i = 0; i < 10; i++) b.ingest(`{"i":${i}}`);
    await b.flush();
    await b.flush(5000);
    const page = await b.poll({ limit: 4, ordering: 'insertion_time' });
    expect(texts(page.events)).toHaveLength(4);
    expect(typeof page.cursor).toBe('string');
    expect(page.skipped).toBe(0n);
    expect(page.has_more).toBe(true);
    expect(page.events.ts_ns[0]).toBeGreaterThan(0n);
    const stats = b.stats();
    expect(stats.accepted).toBe(10n);
    expect(stats.delivered).toBe(10n);
    expect(stats.in_flight).toBe(0n);
    expect(stats.adapter_name).toBe('memory');
    expect(stats.shards.map((s) => s.shard)).toEqual([0, 1]);
    expect(stats.shards.reduce((sum, s) => sum + s.accepted, 0n)).toBe(10n);
    const report = await b.shutdown();
    expect(report).toEqual({
      accepted: 10n,
      delivered: 10n,
      dropped: { drop_oldest: 0n, drop_newest: 0n, sampled: 0n, adapter_failed: 0n },
      undelivered: 0n,
      adapter_error: null,
    });
    expect(await b.shutdown()).toEqual(report);
    expect(b.running).toBe(false);
    expect(texts((await b.poll()).events)).toHaveLength(10);
  });

  it('delivers subscriptions in batches and ends them on close and on shutdown', async () => {
    const b = new Bus();
    const sub = b.subscribe({ batch: 3 });
    expect(sub).toBeInstanceOf(Subscription);
    for (let i = 0; i < 5; i++) b.ingest(`${i}`);
    const first = await sub.next();
    expect(first?.shard.length).toBeGreaterThan(0);
    expect(first?.shard.length).toBeLessThanOrEqual(3);
    const closing = b.subscribe({ from: 'latest' });
    const pending = closing.next();
    closing.close();
    expect(await pending).toBeNull();
    expect(closing.closed).toBe(true);
    expect(await closing.next()).toBeNull();
    const waiting = b.subscribe({ from: 'latest' }).next(10);
    await b.shutdown();
    expect(await waiting).toBeNull();
    let total = first?.shard.length ?? 0;
    for (let cols = await sub.next(100); cols !== null; cols = await sub.next(100)) total += cols.shard.length;
    expect(total).toBe(5);
  });

  it('gives an exact cursor for a partly consumed batch', async () => {
    const b = bus({ num_shards: 3 });
    for (let i = 0; i < 30; i++) b.ingest(`{"i":${i}}`);
    await b.flush();
    const sub = b.subscribe({ batch: 30 });
    const cols = await sub.next(30);
    const all = texts(cols);
    expect(all).toHaveLength(30);
    const rest = await b.poll({ cursor: sub.cursor(12), limit: 100 });
    expect(texts(rest.events)).toEqual(all.slice(18));
    expect(texts((await b.poll({ cursor: sub.cursor(), limit: 100 })).events)).toEqual([]);
    expect(texts((await b.poll({ cursor: sub.cursor(30), limit: 100 })).events).sort()).toEqual([...all].sort());
    expect(code(() => sub.cursor(31))).toBe('invalid_argument');
    sub.close();
  });

  it('refuses synchronous ingest under block backpressure and names the async method', async () => {
    const b = bus({ backpressure: { mode: 'block', timeout_ms: 50 } });
    const err = thrown(() => b.ingest('{}')) as NativeError;
    expect(err.code).toBe('invalid_argument');
    expect(err.message).toContain('async variant');
    expect(code(() => b.ingestRaw(Buffer.from('{}')))).toBe('invalid_argument');
    expect(code(() => b.ingestBatch(['{}']))).toBe('invalid_argument');
    expect(code(() => b.ingestJsonArray('[]'))).toBe('invalid_argument');
    expect(await b.ingestAsync('{}')).toEqual({ shard: 0, seq: 0n });
  });

  it('reports payload_too_large with the sizes', () => {
    const b = bus({ max_event_bytes: 16 });
    const text = JSON.stringify({ long: 'x'.repeat(40) });
    const err = thrown(() => b.ingest(text)) as NativeError;
    expect(err).toMatchObject({ code: 'payload_too_large', errno: -11, size: text.length, max: 16 });
  });
});

describe('bad arguments are typed errors, never a crash', () => {
  const b = bus();

  it.each([
    ['ingest(5)', () => b.ingest(5 as never)],
    ['ingest()', () => (b.ingest as (...a: unknown[]) => unknown)()],
    ['ingest(json, 5)', () => b.ingest('{}', 5 as never)],
    ['ingestRaw("{}")', () => b.ingestRaw('{}' as never)],
    ['ingestRaw(Uint16Array)', () => b.ingestRaw(new Uint16Array(2) as never)],
    ['ingestBatch("x")', () => b.ingestBatch('x' as never)],
    ['ingestBatch([1])', () => b.ingestBatch([1] as never)],
    ['ingestJsonArray(5)', () => b.ingestJsonArray(5 as never)],
    ['subscribe("x")', () => b.subscribe('x' as never)],
    ['subscribe({bogus})', () => b.subscribe({ bogus: 1 } as never)],
    ['subscribe({from: middle})', () => b.subscribe({ from: 'middle' } as never)],
    ['subscribe({from, cursor})', () => b.subscribe({ from: 'latest', cursor: 'x' })],
    ['subscribe({batch: 0})', () => b.subscribe({ batch: 0 })],
    ['subscribe({batch: 1.5})', () => b.subscribe({ batch: 1.5 })],
    ['subscribe({ordering: sideways})', () => b.subscribe({ ordering: 'sideways' as never })],
    ['next(0)', () => b.subscribe().next(0)],
    ['cursor(-1)', () => b.subscribe().cursor(-1)],
  ])('%s', (_name, f) => {
    expect(code(f)).toBe('invalid_argument');
  });

  it.each([
    ['poll("x")', () => b.poll('x' as never)],
    ['poll({limit: 0})', () => b.poll({ limit: 0 })],
    ['poll({limit: 100001})', () => b.poll({ limit: 100_001 })],
    ['poll({limit: "5"})', () => b.poll({ limit: '5' as never })],
    ['poll({bogus})', () => b.poll({ bogus: true } as never)],
    ['poll({ordering: 1})', () => b.poll({ ordering: 1 as never })],
    ['flush(-1)', () => b.flush(-1)],
    ['flush("1")', () => b.flush('1' as never)],
  ])('%s rejects', async (_name, f) => {
    expect(await rejected(f)).toMatchObject({ code: 'invalid_argument', errno: -2 });
  });

  it('checks handles: a wrong or foreign handle is invalid_argument', () => {
    const sub = b.subscribe();
    const busHandle = raw.busNew?.(undefined, new Uint16Array(1));
    expect(code(() => raw.busIngest?.({}, '{}'))).toBe('invalid_argument');
    expect(code(() => raw.busIngest?.(undefined, '{}'))).toBe('invalid_argument');
    expect(code(() => raw.subNext?.(busHandle))).toBe('invalid_argument');
    expect(code(() => raw.busNew?.(undefined, new Uint8Array(2)))).toBe('invalid_argument');
    expect(raw.busStats?.(busHandle, 'extra arguments are ignored')).toMatchObject({ accepted: 0n });
    // The argument-list batch entry: no handle, a wrong handle, a bad element.
    expect(code(() => raw.busIngestSpread?.())).toBe('invalid_argument');
    expect(code(() => raw.busIngestSpread?.({}, '1'))).toBe('invalid_argument');
    expect(code(() => raw.busIngestSpread?.(busHandle, '1', null))).toBe('invalid_argument');
    expect(raw.busIngestSpread?.(busHandle)).toMatchObject({ accepted: 0, failures: [] });
    expect(raw.busIngestSpread?.(busHandle, '1', new Uint8Array([50]))).toMatchObject({ accepted: 2 });
    sub.close();
  });

  it('lets an exception thrown by a getter propagate unchanged', () => {
    const boom = new Error('boom');
    const config = {
      get num_shards(): number {
        throw boom;
      },
    };
    expect(thrown(() => new Bus(config))).toBe(boom);
    expect(thrown(() => b.subscribe({ get filter(): never { throw boom; } }))).toBe(boom);
    const trap: string[] = [];
    Object.defineProperty(trap, 0, {
      get(): never {
        throw boom;
      },
    });
    expect(thrown(() => b.ingestBatch(trap))).toBe(boom);
    expect(b.running).toBe(true);
  });

  it('rejects config values JSON cannot hold, naming the key', () => {
    for (const [config, key] of [
      [{ num_shards: Number.NaN }, 'num_shards'],
      [{ num_shards: () => 1 }, 'num_shards'],
      [{ backpressure: { mode: 'block', timeout_ms: Symbol('x') } }, 'backpressure.timeout_ms'],
      [{ adapter: { type: 'memory', max_events_per_shard: [1, undefined] } }, 'adapter.max_events_per_shard.1'],
      [{ num_shards: new Date() }, 'num_shards'],
    ] as const) {
      expect(thrown(() => new Bus(config as never))).toMatchObject({ code: 'config', key });
    }
    const cyclic: Record<string, unknown> = {};
    cyclic.adapter = cyclic;
    expect(thrown(() => new Bus(cyclic as never))).toMatchObject({ code: 'config' });
    expect(new Bus({ num_shards: undefined, ring_capacity: 4n as never }).config.ring_capacity).toBe(4);
  });
});

describe('index.d.ts matches index.js', () => {
  // `Record<keyof X, true>` must list every member the typings declare, and no other; the
  // runtime comparison then proves the JS has exactly those members.
  const busMembers: Record<keyof Bus, true> = {
    ingest: true,
    ingestRaw: true,
    ingestBatch: true,
    ingestJsonArray: true,
    ingestAsync: true,
    ingestBatchAsync: true,
    ingestJsonArrayAsync: true,
    poll: true,
    subscribe: true,
    flush: true,
    stats: true,
    shutdown: true,
    config: true,
    running: true,
  };
  const subscriptionMembers: Record<keyof Subscription, true> = { next: true, cursor: true, close: true, closed: true };
  // `default` is the CommonJS module object itself, added by Node's ESM interop.
  const moduleMembers: Record<Exclude<keyof typeof core, 'default'>, true> = {
    Bus: true,
    Subscription: true,
    errorKinds: true,
    engineVersion: true,
    normalizeConfig: true,
    engineBench: true,
    addonPath: true,
  };

  const names = (proto: object): string[] => Object.getOwnPropertyNames(proto).filter((n) => n !== 'constructor').sort();

  it('Bus', () => expect(names(Bus.prototype)).toEqual(Object.keys(busMembers).sort()));
  it('Subscription', () => expect(names(Subscription.prototype)).toEqual(Object.keys(subscriptionMembers).sort()));
  it('module exports', () =>
    expect(Object.keys(core).filter((k) => k !== 'default').sort()).toEqual(Object.keys(moduleMembers).sort()));
});

describe('module', () => {
  it('reports the engine version and runs engine benchmarks off the JS thread', async () => {
    expect(engineVersion()).toMatch(/^\d+\.\d+\.\d+/);
    const fig = await engineBench('emit_raw_batch', { events: 2000, batch: 100 });
    expect(fig.events).toBe(2000);
    expect(fig.eps).toBeGreaterThan(0);
    expect(await rejected(engineBench('nope' as never))).toMatchObject({ code: 'invalid_argument' });
  });
});
