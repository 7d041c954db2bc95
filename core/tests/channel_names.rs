//! Channel names, patterns, configs and the registry: validation rules at their boundaries,
//! hierarchy helpers, wildcard matching, config checks, registry lookups and the default
//! fallback.

use net::channel::{
    AccessError, CapabilityRequirement, ChannelConfig, ChannelName, ChannelPattern,
    ChannelRegistry, ConfigError, MAX_NAME_LEN, MAX_SEGMENT_LEN, MAX_SEGMENTS, NameError,
    PatternError, RateLimit, RegistryError, Reliability, Visibility,
};
use net::identity::NodeId;
use proptest::prelude::*;

fn name(s: &str) -> ChannelName {
    ChannelName::parse(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
}

/// An oracle written from the rules, independent of the parser's single pass.
fn oracle_valid(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_NAME_LEN
        && s.split('/').count() <= MAX_SEGMENTS
        && s.split('/').all(|seg| {
            !seg.is_empty()
                && seg.len() <= MAX_SEGMENT_LEN
                && seg != "."
                && seg != ".."
                && seg
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
        })
}

#[test]
fn every_single_byte_name() {
    for b in 0u8..=127 {
        let s = (b as char).to_string();
        let r = ChannelName::parse(&s);
        match b {
            b'.' => assert_eq!(r.unwrap_err(), NameError::DotSegment { index: 0 }),
            b'/' => assert_eq!(r.unwrap_err(), NameError::EmptySegment { index: 0 }),
            _ if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' => {
                assert_eq!(r.unwrap().as_str(), s)
            }
            _ => assert_eq!(
                r.unwrap_err(),
                NameError::InvalidChar {
                    offset: 0,
                    ch: b as char
                }
            ),
        }
    }
}

#[test]
fn limits_at_their_boundaries() {
    let seg = "a".repeat(MAX_SEGMENT_LEN);
    assert!(ChannelName::parse(&seg).is_ok());
    assert_eq!(
        ChannelName::parse(&format!("x/{seg}b")).unwrap_err(),
        NameError::SegmentTooLong {
            index: 1,
            len: 65,
            max: 64
        }
    );
    let longest = [&"b".repeat(63)[..]; 4].join("/");
    assert_eq!(longest.len(), MAX_NAME_LEN);
    assert!(ChannelName::parse(&longest).is_ok());
    assert_eq!(
        ChannelName::parse(&format!("{longest}c")).unwrap_err(),
        NameError::TooLong { len: 256, max: 255 }
    );
    let sixteen = vec!["s"; MAX_SEGMENTS].join("/");
    assert_eq!(name(&sixteen).depth(), 16);
    assert_eq!(
        ChannelName::parse(&format!("{sixteen}/s")).unwrap_err(),
        NameError::TooManySegments { max: 16 }
    );
}

#[test]
fn errors_name_the_problem() {
    let e = ChannelName::parse("sensors/li dar").unwrap_err();
    assert_eq!(e.kind(), "invalid_char");
    let msg = e.to_string();
    assert!(msg.contains("' '") && msg.contains("byte 10"), "{msg}");
    let e = ChannelName::parse("sensors/ä").unwrap_err();
    assert_eq!(
        e,
        NameError::InvalidChar {
            offset: 8, ch: 'ä'
        }
    );
    assert!(
        ChannelName::parse("a//b")
            .unwrap_err()
            .to_string()
            .contains("segment 1 is empty")
    );
}

#[test]
fn hierarchy_helpers() {
    let n = name("sensors/lidar/front");
    assert_eq!(n.depth(), 3);
    assert_eq!(
        n.segments().collect::<Vec<_>>(),
        ["sensors", "lidar", "front"]
    );
    assert_eq!(n.parent(), Some(name("sensors/lidar")));
    assert_eq!(name("sensors").parent(), None);
    assert!(name("sensors/lidar").is_prefix_of(&n));
    assert!(n.is_prefix_of(&n));
    assert!(!name("sensors/lid").is_prefix_of(&n));
    assert!(!n.is_prefix_of(&name("sensors/lidar")));
    // Case matters.
    assert_ne!(name("Sensors"), name("sensors"));
    assert_ne!(name("Sensors").hash(), name("sensors").hash());
    let parsed: ChannelName = "a/b".parse().unwrap();
    assert_eq!(parsed, name("a/b"));
    assert_eq!(parsed.to_string(), "a/b");
}

