// @ts-check
// Throughput of the TypeScript SDK next to the Rust engine's own figure for the same workload,
// measured in the same process (`make bench` runs it on a release build of the addon).
//
//   node bench/bench.mjs [--events N] [--reps R] [--json]
//
// Workloads (payload: the standard 64-byte event of BENCHMARKS.md, default bus config):
//   emitRawBatch  node.emitRawBatch(1000 pre-serialized strings)      vs ingest_raw_batch
//   emitBatch     node.emitBatch(1000 small objects), serialization    vs serde + ingest_batch
//   emitRaw       node.emitRaw(one pre-serialized string) per event    vs ingest_str per event
//   subscribe     for await over node.subscribe(), reading event.raw    vs Subscription::next_blocking
// Each figure is the median of R repetitions after one warm-up, each on a fresh node; SDK and
// engine runs alternate, so changing load on the machine affects both alike. The
// run fails (exit 1) if a workload loses or duplicates an event. It imports the built SDK
// (`npm run build`; `make bench-node` does it) and whatever addon @net-mesh/core loads.
import { execSync } from 'node:child_process';
import { cpus } from 'node:os';

import { engineBench, addonPath } from '@net-mesh/core';

import { NetNode } from '@net-mesh/sdk';

const args = process.argv.slice(2);
/** @param {string} name @param {number} fallback */
const intArg = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number.parseInt(args[i + 1] ?? '', 10) : fallback;
};
const EVENTS = intArg('--events', 1_000_000);
const REPS = intArg('--reps', 5);
const BATCH = 1000;
const asJson = args.includes('--json');

/** The 64-byte payload of `index` as an object. @param {number} index */
function payload(index) {
  const bare = JSON.stringify({ token: 'hello', index, pad: '' }).length;
  return { token: 'hello', index, pad: 'x'.repeat(Math.max(0, 64 - bare)) };
}
const objects = Array.from({ length: BATCH }, (_, i) => payload(i));
const strings = objects.map((o) => JSON.stringify(o));

/** @param {boolean} ok @param {string} what */
function expect(ok, what) {
  if (!ok) {
    console.error(`bench: ${what}`);
    process.exitCode = 1;
  }
}

/**
 * Runs one SDK workload on a fresh node; returns events per second.
 * @param {string} name
 * @returns {Promise<number>}
 */
async function sdkRun(name) {
  const node = await NetNode.create();
  const rounds = Math.ceil(EVENTS / BATCH);
  let accepted = 0;
  let start = process.hrtime.bigint();
  if (name === 'emitRawBatch') {
    for (let r = 0; r < rounds; r++) accepted += node.emitRawBatch(strings).accepted;
  } else if (name === 'emitBatch') {
    for (let r = 0; r < rounds; r++) accepted += node.emitBatch(objects).accepted;
  } else if (name === 'emitRaw') {
    for (let i = 0; i < EVENTS; i++) {
      node.emitRaw(/** @type {string} */ (strings[i % BATCH]));
      accepted++;
    }
  } else {
    for (let r = 0; r < rounds; r++) node.emitRawBatch(strings);
    await node.flush();
    const retained = Number(node.stats().adapter.retained);
    let bytes = 0;
    start = process.hrtime.bigint();
    for await (const event of node.subscribe({ batch: 1024 })) {
      bytes += event.raw.length;
      if (++accepted === retained) break;
    }
    const ns = Number(process.hrtime.bigint() - start);
    expect(accepted === retained && bytes === retained * 64, `subscribe read ${accepted} of ${retained} events`);
    await node.shutdown();
    return (accepted / ns) * 1e9;
  }
  const ns = Number(process.hrtime.bigint() - start);
  const report = await node.shutdown();
  const expected = name === 'emitRaw' ? EVENTS : rounds * BATCH;
  expect(accepted === expected, `${name}: ${accepted} of ${expected} accepted`);
  expect(report.undelivered === 0n, `${name}: ${report.undelivered} undelivered`);
  return (accepted / ns) * 1e9;
}

/** @param {number[]} xs */
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

/**
 * Runs `a` and `b` alternately (one warm-up each, then REPS each), so load changes on the
 * machine hit both figures alike; returns the two medians.
 * @param {() => Promise<number>} a
 * @param {() => Promise<number>} b
 * @returns {Promise<[number, number]>}
 */
async function measurePair(a, b) {
  await a();
  await b();
  const xs = [];
  const ys = [];
  for (let r = 0; r < REPS; r++) {
    xs.push(await a());
    ys.push(await b());
  }
  return [median(xs), median(ys)];
}

const WORKLOADS = /** @type {const} */ ([
  ['emitRawBatch', 'emit_raw_batch', 3e6],
  ['emitBatch', 'emit_batch', 1.5e6],
  ['emitRaw', 'emit_raw', 1e6],
  ['subscribe', 'subscribe', 1e6],
]);

function machine() {
  let model = cpus()[0]?.model ?? 'unknown';
  try {
    model = execSync("grep -m1 'model name' /proc/cpuinfo", { encoding: 'utf8' }).split(':')[1]?.trim() ?? model;
  } catch {
    // not Linux: keep os.cpus()
  }
  return { nproc: cpus().length, cpu: model, node: process.version, addon: addonPath, events: EVENTS, reps: REPS };
}

const results = [];
for (const [name, engineName, target] of WORKLOADS) {
  const [sdk, engine] = await measurePair(
    () => sdkRun(name),
    async () => (await engineBench(engineName, { events: EVENTS, batch: BATCH })).eps,
  );
  results.push({ workload: name, sdk_eps: Math.round(sdk), engine_eps: Math.round(engine), ratio: sdk / engine, target_eps: target });
}

if (asJson) {
  console.log(JSON.stringify({ meta: machine(), results }, null, 1));
} else {
  const m = machine();
  console.log(`net-mesh Node SDK benchmark: ${m.nproc} cores, ${m.cpu}, node ${m.node}`);
  console.log(`addon ${m.addon}; ${EVENTS} events per run, median of ${REPS} runs after a warm-up\n`);
  const fmt = (/** @type {number} */ n) => `${(n / 1e6).toFixed(2)}M/s`.padStart(10);
  console.log(`${'workload'.padEnd(14)}${'SDK'.padStart(10)}${'engine'.padStart(10)}${'SDK/engine'.padStart(12)}${'target'.padStart(10)}`);
  for (const r of results) {
    console.log(
      `${r.workload.padEnd(14)}${fmt(r.sdk_eps)}${fmt(r.engine_eps)}${`${(r.ratio * 100).toFixed(0)}%`.padStart(12)}${fmt(r.target_eps)}`,
    );
  }
}
