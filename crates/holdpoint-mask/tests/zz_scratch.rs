mod common;
#[test]
fn show() {
    for t in [
        "psql 'postgres://app:s3cr3t@db.internal:5432/orders' -c \"ALTER ROLE app PASSWORD 'hunter2'\"",
        "curl -sS -H 'Authorization: Bearer eyJhbGciOiAiSFMyNTYiLCAidHlwIjogIkpXVCJ9.eyJzdWIiOiAiMTIzNDU2Nzg5MCIsICJuYW1lIjogIkFsaWNlIn0.HUQPFeNBTxaQWk8JzFalHlsZfYcMMDktXP_tKsf2rcD' -u deploy:hunter2 https://api.example.com",
        "Rotating the reporting role's password after the quarterly audit; ticket OPS-12. Ping alice@example.com or +1 415 555 2671.",
        "export AWS_ACCESS_KEY_ID=AKIAFKKIBJ3J4WJ99IBA AWS_SECRET_ACCESS_KEY=nr3yBdGBLEPH1qhT61qtc4xatws8phP9nhFyJfm5 && aws s3 ls",
        "kubectl create secret generic db --from-literal=password=hunter2 --from-literal=username=app",
        "docker login -u bob -p Zx8Qm2LpR7vN4tK9 registry.example.com",
        "git push https://x-access-token:ghs_u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8d@github.com/acme/app.git main",
        "SELECT * FROM users WHERE email = 'bob@example.com' AND ssn = '123-45-6789'",
        "INSERT INTO cards (pan, iban) VALUES ('4111 1111 1111 1111', 'DE89370400440532013000')",
        "the session was fine; token: it expired",
        "The meeting is at 10:30 on 2024-05-01, room 4.12, budget 1,250,000 USD, 3.14159",
    ] {
        println!("{t}\n  -> {}\n", common::mask(t));
    }
    let v: serde_json::Value = serde_json::from_str(r#"{"sql":"ALTER ROLE app PASSWORD 'x'","env":{"DB_PASSWORD":"x","HOME":"/home/app","GITHUB_TOKEN":"ghp_u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8d"},"headers":{"Authorization":"Bearer abc","Accept":"application/json"},"max_tokens":1024}"#).unwrap();
    println!(
        "{}",
        serde_json::to_string_pretty(&common::redactor().mask_value(&v)).unwrap()
    );
}
