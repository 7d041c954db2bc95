//! Identity key files: save/load round trip, 0600 permissions, refusing to replace, refusing
//! open permissions, and typed errors for every malformed file.

use std::os::unix::fs::PermissionsExt as _;
use std::path::PathBuf;

use net::identity::{Identity, KEY_FILE_TAG, KeyFileError};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("net-keyfile-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn save_then_load_gives_the_same_identity_with_mode_0600() {
    let dir = scratch("roundtrip");
    let path = dir.join("node.key");
    let id = Identity::from_seed(&[7u8; 32]);
    id.save(&path, false).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text, format!("{KEY_FILE_TAG} {}\n", "07".repeat(32)));
    let back = Identity::load(&path).unwrap();
    assert_eq!(back.node_id(), id.node_id());
    assert_eq!(back.public_key(), id.public_key());
    assert_eq!(back.static_public(), id.static_public());
    // No temporary file is left behind.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);

    // A generated identity round-trips too.
    let fresh = Identity::generate().unwrap();
    let p2 = dir.join("fresh.key");
    fresh.save(&p2, false).unwrap();
    assert_eq!(Identity::load(&p2).unwrap().node_id(), fresh.node_id());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_existing_key_is_replaced_only_when_asked() {
    let dir = scratch("replace");
    let path = dir.join("node.key");
    let a = Identity::from_seed(&[1u8; 32]);
    let b = Identity::from_seed(&[2u8; 32]);
    a.save(&path, false).unwrap();
    assert!(matches!(b.save(&path, false), Err(KeyFileError::Exists(_))));
    assert_eq!(Identity::load(&path).unwrap().node_id(), a.node_id());
    b.save(&path, true).unwrap();
    assert_eq!(Identity::load(&path).unwrap().node_id(), b.node_id());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_files_are_typed_errors() {
    let dir = scratch("bad");
    let good = format!("{KEY_FILE_TAG} {}\n", "ab".repeat(32));

    let open = dir.join("open.key");
    std::fs::write(&open, &good).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = Identity::load(&open).unwrap_err();
    assert!(
        matches!(err, KeyFileError::TooOpen { mode: 0o644, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("chmod 600"));
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert!(Identity::load(&open).is_ok());

    for (name, content) in [
        ("empty", Vec::new()),
        ("text", b"hello world\n".to_vec()),
        ("short", format!("{KEY_FILE_TAG} abcd\n").into_bytes()),
        ("binary", vec![0u8; 90]),
        ("huge", good.repeat(100).into_bytes()),
    ] {
        let p = dir.join(name);
        std::fs::write(&p, &content).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(
            matches!(Identity::load(&p), Err(KeyFileError::BadFormat(_))),
            "{name}"
        );
    }

    assert!(matches!(
        Identity::load(&dir.join("missing.key")),
        Err(KeyFileError::Io { op: "open", .. })
    ));
    let id = Identity::from_seed(&[3u8; 32]);
    assert!(matches!(
        id.save(&dir.join("no-such-dir").join("k"), false),
        Err(KeyFileError::Io { .. })
    ));
    // Converts into the engine's error with a message naming the problem.
    let e: net::Error = KeyFileError::BadFormat("x".into()).into();
    assert_eq!(e.kind(), net::ErrorKind::InvalidArgument);
    std::fs::remove_dir_all(&dir).unwrap();
}
