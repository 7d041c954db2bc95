//! Ingest: one event (NUL-terminated or pointer + length), one event with a partition key, and
//! batches (an array of pointers, or events packed back to back).
//!
//! The single-event calls are the hot path: they dereference the handle without a registry
//! lookup and allocate nothing beyond the engine's own copy of the event.

use std::ffi::{CStr, c_char};

use net::{Error, Receipt};

use crate::bus::BUSES;
use crate::last_error::guard;
use crate::status::NET_OK;
use crate::types::{net_bus, net_outcome, net_receipt};

/// Borrows the bus behind a handle without a registry lookup (the hot path).
///
/// # Safety
/// `bus` must be NULL or a live handle from `net_init`.
unsafe fn bus_ref<'a>(bus: *const net_bus) -> Result<&'a net_bus, Error> {
    // SAFETY: the caller guarantees `bus` is NULL or points to a live `net_bus`, which the
    // registry keeps alive until `net_free`.
    unsafe { bus.as_ref() }.ok_or_else(|| Error::InvalidArgument("net_bus handle is NULL".into()))
}

/// Borrows `len` bytes at `ptr`; NULL is accepted only with `len == 0`.
///
/// # Safety
/// `ptr` must be NULL or valid for `len` bytes of reads for `'a`.
unsafe fn bytes<'a>(ptr: *const u8, len: usize, what: &str) -> Result<&'a [u8], Error> {
    if ptr.is_null() {
        return if len == 0 {
            Ok(&[])
        } else {
            Err(Error::InvalidArgument(format!(
                "{what} is NULL with length {len}"
            )))
        };
    }
    if len > isize::MAX as usize {
        return Err(Error::InvalidArgument(format!(
            "{what} length {len} is too large"
        )));
    }
    // SAFETY: non-NULL, length bounded, and readable for `len` bytes per the caller's contract.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Stores `receipt` in `out` when `out` is not NULL.
///
/// # Safety
/// `out` must be NULL or valid for one `net_receipt` write.
unsafe fn write_receipt(out: *mut net_receipt, receipt: Receipt) {
    if !out.is_null() {
        // SAFETY: non-NULL and writable per the caller's contract.
        unsafe {
            out.write(net_receipt {
                seq: receipt.seq,
                shard: receipt.shard,
            })
        };
    }
}

/// Validates a NUL-terminated JSON text and ingests it. On success fills `*out_receipt` (may
/// be NULL). Errors: NET_ERR_INVALID_JSON, NET_ERR_PAYLOAD_TOO_LARGE, backpressure outcomes
/// (NET_ERR_BACKPRESSURE, NET_ERR_DROPPED, NET_ERR_TIMEOUT), NET_ERR_SHUTTING_DOWN. The library
/// copies the bytes; nothing to free.
///
/// # Safety
/// `bus` must be NULL or a live handle (not looked up: a freed handle is undefined behaviour);
/// `json` must be NULL or NUL-terminated; `out_receipt` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_ingest(
    bus: *mut net_bus,
    json: *const c_char,
    out_receipt: *mut net_receipt,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded caller contract.
        let bus = unsafe { bus_ref(bus) }?;
        if json.is_null() {
            return Err(Error::InvalidArgument("json is NULL".into()));
        }
        // SAFETY: non-NULL and NUL-terminated per the caller's contract.
        let raw = unsafe { CStr::from_ptr(json) }.to_bytes();
        let receipt = bus.bus.ingest_raw(raw)?;
        // SAFETY: forwarded caller contract.
        unsafe { write_receipt(out_receipt, receipt) };
        Ok(())
    })
}

