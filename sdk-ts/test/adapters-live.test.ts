// The Redis Streams and NATS JetStream adapters through the SDK, against the real servers
// `make test-adapters` starts (NET_TEST_REDIS_URL, NET_TEST_NATS_URL). Without those variables
// (a plain `make test-node`) the suites are skipped, and the skip names the variable.
import { describe, expect, it } from 'vitest';

import { InvalidCursorError, NetNode } from '../src/index.js';

const CASES = [
  { kind: 'redis', env: 'NET_TEST_REDIS_URL' },
  { kind: 'jetstream', env: 'NET_TEST_NATS_URL' },
] as const;

for (const { kind, env } of CASES) {
  const url = process.env[env];
  describe.skipIf(!url)(`${kind} adapter (live; needs ${env}, set by make test-adapters)`, () => {
    it('round-trips every event in per-shard order and refuses a foreign cursor', async () => {
      const n = 2000;
      const prefix = `ts_${kind}_${process.pid}_${Date.now() % 1_000_000_000}`;
      const node = await NetNode.create({ shards: 2, adapter: { type: kind, url: url as string, prefix } });
      try {
        const result = node.emitRawBatch(Array.from({ length: n }, (_, i) => `{"i":${i}}`));
        expect(result.ok).toBe(true);
        await node.flush();

        const seen = new Set<string>();
        const next = new Map<number, bigint>([
          [0, 0n],
          [1, 0n],
        ]);
        let cursor: string | undefined;
        for (;;) {
          const page = await node.poll({ limit: 333, cursor });
          for (const e of page.events) {
            expect(e.position).toBe(next.get(e.shard));
            next.set(e.shard, e.position + 1n);
            expect(seen.has(e.raw)).toBe(false);
            seen.add(e.raw);
          }
          cursor = page.cursor;
          if (!page.hasMore) break;
        }
        expect(seen.size).toBe(n);
        expect(node.stats().delivered).toBe(BigInt(n));

        const memory = await NetNode.create({ shards: 2 });
        memory.emit({ i: 0 });
        await memory.flush();
        const foreign = (await memory.poll({ limit: 10 })).cursor;
        await memory.shutdown();
        await expect(node.poll({ cursor: foreign })).rejects.toBeInstanceOf(InvalidCursorError);
      } finally {
        await node.shutdown();
      }
    });
  });
}
