//! W5: the mesh packet path's two micro figures, header serialize + parse and AEAD seal + open
//! of a 64-byte payload.
//!
//! The timed loops live in the engine (`net::mesh::bench`); a loop whose parse or open fails
//! reports a failure instead of a figure, so the op count "received" is the count that
//! round-tripped.

use net::mesh::bench::{w5_header_roundtrip_ns, w5_seal_open_64b_ns};

use super::plan::Plan;
use super::run::Run;
use crate::failure::{CliResult, fail};

/// One repetition of both figures.
pub fn run(plan: &Plan) -> CliResult<Run> {
    let n = plan.w5_iterations;
    let mut out = Run::default();
    let header_ns = w5_header_roundtrip_ns(n);
    if header_ns.is_nan() {
        return Err(fail!(
            "w5.header_roundtrip_ns: a header failed to parse back"
        ));
    }
    out.figure("w5.header_roundtrip_ns", header_ns, n, n)?;
    let seal_ns = w5_seal_open_64b_ns(n).map_err(|e| fail!("w5.seal_open_64b_ns: {e}"))?;
    out.figure("w5.seal_open_64b_ns", seal_ns, n, n)?;
    Ok(out)
}
