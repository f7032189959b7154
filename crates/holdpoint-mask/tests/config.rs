//! The `[masking]` settings.

#![allow(clippy::indexing_slicing)]

mod common;
use common::KEY;
use holdpoint_mask::{MaskConfig, MaskError, PatternConfig, Redactor};
use serde_json::json;

#[allow(clippy::unwrap_used)]
fn with(config: MaskConfig) -> Redactor {
    Redactor::new(KEY, &config).unwrap()
}

fn pattern(name: &str, regex: &str) -> PatternConfig {
    PatternConfig {
        name: name.into(),
        regex: regex.into(),
    }
}

#[test]
fn a_disabled_detector_finds_nothing() {
    let text = "mail bob@example.com, call +1 415 555 2671";
    let r = with(MaskConfig {
        disable: vec!["email".into()],
        ..MaskConfig::default()
    });
    let out = r.mask_text(text);
    assert!(out.contains("bob@example.com"), "{out}");
    assert!(!out.contains("555 2671"), "{out}");
}

#[test]
fn disabling_secret_field_stops_key_name_masking() {
    let r = with(MaskConfig {
        disable: vec!["secret_field".into()],
        ..MaskConfig::default()
    });
    assert_eq!(
        r.mask_value(&json!({"password": "x"})),
        json!({"password": "x"})
    );
}

#[test]
fn an_unknown_detector_is_refused_by_name() {
    let err = Redactor::new(
        KEY,
        &MaskConfig {
            disable: vec!["emails".into()],
            ..MaskConfig::default()
        },
    )
    .unwrap_err();
    assert!(matches!(err, MaskError::UnknownDetector(ref n) if n == "emails"));
    assert_eq!(err.to_string(), "unknown masking detector `emails`");
}

#[test]
fn extra_fields_are_secret_in_json_and_text() {
    let r = with(MaskConfig {
        fields: vec!["Pin".into()],
        ..MaskConfig::default()
    });
    let out = r.mask_value(&json!({"pin": 1234, "PIN": "9876", "spin": 3}));
    assert!(
        out["pin"].as_str().unwrap().starts_with("[secret_field:"),
        "{out}"
    );
    assert!(
        out["PIN"].as_str().unwrap().starts_with("[secret_field:"),
        "{out}"
    );
    assert_eq!(out["spin"], 3);
    let text = r.mask_text("pin=1234 spin=3");
    assert!(
        text.starts_with("pin=[secret_field:") && text.ends_with("] spin=3"),
        "{text}"
    );
}

#[test]
fn exempt_fields_are_left_alone_entirely() {
    let r = with(MaskConfig {
        exempt_fields: vec!["session_id".into(), "contact".into()],
        ..MaskConfig::default()
    });
    let params =
        json!({"session_id": "abc", "contact": {"email": "bob@example.com"}, "password": "x"});
    let out = r.mask_value(&params);
    assert_eq!(out["session_id"], "abc");
    assert_eq!(out["contact"], params["contact"]);
    assert_ne!(out["password"], "x");
    assert_eq!(r.mask_text("session_id=abc"), "session_id=abc");
}

#[test]
fn extra_patterns_are_named_in_their_masks() {
    let r = with(MaskConfig {
        patterns: vec![
            pattern("employee_id", r"EMP-\d{6}"),
            pattern("ticket_secret", r"ticket:([a-z]{8})"),
        ],
        ..MaskConfig::default()
    });
    let out = r.mask_text("EMP-123456 opened ticket:abcdefgh");
    assert!(out.starts_with("[employee_id:"), "{out}");
    assert!(out.contains(" opened ticket:[ticket_secret:"), "{out}");
    assert!(
        !out.contains("123456") && !out.contains("abcdefgh"),
        "{out}"
    );
    // Masking again finds nothing new, though the fingerprint has digits.
    assert_eq!(r.mask_text(&out), out);
}

#[test]
fn bad_patterns_are_refused_with_their_name() {
    for (p, why) in [
        (pattern("broken", "EMP-(\\d"), "unclosed group"),
        (pattern("empty", "x*"), "empty string"),
        (pattern("Bad Name", "x"), "lowercase"),
        (pattern("email", "x"), "built-in"),
    ] {
        let name = p.name.clone();
        let err = Redactor::new(
            KEY,
            &MaskConfig {
                patterns: vec![p],
                ..MaskConfig::default()
            },
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, MaskError::BadPattern { .. }), "{msg}");
        assert!(msg.contains(&format!("`{name}`")), "{msg}");
        assert!(msg.contains(why), "{msg}");
    }
}

#[test]
fn a_short_key_is_refused() {
    let err = Redactor::new(b"short", &MaskConfig::default()).unwrap_err();
    assert!(matches!(err, MaskError::ShortKey { len: 5 }));
}

#[test]
fn config_reads_from_its_section_and_refuses_unknown_fields() {
    let config: MaskConfig = serde_json::from_value(json!({
        "disable": ["phone"],
        "patterns": [{"name": "employee_id", "regex": "EMP-\\d{6}"}]
    }))
    .unwrap();
    assert_eq!(config.disable, vec!["phone"]);
    assert!(config.fields.is_empty());
    assert!(serde_json::from_value::<MaskConfig>(json!({"disabled": ["phone"]})).is_err());
    let names = Redactor::detector_names();
    assert_eq!(names.len(), 23);
    assert!(names.contains(&"holdpoint_token") && names.contains(&"high_entropy"));
}
