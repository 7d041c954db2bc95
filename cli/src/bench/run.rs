//! `Run`: what one repetition of a workload produced: its figures and its sent/received counts.

use crate::failure::{CliResult, fail};

/// Events a workload sent and received in one repetition.
#[derive(Debug, Clone)]
pub struct Count {
    /// The figure the count belongs to (a BENCHMARKS.md key).
    pub key: &'static str,
    /// Events offered.
    pub sent: u64,
    /// Events that arrived at the far end (adapter or subscriber or channel consumer).
    pub received: u64,
}

/// One repetition's outcome.
#[derive(Debug, Clone, Default)]
pub struct Run {
    /// `(key, value)` pairs in the units of BENCHMARKS.md.
    pub figures: Vec<(&'static str, f64)>,
    /// Sent/received per figure.
    pub counts: Vec<Count>,
}

impl Run {
    /// Adds a figure with its counts, failing if the counts show a missing or repeated event.
    pub fn figure(
        &mut self,
        key: &'static str,
        value: f64,
        sent: u64,
        received: u64,
    ) -> CliResult<()> {
        if sent != received {
            return Err(fail!(
                "{key}: sent {sent} events but {received} arrived ({} missing or repeated)",
                sent.abs_diff(received)
            ));
        }
        if !(value.is_finite() && value > 0.0) {
            return Err(fail!("{key}: measured {value}, not a positive number"));
        }
        self.figures.push((key, value));
        self.counts.push(Count {
            key,
            sent,
            received,
        });
        Ok(())
    }
}

impl Run {
    /// Adds a figure whose transport promises no delivery (plain UDP): the counts are recorded
    /// but a shortfall is not a failure. More received than sent still is.
    pub fn figure_lossy(
        &mut self,
        key: &'static str,
        value: f64,
        sent: u64,
        received: u64,
    ) -> CliResult<()> {
        if received > sent {
            return Err(fail!("{key}: sent {sent} events but {received} arrived"));
        }
        if !(value.is_finite() && value > 0.0) {
            return Err(fail!("{key}: measured {value}, not a positive number"));
        }
        self.figures.push((key, value));
        self.counts.push(Count {
            key,
            sent,
            received,
        });
        Ok(())
    }
}

/// Events per second for `n` events in `secs` seconds.
pub fn per_second(n: u64, elapsed: std::time::Duration) -> f64 {
    n as f64 / elapsed.as_secs_f64().max(1e-9)
}
