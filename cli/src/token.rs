//! `net token issue|delegate|inspect`: make, extend and read permission-token chains.
//!
//! Chains travel as hex text on stdout (or raw bytes with `--out FILE`); `--token` accepts a
//! hex string, or a file holding either hex text or raw bytes. `issue` signs a root-issued token
//! with a key file; `delegate` appends a narrower token signed by the parent's subject; `inspect`
//! prints every link and, with `--root`, verifies the chain at `--now` (default: the clock) and
//! exits 1 with the typed reason when it is refused. Layout and rules: `docs/tokens.md`.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use clap::{Args, Subcommand};
use net::channel::ChannelName;
use net::identity::{EntityId, Identity, hex};
use net::token::{
    ANY_CHANNEL, Grant, Scope, TokenChain, TokenError, TokenVerifier, VerifyConfig, delegate, issue,
};

use crate::failure::{CliResult, Failure, fail};

/// Options of `net token`.
#[derive(Debug, Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    command: TokenCommand,
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Sign a new (root-issued) token with a key file; prints the one-token chain as hex.
    Issue(IssueArgs),
    /// Append a narrower token signed by the parent token's subject; prints the longer chain.
    Delegate(DelegateArgs),
    /// Print every link of a chain; with --root, verify it and exit 1 if it is refused.
    Inspect(InspectArgs),
}

/// What the new token grants (shared by issue and delegate).
#[derive(Debug, Args)]
struct GrantArgs {
    /// Subject: the 64-hex-digit ed25519 public key (entity id) the token is for.
    #[arg(long, value_name = "HEX")]
    subject: String,
    /// Comma-separated actions: publish, subscribe, admin, delegate, all.
    #[arg(long, value_name = "LIST")]
    scope: Option<String>,
    /// Channel name (hashed as the channel layer does).
    #[arg(long, value_name = "NAME", conflicts_with = "channel_hash")]
    channel: Option<String>,
    /// Channel hash as 16 hex digits, or `any` (0: every channel).
    #[arg(long, value_name = "HEX|any")]
    channel_hash: Option<String>,
    /// First valid second (Unix time); default: now.
    #[arg(long, value_name = "UNIX")]
    not_before: Option<u64>,
    /// Lifetime in seconds from not_before.
    #[arg(long, value_name = "SECS", default_value_t = 3600)]
    ttl: u64,
    /// Further delegation steps the subject may make.
    #[arg(long, value_name = "N")]
    depth: Option<u8>,
    /// The signer's key generation (for revocation).
    #[arg(long, value_name = "G", default_value_t = 0)]
    generation: u32,
    /// Nonce; default: random.
    #[arg(long, value_name = "N")]
    nonce: Option<u64>,
    /// Write the chain's raw bytes to this file instead of printing hex.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// Options of `net token issue`.
#[derive(Debug, Args)]
pub struct IssueArgs {
    /// The issuer's key file (`net keygen --out`).
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    #[command(flatten)]
    grant: GrantArgs,
}

/// Options of `net token delegate`.
#[derive(Debug, Args)]
pub struct DelegateArgs {
    /// The delegator's key file: it must be the subject of the parent chain's last token.
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    /// The parent chain: hex, or a file holding hex or raw bytes.
    #[arg(long, value_name = "HEX|FILE")]
    token: String,
    #[command(flatten)]
    grant: GrantArgs,
}

/// Options of `net token inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The chain: hex, or a file holding hex or raw bytes.
    #[arg(long, value_name = "HEX|FILE")]
    token: String,
    /// A trusted root's public key (hex); repeat for several. With at least one, the chain is
    /// verified.
    #[arg(long, value_name = "HEX")]
    root: Vec<String>,
    /// Verify at this Unix time instead of the clock.
    #[arg(long, value_name = "UNIX")]
    now: Option<u64>,
    /// Clock-skew tolerance in seconds.
    #[arg(long, value_name = "SECS", default_value_t = net::token::DEFAULT_SKEW_SECS)]
    skew: u64,
}

/// Runs `net token`.
pub fn run(args: &TokenArgs) -> CliResult<()> {
    match &args.command {
        TokenCommand::Issue(a) => run_issue(a),
        TokenCommand::Delegate(a) => run_delegate(a),
        TokenCommand::Inspect(a) => run_inspect(a),
    }
}

