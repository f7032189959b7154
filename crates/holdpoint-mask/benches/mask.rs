//! Masking cost against a plain JSON parse of the same input.
//!
//! `cargo bench -p holdpoint-mask --bench mask`
//!
//! - A typical 1 KB params object: median µs of `mask_value` on the parsed value, and of
//!   parse + `mask_value`, against the median µs of `serde_json::from_str`.
//! - A 10 MB document (a JSON array of such objects, each a little different): MB/s of
//!   `mask_text` over the raw text, and of `from_str` + `mask_value`, against MB/s of
//!   `from_str` alone.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use holdpoint_mask::{MaskConfig, Redactor};
use serde_json::Value;
use std::hint::black_box;
use std::time::Instant;

fn params(i: usize) -> String {
    format!(
        r#"{{
  "sql": "ALTER ROLE app_{i} WITH LOGIN PASSWORD 'Tr0ub4dor&3-{i}'; GRANT SELECT ON orders TO app_{i};",
  "database": "postgres://app_{i}:s3cr3t-{i}@db-{i}.internal:5432/orders?sslmode=require",
  "requested_by": "alice.{i}@example.com",
  "notify": ["oncall@example.com", "dba-team@example.com"],
  "action_id": "01HZX3K4M5N6P7Q8R9S0T1V2W{n}",
  "request_id": "550e8400-e29b-41d4-a716-44665544{i:04}",
  "commit": "9fceb02d0ae598e95dc970b74767f19372d6{i:04}",
  "created_at": "2024-05-01T12:{m:02}:00Z",
  "justification": "Rotating the reporting role's password after the quarterly audit; ticket OPS-{i}.",
  "config": {{
    "retries": 3,
    "timeout_ms": 5000,
    "pool": {{"min": 2, "max": 20, "idle_timeout": "10m"}},
    "labels": {{"team": "data-platform", "env": "prod", "region": "eu-west-1"}},
    "paths": ["/var/lib/holdpoint/reports/q2.csv", "/etc/holdpoint/holdpoint.toml"],
    "flags": {{"dry_run": false, "verbose": true}}
  }},
  "api_key": "Zx8Qm2LpR7vN4tK9sW3yB6cH{i:04}"
}}"#,
        n = i % 10,
        m = i % 60,
    )
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// Median seconds of `f` over `runs` runs, after `warm` unmeasured ones.
fn time(runs: usize, warm: usize, mut f: impl FnMut()) -> f64 {
    for _ in 0..warm {
        f();
    }
    median(
        (0..runs)
            .map(|_| {
                let start = Instant::now();
                f();
                start.elapsed().as_secs_f64()
            })
            .collect(),
    )
}

fn row(what: &str, ours: f64, base: f64, unit: &str) {
    let ratio = if unit == "MB/s" {
        base / ours
    } else {
        ours / base
    };
    println!("{what:<44} {ours:>10.2} {base:>10.2}  {unit:<5} {ratio:>6.2}x");
}

fn main() {
    let key = [7u8; 32];
    let redactor = Redactor::new(&key, &MaskConfig::default()).expect("redactor");

    let one = params(7);
    let value: Value = serde_json::from_str(&one).expect("params parse");
    let masked = redactor.mask_value(&value);
    let masked_text = serde_json::to_string(&masked).expect("serialise");
    for raw in ["Tr0ub4dor", "s3cr3t", "alice.7@", "oncall@", "Zx8Qm2Lp"] {
        assert!(!masked_text.contains(raw), "{raw} leaked: {masked_text}");
    }

    let runs = 20_000;
    let parse = time(runs, 2_000, || {
        black_box(serde_json::from_str::<Value>(black_box(&one)).expect("parse"));
    });
    let mask = time(runs, 2_000, || {
        black_box(redactor.mask_value(black_box(&value)));
    });
    let parse_mask = time(runs, 2_000, || {
        let v: Value = serde_json::from_str(black_box(&one)).expect("parse");
        black_box(redactor.mask_value(&v));
    });

    let mut doc = String::from("[");
    let mut i = 0;
    while doc.len() < 10 * 1024 * 1024 {
        if i > 0 {
            doc.push(',');
        }
        doc.push_str(&params(i));
        i += 1;
    }
    doc.push(']');
    let mb = doc.len() as f64 / 1e6;
    let doc_parse = time(5, 1, || {
        black_box(serde_json::from_str::<Value>(black_box(&doc)).expect("parse"));
    });
    let doc_text = time(5, 1, || {
        black_box(redactor.mask_text(black_box(&doc)));
    });
    let doc_value = time(5, 1, || {
        let v: Value = serde_json::from_str(black_box(&doc)).expect("parse");
        black_box(redactor.mask_value(&v));
    });
    let masked_doc = redactor.mask_text(&doc);
    assert!(!masked_doc.contains("Tr0ub4dor"), "the document leaked");

    println!(
        "1 KB object: {} bytes; document: {:.1} MB, {i} objects",
        one.len(),
        mb
    );
    println!(
        "{:<44} {:>10} {:>10}  {:<5} {:>7}",
        "what", "holdpoint", "baseline", "unit", "ratio"
    );
    row(
        "1 KB: mask_value (parsed) vs from_str",
        mask * 1e6,
        parse * 1e6,
        "µs",
    );
    row(
        "1 KB: from_str + mask_value vs from_str",
        parse_mask * 1e6,
        parse * 1e6,
        "µs",
    );
    row(
        "10 MB: mask_text (raw text) vs from_str",
        mb / doc_text,
        mb / doc_parse,
        "MB/s",
    );
    row(
        "10 MB: from_str + mask_value vs from_str",
        mb / doc_value,
        mb / doc_parse,
        "MB/s",
    );
}
