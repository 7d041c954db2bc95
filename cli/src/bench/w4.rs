//! W4: RedEX append throughput (heap and disk, 32 B and 1 KiB payloads).
//!
//! The timed loop lives in the engine (`net::redex::bench::w4_run`); this module sizes it from
//! the plan, gives it a scratch directory and turns its read-back count into the workload's
//! sent/received check (an append that cannot be read back fails the run).

use net::redex::bench::{W4Case, w4_run};

use super::plan::Plan;
use super::run::Run;
use crate::failure::{CliResult, fail};

/// The number of appends of `case` under `plan` (the standard count, divided for `--quick`).
pub fn appends(case: W4Case, plan: &Plan) -> u64 {
    (case.standard_appends() / plan.w4_divisor).max(1)
}

/// One repetition of one case.
pub fn run(case: W4Case, plan: &Plan) -> CliResult<Run> {
    let n = appends(case, plan);
    let scratch = std::env::temp_dir();
    let r = w4_run(case, n, &scratch).map_err(|e| fail!("{}: {e}", case.key()))?;
    let mut out = Run::default();
    out.figure(r.key, r.appends_per_sec, r.appends, r.read_back)?;
    Ok(out)
}
