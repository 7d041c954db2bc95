// Whole-process behaviour: a plain `node` process using the built SDK ends on its own after
// shutdown or close, with no unhandled rejection (Node 20 would print it and exit with 1).
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

const child = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'child.mjs');

function run(scenario: string): { status: number | null; stdout: string; stderr: string; ms: number } {
  const started = Date.now();
  const r = spawnSync(process.execPath, [child, scenario], { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - started };
}

describe('a node process', () => {
  it('ends when shutdown happens while a subscriber iterates', () => {
    const r = run('shutdown-while-iterating');
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('ended after 1000 events');
    expect(r.status).toBe(0);
  });

  it('ends when shutdown happens while a subscriber waits', () => {
    const r = run('shutdown-while-waiting');
    expect([r.status, r.stderr, r.stdout.trim()]).toEqual([0, '', 'ended after 0 events']);
  });

  it('ends when a waiting subscription is closed, without shutdown', () => {
    const r = run('close-while-waiting');
    expect([r.status, r.stderr, r.stdout.trim()]).toEqual([0, '', 'closed']);
  });

  it('stays alive while a subscriber waits, and ends after it breaks', () => {
    const r = run('break-after-push');
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toMatch(/^got \{"late":true\} after \d+ ms/);
    expect(r.ms).toBeGreaterThanOrEqual(300);
  });
});
