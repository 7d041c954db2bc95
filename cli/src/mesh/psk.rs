//! `net psk --out FILE [--force]`: create a mesh pre-shared key file (mode 0600).
//!
//! The file holds 64 hex digits and a newline, the format `--psk-file` and the mesh adapter's
//! `psk_file` read. The key itself is not printed. An existing file is refused unless
//! `--force`.

use std::path::PathBuf;

use clap::Args;
use net::mesh::config::{generate_psk, write_psk_file};

use crate::failure::CliResult;

/// Options of `net psk`.
#[derive(Debug, Args)]
pub struct PskArgs {
    /// Write a new random PSK to this file.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Replace an existing file.
    #[arg(long)]
    force: bool,
}

/// Runs `net psk`.
pub fn run(args: &PskArgs) -> CliResult<()> {
    let key = generate_psk()?;
    write_psk_file(&args.out, &key, args.force)?;
    println!("psk file     {}", args.out.display());
    Ok(())
}
