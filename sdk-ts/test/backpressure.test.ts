// Every backpressure mode surfaces as its own outcome: a typed error per refused event, with
// the engine's counters agreeing. A tiny ring (2 slots) and batches of 2,000 events make the
// producer outrun the drain worker, so the ring is full for most of each batch.
import { afterEach, describe, expect, it } from 'vitest';

import {
  BackpressureError,
  type BatchResult,
  DroppedError,
  InvalidArgumentError,
  NetNode,
  type NodeOptions,
  TimeoutError,
} from '../src/index.js';
import { thrown } from './helpers.js';

const nodes: NetNode[] = [];
async function node(options: NodeOptions): Promise<NetNode> {
  const n = await NetNode.create({ bufferCapacity: 2, drainBatch: 1, ...options });
  nodes.push(n);
  return n;
}
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.shutdown()));
});

const EVENTS = Array.from({ length: 2000 }, (_, i) => `{"i":${i}}`);

/** Offers batches until one refuses an event (bounded); returns every result. */
async function offer(send: () => BatchResult | Promise<BatchResult>): Promise<BatchResult[]> {
  const results: BatchResult[] = [];
  for (let round = 0; round < 50; round++) {
    const r = await send();
    results.push(r);
    if (!r.ok) break;
  }
  return results;
}

function failures(results: BatchResult[]) {
  return results.flatMap((r) => r.failures.map((f) => f.error));
}

describe('backpressure modes', () => {
  it('drop_oldest accepts everything and counts what it pushed out', async () => {
    const n = await node({ backpressure: 'drop_oldest' });
    let accepted = 0;
    for (let round = 0; round < 20; round++) accepted += n.emitRawBatch(EVENTS).accepted;
    await n.flush();
    const s = n.stats();
    expect(accepted).toBe(20 * EVENTS.length);
    expect(s.accepted).toBe(BigInt(accepted));
    expect(s.dropped.drop_oldest).toBeGreaterThan(0n);
    expect(s.delivered + s.dropped.drop_oldest).toBe(s.accepted);
  });

  it('drop_newest refuses the offered event with DroppedError(reason drop_newest)', async () => {
    const n = await node({ backpressure: 'drop_newest' });
    const errors = failures(await offer(() => n.emitRawBatch(EVENTS)));
    expect(errors.length).toBeGreaterThan(0);
    for (const e of errors) {
      expect(e).toBeInstanceOf(DroppedError);
      expect([e.reason, e.shard]).toEqual(['drop_newest', 0]);
    }
    await n.flush();
    expect(n.stats().dropped.drop_newest).toBe(BigInt(errors.length));
  });

  it('fail_producer refuses with BackpressureError and drops nothing', async () => {
    const n = await node({ backpressure: 'fail_producer' });
    const results = await offer(() => n.emitRawBatch(EVENTS));
    const errors = failures(results);
    expect(errors.length).toBeGreaterThan(0);
    for (const e of errors) expect(e).toBeInstanceOf(BackpressureError);
    await n.flush();
    const s = n.stats();
    expect(s.rejected.backpressure).toBe(BigInt(errors.length));
    expect(s.dropped).toEqual({ drop_oldest: 0n, drop_newest: 0n, sampled: 0n, adapter_failed: 0n });
    expect(s.delivered).toBe(BigInt(results.reduce((a, r) => a + r.accepted, 0)));
  });

  it('fail_producer surfaces on single emits too', async () => {
    const n = await node({ backpressure: 'fail_producer' });
    let error: unknown;
    for (let i = 0; i < 200_000 && error === undefined; i++) {
      try {
        n.emitRaw('{"x":1}');
      } catch (e) {
        error = e;
      }
    }
    expect(error).toBeInstanceOf(BackpressureError);
    expect((error as BackpressureError).errno).toBe(-5);
  });

  it('block waits off the JS thread and times out with TimeoutError', async () => {
    const n = await node({ backpressure: { mode: 'block', timeoutMs: 0 } });
    expect(thrown(() => n.emitRaw('{}'))).toBeInstanceOf(InvalidArgumentError);
    expect(thrown(() => n.emitBatch([1]))).toBeInstanceOf(InvalidArgumentError);
    const errors = failures(await offer(() => n.emitRawBatchAsync(EVENTS)));
    expect(errors.length).toBeGreaterThan(0);
    for (const e of errors) expect(e).toBeInstanceOf(TimeoutError);
    await n.flush();
    expect(n.stats().rejected.timeout).toBe(BigInt(errors.length));
    expect(n.stats().dropped.drop_newest + n.stats().dropped.sampled).toBe(0n);
  });

  it('block with room to wait accepts every event', async () => {
    const n = await node({ backpressure: { mode: 'block', timeoutMs: 10_000 } });
    const r = await n.emitRawBatchAsync(EVENTS);
    expect(r.accepted).toBe(EVENTS.length);
    expect((await n.emitAsync({ one: 1 })).seq).toBe(BigInt(EVENTS.length));
  });

  it('sample keeps one in N above the high-water mark, refusing the rest with DroppedError(sampled)', async () => {
    const n = await node({ bufferCapacity: 8, backpressure: { mode: 'sample', keepOneIn: 4, highWater: 0.5 } });
    const results = await offer(() => n.emitRawBatch(EVENTS));
    const errors = failures(results);
    expect(errors.length).toBeGreaterThan(0);
    for (const e of errors) expect([e instanceof DroppedError, e.reason]).toEqual([true, 'sampled']);
    await n.flush();
    expect(n.stats().dropped.sampled).toBe(BigInt(errors.length));
  });

  it('the five modes give pairwise different outcomes', async () => {
    const outcome = async (options: NodeOptions): Promise<string> => {
      const n = await node(options);
      const bp = options.backpressure;
      const blocking = typeof bp === 'object' && bp.mode === 'block';
      const send = blocking ? () => n.emitRawBatchAsync(EVENTS) : () => n.emitRawBatch(EVENTS);
      const errors = failures(await offer(send));
      await n.flush();
      const s = n.stats();
      const kinds = [...new Set(errors.map((e) => `${e.kind}:${e.reason ?? ''}`))].sort().join(',');
      return `${kinds}|drop_oldest=${s.dropped.drop_oldest > 0n}`;
    };
    const seen = [
      await outcome({ backpressure: 'drop_oldest' }),
      await outcome({ backpressure: 'drop_newest' }),
      await outcome({ backpressure: 'fail_producer' }),
      await outcome({ backpressure: { mode: 'block', timeoutMs: 0 } }),
      await outcome({ bufferCapacity: 8, backpressure: { mode: 'sample', keepOneIn: 4, highWater: 0.5 } }),
    ];
    expect(new Set(seen).size).toBe(5);
  });

  it('flush times out with TimeoutError while the drain is behind', async () => {
    const n = await node({ bufferCapacity: 1 << 16, drainBatch: 1 });
    let error: unknown;
    for (let attempt = 0; attempt < 20 && error === undefined; attempt++) {
      for (let i = 0; i < 10; i++) n.emitRawBatch(EVENTS);
      error = await n.flush(0).then(
        () => undefined,
        (e: unknown) => e,
      );
    }
    expect(error).toBeInstanceOf(TimeoutError);
    await n.flush();
  });
});
