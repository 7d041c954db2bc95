//! `net`: the net-mesh command line.
//!
//! Subcommands: `net demo` (a bus with producers, a filtered subscriber and a poller, printing
//! what happened and how fast), `net bench` (the standard workloads of
//! BENCHMARKS.md, as a table or as one JSON object with `--json`), `net log` (append to,
//! read and tail a RedEX log), `net keygen` (a node identity key file), `net psk` (a mesh
//! pre-shared key file), and the mesh commands `net node` (run a node until interrupted),
//! `net send` (stdin lines to peers) and `net recv` (print what peers send), and
//! `net token issue|delegate|inspect` (permission-token chains, `docs/tokens.md`).
//! Exit status: 0 on success, 1 when a run failed or an accepted event went missing, 2 on bad
//! command-line arguments (clap's usage error).

mod bench;
mod demo;
mod failure;
mod keygen;
mod latency;
mod log;
mod machine;
mod mesh;
mod pubsub;
mod table;
mod token;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// net-mesh: a high-performance event bus.
#[derive(Debug, Parser)]
#[command(name = "net", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run producers, a filtered subscriber and a poller on one bus; print counts, throughput
    /// and emit-to-subscriber latency.
    Demo(demo::DemoArgs),
    /// Run the standard benchmark workloads (W1-W5) and print a table or JSON.
    Bench(bench::BenchArgs),
    /// Append to, read or tail a RedEX log on disk (`--dir D --channel C`).
    Log(log::LogArgs),
    /// Create a node identity key file (mode 0600), or show the public side of one.
    Keygen(keygen::KeygenArgs),
    /// Create a mesh pre-shared key file (mode 0600).
    Psk(mesh::psk::PskArgs),
    /// Run a mesh node until interrupted; print its identity, peers and counters.
    Node(mesh::node::NodeArgs),
    /// Send stdin lines as events to mesh peers.
    Send(mesh::send::SendArgs),
    /// Print the events mesh peers send, one per line.
    Recv(mesh::recv::RecvArgs),
    /// Issue, delegate or inspect permission-token chains.
    Token(token::TokenArgs),
    /// Publish stdin lines on a mesh channel.
    Pub(pubsub::PubArgs),
    /// Print events of a mesh channel subscribed at a publisher.
    Sub(Box<pubsub::SubArgs>),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Demo(args) => demo::run(&args),
        Command::Bench(args) => bench::run(&args),
        Command::Log(args) => log::run(&args),
        Command::Keygen(args) => keygen::run(&args),
        Command::Psk(args) => mesh::psk::run(&args),
        Command::Node(args) => mesh::node::run(&args),
        Command::Send(args) => mesh::send::run(&args),
        Command::Recv(args) => mesh::recv::run(&args),
        Command::Token(args) => token::run(&args),
        Command::Pub(args) => pubsub::run_pub(&args),
        Command::Sub(args) => pubsub::run_sub(&args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {failure}");
            ExitCode::FAILURE
        }
    }
}
