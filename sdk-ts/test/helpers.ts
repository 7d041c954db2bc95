// Shared helpers of the tests: fixture loading and small async utilities.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { EventColumns } from '@net-mesh/core';

const here = dirname(fileURLToPath(import.meta.url));

/** The repository's cross-language fixtures directory. */
export const FIXTURES = join(here, '..', '..', 'tests', 'cross_lang');

/** Parses `tests/cross_lang/<name>`. */
export function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as T;
}

/** Takes up to `n` items from an async iterable, then stops it (break). */
export async function take<T>(items: AsyncIterable<T>, n: number): Promise<T[]> {
  const out: T[] = [];
  if (n <= 0) return out;
  for await (const item of items) {
    out.push(item);
    if (out.length >= n) break;
  }
  return out;
}

/** Everything an async iterable yields until it ends. */
export async function drain<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The error `f` throws (fails the test if it does not throw). */
export function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error, none was thrown');
}

/** The reason `p` rejects with (fails the test if it resolves). */
export async function rejected(p: Promise<unknown> | (() => Promise<unknown>)): Promise<unknown> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection, the promise resolved');
}

/** The 64-byte standard payload of BENCHMARKS.md. */
export function payload(index: number): { token: string; index: number; pad: string } {
  const bare = JSON.stringify({ token: 'hello', index, pad: '' }).length;
  return { token: 'hello', index, pad: 'x'.repeat(Math.max(0, 64 - bare)) };
}

/** The JSON text of every event of a column batch. */
export function texts(cols: EventColumns | null | undefined): string[] {
  if (!cols) return [];
  const out: string[] = [];
  for (let i = 0; i < cols.shard.length; i++) out.push(cols.text.slice(cols.offsets[i], cols.offsets[i + 1]));
  return out;
}