#[test]
fn patterns() {
    let p = |s: &str| ChannelPattern::parse(s).unwrap();
    assert!(p("sensors/*/front").matches(&name("sensors/lidar/front")));
    assert!(!p("sensors/*/front").matches(&name("sensors/lidar")));
    assert!(p("sensors/**").matches(&name("sensors")));
    assert!(p("sensors/**").matches(&name("sensors/a/b/c/d")));
    assert!(!p("sensors/**").matches(&name("sensorsa/b")));
    assert!(p("*/*/**").matches(&name("a/b")));
    assert!(!p("*/*/**").matches(&name("a")));
    assert!(p("a/b").is_exact() && !p("a/*").is_exact() && !p("a/**").is_exact());
    let exact = ChannelPattern::from(&name("a/b"));
    assert!(exact.matches(&name("a/b")) && !exact.matches(&name("a/b/c")));
    assert_eq!(
        ChannelPattern::parse("a/**/b").unwrap_err(),
        PatternError::DoubleStarNotLast { index: 1 }
    );
    assert_eq!(
        ChannelPattern::parse("a/b*").unwrap_err(),
        PatternError::PartialWildcard { index: 1 }
    );
    assert_eq!(
        ChannelPattern::parse("a/./*").unwrap_err(),
        PatternError::Name(NameError::DotSegment { index: 1 })
    );
    assert_eq!(
        ChannelPattern::parse("a/b c").unwrap_err(),
        PatternError::Name(NameError::InvalidChar { offset: 3, ch: ' ' })
    );
    let seventeen = vec!["*"; 17].join("/");
    assert_eq!(
        ChannelPattern::parse(&seventeen).unwrap_err().kind(),
        "too_many_segments"
    );
}

#[test]
fn config_validation_and_access() {
    assert!(ChannelConfig::default().validate().is_ok());
    assert_eq!(
        ChannelConfig::with_visibility(Visibility::private([])).validate(),
        Err(ConfigError::EmptyPeerList)
    );
    let mut c = ChannelConfig {
        rate_limit: Some(RateLimit {
            per_sec: 0,
            burst: 1,
        }),
        ..ChannelConfig::default()
    };
    assert_eq!(
        c.validate(),
        Err(ConfigError::ZeroRateLimit { field: "per_sec" })
    );
    c.rate_limit = Some(RateLimit {
        per_sec: 1,
        burst: 0,
    });
    assert_eq!(
        c.validate(),
        Err(ConfigError::ZeroRateLimit { field: "burst" })
    );
    c.rate_limit = None;
    c.subscribe_caps = CapabilityRequirement::all_of(["gpu", "bad tag"]);
    assert!(matches!(
        c.validate(),
        Err(ConfigError::BadCapabilityTag {
            field: "subscribe_caps",
            ..
        })
    ));

    let (a, b) = (NodeId(1), NodeId(2));
    let private = ChannelConfig {
        visibility: Visibility::private([b, a, a]),
        publish_caps: CapabilityRequirement::all_of(["role:sensor"]),
        subscribe_caps: CapabilityRequirement::all_of(["gpu", "tag:x"]),
        require_token: true,
        rate_limit: None,
        reliability: Reliability::Reliable,
    };
    assert!(private.validate().is_ok());
    assert_eq!(private.visibility, Visibility::Private(vec![a, b]));
    assert!(private.check_subscribe(a, false, &["tag:x", "gpu"]).is_ok());
    assert_eq!(
        private.check_subscribe(a, false, &["gpu"]),
        Err(AccessError::MissingCapability("tag:x".into()))
    );
    assert_eq!(
        private.check_subscribe(NodeId(3), true, &["gpu", "tag:x"]),
        Err(AccessError::NotVisible)
    );
    assert!(private.check_publish(b, false, &["role:sensor"]).is_ok());
    assert!(private.check_publish(b, false, &[] as &[&str]).is_err());

    // A hand-built, unsorted list is answered correctly too.
    let unsorted = Visibility::Private(vec![NodeId(9), NodeId(3), NodeId(5)]);
    assert!([3, 5, 9].iter().all(|&p| unsorted.admits(NodeId(p), false)));
    assert!(!unsorted.admits(NodeId(4), true));

    let local = ChannelConfig::with_visibility(Visibility::SubnetLocal);
    assert!(local.check_publish(NodeId(9), true, &[] as &[&str]).is_ok());
    assert_eq!(
        local.check_publish(NodeId(9), false, &[] as &[&str]),
        Err(AccessError::NotVisible)
    );
}

