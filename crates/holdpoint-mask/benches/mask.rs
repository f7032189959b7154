//! Masking cost against a plain JSON parse of the same input.
//!
//! `cargo bench -p holdpoint-mask --bench mask`
//!
//! - A typical 1 KB params object: median µs of `mask_value` on the parsed value, and of
//!   parse + `mask_value`, against the median µs of `serde_json::from_str`.
//! - A 10 MB document (a JSON array of such objects, each a little different): MB/s of
//!   `mask_text` over the raw text, of `mask_value` over the parsed value, and of
//!   `from_str` + `mask_value`, against MB/s of `from_str` alone.
//!
//! The machine's speed may drift while this runs (other tenants, clocks), so the things
//! compared are measured in turns, round after round, and each figure is a median over
//! rounds. Times are by wall clock and by this thread's CPU time (from
//! `/proc/thread-self/schedstat`), which other processes on the machine do not inflate.
#![allow(clippy::indexing_slicing)]
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

/// Nanoseconds this thread has spent on a CPU (Linux), so that other processes' load
/// on the machine does not count; `None` elsewhere.
fn cpu_ns() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

/// Seconds per call, by wall clock and by CPU time.
#[derive(Clone, Copy)]
struct Time {
    wall: f64,
    cpu: f64,
}

/// Times each of `jobs` in turn, `rounds` times, `per_batch` calls at a time, after one
/// unmeasured round: the median seconds per call of each.
fn measure(rounds: usize, per_batch: usize, jobs: &mut [&mut dyn FnMut()]) -> Vec<Time> {
    let mut samples: Vec<(Vec<f64>, Vec<f64>)> = vec![(Vec::new(), Vec::new()); jobs.len()];
    for round in 0..=rounds {
        for (job, (wall, cpu)) in jobs.iter_mut().zip(samples.iter_mut()) {
            let (start, start_cpu) = (Instant::now(), cpu_ns());
            for _ in 0..per_batch {
                job();
            }
            if round == 0 {
                continue;
            }
            wall.push(start.elapsed().as_secs_f64() / per_batch as f64);
            if let (Some(a), Some(b)) = (start_cpu, cpu_ns()) {
                cpu.push((b - a) / 1e9 / per_batch as f64);
            }
        }
    }
    samples
        .into_iter()
        .map(|(wall, cpu)| {
            let wall = median(wall);
            let cpu = if cpu.is_empty() { wall } else { median(cpu) };
            Time { wall, cpu }
        })
        .collect()
}

/// One line of the table: ours against the baseline, in `unit`.
fn row(what: &str, ours: f64, base: f64, unit: &str) {
    let ratio = if unit == "MB/s" {
        base / ours
    } else {
        ours / base
    };
    println!("  {what:<42} {ours:>10.2} {base:>10.2}  {unit:<5} {ratio:>6.2}x");
}

fn main() {
    let key = [7u8; 32];
    let redactor = Redactor::new(&key, &MaskConfig::default()).expect("redactor");

    let one = params(7);
    let value: Value = serde_json::from_str(&one).expect("params parse");
    let masked = serde_json::to_string(&redactor.mask_value(&value)).expect("serialise");
    for raw in ["Tr0ub4dor", "s3cr3t", "alice.7@", "oncall@", "Zx8Qm2Lp"] {
        assert!(!masked.contains(raw), "{raw} leaked: {masked}");
    }

    // Batches of 5,000 calls (a tenth of a second or so): one clock reading per batch,
    // and long enough for the CPU-time counter, which may advance only at scheduler ticks.
    let small = measure(
        15,
        5_000,
        &mut [
            &mut || {
                black_box(serde_json::from_str::<Value>(black_box(&one)).expect("parse"));
            },
            &mut || {
                black_box(redactor.mask_value(black_box(&value)));
            },
            &mut || {
                let v: Value = serde_json::from_str(black_box(&one)).expect("parse");
                black_box(redactor.mask_value(&v));
            },
        ],
    );
    let [parse, mask, parse_mask] = [small[0], small[1], small[2]];

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
    let parsed: Value = serde_json::from_str(&doc).expect("parse");
    let masked_doc = redactor.mask_text(&doc);
    assert!(!masked_doc.contains("Tr0ub4dor"), "the document leaked");
    let big = measure(
        7,
        1,
        &mut [
            &mut || {
                black_box(serde_json::from_str::<Value>(black_box(&doc)).expect("parse"));
            },
            &mut || {
                black_box(redactor.mask_text(black_box(&doc)));
            },
            &mut || {
                black_box(redactor.mask_value(black_box(&parsed)));
            },
            &mut || {
                let v: Value = serde_json::from_str(black_box(&doc)).expect("parse");
                black_box(redactor.mask_value(&v));
            },
        ],
    );
    let [doc_parse, doc_text, doc_walk, doc_value] = [big[0], big[1], big[2], big[3]];

    println!(
        "1 KB object: {} bytes; document: {mb:.1} MB, {i} objects; baseline: serde_json::from_str::<Value>",
        one.len()
    );
    for (title, cpu) in [
        (
            "CPU time (this thread only: other processes' load does not count)",
            true,
        ),
        ("wall clock", false),
    ] {
        let at = |t: Time| if cpu { t.cpu } else { t.wall };
        println!("{title}");
        println!(
            "  {:<42} {:>10} {:>10}  {:<5} {:>7}",
            "what", "holdpoint", "baseline", "unit", "ratio"
        );
        row(
            "1 KB: mask_value, median per call",
            at(mask) * 1e6,
            at(parse) * 1e6,
            "µs",
        );
        row(
            "1 KB: from_str + mask_value",
            at(parse_mask) * 1e6,
            at(parse) * 1e6,
            "µs",
        );
        row(
            "10 MB: mask_text on the raw text",
            mb / at(doc_text),
            mb / at(doc_parse),
            "MB/s",
        );
        row(
            "10 MB: mask_value on the parsed value",
            mb / at(doc_walk),
            mb / at(doc_parse),
            "MB/s",
        );
        row(
            "10 MB: from_str + mask_value",
            mb / at(doc_value),
            mb / at(doc_parse),
            "MB/s",
        );
    }
}
