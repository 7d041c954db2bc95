//! `Failure`: why a command did not succeed, as a message for a human (exit status 1).

use std::fmt;

/// A failed run: an engine error, a thread that died, or a count that did not reconcile.
#[derive(Debug)]
pub struct Failure(pub String);

/// Result of a command step.
pub type CliResult<T> = Result<T, Failure>;

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<net::Error> for Failure {
    fn from(e: net::Error) -> Self {
        Failure(format!("engine error ({}): {e}", e.kind()))
    }
}

/// Builds a [`Failure`] from format arguments: `fail!("lost {n} events")`.
macro_rules! fail {
    ($($arg:tt)*) => { $crate::failure::Failure(format!($($arg)*)) };
}
pub(crate) use fail;

/// Joins a thread, turning a panic into a [`Failure`] that names the thread.
pub fn join<T>(handle: std::thread::JoinHandle<CliResult<T>>, what: &str) -> CliResult<T> {
    handle
        .join()
        .map_err(|_| fail!("the {what} thread panicked"))?
}