fn token_failure(e: TokenError) -> Failure {
    fail!("token refused ({}): {e}", e.kind())
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn load_key(path: &Path) -> CliResult<Identity> {
    Identity::load(path).map_err(|e| fail!("key file {}: {e}", path.display()))
}

fn entity(text: &str, what: &str) -> CliResult<EntityId> {
    EntityId::from_hex(text).map_err(|e| fail!("{what} {text:?}: {e} (want 64 hex digits)"))
}

fn random_nonce() -> CliResult<u64> {
    // A fresh identity's key is 32 bytes from the system RNG; its node id is 8 of them hashed.
    let id = Identity::generate().map_err(|e| fail!("nonce: {e}"))?;
    Ok(id.node_id().0)
}

fn parse_channel(g: &GrantArgs) -> CliResult<Option<u64>> {
    if let Some(name) = &g.channel {
        let parsed = ChannelName::parse(name).map_err(|e| fail!("--channel {name:?}: {e}"))?;
        return Ok(Some(u64::from(parsed.hash())));
    }
    match g.channel_hash.as_deref() {
        None => Ok(None),
        Some("any") => Ok(Some(ANY_CHANNEL)),
        Some(h) => u64::from_str_radix(h.trim_start_matches("0x"), 16)
            .map(Some)
            .map_err(|_| fail!("--channel-hash {h:?}: want up to 16 hex digits or `any`")),
    }
}

/// Reads a chain from a hex string or a file holding hex text or raw bytes.
fn read_chain(arg: &str) -> CliResult<TokenChain> {
    let bytes = match decode_hex(arg.trim()) {
        Some(b) => b,
        None => {
            let raw = std::fs::read(arg)
                .map_err(|e| fail!("--token {arg:?} is neither hex nor a readable file: {e}"))?;
            match std::str::from_utf8(&raw)
                .ok()
                .and_then(|t| decode_hex(t.trim()))
            {
                Some(b) => b,
                None => raw,
            }
        }
    };
    TokenChain::from_bytes(&bytes).map_err(token_failure)
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.is_empty() || !text.len().is_multiple_of(2) {
        return None;
    }
    let digits = text.as_bytes();
    (0..digits.len())
        .step_by(2)
        .map(|i| {
            let pair = std::str::from_utf8(&digits[i..i + 2]).ok()?;
            u8::from_str_radix(pair, 16).ok()
        })
        .collect()
}

fn emit(chain: &TokenChain, out: &Option<PathBuf>) -> CliResult<()> {
    let bytes = chain.to_bytes();
    match out {
        Some(path) => {
            std::fs::write(path, &bytes).map_err(|e| fail!("writing {}: {e}", path.display()))?
        }
        None => println!("{}", hex(&bytes)),
    }
    Ok(())
}

fn run_issue(a: &IssueArgs) -> CliResult<()> {
    let key = load_key(&a.key)?;
    let g = &a.grant;
    let scope_text = g.scope.as_deref().ok_or_else(|| {
        fail!("net token issue needs --scope (publish, subscribe, admin, delegate, all)")
    })?;
    let scope = Scope::parse(scope_text).map_err(|e| fail!("--scope: {e}"))?;
    let channel = parse_channel(g)?
        .ok_or_else(|| fail!("net token issue needs --channel NAME or --channel-hash HEX|any"))?;
    let not_before = g.not_before.unwrap_or_else(now_secs);
    let grant = Grant {
        subject: entity(&g.subject, "--subject")?,
        scope,
        channel,
        not_before,
        not_after: not_before.saturating_add(g.ttl),
        depth: g.depth.unwrap_or(0),
        nonce: match g.nonce {
            Some(n) => n,
            None => random_nonce()?,
        },
    };
    let token = issue(&key, g.generation, &grant).map_err(token_failure)?;
    emit(&TokenChain::single(token), &g.out)
}

fn run_delegate(a: &DelegateArgs) -> CliResult<()> {
    let key = load_key(&a.key)?;
    let chain = read_chain(&a.token)?;
    let parent = *chain.leaf();
    let g = &a.grant;
    let scope = match g.scope.as_deref() {
        Some(text) => Scope::parse(text).map_err(|e| fail!("--scope: {e}"))?,
        None => parent.scope,
    };
    let not_before = g
        .not_before
        .unwrap_or_else(|| now_secs().max(parent.not_before));
    let grant = Grant {
        subject: entity(&g.subject, "--subject")?,
        scope,
        channel: parse_channel(g)?.unwrap_or(parent.channel),
        not_before,
        not_after: not_before.saturating_add(g.ttl).min(parent.not_after),
        depth: g.depth.unwrap_or(parent.depth.saturating_sub(1)),
        nonce: match g.nonce {
            Some(n) => n,
            None => random_nonce()?,
        },
    };
    let child = delegate(&parent, &key, g.generation, &grant).map_err(token_failure)?;
    emit(&chain.with(child).map_err(token_failure)?, &g.out)
}

fn run_inspect(a: &InspectArgs) -> CliResult<()> {
    let chain = read_chain(&a.token)?;
    for (i, t) in chain.tokens().iter().enumerate() {
        println!("link {i}");
        println!("  issuer       {}", t.issuer);
        println!("  subject      {}", t.subject);
        println!("  scope        {}", t.scope);
        let channel = if t.channel == ANY_CHANNEL {
            "any".to_owned()
        } else {
            format!("{:016x}", t.channel)
        };
        println!("  channel      {channel}");
        println!("  valid        {} ..= {}", t.not_before, t.not_after);
        println!("  depth        {}", t.depth);
        println!("  generation   {}", t.issuer_generation);
        println!("  nonce        {}", t.nonce);
        println!("  parent       {}", hex(&t.parent));
        println!("  hash         {}", hex(&t.hash()));
    }
    if a.root.is_empty() {
        println!("not verified (no --root given)");
        return Ok(());
    }
    let roots = a
        .root
        .iter()
        .map(|r| entity(r, "--root"))
        .collect::<CliResult<Vec<_>>>()?;
    let verifier = TokenVerifier::new(roots, VerifyConfig { skew_secs: a.skew });
    let now = a.now.unwrap_or_else(now_secs);
    let ok = verifier.verify(&chain, now).map_err(token_failure)?;
    println!(
        "valid: grants {} {} on {} until {}",
        ok.subject,
        ok.scope,
        if ok.channel == ANY_CHANNEL {
            "any channel".to_owned()
        } else {
            format!("channel {:016x}", ok.channel)
        },
        ok.not_after
    );
    Ok(())
}
