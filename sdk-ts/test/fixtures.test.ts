// The shared golden fixtures of tests/cross_lang/, through @net-mesh/core and the SDK.
import { Bus, type NativeError, errorKinds, normalizeConfig } from '@net-mesh/core';
import { afterAll, describe, expect, it } from 'vitest';

import {
  ConfigError,
  ERROR_CLASSES,
  ERROR_CODES,
  InvalidCursorError,
  InvalidFilterError,
  InvalidJsonError,
  NetError,
  NetNode,
  type NetErrorKind,
} from '../src/index.js';
import { fixture, rejected, thrown } from './helpers.js';

interface ErrorsFixture {
  kinds: Array<{ kind: NetErrorKind; code: number }>;
}
interface ConfigFixture {
  valid: Array<{ name: string; input: Record<string, unknown>; normalized: Record<string, unknown> }>;
  invalid: Array<{ name: string; input?: unknown; input_text?: string; kind: string; key: string }>;
}
interface EventFixture {
  invalid: string[];
  valid: string[];
}
interface FilterFixture {
  event: unknown;
  cases: Array<{ name: string; filter: Record<string, unknown>; match: boolean }>;
  invalid: Array<{ name: string; filter: unknown; kind: string }>;
}
interface CursorFixture {
  shards: number;
  invalid: string[];
}

const buses: Bus[] = [];
function bus(config?: ConstructorParameters<typeof Bus>[0]): Bus {
  const b = new Bus(config);
  buses.push(b);
  return b;
}
afterAll(async () => {
  await Promise.all(buses.map((b) => b.shutdown()));
});

describe('errors.json', () => {
  const { kinds } = fixture<ErrorsFixture>('errors.json');

  it('the addon reports exactly the pinned kinds and codes', () => {
    expect(errorKinds()).toEqual(kinds);
  });

  it('the SDK has one error class per kind, with the pinned code', () => {
    expect(Object.keys(ERROR_CODES).sort()).toEqual(kinds.map((k) => k.kind).sort());
    for (const { kind, code } of kinds) {
      expect(ERROR_CODES[kind]).toBe(code);
      const err = new ERROR_CLASSES[kind]('m');
      expect(err).toBeInstanceOf(NetError);
      expect(err).toBeInstanceOf(Error);
      expect([err.kind, err.code, err.errno]).toEqual([kind, kind, code]);
    }
  });
});

describe('bus/config_cases.json', () => {
  const cases = fixture<ConfigFixture>('bus/config_cases.json');

  it.each(cases.valid.map((c) => [c.name, c] as const))('valid: %s', async (_name, c) => {
    expect(normalizeConfig(c.input)).toEqual(c.normalized);
    expect(normalizeConfig(JSON.stringify(c.input))).toEqual(c.normalized);
    expect(NetNode.normalizeConfig(c.input)).toEqual(c.normalized);
    // Networked adapters connect when a bus is built; the memory ones are built here too.
    if ((c.normalized.adapter as { type: string }).type === 'memory') {
      expect(bus(c.input).config).toEqual(c.normalized);
      const node = await NetNode.fromConfig(c.input);
      expect(node.config).toEqual(c.normalized);
      await node.shutdown();
    }
  });

  it.each(cases.invalid.map((c) => [c.name, c] as const))('invalid: %s', async (_name, c) => {
    const input = c.input_text ?? c.input;
    const normalizing = thrown(() => normalizeConfig(input as string)) as NativeError;
    expect([normalizing.code, normalizing.key]).toEqual([c.kind, c.key]);
    const err = thrown(() => new Bus(input as string)) as NativeError;
    expect(err).toBeInstanceOf(Error);
    expect([err.code, err.key]).toEqual([c.kind, c.key]);
    expect(err.errno).toBe(-4);
    const typed = (await rejected(NetNode.fromConfig(input as string))) as ConfigError;
    expect(typed).toBeInstanceOf(ConfigError);
    expect(typed.key).toBe(c.key);
    expect(typed.message).toBe(err.message);
  });
});

