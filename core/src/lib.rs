//! net-mesh engine (`net`): a high-performance, schema-agnostic event bus.
//!
//! Layers present in this crate so far: [`event`], [`config`], [`error`] (layer 1), [`bus`]
//! (layer 2) and [`adapter`] (layer 3, the in-memory adapter). Every other language reaches
//! this engine through a thin skin; nothing here depends on those skins.
//!
//! ```
//! use net::{EventBus, EventBusConfig, Event, PollRequest};
//!
//! let bus = EventBus::new(EventBusConfig::default())?;
//! bus.ingest(Event::from_str(r#"{"token":"hello"}"#)?)?;
//! bus.flush()?;
//! let page = bus.poll(&PollRequest::new(10))?;
//! assert_eq!(page.events[0].event.as_str(), r#"{"token":"hello"}"#);
//! bus.shutdown()?;
//! # Ok::<(), net::Error>(())
//! ```
#![warn(missing_docs)]

pub mod adapter;
pub mod bus;
pub mod channel;
pub mod config;
pub mod cortex;
pub mod error;
pub mod event;
pub mod identity;
pub mod membership;
pub mod mesh;
pub mod netdb;
pub mod redex;
pub mod token;

pub use bus::filter::Filter;
pub use bus::{
    BatchReport, EventBus, Ordering, PollRequest, PollResult, Receipt, ShutdownReport, Stats,
    StoredEvent, SubscribeFrom, SubscribeOptions, Subscription, SubscriptionItem,
};
pub use config::{AdapterConfig, Backpressure, EventBusConfig};
pub use error::{DropReason, Error, ErrorKind, Result};
pub use event::Event;

/// Version of this crate.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
