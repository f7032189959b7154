mod common;
#[test]
#[ignore]
fn perf_loop() {
    let text = std::fs::read_to_string("/tmp/hpmask/obj.json").unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let r = common::redactor();
    let t = std::time::Instant::now();
    for _ in 0..200_000 {
        std::hint::black_box(r.mask_value(std::hint::black_box(&v)));
    }
    println!("{:.2} us", t.elapsed().as_secs_f64() / 200_000.0 * 1e6);
}
#[test]
#[ignore]
fn perf_doc() {
    let text = std::fs::read_to_string("/tmp/hpmask/obj.json").unwrap();
    let doc = format!("[{}]", vec![text.trim(); 10000].join(","));
    let r = common::redactor();
    let t = std::time::Instant::now();
    for _ in 0..5 {
        std::hint::black_box(r.mask_text(std::hint::black_box(&doc)));
    }
    println!(
        "{:.1} MB/s",
        doc.len() as f64 * 5.0 / 1e6 / t.elapsed().as_secs_f64()
    );
}
