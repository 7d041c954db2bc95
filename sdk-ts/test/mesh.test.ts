// The mesh adapter through the SDK (`docs/mesh.md`, "The JSON form"): two nodes in this
// process exchange events over UDP on 127.0.0.1 (camelCase options, the peer entry read from
// stats), and bad mesh options are ConfigErrors naming the engine key. No server is needed.
import { afterEach, describe, expect, it } from 'vitest';

import { ConfigError, type MeshPeer, NetNode, type NodeOptions, toEngineConfig } from '../src/index.js';
import { rejected } from './helpers.js';

const PSK = '4d'.repeat(32);

const nodes: NetNode[] = [];
async function meshNode(peers: MeshPeer[] = [], shards = 1): Promise<NetNode> {
  const n = await NetNode.create({
    shards,
    adapter: { type: 'mesh', listen: '127.0.0.1:0', pskHex: PSK, peers, connectTimeoutMs: 10_000, creditTimeoutMs: 10_000 },
  });
  nodes.push(n);
  return n;
}
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.shutdown()));
});

/** `node`'s own `"ADDR@CARD"` entry, from its stats. */
function peerEntry(node: NetNode): string {
  const c = node.stats().adapter_connection;
  expect(c).toBeDefined();
  expect(c?.local_addr).toMatch(/^127\.0\.0\.1:[1-9]\d*$/);
  expect(c?.card).toMatch(/^[0-9a-f]{256}$/);
  return `${c?.local_addr}@${c?.card}`;
}

describe('mesh adapter', () => {
  it('renames the mesh options to engine keys (peers untouched)', () => {
    const peers: MeshPeer[] = ['1.2.3.4:5@ab', { addr: '1.2.3.4:5', card: 'ab' }, { card: 'cd', via: '1.2.3.4:5@ab' }];
    const options: NodeOptions = {
      adapter: {
        type: 'mesh',
        listen: '127.0.0.1:0',
        pskFile: 'mesh.psk',
        keyFile: 'b.key',
        peers,
        streamId: 3,
        connectTimeoutMs: 1,
        creditTimeoutMs: 2,
        retryAfterMs: 4,
        maxEventsPerShard: 5,
        maxBytesPerShard: 6,
      },
    };
    // The types ask for exactly one PSK source.
    // @ts-expect-error: both pskHex and pskFile
    const both: NodeOptions = { adapter: { type: 'mesh', listen: '127.0.0.1:0', pskHex: PSK, pskFile: 'f' } };
    // @ts-expect-error: neither
    const neither: NodeOptions = { adapter: { type: 'mesh', listen: '127.0.0.1:0' } };
    expect([both, neither]).toHaveLength(2);
    expect(toEngineConfig(options).adapter).toEqual({
      type: 'mesh',
      listen: '127.0.0.1:0',
      psk_file: 'mesh.psk',
      key_file: 'b.key',
      peers,
      stream_id: 3,
      connect_timeout_ms: 1,
      credit_timeout_ms: 2,
      retry_after_ms: 4,
      max_events_per_shard: 5,
      max_bytes_per_shard: 6,
    });
  });

  it('carries events from one node to another, pushed and polled', async () => {
    const b = await meshNode([], 2);
    const sub = b.subscribe();
    const a = await meshNode([peerEntry(b)]);
    const n = 200;
    for (let i = 0; i < n; i++) a.emit({ m: i });
    await a.flush();

    const pushed: number[] = [];
    for await (const e of sub) {
      pushed.push(e.json<{ m: number }>().m);
      if (pushed.length === n) break;
    }
    expect(pushed.sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, i) => i));

    let polled = 0;
    let cursor: string | undefined;
    for (;;) {
      const page = await b.poll({ limit: 64, cursor });
      polled += page.events.length;
      cursor = page.cursor;
      if (!page.hasMore) break;
    }
    expect(polled).toBe(n);
    const stats = b.stats();
    expect([stats.accepted, stats.adapter_name]).toEqual([BigInt(n), 'mesh']);
    // A memory node reports no connection.
    const memory = await NetNode.create();
    expect(memory.stats().adapter_connection).toBeUndefined();
    await memory.shutdown();
  }, 60_000);

  it.each<[string, Record<string, unknown>, string]>([
    ['no listen', { listen: undefined }, 'adapter.listen'],
    ['listen not an address', { listen: 'localhost:7000' }, 'adapter.listen'],
    ['no psk', { pskHex: undefined }, 'adapter.psk_hex'],
    ['short psk', { pskHex: '00' }, 'adapter.psk_hex'],
    ['both psks', { pskFile: '/k' }, 'adapter.psk_file'],
    ['peer without a card', { peers: ['127.0.0.1:7001'] }, 'adapter.peers.0'],
    ['peer card not hex', { peers: [{ addr: '127.0.0.1:7001', card: 'xyz' }] }, 'adapter.peers.0.card'],
    ['stream id 0', { streamId: 0 }, 'adapter.stream_id'],
    ['a redis-only key', { url: 'redis://h' }, 'adapter.url'],
    ['key under both names', { streamId: 2, stream_id: 2 }, 'adapter.stream_id'],
    ['missing psk file (read when built)', { pskHex: undefined, pskFile: '/nonexistent/net-mesh-ts.psk' }, 'adapter.psk_file'],
    ['missing key file (read when built)', { keyFile: '/nonexistent/net-mesh-ts.key' }, 'adapter.key_file'],
  ])('%s is a ConfigError naming the key', async (_name, change, key) => {
    const adapter: Record<string, unknown> = { type: 'mesh', listen: '127.0.0.1:0', pskHex: PSK, ...change };
    for (const k of Object.keys(adapter)) if (adapter[k] === undefined) delete adapter[k];
    const err = (await rejected(NetNode.create({ adapter: adapter as never }))) as ConfigError;
    expect(err).toBeInstanceOf(ConfigError);
    expect([err.kind, err.key]).toEqual(['config', key]);
  });
});
