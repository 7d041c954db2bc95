//! `Plan`: how big each workload is and how often it repeats (standard or `--quick`).

/// Sizes and repetitions of one `net bench` run.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// True for `--quick` (a smoke test, not comparable figures).
    pub quick: bool,
    /// Unmeasured runs before the measured ones.
    pub warmups: usize,
    /// Measured runs; each figure is their median.
    pub repetitions: usize,
    /// W1: events ingested per run.
    pub w1_events: u64,
    /// W2: events moved producer -> subscriber per run.
    pub w2_events: u64,
    /// W3: latency samples per run.
    pub w3_samples: u64,
    /// W4: each case's standard append count is divided by this.
    pub w4_divisor: u64,
    /// W5: header round trips and seal+open operations per run.
    pub w5_iterations: u64,
    /// W6: events moved between the two mesh nodes per run.
    pub w6_events: u64,
    /// W7: round trips per run.
    pub w7_samples: u64,
}

impl Plan {
    /// The standard plan of BENCHMARKS.md: one warm-up, median of five.
    pub const STANDARD: Plan = Plan {
        quick: false,
        warmups: 1,
        repetitions: 5,
        w1_events: 2_000_000,
        w2_events: 1_000_000,
        w3_samples: 100_000,
        w4_divisor: 1,
        w5_iterations: 10_000_000,
        w6_events: 2_000_000,
        w7_samples: 20_000,
    };

    /// `--quick`: small sizes and one repetition, for tests (figures are not comparable).
    pub const QUICK: Plan = Plan {
        quick: true,
        warmups: 0,
        repetitions: 1,
        w1_events: 20_000,
        w2_events: 20_000,
        w3_samples: 500,
        w4_divisor: 100,
        w5_iterations: 10_000,
        w6_events: 20_000,
        w7_samples: 200,
    };
}
