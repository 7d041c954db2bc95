//! Building JS results from Rust values with raw N-API calls.
//!
//! [`Builder`] makes objects, strings, numbers, `bigint`s, arrays and typed arrays, and
//! converts JSON values. u64 values become `bigint` wherever a JS number could lose precision.

use std::ffi::CStr;
use std::ptr;

use napi::sys;

use crate::error::Fail;
use crate::js::{Raw, RawEnv, napi_call};

/// Builds JS results.
pub struct Builder {
    env: RawEnv,
}

impl Builder {
    /// A builder for `env`.
    pub fn new(env: RawEnv) -> Builder {
        Builder { env }
    }

    /// A new empty object.
    pub fn object(&self) -> Result<Raw, Fail> {
        let mut o = ptr::null_mut();
        napi_call!(self.env, sys::napi_create_object(self.env, &mut o));
        Ok(o)
    }

    /// Sets `obj[name] = value`.
    pub fn set(&self, obj: Raw, name: &CStr, value: Raw) -> Result<(), Fail> {
        napi_call!(
            self.env,
            sys::napi_set_named_property(self.env, obj, name.as_ptr(), value)
        );
        Ok(())
    }

    /// A string.
    pub fn str(&self, s: &str) -> Result<Raw, Fail> {
        let mut v = ptr::null_mut();
        napi_call!(
            self.env,
            sys::napi_create_string_utf8(self.env, s.as_ptr().cast(), s.len() as isize, &mut v)
        );
        Ok(v)
    }

    /// A string from UTF-8 bytes (an ASCII text is copied as Latin-1, which skips decoding).
    pub fn text(&self, utf8: &[u8]) -> Result<Raw, Fail> {
        let mut v = ptr::null_mut();
        if utf8.is_ascii() {
            napi_call!(
                self.env,
                sys::napi_create_string_latin1(
                    self.env,
                    utf8.as_ptr().cast(),
                    utf8.len() as isize,
                    &mut v
                )
            );
        } else {
            napi_call!(
                self.env,
                sys::napi_create_string_utf8(
                    self.env,
                    utf8.as_ptr().cast(),
                    utf8.len() as isize,
                    &mut v
                )
            );
        }
        Ok(v)
    }

    /// A number.
    pub fn num(&self, n: f64) -> Result<Raw, Fail> {
        let mut v = ptr::null_mut();
        napi_call!(self.env, sys::napi_create_double(self.env, n, &mut v));
        Ok(v)
    }

    /// A small non-negative integer.
    pub fn u32(&self, n: u32) -> Result<Raw, Fail> {
        let mut v = ptr::null_mut();
        napi_call!(self.env, sys::napi_create_uint32(self.env, n, &mut v));
        Ok(v)
    }

    /// A `bigint` holding `n`.
    pub fn big(&self, n: u64) -> Result<Raw, Fail> {
        let mut v = ptr::null_mut();
        napi_call!(
            self.env,
            sys::napi_create_bigint_uint64(self.env, n, &mut v)
        );
        Ok(v)
    }

    /// `true` or `false`.
    pub fn bool(&self, b: bool) -> Result<Raw, Fail> {
        let mut v = ptr::null_mut();
        napi_call!(self.env, sys::napi_get_boolean(self.env, b, &mut v));
        Ok(v)
    }

    /// `null`.
    pub fn null(&self) -> Result<Raw, Fail> {
        let mut v = ptr::null_mut();
        napi_call!(self.env, sys::napi_get_null(self.env, &mut v));
        Ok(v)
    }

    /// `undefined`.
    pub fn undefined(&self) -> Result<Raw, Fail> {
        let mut v = ptr::null_mut();
        napi_call!(self.env, sys::napi_get_undefined(self.env, &mut v));
        Ok(v)
    }

    /// An array holding `items`.
    pub fn array(&self, items: &[Raw]) -> Result<Raw, Fail> {
        let mut a = ptr::null_mut();
        napi_call!(
            self.env,
            sys::napi_create_array_with_length(self.env, items.len(), &mut a)
        );
        for (i, &item) in items.iter().enumerate() {
            napi_call!(self.env, sys::napi_set_element(self.env, a, i as u32, item));
        }
        Ok(a)
    }

    /// A typed array of `kind` holding a copy of `data`.
    fn typed<T: Copy>(&self, kind: i32, data: &[T]) -> Result<Raw, Fail> {
        let bytes = std::mem::size_of_val(data);
        let mut buf: *mut std::ffi::c_void = ptr::null_mut();
        let mut ab = ptr::null_mut();
        napi_call!(
            self.env,
            sys::napi_create_arraybuffer(self.env, bytes, &mut buf, &mut ab)
        );
        if bytes > 0 {
            // SAFETY: `buf` is a fresh allocation of `bytes` bytes, suitably aligned by V8.
            unsafe {
                ptr::copy_nonoverlapping(data.as_ptr().cast::<u8>(), buf.cast::<u8>(), bytes)
            };
        }
        let mut ta = ptr::null_mut();
        napi_call!(
            self.env,
            sys::napi_create_typedarray(self.env, kind, data.len(), ab, 0, &mut ta)
        );
        Ok(ta)
    }

    /// A `Uint16Array` copy of `data`.
    pub fn u16_array(&self, data: &[u16]) -> Result<Raw, Fail> {
        self.typed(sys::TypedarrayType::uint16_array, data)
    }

    /// A `Uint32Array` copy of `data`.
    pub fn u32_array(&self, data: &[u32]) -> Result<Raw, Fail> {
        self.typed(sys::TypedarrayType::uint32_array, data)
    }

    /// A `BigUint64Array` copy of `data`.
    pub fn big_array(&self, data: &[u64]) -> Result<Raw, Fail> {
        self.typed(sys::TypedarrayType::biguint64_array, data)
    }

    /// Converts a JSON value to the equivalent JS value (u64 integers above 2^53 become
    /// `bigint`, so no value is rounded).
    pub fn json(&self, value: &serde_json::Value) -> Result<Raw, Fail> {
        use serde_json::Value;
        match value {
            Value::Null => self.null(),
            Value::Bool(b) => self.bool(*b),
            Value::Number(n) => match n.as_u64() {
                Some(u) if u > (1u64 << 53) => self.big(u),
                _ => self.num(n.as_f64().unwrap_or(f64::NAN)),
            },
            Value::String(s) => self.str(s),
            Value::Array(items) => {
                let items = items
                    .iter()
                    .map(|v| self.json(v))
                    .collect::<Result<Vec<_>, _>>()?;
                self.array(&items)
            }
            Value::Object(map) => {
                let obj = self.object()?;
                for (k, v) in map {
                    let key = self.str(k)?;
                    let val = self.json(v)?;
                    napi_call!(self.env, sys::napi_set_property(self.env, obj, key, val));
                }
                Ok(obj)
            }
        }
    }
}
