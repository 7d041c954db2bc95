//! Raw N-API helpers for reading arguments (building results is in [`crate::builder`]).
//!
//! The binding talks to N-API directly for everything that crosses the boundary, so that it
//! controls every conversion: a value of the wrong type becomes the engine's
//! `invalid_argument` error (never a napi-rs status code), and hot paths read strings and
//! buffers without intermediate copies. Every helper returns [`Fail`]; [`crate::error`] turns it
//! into a thrown or rejected JS error.

use std::ptr;

use napi::bindgen_prelude::{ToNapiValue, TypeName};
use napi::{ValueType as NapiValueType, sys};

use crate::error::Fail;

/// A raw JS value handle, valid for the current callback scope.
pub type Raw = sys::napi_value;
/// A raw N-API environment.
pub type RawEnv = sys::napi_env;

/// Calls an N-API function and turns a non-ok status into [`Fail`].
macro_rules! napi_call {
    ($env:expr, $call:expr) => {{
        // SAFETY: every call site passes a live env and handles from the current scope.
        let status = unsafe { $call };
        if status != napi::sys::Status::napi_ok {
            return Err($crate::error::Fail::from_status($env, status).into());
        }
    }};
}
pub(crate) use napi_call;

pub use crate::builder::Builder;

/// A raw JS value as the result of an async task.
pub struct Js(pub Raw);

impl ToNapiValue for Js {
    unsafe fn to_napi_value(_env: RawEnv, val: Self) -> napi::Result<Raw> {
        Ok(val.0)
    }
}

impl TypeName for Js {
    fn type_name() -> &'static str {
        "unknown"
    }
    fn value_type() -> NapiValueType {
        NapiValueType::Unknown
    }
}

/// The JS type of `v` (`napi_typeof`).
pub fn type_of(env: RawEnv, v: Raw) -> Result<i32, Fail> {
    let mut t = 0;
    napi_call!(env, sys::napi_typeof(env, v, &mut t));
    Ok(t)
}

/// True for `undefined`.
pub fn is_undefined(env: RawEnv, v: Raw) -> Result<bool, Fail> {
    Ok(type_of(env, v)? == sys::ValueType::napi_undefined)
}

/// A readable name of a JS type, for error messages.
pub fn type_name(t: i32) -> &'static str {
    match t {
        sys::ValueType::napi_undefined => "undefined",
        sys::ValueType::napi_null => "null",
        sys::ValueType::napi_boolean => "boolean",
        sys::ValueType::napi_number => "number",
        sys::ValueType::napi_string => "string",
        sys::ValueType::napi_symbol => "symbol",
        sys::ValueType::napi_object => "object",
        sys::ValueType::napi_function => "function",
        sys::ValueType::napi_bigint => "bigint",
        _ => "external",
    }
}

/// Spare room tried first when reading a string, so most strings are read in one N-API call.
const FIRST_TRY: usize = 4096;

/// Appends the UTF-8 bytes of JS string `v` to `out`; `Ok(false)` if `v` is not a string.
///
/// The string is first copied into spare capacity of `out`; only when it may not have fit
/// is its length asked for and the copy repeated, so a typical event costs one call.
pub fn append_str(env: RawEnv, v: Raw, out: &mut Vec<u8>) -> Result<bool, Fail> {
    let start = out.len();
    out.reserve(FIRST_TRY);
    let room = out.capacity() - start;
    let mut written = 0usize;
    // SAFETY: the buffer has `room` writable bytes; N-API writes at most `room - 1` plus a NUL.
    let status = unsafe {
        sys::napi_get_value_string_utf8(
            env,
            v,
            out.as_mut_ptr().add(start).cast(),
            room,
            &mut written,
        )
    };
    if status == sys::Status::napi_string_expected {
        return Ok(false);
    }
    if status != sys::Status::napi_ok {
        return Err(Fail::from_status(env, status));
    }
    // A cut-short copy stops before a character that does not fit, leaving fewer than 4 bytes
    // (the longest UTF-8 character) unused; 4 or more unused bytes mean the copy is complete.
    if written + 4 < room {
        // SAFETY: N-API initialized `written` bytes.
        unsafe { out.set_len(start + written) };
        return Ok(true);
    }
    // It may have been cut short: ask for the full length and copy again.
    let mut len = 0usize;
    napi_call!(
        env,
        sys::napi_get_value_string_utf8(env, v, ptr::null_mut(), 0, &mut len)
    );
    // Room for the NUL plus the 4 spare bytes the first try needs to see a complete copy, so
    // a buffer reused for strings of this size (the scratch buffer of a batch) reads the next
    // one in a single call instead of three.
    out.reserve(len + 1 + 4);
    napi_call!(
        env,
        sys::napi_get_value_string_utf8(
            env,
            v,
            out.as_mut_ptr().add(start).cast(),
            len + 1,
            &mut written,
        )
    );
    // SAFETY: N-API initialized `written` bytes.
    unsafe { out.set_len(start + written) };
    Ok(true)
}