#[test]
fn registry_lookups_and_default() {
    let mut r = ChannelRegistry::new();
    let front = name("sensors/lidar/front");
    let rear = name("sensors/lidar/rear");
    let cfg = ChannelConfig {
        require_token: true,
        ..ChannelConfig::default()
    };
    r.register(front.clone(), cfg.clone()).unwrap();
    r.register(rear.clone(), ChannelConfig::default()).unwrap();
    assert_eq!(
        r.register(front.clone(), ChannelConfig::default()),
        Err(RegistryError::AlreadyRegistered(front.clone()))
    );
    assert!(matches!(
        r.register(
            name("x"),
            ChannelConfig::with_visibility(Visibility::private([]))
        ),
        Err(RegistryError::InvalidConfig(ConfigError::EmptyPeerList))
    ));
    assert_eq!(r.len(), 2);
    assert_eq!(r.get(&front), Some(&cfg));
    let (n, c) = r.get_by_hash(front.hash()).unwrap();
    assert_eq!((n, c), (&front, &cfg));
    let by_hint: Vec<_> = r.by_hint(front.hint()).map(|(n, _)| n.clone()).collect();
    assert_eq!(by_hint, vec![front.clone()]);
    assert_eq!(
        r.matching(&ChannelPattern::parse("sensors/**").unwrap()),
        vec![&front, &rear]
    );

    // Unregistered channels fall back to the default, which is global unless configured.
    let other = name("alerts/temperature");
    let res = r.resolve(&other);
    assert!(!res.registered);
    assert_eq!(res.config.visibility, Visibility::Global);
    r.set_default_visibility(Visibility::SubnetLocal).unwrap();
    assert_eq!(r.resolve(&other).config.visibility, Visibility::SubnetLocal);
    assert_eq!(
        r.resolve_hash(other.hash()).config.visibility,
        Visibility::SubnetLocal
    );
    // A registered channel keeps its own visibility.
    assert!(r.resolve(&front).registered);
    assert_eq!(r.resolve(&front).config.visibility, Visibility::Global);
    assert!(r.set_default_visibility(Visibility::private([])).is_err());
    assert_eq!(r.default_config().visibility, Visibility::SubnetLocal);

    let old = r.update(&front, ChannelConfig::default()).unwrap();
    assert_eq!(old, cfg);
    assert_eq!(
        r.update(&other, ChannelConfig::default()),
        Err(RegistryError::NotRegistered(other.clone()))
    );
    assert_eq!(r.unregister(&front), Some(ChannelConfig::default()));
    assert_eq!(r.by_hint(front.hint()).count(), 0);
    assert!(r.get_by_hash(front.hash()).is_none());
    assert!(!r.resolve(&front).registered);
    assert_eq!(r.len(), 1);
}

proptest! {
    #[test]
    fn parse_agrees_with_the_oracle(s in "[a-c./_*: -]{0,12}(/[a-c.]{0,3}){0,3}") {
        let r = ChannelName::parse(&s);
        prop_assert_eq!(r.is_ok(), oracle_valid(&s), "{:?} -> {:?}", s, r);
        if let Ok(n) = r {
            prop_assert_eq!(n.as_str(), s.as_str());
            prop_assert_eq!(ChannelName::hash_of(&s).unwrap(), n.hash());
            // An exact pattern of a valid name matches it; `**` matches everything.
            prop_assert!(ChannelPattern::from(&n).matches(&n));
            prop_assert!(ChannelPattern::parse("**").unwrap().matches(&n));
        }
    }

    #[test]
    fn arbitrary_strings_never_panic(s in "\\PC{0,300}") {
        let _ = ChannelName::parse(&s);
        let _ = ChannelPattern::parse(&s);
    }

    #[test]
    fn star_matches_exactly_one_more_segment(base in "[a-z]{1,5}", extra in prop::collection::vec("[a-z0-9]{1,4}", 0..4)) {
        let star = ChannelPattern::parse(&format!("{base}/*")).unwrap();
        let tail = ChannelPattern::parse(&format!("{base}/**")).unwrap();
        let mut text = base.clone();
        for e in &extra {
            text.push('/');
            text.push_str(e);
        }
        let n = name(&text);
        prop_assert_eq!(star.matches(&n), extra.len() == 1);
        prop_assert!(tail.matches(&n));
    }
}

#[test]
fn errors_map_onto_engine_kinds() {
    use net::{Error, ErrorKind};
    let e: Error = ChannelName::parse("a//b").unwrap_err().into();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.to_string().contains("segment 1 is empty"), "{e}");
    let e: Error = ChannelPattern::parse("a/**/b").unwrap_err().into();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    let mut r = ChannelRegistry::new();
    let bad = ChannelConfig {
        rate_limit: Some(RateLimit {
            per_sec: 5,
            burst: 0,
        }),
        ..ChannelConfig::default()
    };
    let e: Error = r.register(name("x"), bad).unwrap_err().into();
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(
        matches!(&e, Error::Config { key, .. } if key == "channel.rate_limit.burst"),
        "{e:?}"
    );
    r.register(name("x"), ChannelConfig::default()).unwrap();
    let e: Error = r
        .register(name("x"), ChannelConfig::default())
        .unwrap_err()
        .into();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
}

#[test]
fn publish_bucket_enforces_the_rate_limit() {
    use net::channel::{PublishBucket, RateLimited};
    const MS: u64 = 1_000_000;
    let mut b = PublishBucket::new(
        RateLimit {
            per_sec: 10,
            burst: 3,
        },
        0,
    );
    for _ in 0..3 {
        assert!(b.try_take(0).is_ok());
    }
    assert_eq!(
        b.try_take(0),
        Err(RateLimited {
            retry_after_ns: 100 * MS
        })
    );
    assert_eq!(
        b.try_take(40 * MS),
        Err(RateLimited {
            retry_after_ns: 60 * MS
        })
    );
    assert!(b.try_take(100 * MS).is_ok());
    // One attempt per millisecond for 10 s: 10 per second pass, nothing more.
    let passed = (101..10_101u64)
        .filter(|ms| b.try_take(ms * MS).is_ok())
        .count();
    assert_eq!(passed, 100);
    // A long pause refills only up to the burst; a clock step back refills nothing.
    let t = 100_000 * MS;
    let burst = (0..10).filter(|_| b.try_take(t).is_ok()).count();
    assert_eq!(burst, 3);
    assert!(b.try_take(t - 50_000 * MS).is_err());
}
