//! The digest is injective on the params it accepts (issue 6): two different params never
//! share a digest, including neighbours that differ by the smallest step a number can
//! take.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use holdpoint_core::digest::{Binding, MAX_EXACT_INTEGER, action_digest, check_params};
use holdpoint_core::{Principal, PrincipalKind};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

const MAX: i64 = MAX_EXACT_INTEGER as i64;

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        (-MAX..=MAX).prop_map(|n| json!(n)),
        prop_oneof![Just(MAX), Just(MAX - 1), Just(-MAX), Just(0), Just(1)].prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("a finite number with a fraction", |f| f.is_finite()
                && f.fract() != 0.0)
            .prop_map(|f| json!(f)),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        "[a-z0-9 .]{0,6}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-c]{1,2}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn params() -> impl Strategy<Value = Value> {
    prop::collection::btree_map("[a-d]{1,2}", value(), 0..5)
        .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>()))
}

fn digest(params: &Value) -> String {
    let p = Principal::new(PrincipalKind::Agent, "bot");
    let binding = Binding {
        surface: "api",
        pin: None,
    };
    action_digest(&p, "db.write", "pg/prod", "prod", params, binding)
}

/// The same params with its first number moved by the smallest step it can take.
fn nudge(value: &Value) -> Option<Value> {
    match value {
        Value::Number(n) => Some(match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => json!(if i < MAX { i + 1 } else { i - 1 }),
            (None, Some(f)) => {
                // The nearest neighbour that is still a number with a fraction (between
                // 2^52 and 2^53 both neighbours of `x.5` are whole: then none).
                let up = f64::from_bits(f.to_bits() + 1);
                let down = f64::from_bits(f.to_bits() - 1);
                match [up, down].into_iter().find(|n| n.fract() != 0.0) {
                    Some(n) => json!(n),
                    None => return None,
                }
            }
            _ => return None,
        }),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
            nudge(item).map(|changed| {
                let mut items = items.clone();
                items[i] = changed;
                Value::Array(items)
            })
        }),
        Value::Object(map) => map.iter().find_map(|(k, item)| {
            nudge(item).map(|changed| {
                let mut map = map.clone();
                map.insert(k.clone(), changed);
                Value::Object(map)
            })
        }),
        _ => None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn distinct_params_have_distinct_digests(a in params(), b in params()) {
        prop_assert!(check_params(&a).is_ok(), "{a}");
        prop_assert!(check_params(&b).is_ok(), "{b}");
        prop_assert_eq!(a == b, digest(&a) == digest(&b), "{} vs {}", a, b);
    }

    #[test]
    fn the_nearest_neighbour_of_a_number_has_another_digest(a in params()) {
        if let Some(b) = nudge(&a) {
            prop_assert!(check_params(&b).is_ok(), "{b}");
            prop_assert_ne!(a.clone(), b.clone());
            prop_assert_ne!(digest(&a), digest(&b), "{} vs {}", a, b);
        }
    }

    #[test]
    fn floats_next_to_whole_numbers_are_kept_apart(n in 0u64..(1 << 52)) {
        let f = n as f64 + 0.5;
        let a = json!({"x": f});
        prop_assert!(check_params(&a).is_ok());
        prop_assert_ne!(digest(&a), digest(&json!({"x": n})));
    }

    #[test]
    fn a_number_and_its_text_differ(n in -MAX..=MAX) {
        prop_assert_ne!(digest(&json!({"n": n})), digest(&json!({"n": n.to_string()})));
    }
}
