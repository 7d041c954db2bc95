//! Native objects held by JS as tagged `External` handles.
//!
//! The JS classes in `index.js` keep one handle each and pass it to the exported functions.
//! A handle is a boxed Rust value owned by the JS garbage collector (its finalizer drops the
//! box) and carries an N-API type tag, so a handle of the wrong kind, or any other value, is an
//! `invalid_argument` error instead of undefined behaviour. Plain functions over handles cost
//! far less per call than napi-rs class methods (which track borrows per call), and `ingest`
//! is called millions of times per second.

use std::ffi::c_void;
use std::ptr;

use napi::sys;

use crate::error::{Fail, Res};
use crate::js::{self, Raw, RawEnv, napi_call};

/// A Rust type that JS may hold through a handle.
pub trait Handled: Sized + 'static {
    /// The unique type tag of handles of this type.
    const TAG: sys::napi_type_tag;
    /// The class name used in error messages.
    const NAME: &'static str;

    /// Called on the JS thread when the garbage collector frees the handle.
    fn release(self: Box<Self>, _env: RawEnv) {}
}

unsafe extern "C" fn finalize<T: Handled>(env: RawEnv, data: *mut c_void, _hint: *mut c_void) {
    if !data.is_null() {
        // SAFETY: `data` came from `Box::into_raw` in `wrap::<T>` and is finalized once.
        unsafe { Box::from_raw(data.cast::<T>()) }.release(env);
    }
}

/// Moves `value` into a new tagged handle.
pub fn wrap<T: Handled>(env: RawEnv, value: T) -> Res<Raw> {
    let data = Box::into_raw(Box::new(value));
    let mut out = ptr::null_mut();
    // SAFETY: `data` is a valid box; ownership passes to the external's finalizer on success.
    let status = unsafe {
        sys::napi_create_external(
            env,
            data.cast(),
            Some(finalize::<T>),
            ptr::null_mut(),
            &mut out,
        )
    };
    if status != sys::Status::napi_ok {
        // SAFETY: the external was not created, so the box is still ours.
        drop(unsafe { Box::from_raw(data) });
        return Err(Fail::from_status(env, status));
    }
    napi_call!(env, sys::napi_type_tag_object(env, out, &T::TAG));
    Ok(out)
}

/// The value behind handle `v`, borrowed for the current call.
pub fn get<'a, T: Handled>(env: RawEnv, v: Raw) -> Res<&'a T> {
    // Checked first: asking `undefined` or `null` for a type tag would throw a TypeError.
    if js::type_of(env, v)? != sys::ValueType::napi_external {
        return Err(not_a_handle::<T>());
    }
    let mut tagged = false;
    napi_call!(
        env,
        sys::napi_check_object_type_tag(env, v, &T::TAG, &mut tagged)
    );
    if !tagged {
        return Err(not_a_handle::<T>());
    }
    let mut data = ptr::null_mut();
    napi_call!(env, sys::napi_get_value_external(env, v, &mut data));
    // SAFETY: the tag proves `data` is a live `Box<T>` made by `wrap::<T>`; the argument keeps
    // the external (and so the box) alive for the whole call.
    Ok(unsafe { &*data.cast::<T>() })
}

fn not_a_handle<T: Handled>() -> Fail {
    Fail::arg(format!("expected a {} handle", T::NAME))
}
