// The SDK's subscriptions: async iteration, push delivery, break, shutdown, lag, cursors,
// typed subscriptions.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';

import {
  InvalidArgumentError,
  LAGGED_WARNING,
  LaggedError,
  NetEvent,
  NetNode,
  type NodeOptions,
  Subscription,
  ValidationError,
} from '../src/index.js';
import { drain, rejected, sleep, take, thrown } from './helpers.js';

const nodes: NetNode[] = [];
async function node(options?: NodeOptions): Promise<NetNode> {
  const n = await NetNode.create(options);
  nodes.push(n);
  return n;
}
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.shutdown()));
});

// No test may leave a promise rejection unhandled.
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};
beforeAll(() => {
  process.on('unhandledRejection', onUnhandled);
});
afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled).toEqual([]);
});

describe('subscribe', () => {
  it('yields every event, in order per shard, as an async iterable', async () => {
    const n = await node({ shards: 3 });
    for (let i = 0; i < 300; i++) n.emit({ i }, `k${i % 3}`);
    const sub = n.subscribe({ batch: 50 });
    expect(sub).toBeInstanceOf(Subscription);
    const events = await take(sub, 300);
    expect(events[0]).toBeInstanceOf(NetEvent);
    const byShard = new Map<number, number[]>();
    for (const e of events) byShard.set(e.shard, [...(byShard.get(e.shard) ?? []), e.json<{ i: number }>().i]);
    for (const seq of byShard.values()) expect(seq).toEqual([...seq].sort((a, b) => a - b));
    expect(events.map((e) => e.json<{ i: number }>().i).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 300 }, (_, i) => i),
    );
    expect(sub.closed).toBe(true);
  });

  it('is pushed events emitted after it started waiting', async () => {
    const n = await node();
    const sub = n.subscribe({ from: 'latest' });
    const first = sub.next();
    await sleep(200);
    const before = process.hrtime.bigint();
    n.emit({ late: true });
    const got = await first;
    const waitedMs = Number(process.hrtime.bigint() - before) / 1e6;
    expect(got.done).toBe(false);
    expect((got.value as NetEvent).json()).toEqual({ late: true });
    expect(waitedMs).toBeLessThan(1000);
    sub.close();
  });

  it('from latest skips what was stored before', async () => {
    const n = await node();
    n.emit({ old: true });
    await n.flush();
    const sub = n.subscribe({ from: 'latest' });
    n.emit({ new: true });
    expect((await take(sub, 1)).map((e) => e.raw)).toEqual(['{"new":true}']);
  });

  it('ends cleanly on break and releases a pending wait on close', async () => {
    const n = await node();
    n.emitBatch([1, 2, 3]);
    const sub = n.subscribe();
    let seen = 0;
    for await (const _ of sub) {
      if (++seen === 2) break;
    }
    expect(seen).toBe(2);
    expect(sub.closed).toBe(true);
    expect(await sub.next()).toEqual({ value: undefined, done: true });

    const idle = n.subscribe({ from: 'latest' });
    const pending = idle.next();
    idle.close();
    expect(await pending).toEqual({ value: undefined, done: true });
  });

  it('ends after shutdown, once every remaining event was yielded', async () => {
    const n = await NetNode.create({ shards: 2 });
    const sub = n.subscribe({ batch: 7 });
    const reading = drain(sub);
    for (let i = 0; i < 100; i++) n.emit({ i });
    const report = await n.shutdown();
    const events = await reading;
    expect(events).toHaveLength(100);
    expect(report.delivered).toBe(100n);
    expect(sub.closed).toBe(true);
    expect(await drain(n.subscribe())).toHaveLength(100);
  });

  it('gives a cursor that resumes exactly after the last event handed out', async () => {
    const n = await node({ shards: 4 });
    for (let i = 0; i < 200; i++) n.emit({ i });
    await n.flush();
    const sub = n.subscribe({ batch: 64 });
    const head = await take(sub, 37);
    const cursor = sub.cursor;
    const rest = await drainPage(n, cursor);
    const all = [...head.map((e) => e.raw), ...rest];
    expect(all).toHaveLength(200);
    expect(new Set(all).size).toBe(200);
    const resumed = n.subscribe({ cursor, batch: 1000 });
    expect((await take(resumed, 163)).map((e) => e.raw)).toEqual(rest);
  });

  it('reports lag to an onLag function and continues', async () => {
    const n = await node({ adapter: { type: 'memory', maxEventsPerShard: 10 } });
    const lags: bigint[] = [];
    const sub = n.subscribe({ onLag: (skipped) => lags.push(skipped), batch: 5 });
    for (let i = 0; i < 100; i++) n.emit({ i });
    await n.flush();
    const events = await take(sub, 10);
    expect(lags).toEqual([90n]);
    expect(sub.skipped).toBe(90n);
    expect(sub.lags).toBe(1);
    expect(events.map((e) => e.json<{ i: number }>().i)).toEqual(Array.from({ length: 10 }, (_, i) => 90 + i));
  });

  it('warns (LaggedWarning) by default, counts the lag and keeps iterating', async () => {
    const n = await node({ adapter: { type: 'memory', maxEventsPerShard: 4 } });
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => {
      if (w.name === LAGGED_WARNING) warnings.push(w);
    };
    process.on('warning', onWarning);
    try {
      for (let i = 0; i < 10; i++) n.emit({ i });
      await n.flush();
      const sub = n.subscribe();
      // `next()` rather than `for await`, which would close the subscription on `break`.
      const next4 = async (): Promise<number[]> => {
        const out: number[] = [];
        for (let k = 0; k < 4; k++) {
          const r = await sub.next();
          if (!r.done) out.push(r.value.json<{ i: number }>().i);
        }
        return out;
      };
      expect(await next4()).toEqual([6, 7, 8, 9]);
      for (let i = 10; i < 20; i++) n.emit({ i });
      await n.flush();
      expect(await next4()).toEqual([16, 17, 18, 19]);
      expect(sub.skipped).toBe(12n);
      expect(sub.lags).toBe(2);
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.map((w) => w.message)).toEqual([
        'subscriber fell behind retention: 6 events were evicted unread (6 in 1 lag on this subscription)',
        'subscriber fell behind retention: 6 events were evicted unread (12 in 2 lags on this subscription)',
      ]);
      expect(warnings.map((w) => (w as Error & { code?: string }).code)).toEqual(['NET_MESH_LAGGED', 'NET_MESH_LAGGED']);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it("throws LaggedError under onLag: 'throw', and can be resumed", async () => {
    const n = await node({ adapter: { type: 'memory', maxEventsPerShard: 4 } });
    for (let i = 0; i < 10; i++) n.emit({ i });
    await n.flush();
    const sub = n.subscribe({ onLag: 'throw' });
    const err = await rejected(sub.next());
    expect(err).toBeInstanceOf(LaggedError);
    expect((err as LaggedError).skipped).toBe(6n);
    expect(sub.skipped).toBe(6n);
    expect((await take(sub, 4)).map((e) => e.json<{ i: number }>().i)).toEqual([6, 7, 8, 9]);
  });

  it('applies the lag policy to typed subscriptions and channels too', async () => {
    const n = await node({ adapter: { type: 'memory', maxEventsPerShard: 3 } });
    const ch = n.channel<number>('lagging');
    for (let i = 0; i < 8; i++) ch.publish(i);
    await n.flush();
    const seen: bigint[] = [];
    const sub = ch.subscribe({ onLag: (s) => seen.push(s) });
    expect(await take(sub, 3)).toEqual([5, 6, 7]);
    expect(seen).toEqual([5n]);
    const throwing = n.subscribeTyped<{ channel: string }>({ onLag: 'throw' });
    expect(await rejected(throwing.next())).toBeInstanceOf(LaggedError);
  });

  it('rejects an invalid onLag with a typed error', async () => {
    const n = await node();
    for (const onLag of ['raise', 'ignore', 5, null]) {
      const err = thrown(() => n.subscribe({ onLag: onLag as never }));
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect((err as Error).message).toMatch(/^onLag must be 'warn', 'throw' or a function, got /);
    }
  });

  it('filters inside the engine', async () => {
    const n = await node({ shards: 2 });
    const sub = n.subscribe({ filter: { path: 'level', in: ['warn', 'error'] } });
    for (const level of ['info', 'warn', 'debug', 'error', 'info']) n.emit({ level });
    expect((await take(sub, 2)).map((e) => e.json<{ level: string }>().level).sort()).toEqual(['error', 'warn']);
  });

  it('serves several independent subscribers', async () => {
    const n = await node();
    const subs = [n.subscribe(), n.subscribe(), n.subscribe()];
    n.emitBatch(Array.from({ length: 50 }, (_, i) => i));
    const results = await Promise.all(subs.map((s) => take(s, 50)));
    for (const r of results) expect(r.map((e) => e.raw)).toEqual(Array.from({ length: 50 }, (_, i) => String(i)));
  });

  it('rejects invalid options with typed errors', async () => {
    const n = await node();
    expect(thrown(() => n.subscribe({ batch: 0 }))).toMatchObject({ kind: 'invalid_argument' });
    expect(thrown(() => n.subscribe({ filter: { path: '' } as never }))).toMatchObject({ kind: 'invalid_filter' });
  });
});

