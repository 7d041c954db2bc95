//! Engine errors as JS errors.
//!
//! Every error the binding raises is a JS `Error` whose `code` is the engine's stable
//! [`ErrorKind::as_str`] (`"backpressure"`, `"config"`, ...) and whose `errno` is the stable
//! negative [`ErrorKind::code`]; both are pinned in `tests/cross_lang/errors.json`. The message
//! is the engine's. Details the engine carries are copied as properties: `key` (config errors),
//! `shard`, `reason` (`dropped`: `drop_newest` or `sampled`), `size` and `max`
//! (`payload_too_large`). Arguments of the wrong type raise the engine's `invalid_argument`
//! kind, so a caller only ever sees the twelve engine kinds.

use std::ptr;

use napi::bindgen_prelude::Unknown;
use napi::{Status, sys};

use net::{Error, ErrorKind};

use crate::js::{Builder, Raw, RawEnv};

/// Why a binding call failed.
#[derive(Debug)]
pub enum Fail {
    /// An engine error (or an argument error expressed as one).
    Engine(Error),
    /// A JS exception is already pending (a getter threw); it propagates as is.
    Pending,
}

impl From<Error> for Fail {
    fn from(e: Error) -> Self {
        Fail::Engine(e)
    }
}

impl Fail {
    /// An `invalid_argument` error.
    pub fn arg(message: impl Into<String>) -> Fail {
        Fail::Engine(Error::InvalidArgument(message.into()))
    }

    /// The failure behind a non-ok N-API status.
    pub fn from_status(env: RawEnv, status: sys::napi_status) -> Fail {
        if status == sys::Status::napi_pending_exception || exception_pending(env) {
            return Fail::Pending;
        }
        Fail::Engine(Error::Internal(format!(
            "N-API call failed: {}",
            Status::from(status)
        )))
    }

    /// Converts to a napi-rs error that throws (or rejects with) the JS error built here.
    pub fn into_napi(self, env: RawEnv) -> napi::Error {
        match self {
            Fail::Pending => pending(),
            Fail::Engine(e) => match js_error(env, &e) {
                // SAFETY: `v` is a live handle of this callback scope.
                Ok(v) => napi::Error::from(unsafe { Unknown::from_raw_unchecked(env, v) }),
                Err(_) if exception_pending(env) => pending(),
                Err(_) => napi::Error::new(Status::GenericFailure, e.to_string()),
            },
        }
    }
}

fn pending() -> napi::Error {
    napi::Error::new(Status::PendingException, String::new())
}

fn exception_pending(env: RawEnv) -> bool {
    let mut pending = false;
    // SAFETY: `env` is live; the call only reads the isolate's exception state.
    unsafe { sys::napi_is_exception_pending(env, &mut pending) };
    pending
}

/// Builds the JS error for engine error `e` (see the module docs for its shape).
pub fn js_error(env: RawEnv, e: &Error) -> Result<Raw, Fail> {
    let b = Builder::new(env);
    let kind: ErrorKind = e.kind();
    let code = b.str(kind.as_str())?;
    let message = b.str(&e.to_string())?;
    let mut err = ptr::null_mut();
    crate::js::napi_call!(env, sys::napi_create_error(env, code, message, &mut err));
    b.set(err, c"errno", b.num(f64::from(kind.code()))?)?;
    match e {
        Error::Config { key, .. } => b.set(err, c"key", b.str(key)?)?,
        Error::Backpressure { shard } => b.set(err, c"shard", b.u32(u32::from(*shard))?)?,
        Error::Dropped { shard, reason } => {
            b.set(err, c"shard", b.u32(u32::from(*shard))?)?;
            b.set(err, c"reason", b.str(reason.as_str())?)?;
        }
        Error::PayloadTooLarge { size, max } => {
            b.set(err, c"size", b.num(*size as f64)?)?;
            b.set(err, c"max", b.num(*max as f64)?)?;
        }
        _ => {}
    }
    Ok(err)
}

/// Result alias of the binding's internals.
pub type Res<T> = Result<T, Fail>;
