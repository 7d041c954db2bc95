//! `net-mesh-ffi`: the stable C ABI of the net-mesh engine, published as `libnet.a` and
//! `libnet.so` with the header `include/net.h` (generated from this crate by cbindgen).
//!
//! This crate only translates: every behaviour (validation, backpressure, poll options, filters,
//! cursors, errors) comes from the engine (`net`). What it adds is the C calling convention:
//!
//! - every export runs inside `catch_unwind`, so no panic crosses the boundary;
//! - pointers are checked for NULL and text for UTF-8 before use;
//! - the return value is an `int` status: [`NET_OK`] or a negative code, which is exactly
//!   `ErrorKind::code()` of the engine (pinned in `tests/cross_lang/errors.json`);
//! - results come back through out-parameters;
//! - the message of the last failure is kept per thread ([`net_last_error`]);
//! - every allocation handed out has exactly one free function, and each free function detects
//!   a double free or a foreign pointer instead of corrupting memory.
//!
//! Layout: `status` (codes and the ABI version), `last_error` (per-thread error and the
//! `guard` wrapper every export uses), `types` (`#[repr(C)]` structs), `registry` (live handles
//! and allocations), then one module per group of exports: `bus`, `config`, `ingest`, `poll`,
//! `subscribe`, `strings`. Request and option JSON is parsed by the engine
//! (`net::bus::request`), so every binding accepts and rejects the same texts.
#![warn(missing_docs)]
#![deny(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]
#![allow(non_camel_case_types)]

mod bus;
mod config;
mod ingest;
mod last_error;
mod poll;
mod registry;
mod status;
mod strings;
mod subscribe;
mod types;

pub use bus::{net_config_json, net_flush, net_free, net_init, net_shutdown, net_stats};
pub use config::net_config_normalize;
pub use ingest::{
    net_ingest, net_ingest_raw, net_ingest_raw_batch, net_ingest_raw_packed, net_ingest_with_key,
};
pub use last_error::{net_last_error, net_last_error_code, net_last_error_key};
pub use poll::{net_poll, net_poll_ex, net_poll_page_free};
pub use status::*;
pub use strings::net_string_free;
pub use subscribe::{
    net_subscribe, net_subscription_cancel, net_subscription_cursor, net_subscription_free,
    net_subscription_next,
};
pub use types::{net_bus, net_event, net_outcome, net_poll_page, net_receipt, net_subscription};
