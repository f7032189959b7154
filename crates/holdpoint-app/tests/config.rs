//! `holdpoint.toml` through the app: secrets by environment variable name. The `_env`
//! keys are read from the `Env` the app is given (never the process's); the old key
//! names still work, with one warning each at load; and a value that looks like a
//! secret is refused at load without any part of it in the message.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use holdpoint_app::{App, Config};
use holdpoint_core::env::MapEnv;

const SLACK_BOT: &str = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx";
const WEBHOOK: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// Every piece of `secret` long enough to recognise.
fn pieces(secret: &str) -> Vec<&str> {
    secret
        .split(['-', '_'])
        .filter(|p| p.len() >= 4)
        .chain([secret])
        .collect()
}

fn refused(text: &str, secret: &str) -> String {
    let err = Config::parse(text)
        .expect_err("refused at load")
        .to_string();
    for piece in pieces(secret) {
        assert!(!err.contains(piece), "`{piece}` is in: {err}");
    }
    err
}

#[test]
fn a_pasted_secret_is_refused_at_load_without_being_echoed() {
    let err = refused(
        &format!("[slack]\nchannel = \"C1\"\nbot_token = \"{SLACK_BOT}\"\n"),
        SLACK_BOT,
    );
    assert!(err.starts_with("[slack] bot_token:"), "{err}");
    assert!(err.contains("looks like a secret"), "{err}");
    let err = refused(
        &format!("[slack]\nchannel = \"C1\"\nbot_token_env = \"{SLACK_BOT}\"\n"),
        SLACK_BOT,
    );
    assert!(err.starts_with("[slack] bot_token_env:"), "{err}");
    let app_token = "xapp-1-A0123456789-1234567890123-abcdef0123456789";
    refused(
        &format!("[slack]\nchannel = \"C1\"\nsocket_mode = true\napp_token = \"{app_token}\"\n"),
        app_token,
    );
    let signing = "8f742231b10e8888abcd99yyyzzz85a5";
    refused(
        &format!("[slack]\nchannel = \"C1\"\nsigning_secret_env = \"{signing}\"\n"),
        signing,
    );
    for key in ["secret", "secret_env"] {
        let err = refused(
            &format!(
                "[[webhooks]]\nname = \"siem\"\nurl = \"https://siem.test/h\"\n{key} = \"{WEBHOOK}\"\n"
            ),
            WEBHOOK,
        );
        assert!(
            err.starts_with(&format!("[[webhooks]] `siem`: {key}:")),
            "{err}"
        );
    }
    let url = "postgres://agent:s3cretPassw0rd@db.internal/prod";
    refused(
        &format!(
            "[[postgres]]\nname = \"prod\"\nlisten = \"127.0.0.1:0\"\nupstream_env = \"{url}\"\n"
        ),
        url,
    );
    refused(
        &format!(
            "[web.oidc]\nissuer = \"https://idp.test\"\nclient_id = \"hp\"\nclient_secret_env = \"{SLACK_BOT}\"\n"
        ),
        SLACK_BOT,
    );
}

#[test]
fn the_old_key_names_still_work_with_one_warning_each() {
    let config = Config::parse(
        "[slack]\nchannel = \"C1\"\nbot_token = \"MY_BOT\"\nsigning_secret = \"MY_SIGNING\"\n\
         [[webhooks]]\nname = \"siem\"\nurl = \"https://siem.test/h\"\nsecret = \"SIEM\"\n",
    )
    .unwrap();
    assert_eq!(config.warnings.len(), 3, "{:?}", config.warnings);
    assert!(config.warnings[0].contains("`bot_token` is deprecated: call it `bot_token_env`"));
    assert!(config.warnings[1].contains("`signing_secret_env`"));
    assert!(config.warnings[2].contains("`secret` is deprecated: call it `secret_env`"));
    let new = Config::parse(
        "[slack]\nchannel = \"C1\"\nbot_token_env = \"MY_BOT\"\nsigning_secret_env = \"MY_SIGNING\"\n\
         [[webhooks]]\nname = \"siem\"\nurl = \"https://siem.test/h\"\nsecret_env = \"SIEM\"\n",
    )
    .unwrap();
    assert!(new.warnings.is_empty(), "{:?}", new.warnings);
}

/// The app reads what the `_env` keys name from the `Env` it is given: a variable set
/// only there is found, and one missing there stops the build with its name.
#[tokio::test]
async fn secrets_are_read_from_the_env_the_app_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "[store]\nurl = \"sqlite://{}\"\n[[webhooks]]\nname = \"siem\"\nurl = \"http://127.0.0.1:9/h\"\nsecret = \"HOLDPOINT_TEST_SIEM_SECRET\"\n",
        dir.path().join("holdpoint.db").display()
    );
    let missing = App::build(Config::parse(&text).unwrap(), dir.path(), &MapEnv::new()).await;
    let err = missing.err().expect("refused").to_string();
    assert_eq!(
        err,
        "[[webhooks]] `siem`: the environment variable `HOLDPOINT_TEST_SIEM_SECRET` is not set"
    );
    let env = MapEnv::new().with("HOLDPOINT_TEST_SIEM_SECRET", WEBHOOK);
    let app = App::build(Config::parse(&text).unwrap(), dir.path(), &env)
        .await
        .unwrap();
    assert_eq!(app.config().warnings.len(), 1);
    app.close().await;
}
