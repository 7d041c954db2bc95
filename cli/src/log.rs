//! `net log append|read|tail --dir D --channel C`: the RedEX log on disk from the shell.
//!
//! `append` appends each `--data` value (or each line of stdin when there is none) as one
//! entry and prints its seq; the file is closed (fsynced) before the command returns. `read`
//! prints `seq<TAB>ts_ns<TAB>payload` for a seq range; `tail` prints retained entries from
//! `--from` and then new ones as they are appended (by this or another handle in this process;
//! the log is single-process), until `--count` entries were printed.

use std::io::{BufRead as _, Write as _};
use std::path::PathBuf;

use clap::{Args, Subcommand};
use net::redex::{FsyncPolicy, Redex, RedexEvent, RedexFile, RedexFileConfig};

use crate::failure::CliResult;

/// Options of `net log`.
#[derive(Debug, Args)]
pub struct LogArgs {
    #[command(subcommand)]
    action: LogAction,
}

/// Which log file.
#[derive(Debug, Args)]
struct At {
    /// Base directory of the logs.
    #[arg(long)]
    dir: PathBuf,
    /// Channel name, e.g. `sensors/temp`.
    #[arg(long)]
    channel: String,
}

#[derive(Debug, Subcommand)]
enum LogAction {
    /// Append entries (each --data value, or each stdin line) and print their seqs.
    Append {
        #[command(flatten)]
        at: At,
        /// A payload; repeat for several. Without any, each line of stdin is one entry.
        #[arg(long)]
        data: Vec<String>,
    },
    /// Print retained entries with FROM <= seq < TO.
    Read {
        #[command(flatten)]
        at: At,
        /// First seq.
        #[arg(long, default_value_t = 0)]
        from: u64,
        /// End seq (exclusive); default: everything.
        #[arg(long)]
        to: Option<u64>,
    },
    /// Print entries from FROM, then follow new ones.
    Tail {
        #[command(flatten)]
        at: At,
        /// First seq.
        #[arg(long, default_value_t = 0)]
        from: u64,
        /// Stop after this many entries.
        #[arg(long)]
        count: Option<u64>,
    },
}

fn open(at: &At) -> CliResult<RedexFile> {
    Redex::with_dir(&at.dir)
        .open_file(&at.channel, RedexFileConfig::persistent(FsyncPolicy::Never))
        .map_err(|e| net::Error::from(e).into())
}

fn print(out: &mut impl std::io::Write, e: &RedexEvent) -> CliResult<()> {
    writeln!(
        out,
        "{}\t{}\t{}",
        e.seq,
        e.ts_ns,
        String::from_utf8_lossy(&e.payload)
    )
    .map_err(|e| crate::failure::fail!("stdout: {e}"))
}

/// Runs `net log`.
pub fn run(args: &LogArgs) -> CliResult<()> {
    let mut out = std::io::stdout().lock();
    match &args.action {
        LogAction::Append { at, data } => {
            let file = open(at)?;
            let mut append = |p: &[u8]| -> CliResult<()> {
                let seq = file.append(p).map_err(net::Error::from)?;
                writeln!(out, "{seq}").map_err(|e| crate::failure::fail!("stdout: {e}"))
            };
            if data.is_empty() {
                for line in std::io::stdin().lock().lines() {
                    let line = line.map_err(|e| crate::failure::fail!("stdin: {e}"))?;
                    append(line.as_bytes())?;
                }
            } else {
                for d in data {
                    append(d.as_bytes())?;
                }
            }
            file.close().map_err(net::Error::from)?;
        }
        LogAction::Read { at, from, to } => {
            let file = open(at)?;
            for e in file.read_range(*from, to.unwrap_or(u64::MAX)) {
                print(&mut out, &e)?;
            }
        }
        LogAction::Tail { at, from, count } => {
            let file = open(at)?;
            let mut tail = file.tail(*from);
            let mut n = 0u64;
            while count.is_none_or(|c| n < c) {
                match tail.next_blocking() {
                    Some(Ok(e)) => {
                        print(&mut out, &e)?;
                        out.flush()
                            .map_err(|e| crate::failure::fail!("stdout: {e}"))?;
                        n += 1;
                    }
                    Some(Err(e)) => return Err(net::Error::from(e).into()),
                    None => break,
                }
            }
        }
    }
    Ok(())
}
