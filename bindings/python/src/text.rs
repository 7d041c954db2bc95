//! Borrowing the UTF-8 text of a Python `str` without copying it.
//!
//! Under the abi3-py39 stable ABI, pyo3 reads a `str` through `PyUnicode_AsUTF8String`, which
//! allocates a `bytes` object and then an owned copy for every string: the largest cost of
//! ingesting pre-serialized events. `PyUnicode_AsUTF8AndSize` returns the string's own cached
//! UTF-8 buffer instead (for ASCII strings, the string's data itself). It is part of the stable
//! ABI since 3.10 and has been exported with the same signature by every CPython since 3.3, so
//! an abi3 module built for 3.9 may call it; pyo3 only hides it for 3.9 because it was not yet
//! *declared* stable there. The declaration below is ours.

use pyo3::exceptions::PyUnicodeEncodeError;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyString;

unsafe extern "C" {
    fn PyUnicode_AsUTF8AndSize(
        unicode: *mut ffi::PyObject,
        size: *mut ffi::Py_ssize_t,
    ) -> *const std::os::raw::c_char;
}

/// The UTF-8 text of `s`, borrowed from the string object itself.
///
/// Fails (with the `UnicodeEncodeError` Python raised) when the string holds lone surrogates,
/// which have no UTF-8 form.
pub fn utf8<'a>(s: &'a Bound<'_, PyString>) -> PyResult<&'a str> {
    let mut size: ffi::Py_ssize_t = 0;
    // SAFETY: `s` is a live `str` (the GIL is held, as the `Bound` proves). On success the
    // returned pointer addresses `size` bytes of valid UTF-8 owned by the string object, which
    // is immutable and outlives the borrow `'a` of `s` (the `Bound` holds a reference to it).
    unsafe {
        let data = PyUnicode_AsUTF8AndSize(s.as_ptr(), &mut size);
        if data.is_null() {
            return Err(PyErr::take(s.py()).unwrap_or_else(|| {
                PyUnicodeEncodeError::new_err("str has no UTF-8 form (lone surrogates)")
            }));
        }
        let bytes = std::slice::from_raw_parts(data.cast::<u8>(), size as usize);
        Ok(std::str::from_utf8_unchecked(bytes))
    }
}
