//! `net keygen`: writes a 0600 key file, refuses to replace it without --force, shows the same
//! identity back, and reports bad files and flags as errors.

use std::os::unix::fs::PermissionsExt as _;
use std::process::{Command, Output};

fn net(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_net"))
        .args(args)
        .output()
        .expect("run net")
}

fn field<'a>(out: &'a str, name: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.strip_prefix(name))
        .unwrap_or_else(|| panic!("no {name} in {out}"))
        .trim()
}

#[test]
fn keygen_writes_shows_and_refuses_to_replace() {
    let dir = std::env::temp_dir().join(format!("net-keygen-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("node.key");
    let key_s = key.to_str().unwrap();

    let made = net(&["keygen", "--out", key_s]);
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let made = String::from_utf8(made.stdout).unwrap();
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let node_id = field(&made, "node id").to_owned();
    assert_eq!(node_id.len(), 16);
    assert_eq!(field(&made, "public key").len(), 64);
    assert_eq!(field(&made, "card").len(), 256);
    // The seed is not printed.
    let seed = std::fs::read_to_string(&key).unwrap();
    let seed_hex = seed.split_whitespace().nth(1).unwrap();
    assert!(!made.contains(seed_hex));

    let shown = net(&["keygen", "--show", key_s]);
    assert!(shown.status.success());
    let shown = String::from_utf8(shown.stdout).unwrap();
    assert_eq!(shown, made, "--show prints the same identity");

    let again = net(&["keygen", "--out", key_s]);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    assert_eq!(std::fs::read_to_string(&key).unwrap(), seed, "not replaced");

    let forced = net(&["keygen", "--out", key_s, "--force"]);
    assert!(forced.status.success());
    let forced = String::from_utf8(forced.stdout).unwrap();
    assert_ne!(field(&forced, "node id"), node_id, "a new identity");

    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o640)).unwrap();
    let open = net(&["keygen", "--show", key_s]);
    assert_eq!(open.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&open.stderr).contains("chmod 600"));

    for bad in [
        &["keygen"][..],
        &["keygen", "--out", key_s, "--show", key_s],
        &["keygen", "--show", key_s, "--force"],
    ] {
        assert_eq!(net(bad).status.code(), Some(2), "{bad:?}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
