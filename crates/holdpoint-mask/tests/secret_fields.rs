//! Values named by a secret key, in text: SQL, shell command lines, headers, configs.

#![allow(clippy::indexing_slicing)]

mod common;
use common::{assert_masks, assert_untouched, mask};

#[test]
fn key_value_pairs_are_masked_and_the_key_stays() {
    assert_eq!(
        mask("DB_PASSWORD=hunter2 ./run"),
        format!("DB_PASSWORD={} ./run", only_mask("DB_PASSWORD=hunter2"))
    );
    assert_masks("export API_KEY=abc123", "abc123", "secret_field");
    assert_masks("FOO_TOKEN='tok en' make deploy", "tok en", "secret_field");
    assert_masks("client_secret: s3cr3t", "s3cr3t", "secret_field");
    assert_masks(
        r#"{"password": "hunter2", "user": "bob"}"#,
        "hunter2",
        "secret_field",
    );
    assert_masks(r#"{\"password\": \"hunter2\"}"#, "hunter2", "secret_field");
    assert_masks(
        "https://api.example.com/v1?api_key=abc123&page=2",
        "abc123",
        "secret_field",
    );
    assert_masks("$token = 'abc123';", "abc123", "secret_field");
    assert_masks("sessionId=0a1b2c3d", "0a1b2c3d", "secret_field");
    let out = mask(r#"{"password": "hunter2", "user": "bob"}"#);
    assert!(out.starts_with(r#"{"password": "[secret_field:"#), "{out}");
    assert!(out.ends_with(r#"]", "user": "bob"}"#), "{out}");
}

/// The mask `text` gets, on its own.
#[allow(clippy::unwrap_used)]
fn only_mask(text: &str) -> String {
    let out = mask(text);
    out[out.find('[').unwrap()..].to_string()
}

#[test]
fn harmless_pairs_stay() {
    assert_untouched("max_tokens=1024 temperature=0.2");
    assert_untouched("token_count: 17");
    assert_untouched("PASSWORD=$DB_PASSWORD ./migrate");
    assert_untouched("password: null");
    assert_untouched("secret_name=prod-db");
    assert_untouched("password_file=/run/secrets/db");
    assert_untouched("user=bob role=admin");
}

#[test]
fn shell_flags_are_masked() {
    let out = mask("psql --host db --password hunter2 --dbname orders");
    assert!(
        out.starts_with("psql --host db --password [secret_field:"),
        "{out}"
    );
    assert!(out.ends_with("] --dbname orders"), "{out}");
    assert_masks("tool --password=hunter2", "hunter2", "secret_field");
    assert_masks(
        "gh auth login --with-token x --api-key \"k e y\"",
        "k e y",
        "secret_field",
    );
    assert_untouched("psql --no-password orders");
    assert_untouched("tool --token-file /run/token --verbose");
}

#[test]
fn mysql_short_password_is_masked() {
    let out = mask("mysql -u root -pS3cr3t! -h db orders");
    assert!(out.starts_with("mysql -u root -p[secret_field:"), "{out}");
    assert!(out.ends_with("] -h db orders"), "{out}");
    assert_untouched("mkdir -p /tmp/work");
    assert_untouched("mysql -u root -p -h db");
}

#[test]
fn login_and_sshpass_passwords_are_masked() {
    let out = mask("docker login -u bob -p Zx8Qm2LpR7vN4tK9 registry.example.com");
    assert!(
        out.starts_with("docker login -u bob -p [secret_field:"),
        "{out}"
    );
    assert!(out.ends_with("] registry.example.com"), "{out}");
    assert_masks(
        "sshpass -p 'hunter 2' ssh deploy@host",
        "hunter 2",
        "secret_field",
    );
    assert_untouched("docker run -p 8080:80 nginx");
}

#[test]
fn curl_user_passwords_are_masked() {
    let out = mask("curl -u deploy:hunter2 https://ci.example.com/job");
    assert!(out.starts_with("curl -u deploy:[basic:"), "{out}");
    assert_masks("curl --user 'deploy:hunter2' https://x", "hunter2", "basic");
    assert_untouched("docker run -u 1000:1000 alpine");
}

#[test]
fn sql_passwords_are_masked_and_the_statement_stays() {
    let out = mask("ALTER ROLE app PASSWORD 'hunter2';");
    assert!(
        out.starts_with("ALTER ROLE app PASSWORD [secret_field:"),
        "{out}"
    );
    assert!(out.ends_with("];"), "{out}");
    assert_masks(
        "CREATE USER app WITH LOGIN PASSWORD 'it''s secret' VALID UNTIL '2030-01-01'",
        "it''s secret",
        "secret_field",
    );
    assert_masks(
        "CREATE USER 'app'@'%' IDENTIFIED BY 'hunter2';",
        "hunter2",
        "secret_field",
    );
    assert_masks(
        "ALTER USER app IDENTIFIED WITH mysql_native_password BY 'hunter2'",
        "hunter2",
        "secret_field",
    );
    assert_masks(
        "UPDATE users SET api_token = 'abc123' WHERE id = 7",
        "abc123",
        "secret_field",
    );
    let out = mask("UPDATE users SET email = 'bob@example.com', api_token = 'abc123' WHERE id = 7");
    assert!(
        out.starts_with("UPDATE users SET email = '[email:"),
        "{out}"
    );
    assert!(out.ends_with("' WHERE id = 7"), "{out}");
}

#[test]
fn sql_without_secrets_stays() {
    assert_untouched(
        "SELECT id, name FROM users WHERE created_at > '2024-05-01T12:00:00Z' LIMIT 10",
    );
    assert_untouched("ALTER TABLE users ADD COLUMN password_hash text");
    assert_untouched("DROP TABLE sessions_archive");
}

#[test]
fn headers_are_masked() {
    assert_masks("X-Api-Key: abcdef123456", "abcdef123456", "secret_field");
    let out = mask("Cookie: theme=dark; session=0a1b2c3d4e");
    assert!(!out.contains("0a1b2c3d4e"), "{out}");
    assert!(out.contains("session=[secret_field:"), "{out}");
    assert_masks(
        "Set-Cookie: sid=abc123; Path=/; HttpOnly",
        "abc123",
        "secret_field",
    );
    assert_untouched("Content-Type: application/json");
}
