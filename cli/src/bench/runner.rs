//! Runs workloads by the common rules: warm-up runs first, then measured repetitions; each
//! figure is the median of the repetitions. Progress goes to a bar on stderr.

use std::collections::BTreeMap;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::plan::Plan;
use super::run::{Count, Run};
use crate::failure::CliResult;

/// Runs one repetition of a workload.
pub type RunFn = Box<dyn Fn(&Plan) -> CliResult<Run>>;

/// A named workload: one repetition per call.
pub struct Workload {
    /// Shown on the progress bar.
    pub name: &'static str,
    /// Runs one repetition.
    pub run: RunFn,
}

/// All figures of a bench run.
#[derive(Debug, Default)]
pub struct Measured {
    /// Every measured value per key, in repetition order.
    pub samples: BTreeMap<&'static str, Vec<f64>>,
    /// Counts of the last repetition per key.
    pub counts: BTreeMap<&'static str, Count>,
}

impl Measured {
    /// The median per key.
    pub fn medians(&self) -> BTreeMap<&'static str, f64> {
        self.samples.iter().map(|(k, v)| (*k, median(v))).collect()
    }
}

/// The median of `values` (mean of the middle two for an even count).
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// A bar on stderr; hidden with `--json` or when stderr is not a terminal.
pub fn progress(total: u64, hidden: bool) -> ProgressBar {
    let target = if hidden {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    };
    let bar = ProgressBar::with_draw_target(Some(total), target);
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}")
    {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

/// Runs every workload by `plan`, advancing `bar` once per run.
pub fn run_all(workloads: &[Workload], plan: &Plan, bar: &ProgressBar) -> CliResult<Measured> {
    let mut measured = Measured::default();
    for w in workloads {
        for rep in 0..plan.warmups + plan.repetitions {
            let warm = rep < plan.warmups;
            bar.set_message(if warm {
                format!("{} (warm-up)", w.name)
            } else {
                format!(
                    "{} ({}/{})",
                    w.name,
                    rep - plan.warmups + 1,
                    plan.repetitions
                )
            });
            let run = (w.run)(plan)?;
            bar.inc(1);
            if warm {
                continue;
            }
            for (key, value) in run.figures {
                measured.samples.entry(key).or_default().push(value);
            }
            for c in run.counts {
                measured.counts.insert(c.key, c);
            }
        }
    }
    bar.finish_and_clear();
    Ok(measured)
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(&[5.0]), 5.0);
    }
}
