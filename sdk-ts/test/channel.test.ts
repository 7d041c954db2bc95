// Typed channels: 10,000 events with zod validation, isolation, invalid payloads.
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';

import { Channel, NetNode, type NodeOptions, type Schema, ValidationError } from '../src/index.js';
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

const Temperature = z.object({
  sensor: z.string().min(1),
  celsius: z.number().min(-273.15),
  at: z.number().int(),
});
type Temperature = z.infer<typeof Temperature>;

describe('channel<T>', () => {
  it('carries 10,000 validated events, in order', async () => {
    const n = await node({ shards: 4 });
    const temps = n.channel<Temperature>('sensors/temperature', Temperature);
    expect(temps).toBeInstanceOf(Channel);
    const received = take(temps.subscribe({ batch: 1000 }), 10_000);
    for (let i = 0; i < 10_000; i++) temps.publish({ sensor: `s${i % 7}`, celsius: (i % 400) / 10, at: i });
    const values = await received;
    expect(values).toHaveLength(10_000);
    expect(values.map((v) => v.at)).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
    expect(values[123]).toEqual({ sensor: 's4', celsius: 12.3, at: 123 });
    expect(n.stats().accepted).toBe(10_000n);
  });

  it('refuses an invalid value at publish with ValidationError and emits nothing', async () => {
    const n = await node();
    const temps = n.channel('temps', Temperature);
    const err = thrown(() => temps.publish({ sensor: '', celsius: -500, at: 1.5 })) as ValidationError;
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.kind).toBe('invalid_argument');
    expect(err.issues.map((i) => i.path.join('.')).sort()).toEqual(['at', 'celsius', 'sensor']);
    expect(err.message).toContain('channel temps');
    expect(thrown(() => temps.publish({ nope: true } as never))).toBeInstanceOf(ValidationError);
    expect(await rejected(temps.publishAsync({ sensor: 'a' } as never))).toBeInstanceOf(ValidationError);
    const batch = thrown(() => temps.publishBatch([{ sensor: 'a', celsius: 1, at: 1 }, { sensor: 'b' } as never]));
    expect(batch).toBeInstanceOf(ValidationError);
    expect(n.stats().accepted).toBe(0n);
  });

  it('publishes batches in order with per-event outcomes', async () => {
    const n = await node({ shards: 2 });
    const temps = n.channel('temps', Temperature);
    const values = Array.from({ length: 50 }, (_, i) => ({ sensor: 'a', celsius: i, at: i }));
    const result = temps.publishBatch(values);
    expect([result.ok, result.accepted, result.length]).toEqual([true, 50, 50]);
    expect(new Set(result.outcomes().map((o) => (o.ok ? o.receipt.shard : -1))).size).toBe(1);
    expect(await take(temps.subscribe(), 50)).toEqual(values);
  });

  it('keeps channels apart and lets a subscriber filter further', async () => {
    const n = await node({ shards: 2 });
    const a = n.channel<{ v: number }>('a');
    const b = n.channel<{ v: number }>('b');
    for (let i = 0; i < 20; i++) (i % 2 ? a : b).publish({ v: i });
    n.emit({ channel: 'a-not-really', payload: { v: -1 } });
    expect((await take(a.subscribe(), 10)).map((x) => x.v)).toEqual([1, 3, 5, 7, 9, 11, 13, 15, 17, 19]);
    const big = await take(b.subscribe({ filter: { path: 'payload.v', gte: 10 } }), 5);
    expect(big.map((x) => x.v)).toEqual([10, 12, 14, 16, 18]);
    expect(await take(b.subscribe({ filter: '{"path":"payload.v","lt":4}' }), 2)).toEqual([{ v: 0 }, { v: 2 }]);
  });

  it('validates on receipt too: invalid payloads go to onInvalid or throw', async () => {
    const n = await node();
    const temps = n.channel('temps', Temperature);
    n.emit({ channel: 'temps', payload: { sensor: 'x', celsius: 'warm', at: 1 } }, 'temps');
    temps.publish({ sensor: 'ok', celsius: 20, at: 2 });
    const invalid: unknown[] = [];
    const values = await take(temps.subscribe({ onInvalid: (e, ev) => invalid.push([e, ev.json()]) }), 1);
    expect(values).toEqual([{ sensor: 'ok', celsius: 20, at: 2 }]);
    expect(invalid).toHaveLength(1);
    const sub = temps.subscribe();
    expect(await rejected(sub.next())).toBeInstanceOf(ValidationError);
    expect((await sub.next()).value).toEqual({ sensor: 'ok', celsius: 20, at: 2 });
    sub.close();
  });

  it('accepts any safeParse schema, and works without one', async () => {
    const n = await node();
    const even: Schema<number> = {
      safeParse: (v) =>
        typeof v === 'number' && v % 2 === 0
          ? { success: true, data: v }
          : { success: false, error: { message: 'not an even number' } },
    };
    const evens = n.channel('evens', even);
    evens.publish(2);
    expect((thrown(() => evens.publish(3)) as ValidationError).message).toContain('not an even number');
    const loose = n.channel<string[]>('loose');
    loose.publish(['anything']);
    expect(await take(evens.subscribe(), 1)).toEqual([2]);
    expect(await take(loose.subscribe(), 1)).toEqual([['anything']]);
  });
});
