'use strict';
// @net-mesh/core: loads the native addon (Rust, napi-rs; built from bindings/node) and gives
// it a class shape. Each method forwards to a native function with the object's handle; the
// only other code is transport (how a receipt or a batch of strings crosses the boundary
// cheaply). Every behaviour, check and error comes from the engine.
//
// The addon is `net-mesh-core.node` next to this file (`npm run build` puts it there);
// NET_MESH_NODE_ADDON may name another path.
const { join } = require('node:path');

const addonPath = process.env.NET_MESH_NODE_ADDON || join(__dirname, 'net-mesh-core.node');

let native;
try {
  native = require(addonPath);
} catch (cause) {
  throw new Error(
    `@net-mesh/core: cannot load the native addon ${addonPath}; build it from source with ` +
      '`npm run build` (debug) or `npm run build:release` in bindings/node',
    { cause },
  );
}

// A synchronous batch crosses into the addon fastest as call arguments (`...events`): N-API
// hands over every argument in one call, where reading an array costs one call per element.
// Arrays longer than SPREAD_MAX (the call stack bounds the argument count) go as the array.
const SPREAD_MAX = 8192;

// For the thread-pool variant a batch of strings crosses as one string: the events joined with
// NUL, a character no JSON text contains (one copy to keep instead of many). If one does
// contain it, the addon ingests nothing and answers null, and the batch goes as the array;
// the outcomes are the same either way.
function joinable(events) {
  if (!Array.isArray(events) || events.length < 2) return false;
  for (const e of events) if (typeof e !== 'string') return false;
  return true;
}

class Subscription {
  #h;
  /** @internal Use `Bus#subscribe`. */
  constructor(h) {
    this.#h = h;
  }
  next(max) {
    return native.subNext(this.#h, max);
  }
  cursor(unconsumed) {
    return native.subCursor(this.#h, unconsumed);
  }
  close() {
    native.subClose(this.#h);
  }
  get closed() {
    return native.subClosed(this.#h);
  }
}

class Bus {
  #h;
  // The native side leaves the shard of each synchronous ingest here and returns the seq.
  #slot = new Uint16Array(new ArrayBuffer(2));
  constructor(config) {
    this.#h = native.busNew(config, this.#slot);
  }
  ingest(json, key) {
    const seq = native.busIngest(this.#h, json, key);
    return { shard: this.#slot[0], seq };
  }
  ingestRaw(bytes, key) {
    const seq = native.busIngestRaw(this.#h, bytes, key);
    return { shard: this.#slot[0], seq };
  }
  ingestBatch(events) {
    if (Array.isArray(events) && events.length <= SPREAD_MAX) {
      return native.busIngestSpread(this.#h, ...events);
    }
    return native.busIngestBatch(this.#h, events);
  }
  ingestJsonArray(text) {
    return native.busIngestJsonArray(this.#h, text);
  }
  ingestAsync(event, key) {
    return native.busIngestAsync(this.#h, event, key);
  }
  async ingestBatchAsync(events) {
    if (joinable(events)) {
      const joined = await native.busIngestJoinedAsync(this.#h, events.join('\0'), events.length);
      if (joined !== null) return joined;
    }
    return native.busIngestBatchAsync(this.#h, events);
  }
  ingestJsonArrayAsync(text) {
    return native.busIngestJsonArrayAsync(this.#h, text);
  }
  poll(options) {
    return native.busPoll(this.#h, options);
  }
  subscribe(options) {
    return new Subscription(native.busSubscribe(this.#h, options));
  }
  flush(timeoutMs) {
    return native.busFlush(this.#h, timeoutMs);
  }
  stats() {
    return native.busStats(this.#h);
  }
  shutdown() {
    return native.busShutdown(this.#h);
  }
  get config() {
    return native.busConfig(this.#h);
  }
  get running() {
    return native.busRunning(this.#h);
  }
}

module.exports.Bus = Bus;
module.exports.Subscription = Subscription;
module.exports.errorKinds = native.errorKinds;
module.exports.engineVersion = native.engineVersion;
module.exports.normalizeConfig = native.normalizeConfig;
module.exports.engineBench = native.engineBench;
module.exports.addonPath = addonPath;
