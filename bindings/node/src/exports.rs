//! The addon's exports: plain N-API callbacks, registered once when the module loads.
//!
//! Each export is a Rust function `fn(env, [args; N]) -> Res<Raw>`. [`call`] reads exactly `N`
//! arguments (missing ones are `undefined`), runs the function with panics caught, and turns a
//! failure into a thrown JS error ([`crate::error`]); a panic becomes an `internal` error, so
//! nothing aborts the process. The callbacks are registered directly rather than through
//! napi-rs's `#[napi]` functions, whose per-call bookkeeping costs several hundred
//! nanoseconds; `ingest` is called millions of times per second.

use std::ffi::CStr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr;

use napi::bindgen_prelude::Object;
use napi::{Env, JsValue, sys};
use napi_derive::napi;

use net::Error;

use crate::error::{Fail, Res};
use crate::js::{Raw, RawEnv};
use crate::{bench, bus, ingest, subscription};

/// Runs export `f` for one JS call; see the module docs.
fn call<const N: usize>(
    env: RawEnv,
    info: sys::napi_callback_info,
    f: fn(RawEnv, [Raw; N]) -> Res<Raw>,
) -> Raw {
    let mut argc = N;
    let mut argv = [ptr::null_mut(); N];
    // SAFETY: `argv` has room for `argc` handles; N-API fills missing ones with `undefined`.
    let status = unsafe {
        sys::napi_get_cb_info(
            env,
            info,
            &mut argc,
            argv.as_mut_ptr(),
            ptr::null_mut(),
            ptr::null_mut(),
        )
    };
    let outcome = if status != sys::Status::napi_ok {
        Err(Fail::from_status(env, status))
    } else {
        guarded(|| f(env, argv))
    };
    finish(env, outcome)
}

/// Runs `f` with panics caught: a panic becomes an `internal` error.
fn guarded(f: impl FnOnce() -> Res<Raw>) -> Res<Raw> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(Fail::Engine(Error::Internal(format!(
            "the binding panicked: {what}"
        ))))
    })
}

/// The callback's return value: the result, or `NULL` with the failure thrown.
fn finish(env: RawEnv, outcome: Res<Raw>) -> Raw {
    match outcome {
        Ok(v) => v,
        Err(fail) => {
            throw(env, fail);
            ptr::null_mut()
        }
    }
}

/// Throws `fail` as a JS error (a pending exception is left as it is).
fn throw(env: RawEnv, fail: Fail) {
    if let Fail::Engine(e) = fail
        && let Ok(err) = crate::error::js_error(env, &e)
    {
        // SAFETY: `err` is a live handle of this callback scope.
        unsafe { sys::napi_throw(env, err) };
    }
}

/// Declares a raw callback `$cb` that runs export `$f` with `$n` arguments.
macro_rules! callback {
    ($cb:ident, $n:literal, $f:path) => {
        unsafe extern "C" fn $cb(env: RawEnv, info: sys::napi_callback_info) -> Raw {
            call::<$n>(env, info, $f)
        }
    };
}

callback!(error_kinds, 0, crate::error_kinds);
callback!(engine_version, 0, crate::engine_version);
callback!(normalize_config, 1, crate::normalize_config);
callback!(engine_bench, 2, bench::engine_bench);
callback!(bus_new, 2, bus::new);
callback!(bus_ingest, 3, ingest::ingest);
callback!(bus_ingest_raw, 3, ingest::ingest_raw);
callback!(bus_ingest_batch, 2, ingest::ingest_batch);