describe('bus/event_cases.json', () => {
  const cases = fixture<EventFixture>('bus/event_cases.json');

  it.each(cases.invalid.map((t) => [JSON.stringify(t), t] as const))('rejects %s', async (_n, text) => {
    const b = bus();
    const err = thrown(() => b.ingest(text)) as NativeError;
    expect([err.code, err.errno]).toEqual(['invalid_json', -3]);
    expect(thrown(() => b.ingestRaw(Buffer.from(text)))).toMatchObject({ code: 'invalid_json' });
    const batch = b.ingestBatch([text, '{"ok":1}']);
    expect(batch.accepted).toBe(1);
    expect(batch.failures).toHaveLength(1);
    expect(batch.failures[0]?.index).toBe(0);
    expect(batch.failures[0]?.error.code).toBe('invalid_json');
    const node = await NetNode.create();
    expect(thrown(() => node.emitRaw(text))).toBeInstanceOf(InvalidJsonError);
    expect(node.emitRawBatch([text]).error(0)).toBeInstanceOf(InvalidJsonError);
    await node.shutdown();
  });

  it('accepts every valid event and returns its bytes unchanged', async () => {
    const node = await NetNode.create();
    for (const text of cases.valid) node.emitRaw(text);
    for (const text of cases.valid) node.emitRaw(Buffer.from(text));
    await node.flush();
    const page = await node.poll({ limit: 100 });
    expect(page.events.map((e) => e.raw)).toEqual([...cases.valid, ...cases.valid]);
    await node.shutdown();
  });
});

describe('bus/filter_cases.json', () => {
  const cases = fixture<FilterFixture>('bus/filter_cases.json');
  const b = bus({ num_shards: 1 });
  b.ingest(JSON.stringify(cases.event));

  it.each(cases.cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    await b.flush();
    const asObject = await b.poll({ filter: c.filter });
    expect(asObject.events.shard.length).toBe(c.match ? 1 : 0);
    const asText = await b.poll({ filter: JSON.stringify(c.filter) });
    expect(asText.events.shard.length).toBe(c.match ? 1 : 0);
  });

  it.each(cases.invalid.map((c) => [c.name, c] as const))('invalid: %s', async (_name, c) => {
    const err = (await rejected(b.poll({ filter: c.filter as Record<string, unknown> }))) as NativeError;
    expect(err.code).toBe(c.kind);
    expect(thrown(() => b.subscribe({ filter: c.filter as Record<string, unknown> }))).toMatchObject({ code: c.kind });
    const node = await NetNode.create();
    expect(await rejected(node.poll({ filter: JSON.stringify(c.filter) }))).toBeInstanceOf(InvalidFilterError);
    await node.shutdown();
  });
});

describe('bus/cursor_cases.json', () => {
  const cases = fixture<CursorFixture>('bus/cursor_cases.json');

  it.each(cases.invalid.map((c) => [JSON.stringify(c), c] as const))('rejects %s', async (_n, cursor) => {
    const b = bus({ num_shards: cases.shards });
    expect(await rejected(b.poll({ cursor }))).toMatchObject({ code: 'invalid_cursor', errno: -9 });
    expect(thrown(() => b.subscribe({ cursor }))).toMatchObject({ code: 'invalid_cursor' });
    const node = await NetNode.create({ shards: cases.shards });
    expect(await rejected(node.poll({ cursor }))).toBeInstanceOf(InvalidCursorError);
    expect(thrown(() => node.subscribe({ cursor }))).toBeInstanceOf(InvalidCursorError);
    await node.shutdown();
  });

  it('rejects a cursor of a bus with another shard count', async () => {
    const one = bus({ num_shards: 1 });
    const page = await one.poll();
    expect(await rejected(bus({ num_shards: cases.shards }).poll({ cursor: page.cursor }))).toMatchObject({
      code: 'invalid_cursor',
    });
  });
});
