//! `net keygen --out FILE [--force]` and `net keygen --show FILE`: create a node identity key
//! file (mode 0600) or show the public side of one.
//!
//! Prints the node id, the ed25519 public key, the origin hash and the node card (the 128 bytes
//! a peer needs to reach this node: public key, X25519 static key and the signature binding
//! them), all in hex. The seed itself is never printed.

use std::path::PathBuf;

use clap::Args;
use net::identity::{Identity, hex};

use crate::failure::{CliResult, fail};

/// Options of `net keygen`.
#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Write a new identity to this file (refused if it exists, unless --force).
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "show",
        conflicts_with = "show"
    )]
    out: Option<PathBuf>,
    /// Show the identity stored in this existing file.
    #[arg(long, value_name = "FILE")]
    show: Option<PathBuf>,
    /// With --out: replace an existing file.
    #[arg(long, conflicts_with = "show")]
    force: bool,
}

/// Runs `net keygen`.
pub fn run(args: &KeygenArgs) -> CliResult<()> {
    let (id, path) = match (&args.out, &args.show) {
        (Some(out), _) => {
            let id = Identity::generate().map_err(net::Error::from)?;
            id.save(out, args.force).map_err(net::Error::from)?;
            (id, out)
        }
        (None, Some(show)) => (Identity::load(show).map_err(net::Error::from)?, show),
        (None, None) => return Err(fail!("net keygen needs --out FILE or --show FILE")),
    };
    println!("key file     {}", path.display());
    println!("node id      {}", id.node_id());
    println!("public key   {}", hex(&id.public_key()));
    println!("origin hash  {:#010x}", id.origin_hash());
    println!("card         {}", hex(&id.card().to_bytes()));
    Ok(())
}
