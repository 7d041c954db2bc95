//! Node.js binding of the net-mesh engine: the native addon of the npm package `@net-mesh/core`.
//!
//! A thin skin. Every behaviour comes from the engine crate (`net`); this crate only
//! translates JS values to engine calls and engine results back to JS values:
//!
//! - [`bus`] and [`ingest`]: the functions behind the `Bus` class;
//! - [`subscription`]: push subscriptions delivered in batches without a sleep loop;
//! - [`options`], [`convert`] and [`js`]: strict reading of arguments, config and options;
//! - [`output`] and [`builder`]: engine results as JS values (u64 as `bigint`, events in
//!   column form);
//! - [`error`]: engine errors as JS errors with `code` = the stable kind;
//! - [`task`]: calls that may wait, run on the libuv thread pool;
//! - [`handle`] and `exports`: tagged handles and the raw N-API exports;
//! - [`bench`]: the engine's own figures for the workloads `make bench` measures from JS.
//!
//! The typings (`index.d.ts`) are written by hand and type-checked against the tests.
//!
//! Nothing here is Rust API: the crate is only built as the addon (a cdylib), so every module
//! is private. In unit-test builds napi-rs leaves module registration out, which makes the
//! exports look unused; hence the `dead_code` allowance for tests.
#![cfg_attr(test, allow(dead_code))]

mod bench;
mod builder;
mod bus;
mod convert;
mod error;
mod exports;
mod handle;
mod ingest;
mod js;
mod options;
mod output;
mod subscription;
mod task;

use crate::error::Res;
use crate::js::{Builder, Raw, RawEnv};

/// `errorKinds()`: the engine's error kinds and codes, in code order: `[{kind, code}]`.
fn error_kinds(env: RawEnv, []: [Raw; 0]) -> Res<Raw> {
    let b = Builder::new(env);
    let items = net::ErrorKind::ALL
        .iter()
        .map(|k| {
            let o = b.object()?;
            b.set(o, c"kind", b.str(k.as_str())?)?;
            b.set(o, c"code", b.num(f64::from(k.code()))?)?;
            Ok(o)
        })
        .collect::<Res<Vec<_>>>()?;
    b.array(&items)
}

/// `normalizeConfig(config)`: the engine's normalized form of a configuration (every key,
/// defaults filled in), without building a bus; throws the `config` error a bus would.
fn normalize_config(env: RawEnv, [config]: [Raw; 1]) -> Res<Raw> {
    Builder::new(env).json(&options::config(env, config)?.to_json())
}

/// `engineVersion()`: the engine version this addon was built from.
fn engine_version(env: RawEnv, []: [Raw; 0]) -> Res<Raw> {
    Builder::new(env).str(net::VERSION)
}
