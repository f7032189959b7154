fn main() {
    let sql = "SELECT abalance FROM pgbench_accounts WHERE aid = 48213;";
    let n = 20000;
    let t = std::time::Instant::now();
    for _ in 0..n {
        let _ = pg_query::parse(sql, 0).unwrap();
    }
    println!("parse {:?}", t.elapsed() / n);
    let t = std::time::Instant::now();
    for _ in 0..n {
        let p = pg_query::parse(sql, 0).unwrap();
        let _ = serde_json::to_value(&p.protobuf).unwrap();
    }
    println!("parse+json {:?}", t.elapsed() / n);
    let t = std::time::Instant::now();
    for _ in 0..n {
        let _ = holdpoint_pg::classify(sql);
    }
    println!("classify {:?}", t.elapsed() / n);
    let t = std::time::Instant::now();
    for _ in 0..n {
        let _ = pg_query::fingerprint(sql, 0, 0).unwrap();
    }
    println!("fingerprint {:?}", t.elapsed() / n);
    let t = std::time::Instant::now();
    for _ in 0..n {
        let _ = pg_query::scan(sql).unwrap();
    }
    println!("scan {:?}", t.elapsed() / n);
}
#[allow(dead_code)]
fn scan() {}