/// `busIngestSpread(h, ...events)`: `busIngestBatch` with the events as arguments, read in one
/// `napi_get_cb_info` call instead of one `napi_get_element` call each.
unsafe extern "C" fn bus_ingest_spread(env: RawEnv, info: sys::napi_callback_info) -> Raw {
    let mut argc = 0usize;
    // SAFETY: with `argc` 0 N-API only reports the number of arguments.
    let status = unsafe {
        sys::napi_get_cb_info(
            env,
            info,
            &mut argc,
            ptr::null_mut(),
            ptr::null_mut(),
            ptr::null_mut(),
        )
    };
    let mut argv = vec![ptr::null_mut(); argc.max(1)];
    let status = if status == sys::Status::napi_ok {
        // SAFETY: `argv` has room for `argc` handles.
        unsafe {
            sys::napi_get_cb_info(
                env,
                info,
                &mut argc,
                argv.as_mut_ptr(),
                ptr::null_mut(),
                ptr::null_mut(),
            )
        }
    } else {
        status
    };
    let outcome = if status != sys::Status::napi_ok {
        Err(Fail::from_status(env, status))
    } else {
        guarded(|| ingest::ingest_spread(env, &argv[..argc]))
    };
    finish(env, outcome)
}
callback!(bus_ingest_joined_async, 3, ingest::ingest_joined_async);
callback!(bus_ingest_json_array, 2, ingest::ingest_json_array);
callback!(bus_ingest_async, 3, ingest::ingest_async);
callback!(bus_ingest_batch_async, 2, ingest::ingest_batch_async);
callback!(
    bus_ingest_json_array_async,
    2,
    ingest::ingest_json_array_async
);
callback!(bus_poll, 2, bus::poll);
callback!(bus_subscribe, 2, bus::subscribe);
callback!(bus_flush, 2, bus::flush);
callback!(bus_stats, 1, bus::stats);
callback!(bus_shutdown, 1, bus::shutdown);
callback!(bus_config, 1, bus::config);
callback!(bus_running, 1, bus::running);
callback!(sub_next, 2, subscription::next);
callback!(sub_cursor, 2, subscription::cursor);
callback!(sub_close, 1, subscription::close);
callback!(sub_closed, 1, subscription::closed);

type Callback = unsafe extern "C" fn(RawEnv, sys::napi_callback_info) -> Raw;

/// Every export: its JS name and its callback.
const EXPORTS: &[(&CStr, Callback)] = &[
    (c"errorKinds", error_kinds),
    (c"engineVersion", engine_version),
    (c"normalizeConfig", normalize_config),
    (c"engineBench", engine_bench),
    (c"busNew", bus_new),
    (c"busIngest", bus_ingest),
    (c"busIngestRaw", bus_ingest_raw),
    (c"busIngestBatch", bus_ingest_batch),
    (c"busIngestSpread", bus_ingest_spread),
    (c"busIngestJoinedAsync", bus_ingest_joined_async),
    (c"busIngestJsonArray", bus_ingest_json_array),
    (c"busIngestAsync", bus_ingest_async),
    (c"busIngestBatchAsync", bus_ingest_batch_async),
    (c"busIngestJsonArrayAsync", bus_ingest_json_array_async),
    (c"busPoll", bus_poll),
    (c"busSubscribe", bus_subscribe),
    (c"busFlush", bus_flush),
    (c"busStats", bus_stats),
    (c"busShutdown", bus_shutdown),
    (c"busConfig", bus_config),
    (c"busRunning", bus_running),
    (c"subNext", sub_next),
    (c"subCursor", sub_cursor),
    (c"subClose", sub_close),
    (c"subClosed", sub_closed),
];

/// Adds every export to the module's `exports` object.
#[napi(module_exports)]
pub fn init(exports: Object, env: Env) -> napi::Result<()> {
    let raw_env = env.raw();
    let target = exports.raw();
    for &(name, cb) in EXPORTS {
        let mut f = ptr::null_mut();
        // SAFETY: `name` is NUL-terminated and `cb` follows the N-API callback contract.
        let status = unsafe {
            sys::napi_create_function(
                raw_env,
                name.as_ptr(),
                name.to_bytes().len() as isize,
                Some(cb),
                ptr::null_mut(),
                &mut f,
            )
        };
        if status == sys::Status::napi_ok {
            // SAFETY: `target` and `f` are live handles of the module-init scope.
            let status = unsafe { sys::napi_set_named_property(raw_env, target, name.as_ptr(), f) };
            if status == sys::Status::napi_ok {
                continue;
            }
        }
        return Err(napi::Error::new(
            napi::Status::GenericFailure,
            format!("cannot export {}", name.to_string_lossy()),
        ));
    }
    Ok(())
}