/// Validates `len` bytes at `data` as one JSON value and ingests them (the hot path). On
/// success fills `*out_receipt` (may be NULL). Same errors as `net_ingest`; `data` NULL with a
/// non-zero `len` is NET_ERR_INVALID_ARGUMENT. The library copies the bytes; nothing to free.
///
/// # Safety
/// `bus` must be NULL or a live handle (not looked up: a freed handle is undefined behaviour);
/// `data` readable for `len` bytes; `out_receipt` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_ingest_raw(
    bus: *mut net_bus,
    data: *const u8,
    len: usize,
    out_receipt: *mut net_receipt,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded caller contract.
        let bus = unsafe { bus_ref(bus) }?;
        // SAFETY: forwarded caller contract.
        let raw = unsafe { bytes(data, len, "data") }?;
        let receipt = bus.bus.ingest_raw(raw)?;
        // SAFETY: forwarded caller contract.
        unsafe { write_receipt(out_receipt, receipt) };
        Ok(())
    })
}

/// Like `net_ingest_raw`, but the shard is chosen from `key` (`key_len` bytes): every event
/// with the same key goes to the same shard and keeps its order (a string key and the same
/// string found at the configured `partition_key` path pick the same shard).
///
/// # Safety
/// As `net_ingest_raw`; `key` must be readable for `key_len` bytes (NULL only with 0).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_ingest_with_key(
    bus: *mut net_bus,
    data: *const u8,
    len: usize,
    key: *const u8,
    key_len: usize,
    out_receipt: *mut net_receipt,
) -> i32 {
    guard(|| {
        // SAFETY: forwarded caller contract.
        let bus = unsafe { bus_ref(bus) }?;
        // SAFETY: forwarded caller contract.
        let raw = unsafe { bytes(data, len, "data") }?;
        // SAFETY: forwarded caller contract.
        let key = unsafe { bytes(key, key_len, "key") }?;
        let receipt = bus.bus.ingest_raw_with_key(raw, key)?;
        // SAFETY: forwarded caller contract.
        unsafe { write_receipt(out_receipt, receipt) };
        Ok(())
    })
}

/// The C form of one batch outcome.
fn to_outcome(outcome: Result<Receipt, &Error>) -> net_outcome {
    match outcome {
        Ok(r) => net_outcome {
            seq: r.seq,
            status: NET_OK,
            shard: r.shard,
        },
        Err(e) => net_outcome {
            seq: 0,
            status: e.code(),
            shard: 0,
        },
    }
}

/// Ingests well-formed slices (the common case: no intermediate copy of the slice list) and
/// writes one outcome per slice to `outcomes` when it is not NULL.
///
/// # Safety
/// `outcomes` must be NULL or valid for as many writes as `slices` yields.
unsafe fn ingest_valid<'a>(
    bus: &net_bus,
    slices: impl IntoIterator<Item = &'a [u8]>,
    outcomes: *mut net_outcome,
) {
    let report = bus.bus.ingest_raw_batch(slices);
    if outcomes.is_null() {
        return;
    }
    for (i, outcome) in report.outcomes.iter().enumerate() {
        // SAFETY: the engine returns one outcome per input slice, and the caller guarantees
        // room for that many outcomes.
        unsafe { outcomes.add(i).write(to_outcome(outcome.as_ref().copied())) };
    }
}

/// Ingests events whose slices were checked one by one (`Err` entries fail individually) and
/// writes one outcome per entry to `outcomes` when it is not NULL.
///
/// # Safety
/// `outcomes` must be NULL or valid for `slices.len()` writes.
unsafe fn ingest_checked(
    bus: &net_bus,
    slices: Vec<Result<&[u8], Error>>,
    outcomes: *mut net_outcome,
) {
    // The engine sees only the well-formed entries; their outcomes come back in order.
    let report = bus.bus.ingest_raw_batch(slices.iter().flatten().copied());
    if outcomes.is_null() {
        return;
    }
    let mut engine = report.outcomes.into_iter();
    for (i, slice) in slices.iter().enumerate() {
        let outcome = match slice {
            Ok(_) => engine.next().unwrap_or_else(|| {
                Err(Error::Internal(
                    "the engine returned fewer outcomes than events".into(),
                ))
            }),
            Err(e) => Err(e.clone()),
        };
        // SAFETY: `i < slices.len()`, and the caller guarantees room for that many outcomes.
        unsafe { outcomes.add(i).write(to_outcome(outcome.as_ref().copied())) };
    }
}

