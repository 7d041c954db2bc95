//! The demo's report: the readable tables and the list of problems that make the run fail.

use std::fmt::Write as _;
use std::time::Duration;

use net::{EventBusConfig, ShutdownReport, Stats};

use super::poller::Polled;
use super::producer::Tally;
use super::subscriber::Received;
use super::{CLICK_FILTER, DemoArgs};
use crate::latency::human_ns;
use crate::table::{Align, Table, rate, thousands};

/// Everything a demo run measured.
pub struct Outcome<'a> {
    /// The command-line options.
    pub args: &'a DemoArgs,
    /// The bus configuration used.
    pub config: &'a EventBusConfig,
    /// Producer counts, summed.
    pub producers: Tally,
    /// Bus counters right after `flush()`.
    pub stats: Stats,
    /// What the poller read.
    pub polled: Polled,
    /// What the filtered subscriber received.
    pub seen: Received,
    /// From the start signal to the last producer finishing.
    pub emit_time: Duration,
    /// From the start signal to `flush()` returning.
    pub flush_time: Duration,
    /// What `shutdown()` reported.
    pub shutdown: ShutdownReport,
}

impl Outcome<'_> {
    /// Accepted events neither delivered nor counted as dropped after flush.
    fn unreconciled(&self) -> i128 {
        let s = &self.stats;
        i128::from(s.accepted)
            - i128::from(s.delivered)
            - i128::from(s.dropped.drop_oldest)
            - i128::from(s.dropped.adapter_failed)
    }

    /// Why the run failed; empty when every accepted event is accounted for.
    pub fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        let s = &self.stats;
        if self.unreconciled() != 0 || s.in_flight != 0 {
            p.push(format!(
                "after flush accepted {} != delivered {} + dropped {} (in flight {})",
                s.accepted,
                s.delivered,
                s.dropped.drop_oldest + s.dropped.adapter_failed,
                s.in_flight
            ));
        }
        if s.accepted != self.producers.accepted {
            p.push(format!(
                "the bus counted {} accepted events, producers got {} receipts",
                s.accepted, self.producers.accepted
            ));
        }
        if self.polled.events != s.delivered || self.polled.out_of_order + self.polled.skipped > 0 {
            p.push(format!(
                "the poller read {} events of {} delivered ({} out of order, {} skipped)",
                self.polled.events, s.delivered, self.polled.out_of_order, self.polled.skipped
            ));
        }
        let seen = &self.seen;
        if seen.received != self.producers.clicks || seen.duplicates + seen.mismatched > 0 {
            p.push(format!(
                "the subscriber received {} of {} clicks ({} duplicates, {} not matching, {} lagged)",
                seen.received, self.producers.clicks, seen.duplicates, seen.mismatched, seen.lagged
            ));
        }
        if self.shutdown.undelivered != 0 || self.shutdown.adapter_error.is_some() {
            p.push(format!(
                "shutdown: {} undelivered, adapter error {:?}",
                self.shutdown.undelivered, self.shutdown.adapter_error
            ));
        }
        p
    }

    /// The human-readable report.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let s = &self.stats;
        let _ = writeln!(
            out,
            "net demo: {} events from {} producers into {} shards (adapter {}, backpressure {}, ring {})\n",
            thousands(self.args.events),
            self.args.producers,
            self.args.shards,
            s.adapter_name,
            self.config.backpressure.mode(),
            self.config.ring_capacity
        );

        let mut counts =
            Table::new(&[Align::Left, Align::Right, Align::Left]).header(&["events", "count", ""]);
        counts.row(&["emitted", &thousands(self.producers.emitted), ""]);
        let refused = match &self.producers.first_error {
            Some(e) => format!("refused {} (first: {e})", thousands(self.producers.refused)),
            None => String::new(),
        };
        counts.row(&["accepted", &thousands(s.accepted), &refused]);
        counts.row(&["delivered to the adapter", &thousands(s.delivered), ""]);
        counts.row(&[
            "dropped (all reasons)",
            &thousands(s.dropped.total()),
            &format!(
                "drop_oldest {}, adapter_failed {}",
                s.dropped.drop_oldest, s.dropped.adapter_failed
            ),
        ]);
        counts.row(&[
            "read by the poller",
            &thousands(self.polled.events),
            &format!("{} polls of up to 1000", thousands(self.polled.polls)),
        ]);
        counts.row(&[
            "matched by the filter",
            &thousands(self.seen.received),
            &format!(
                "{CLICK_FILTER}, expected {}",
                thousands(self.producers.clicks)
            ),
        ]);
        out.push_str(&counts.render(2));
        out.push('\n');

        let mut speed = Table::new(&[Align::Left, Align::Right, Align::Right]).header(&[
            "throughput",
            "events/s",
            "time",
        ]);
        let per_sec = |d: Duration| s.accepted as f64 / d.as_secs_f64().max(1e-9);
        speed.row(&[
            "ingest (start -> last accepted)",
            &rate(per_sec(self.emit_time)),
            &human_ns(self.emit_time.as_nanos() as u64),
        ]);
        speed.row(&[
            "end to end (start -> flush done)",
            &rate(per_sec(self.flush_time)),
            &human_ns(self.flush_time.as_nanos() as u64),
        ]);
        out.push_str(&speed.render(2));
        out.push('\n');

        let mut lat = self.seen.latency.clone();
        let mut latency = Table::new(&[
            Align::Left,
            Align::Right,
            Align::Right,
            Align::Right,
            Align::Right,
        ])
        .header(&["latency emit -> subscriber", "p50", "p90", "p99", "max"]);
        let cell = |v: Option<u64>| v.map_or_else(|| "-".to_owned(), human_ns);
        latency.row(&[
            format!("{} filtered events", thousands(lat.len() as u64)),
            cell(lat.percentile(50.0)),
            cell(lat.percentile(90.0)),
            cell(lat.percentile(99.0)),
            cell(lat.max()),
        ]);
        out.push_str(&latency.render(2));
        out.push_str(
            "  (producers emit flat out, so this includes queueing behind the filtered subscriber;\n   \
             `net bench` W3 measures one event in flight)\n\n",
        );

        let r = &self.shutdown;
        let mut shut = Table::new(&[Align::Left, Align::Right]).header(&["shutdown report", ""]);
        shut.row(&["accepted", &thousands(r.accepted)]);
        shut.row(&["delivered", &thousands(r.delivered)]);
        shut.row(&["dropped", &thousands(r.dropped.total())]);
        shut.row(&["undelivered", &thousands(r.undelivered)]);
        shut.row(&[
            "adapter error",
            r.adapter_error.as_deref().unwrap_or("none"),
        ]);
        out.push_str(&shut.render(2));
        out.push('\n');

        let problems = self.problems();
        if problems.is_empty() {
            let _ = writeln!(
                out,
                "OK: every accepted event is accounted for (accepted = delivered + dropped), \
                 the poller read each once, the subscriber got every click once."
            );
        } else {
            let _ = writeln!(out, "FAILED:");
            for p in problems {
                let _ = writeln!(out, "  - {p}");
            }
        }
        out
    }
}
