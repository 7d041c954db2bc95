//! `net bench`: the standard workloads of BENCHMARKS.md that exist in this engine (W1 ingest,
//! W2 end-to-end, W3 latency, W4 RedEX append, W5 header and AEAD, W6 mesh throughput, W7 mesh
//! round trip), as a table or, with `--json`, as exactly one JSON object on
//! stdout: `{"meta":{...},"results":{"w1.ingest_single_eps":...,...}}`.
//!
//! Every workload of BENCHMARKS.md exists now; one whose layer is missing would be omitted,
//! not reported as zero. A workload that loses or repeats an accepted event fails the run
//! (exit 1) and no figures are printed.

mod mesh_pair;
mod meta;
mod payload;
mod plan;
mod report;
mod run;
mod runner;
mod targets;
mod w1;
mod w2;
mod w3;
mod w4;
mod w5;
mod w6;
mod w7;

use std::io::IsTerminal as _;

use clap::Args;

use self::plan::Plan;
use self::runner::Workload;
use self::w1::Mode;
use crate::failure::{CliResult, fail};

/// Options of `net bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Print exactly one JSON object on stdout (no table, no progress bar).
    #[arg(long)]
    pub json: bool,
    /// Small sizes and one repetition: a smoke test whose figures are not comparable.
    #[arg(long)]
    pub quick: bool,
    /// Run only the workloads whose key starts with one of these prefixes (e.g. `w2`, `w1.`).
    #[arg(long, value_name = "PREFIX", value_delimiter = ',')]
    pub only: Vec<String>,
}

/// Every workload in the order it runs.
fn workloads() -> Vec<Workload> {
    let mut all = Vec::new();
    for shards in [1u16, 4] {
        for mode in [Mode::Single, Mode::Batch, Mode::Parse] {
            all.push(Workload {
                name: w1::key(mode, shards),
                run: Box::new(move |plan: &Plan| w1::run(mode, shards, plan)),
            });
        }
    }
    all.push(Workload {
        name: "w2.e2e_eps + w2.crossbeam_eps",
        run: Box::new(w2::run),
    });
    all.push(Workload {
        name: "w3.p50_us / w3.p99_us",
        run: Box::new(w3::run),
    });
    for case in net::redex::bench::W4Case::ALL {
        all.push(Workload {
            name: case.key(),
            run: Box::new(move |plan: &Plan| w4::run(case, plan)),
        });
    }
    all.push(Workload {
        name: "w5.header_roundtrip_ns + w5.seal_open_64b_ns",
        run: Box::new(w5::run),
    });
    all.push(Workload {
        name: "w6.mesh_reliable_eps + w6.raw_udp_eps",
        run: Box::new(w6::run),
    });
    all.push(Workload {
        name: "w7.rtt_p50_us / w7.rtt_p99_us",
        run: Box::new(w7::run),
    });
    all
}

/// Runs the workloads and prints the results.
pub fn run(args: &BenchArgs) -> CliResult<()> {
    let plan = if args.quick {
        Plan::QUICK
    } else {
        Plan::STANDARD
    };
    if !args.json && cfg!(debug_assertions) {
        eprintln!("note: this is a debug build; figures are only meaningful from a release build");
    }
    let workloads: Vec<Workload> = workloads()
        .into_iter()
        .filter(|w| {
            args.only.is_empty() || args.only.iter().any(|p| w.name.starts_with(p.as_str()))
        })
        .collect();
    if workloads.is_empty() {
        return Err(fail!(
            "--only {} matches no workload (keys start with w1., w1_4shards., w2., w3., w4., w5., w6., w7.)",
            args.only.join(",")
        ));
    }
    let total = (workloads.len() * (plan.warmups + plan.repetitions)) as u64;
    let hidden = args.json || !std::io::stderr().is_terminal();
    let bar = runner::progress(total, hidden);
    let measured = runner::run_all(&workloads, &plan, &bar)?;
    let meta = meta::collect(&plan, &measured)?;
    if args.json {
        println!("{}", report::json(meta, &measured));
    } else {
        print!("{}", report::table(&meta, &measured));
    }
    Ok(())
}
