//! `net token issue|delegate|inspect` on the real binary: a root issues, the subject delegates,
//! inspect verifies against the root with an explicit `--now`; wrong roots, widening, expiry,
//! bad hex, bad files and truncated chains exit 1 with the typed reason and no panic.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn net(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_net"))
        .args(args)
        .output()
        .expect("run net")
}

fn ok(args: &[&str]) -> String {
    let out = net(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn refused(args: &[&str], needle: &str) {
    let out = net(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
    assert!(
        stderr.contains(needle),
        "{args:?}: want `{needle}` in {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

struct Keys {
    dir: PathBuf,
}

impl Keys {
    fn new(tag: &str) -> Keys {
        let dir = std::env::temp_dir().join(format!("net-token-cli-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Keys { dir }
    }

    /// Makes a key file; returns (path, public key hex).
    fn make(&self, name: &str) -> (String, String) {
        let path = self.dir.join(name);
        let out = ok(&["keygen", "--out", path.to_str().unwrap()]);
        let public = out
            .lines()
            .find_map(|l| l.strip_prefix("public key"))
            .unwrap()
            .trim()
            .to_owned();
        (path.to_str().unwrap().to_owned(), public)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

impl Drop for Keys {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

const T0: &str = "1767225600";

#[test]
fn issue_delegate_inspect_round_trip() {
    let keys = Keys::new("ok");
    let (root_key, root) = keys.make("root.key");
    let (a_key, a) = keys.make("a.key");
    let (_, b) = keys.make("b.key");
    let chain = ok(&[
        "token",
        "issue",
        "--key",
        &root_key,
        "--subject",
        &a,
        "--scope",
        "publish,subscribe,delegate",
        "--channel",
        "sensors/lidar",
        "--not-before",
        T0,
        "--ttl",
        "3600",
        "--depth",
        "2",
        "--nonce",
        "1",
    ]);
    let chain = chain.trim();
    assert_eq!(chain.len(), 2 * (1 + 201));
    // Same inputs, same bytes: the signature is deterministic.
    let again = ok(&[
        "token",
        "issue",
        "--key",
        &root_key,
        "--subject",
        &a,
        "--scope",
        "publish,subscribe,delegate",
        "--channel",
        "sensors/lidar",
        "--not-before",
        T0,
        "--ttl",
        "3600",
        "--depth",
        "2",
        "--nonce",
        "1",
    ]);
    assert_eq!(again.trim(), chain);

    // Delegate to b, written as raw bytes to a file.
    let file = keys.path("b.chain");
    let file_s = file.to_str().unwrap();
    ok(&[
        "token",
        "delegate",
        "--key",
        &a_key,
        "--token",
        chain,
        "--subject",
        &b,
        "--scope",
        "subscribe",
        "--not-before",
        T0,
        "--ttl",
        "60",
        "--out",
        file_s,
    ]);
    assert_eq!(std::fs::read(&file).unwrap().len(), 1 + 2 * 201);

    let shown = ok(&[
        "token",
        "inspect",
        "--token",
        file_s,
        "--root",
        &root,
        "--now",
        "1767225630",
    ]);
    assert!(shown.contains("link 1"), "{shown}");
    assert!(shown.contains("scope        subscribe"), "{shown}");
    assert!(shown.contains("depth        1"), "{shown}");
    assert!(
        shown.contains(&format!("valid: grants {b} subscribe")),
        "{shown}"
    );
    assert!(shown.contains("until 1767225660"), "{shown}");
    // Without roots it prints but does not verify.
    let plain = ok(&["token", "inspect", "--token", file_s]);
    assert!(plain.contains("not verified"), "{plain}");

    // Refusals, each with its reason.
    refused(
        &[
            "token",
            "inspect",
            "--token",
            file_s,
            "--root",
            &a,
            "--now",
            "1767225630",
        ],
        "untrusted_root",
    );
    refused(
        &[
            "token",
            "inspect",
            "--token",
            file_s,
            "--root",
            &root,
            "--now",
            "1767300000",
        ],
        "expired",
    );
    refused(
        &[
            "token",
            "delegate",
            "--key",
            &a_key,
            "--token",
            chain,
            "--subject",
            &b,
            "--scope",
            "admin",
            "--not-before",
            T0,
        ],
        "widened",
    );
    refused(
        &[
            "token",
            "delegate",
            "--key",
            &root_key,
            "--token",
            chain,
            "--subject",
            &b,
            "--not-before",
            T0,
        ],
        "not_subject",
    );
    // A truncated chain file.
    let bytes = std::fs::read(&file).unwrap();
    let cut = keys.path("cut.chain");
    std::fs::write(&cut, &bytes[..300]).unwrap();
    refused(
        &["token", "inspect", "--token", cut.to_str().unwrap()],
        "truncated at 300 bytes",
    );
}

#[test]
fn bad_input_is_a_clear_error() {
    let keys = Keys::new("bad");
    let (root_key, root) = keys.make("root.key");
    refused(
        &[
            "token",
            "issue",
            "--key",
            &root_key,
            "--subject",
            "xyz",
            "--scope",
            "all",
            "--channel-hash",
            "any",
        ],
        "--subject",
    );
    refused(
        &[
            "token",
            "issue",
            "--key",
            &root_key,
            "--subject",
            &root,
            "--scope",
            "write",
            "--channel-hash",
            "any",
        ],
        "unknown scope",
    );
    refused(
        &[
            "token",
            "issue",
            "--key",
            &root_key,
            "--subject",
            &root,
            "--scope",
            "all",
        ],
        "--channel",
    );
    refused(
        &[
            "token",
            "issue",
            "--key",
            &root_key,
            "--subject",
            &root,
            "--scope",
            "all",
            "--channel",
            "bad//name",
        ],
        "--channel",
    );
    refused(
        &[
            "token",
            "issue",
            "--key",
            "/nonexistent/k",
            "--subject",
            &root,
            "--scope",
            "all",
            "--channel-hash",
            "any",
        ],
        "key file",
    );
    refused(
        &["token", "inspect", "--token", "zz-not-hex"],
        "neither hex nor a readable file",
    );
    refused(&["token", "inspect", "--token", "00"], "no token");
    let missing = Path::new("/nonexistent/chain");
    refused(
        &["token", "inspect", "--token", missing.to_str().unwrap()],
        "neither hex nor a readable file",
    );
    // Usage errors (clap) exit 2.
    let out = net(&["token", "mint"]);
    assert_eq!(out.status.code(), Some(2));
}