/// The contents of JS string `v`; `None` if `v` is not a string.
pub fn get_string(env: RawEnv, v: Raw) -> Result<Option<String>, Fail> {
    let mut buf = Vec::new();
    if !append_str(env, v, &mut buf)? {
        return Ok(None);
    }
    // N-API produced UTF-8 (lone surrogates become U+FFFD).
    Ok(Some(String::from_utf8(buf).unwrap_or_default()))
}

/// The bytes of a Buffer / Uint8Array `v` (borrowed for the current scope); `None` otherwise.
pub fn get_bytes<'a>(env: RawEnv, v: Raw) -> Result<Option<&'a [u8]>, Fail> {
    let mut is_ta = false;
    napi_call!(env, sys::napi_is_typedarray(env, v, &mut is_ta));
    if !is_ta {
        return Ok(None);
    }
    let mut ty = 0;
    let mut len = 0usize;
    let mut data: *mut std::ffi::c_void = ptr::null_mut();
    let mut ab = ptr::null_mut();
    let mut offset = 0usize;
    napi_call!(
        env,
        sys::napi_get_typedarray_info(env, v, &mut ty, &mut len, &mut data, &mut ab, &mut offset)
    );
    if ty != sys::TypedarrayType::uint8_array {
        return Ok(None);
    }
    if len == 0 || data.is_null() {
        return Ok(Some(&[]));
    }
    // SAFETY: the typed array keeps its backing store alive for the current scope, and nothing
    // in this scope resizes or detaches it.
    Ok(Some(unsafe {
        std::slice::from_raw_parts(data.cast::<u8>(), len)
    }))
}

/// A pointer to the first element of `Uint16Array` `v` (its store made off-heap, so the
/// pointer stays valid while the array lives); `None` unless `v` is a non-empty Uint16Array.
pub fn get_u16_slot(env: RawEnv, v: Raw) -> Result<Option<*mut u16>, Fail> {
    let mut is_ta = false;
    napi_call!(env, sys::napi_is_typedarray(env, v, &mut is_ta));
    if !is_ta {
        return Ok(None);
    }
    let mut ty = 0;
    let mut len = 0usize;
    let mut data: *mut std::ffi::c_void = ptr::null_mut();
    let mut ab = ptr::null_mut();
    let mut offset = 0usize;
    // Asking for the data pointer moves an on-heap store off the heap for good.
    napi_call!(
        env,
        sys::napi_get_typedarray_info(env, v, &mut ty, &mut len, &mut data, &mut ab, &mut offset)
    );
    if ty != sys::TypedarrayType::uint16_array || len == 0 || data.is_null() {
        return Ok(None);
    }
    Ok(Some(data.cast::<u16>()))
}

/// The number in `v`; `None` if `v` is not a number.
pub fn get_number(env: RawEnv, v: Raw) -> Result<Option<f64>, Fail> {
    if type_of(env, v)? != sys::ValueType::napi_number {
        return Ok(None);
    }
    let mut n = 0f64;
    napi_call!(env, sys::napi_get_value_double(env, v, &mut n));
    Ok(Some(n))
}

/// The length of JS array `v`; `None` if `v` is not an array.
pub fn array_len(env: RawEnv, v: Raw) -> Result<Option<u32>, Fail> {
    let mut is_array = false;
    napi_call!(env, sys::napi_is_array(env, v, &mut is_array));
    if !is_array {
        return Ok(None);
    }
    let mut len = 0u32;
    napi_call!(env, sys::napi_get_array_length(env, v, &mut len));
    Ok(Some(len))
}

/// Element `i` of array `v`.
pub fn element(env: RawEnv, v: Raw, i: u32) -> Result<Raw, Fail> {
    let mut out = ptr::null_mut();
    napi_call!(env, sys::napi_get_element(env, v, i, &mut out));
    Ok(out)
}

/// Own enumerable string-keyed property names of object `v`, in JS order.
pub fn own_keys(env: RawEnv, v: Raw) -> Result<Vec<(String, Raw)>, Fail> {
    let mut names = ptr::null_mut();
    napi_call!(
        env,
        sys::napi_get_all_property_names(
            env,
            v,
            sys::KeyCollectionMode::own_only,
            sys::KeyFilter::enumerable | sys::KeyFilter::skip_symbols,
            sys::KeyConversion::numbers_to_strings,
            &mut names,
        )
    );
    let len = array_len(env, names)?.unwrap_or(0);
    let mut out = Vec::with_capacity(len as usize);
    for i in 0..len {
        let key = element(env, names, i)?;
        let name = get_string(env, key)?.unwrap_or_default();
        let mut value = ptr::null_mut();
        napi_call!(env, sys::napi_get_property(env, v, key, &mut value));
        out.push((name, value));
    }
    Ok(out)
}
