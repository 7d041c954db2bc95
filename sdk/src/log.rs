//! The local append-only log (RedEX), folds over it (CortEX, with the tasks and memories
//! models) and the NetDB facade, re-exported from the engine.
//!
//! These are the engine's types unchanged (no runtime needed: tails and `changes()` are
//! `futures::Stream`s that also have blocking methods). See `docs/redex.md` and
//! `docs/cortex.md`.
//!
//! ```
//! use net_sdk::log::{Redex, RedexFileConfig};
//!
//! let redex = Redex::new();
//! let file = redex.open_file("sensors/temp", RedexFileConfig::heap())?;
//! let seq = file.append(b"21.5")?;
//! assert_eq!(file.read_range(seq, seq + 1)[0].payload, b"21.5");
//! # Ok::<(), net_sdk::log::RedexError>(())
//! ```

pub use net::cortex::{
    Changes, CortexAdapter, CortexConfig, CortexError, CortexEvent, EventMeta, Fold, FoldError,
    FoldErrorPolicy, StartPosition,
};
pub use net::cortex::{memories, tasks};
pub use net::netdb::{NetDb, NetDbBuilder, NetDbError, NetDbSnapshot};
pub use net::redex::{
    FsyncPolicy, OrderedAppender, Redex, RedexError, RedexEvent, RedexFile, RedexFileConfig,
    RedexStats, RedexTail, Retention, SweepReport, TypedRedexFile,
};