/// Ingests `count` events: event i is `lens[i]` bytes at `ptrs[i]`. Each event gets its own
/// outcome in `outcomes[i]` (status NET_OK with shard and seq, or its negative code), so one
/// bad event does not fail the others. Without a partition key the batch goes to one shard and
/// keeps its order. Returns NET_OK when the call itself was valid, even if events failed;
/// `outcomes` may be NULL when the caller does not need them. The library copies the bytes.
///
/// # Safety
/// `bus` must be NULL or a handle from `net_init` (looked up; a freed one is detected);
/// `ptrs` and `lens` readable for `count` entries; each `ptrs[i]` readable for `lens[i]` bytes
/// (NULL only with 0); `outcomes` NULL or writable for `count` entries.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_ingest_raw_batch(
    bus: *mut net_bus,
    ptrs: *const *const u8,
    lens: *const usize,
    count: usize,
    outcomes: *mut net_outcome,
) -> i32 {
    guard(|| {
        let handle = BUSES.get(bus)?;
        if count > 0 && (ptrs.is_null() || lens.is_null()) {
            return Err(Error::InvalidArgument("ptrs or lens is NULL".into()));
        }
        let slice = |i: usize| {
            // SAFETY: `ptrs` and `lens` hold `count` entries per the caller's contract, and
            // each entry describes a readable range (or NULL, which `bytes` rejects).
            unsafe { bytes(*ptrs.add(i), *lens.add(i), "event") }
        };
        if (0..count).all(|i| slice(i).is_ok()) {
            let valid = (0..count).filter_map(|i| slice(i).ok());
            // SAFETY: forwarded caller contract for `outcomes` (one per entry).
            unsafe { ingest_valid(&handle, valid, outcomes) };
        } else {
            // SAFETY: forwarded caller contract for `outcomes`.
            unsafe { ingest_checked(&handle, (0..count).map(slice).collect(), outcomes) };
        }
        Ok(())
    })
}

/// Ingests `count` events packed back to back in `data`: event i is the `lens[i]` bytes that
/// follow event i-1. Same outcomes and rules as `net_ingest_raw_batch`; this form suits
/// bindings that can hand over one buffer more cheaply than an array of pointers (Go).
///
/// # Safety
/// `bus` must be NULL or a handle from `net_init` (looked up); `lens` readable for `count`
/// entries; `data` readable for the sum of the lengths (NULL only when the sum is 0);
/// `outcomes` NULL or writable for `count` entries.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn net_ingest_raw_packed(
    bus: *mut net_bus,
    data: *const u8,
    lens: *const usize,
    count: usize,
    outcomes: *mut net_outcome,
) -> i32 {
    guard(|| {
        let handle = BUSES.get(bus)?;
        if count > 0 && lens.is_null() {
            return Err(Error::InvalidArgument("lens is NULL".into()));
        }
        let lens: &[usize] = if count == 0 {
            &[]
        } else {
            // SAFETY: `lens` holds `count` entries per the caller's contract (checked non-NULL).
            unsafe { std::slice::from_raw_parts(lens, count) }
        };
        let total = lens
            .iter()
            .try_fold(0usize, |acc, &l| acc.checked_add(l))
            .ok_or_else(|| Error::InvalidArgument("sum of lens overflows".into()))?;
        // SAFETY: `data` is readable for `total` bytes per the caller's contract.
        let buf = unsafe { bytes(data, total, "data") }?;
        let mut offset = 0;
        let slices = lens.iter().map(|&l| {
            let s = &buf[offset..offset + l];
            offset += l;
            s
        });
        // SAFETY: forwarded caller contract for `outcomes` (one per entry of `lens`).
        unsafe { ingest_valid(&handle, slices, outcomes) };
        Ok(())
    })
}
