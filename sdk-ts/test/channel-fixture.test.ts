// The channel envelope fixture tests/cross_lang/bus/channel_cases.json (the Python SDK loads
// the same file): exact event bytes per name and payload, and the error kind of invalid names
// and payloads.
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';

import { NetError, NetNode, type Schema } from '../src/index.js';
import { fixture, take, thrown } from './helpers.js';

type FieldType = 'string' | 'number' | 'any';
interface ChannelFixture {
  envelope: { channel: string; payload: string };
  models: Record<string, Record<string, FieldType>>;
  publish: Array<{ name: string; model: string; payload: unknown; event: string }>;
  invalid_names: Array<{ name: unknown; error: string }>;
  invalid_payloads: Array<{ model: string; payload: unknown; error: string }>;
}

const fx = fixture<ChannelFixture>('bus/channel_cases.json');

const FIELD = { string: () => z.string(), number: () => z.number(), any: () => z.any() };

/** The zod schema of a fixture model. */
function schema(model: string): Schema<unknown> {
  const fields = fx.models[model];
  if (fields === undefined) throw new Error(`unknown model ${model}`);
  return z.object(Object.fromEntries(Object.entries(fields).map(([k, t]) => [k, FIELD[t]()]))) as Schema<unknown>;
}

/** A fixture value with its `{"$special": X}` markers replaced by the values JSON cannot hold. */
function revive(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(revive);
  if (value === null || typeof value !== 'object') return value;
  const special = (value as { $special?: unknown }).$special;
  if (special === 'NaN') return Number.NaN;
  if (special === 'Infinity') return Number.POSITIVE_INFINITY;
  if (special === '-Infinity') return Number.NEGATIVE_INFINITY;
  if (special === 'cycle') {
    const cycle: unknown[] = [];
    cycle.push(cycle);
    return cycle;
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, revive(v)]));
}

const nodes: NetNode[] = [];
async function node(): Promise<NetNode> {
  const n = await NetNode.create({ shards: 4 });
  nodes.push(n);
  return n;
}
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.shutdown()));
});

describe('channel envelope fixture', () => {
  it('uses the envelope keys of the fixture', () => {
    expect(fx.envelope).toEqual({ channel: 'channel', payload: 'payload' });
  });

  it('emits exactly the fixture bytes, keyed by the channel name, and yields the payload back', async () => {
    const n = await node();
    for (const c of fx.publish) {
      const ch = n.channel(c.name, schema(c.model));
      expect(ch.eventText(c.payload), c.name).toBe(c.event);
      const sub = ch.subscribe({ from: 'latest' });
      const receipt = ch.publish(c.payload);
      // The channel name is the partition key: the same shard as any event with that key.
      expect(receipt.shard).toBe(n.emit({ probe: true }, c.name).shard);
      expect(await take(sub, 1), c.name).toEqual([c.payload]);
      await n.flush();
      const page = await n.poll({ limit: 1000, filter: { path: 'channel', eq: c.name }, ordering: 'insertion_time' });
      const last = page.events.at(-1);
      expect(last?.raw, c.name).toBe(c.event);
      // Bytes, not only text: what another language reads.
      expect(Buffer.from(last?.raw ?? '', 'utf8').equals(Buffer.from(c.event, 'utf8'))).toBe(true);
    }
  });

  it('refuses invalid names with the fixture error kind', async () => {
    const n = await node();
    for (const c of fx.invalid_names) {
      const err = thrown(() => n.channel(c.name as string));
      expect(err, JSON.stringify(c.name)).toBeInstanceOf(NetError);
      expect((err as NetError).kind).toBe(c.error);
    }
  });

  it('refuses invalid payloads with the fixture error kind and emits nothing', async () => {
    const n = await node();
    for (const c of fx.invalid_payloads) {
      const ch = n.channel('invalid', schema(c.model));
      const payload = revive(c.payload);
      for (const publish of [() => ch.publish(payload), () => ch.publishBatch([payload]), () => ch.eventText(payload)]) {
        const err = thrown(publish);
        expect(err, JSON.stringify(c.payload)).toBeInstanceOf(NetError);
        expect((err as NetError).kind, JSON.stringify(c.payload)).toBe(c.error);
      }
      await expect(ch.publishAsync(payload)).rejects.toMatchObject({ kind: c.error });
    }
    await n.flush();
    expect(n.stats().accepted).toBe(0n);
  });

  it('refuses what JSON.stringify would silently change, in a channel without a schema', async () => {
    const n = await node();
    const ch = n.channel<unknown>('loose');
    for (const payload of [undefined, [1, undefined], [() => 1], { n: Number.NaN }, 10n]) {
      expect((thrown(() => ch.publish(payload)) as NetError).kind).toBe('invalid_argument');
    }
    // An undefined object property is left out, as JSON does.
    expect(ch.eventText({ a: 1, b: undefined })).toBe('{"channel":"loose","payload":{"a":1}}');
    expect(n.stats().accepted).toBe(0n);
  });
});