describe('subscribeTyped', () => {
  const Reading = z.object({ sensor: z.string(), celsius: z.number() });
  type Reading = z.infer<typeof Reading>;

  it('yields parsed payloads', async () => {
    const n = await node();
    n.emit({ sensor: 'a', celsius: 20 });
    const [r] = await take(n.subscribeTyped<Reading>(), 1);
    expect(r).toEqual({ sensor: 'a', celsius: 20 });
  });

  it('validates with a schema and passes invalid payloads to onInvalid', async () => {
    const n = await node();
    n.emitBatch([{ sensor: 'a', celsius: 1 }, { sensor: 'b', celsius: 'hot' }, { sensor: 'c', celsius: 3 }]);
    const invalid: Array<[ValidationError, NetEvent]> = [];
    const sub = n.subscribeTyped({ schema: Reading, onInvalid: (e, ev) => invalid.push([e, ev]) });
    expect((await take(sub, 2)).map((r) => r.sensor)).toEqual(['a', 'c']);
    expect(invalid).toHaveLength(1);
    expect(invalid[0]?.[0]).toBeInstanceOf(ValidationError);
    expect(invalid[0]?.[0].issues[0]?.path).toEqual(['celsius']);
    expect(invalid[0]?.[1].json()).toEqual({ sensor: 'b', celsius: 'hot' });
  });

  it('throws ValidationError without onInvalid, and can be resumed', async () => {
    const n = await node();
    n.emitBatch([{ sensor: 'a', celsius: 'x' }, { sensor: 'b', celsius: 2 }]);
    const sub = n.subscribeTyped({ schema: Reading });
    expect(await rejected(sub.next())).toBeInstanceOf(ValidationError);
    expect(await take(sub, 1)).toEqual([{ sensor: 'b', celsius: 2 }]);
  });
});

/** Every raw event after `cursor`, via poll. */
async function drainPage(n: NetNode, cursor: string): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    const page = await n.poll({ cursor, limit: 1000 });
    out.push(...page.events.map((e) => e.raw));
    if (!page.hasMore) return out;
    cursor = page.cursor;
  }
}
