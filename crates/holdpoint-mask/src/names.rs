//! Whether a field name (a JSON key, a `KEY=value` name, a `--flag`) names a secret.
//!
//! A name is split into words (`DB_PASSWORD`, `x-api-key`, `sessionId`, `clientSecret`)
//! and also read compacted (`dbpassword`). It names a secret when the compact form
//! contains a secret word, or a word is a short secret word on its own (`db_pass`,
//! `auth`), unless its last word says it is about a secret rather than the secret
//! itself (`max_tokens`, `secret_name`, `password_file`, `session_timeout`).

use aho_corasick::AhoCorasick;
use std::sync::LazyLock;

/// A secret name holds one of these, in any case and whatever its separators: one
/// search passes over most names before any other work. Also the text detectors'
/// prefilter for `KEY=value` forms.
pub(crate) const SECRET_WORDS: [&str; 9] = [
    "pass",
    "pw",
    "secret",
    "token",
    "key",
    "auth",
    "cookie",
    "session",
    "credential",
];

static ANY_WORD: LazyLock<Option<AhoCorasick>> = LazyLock::new(|| {
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(SECRET_WORDS)
        .ok()
});

/// Found anywhere in the compacted name.
const CONTAINS: [&str; 15] = [
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "accesskey",
    "privatekey",
    "authorization",
    "cookie",
    "session",
    "credential",
    "signingkey",
    "encryptionkey",
    "authkey",
];

/// Secret only as a whole word: `db_pass` yes, `bypass` no.
const WORDS: [&str; 4] = ["pass", "pwd", "pw", "auth"];

/// Names that contain a secret word but are well known not to be secrets.
const KNOWN_BENIGN: [&str; 2] = ["pwd", "oldpwd"];

/// A last word that makes the name describe a secret rather than hold one.
const BENIGN_LAST: [&str; 40] = [
    "count",
    "counts",
    "type",
    "types",
    "kind",
    "timeout",
    "ttl",
    "expiry",
    "expires",
    "expiration",
    "expired",
    "length",
    "len",
    "limit",
    "limits",
    "usage",
    "name",
    "names",
    "enabled",
    "required",
    "policy",
    "url",
    "uri",
    "endpoint",
    "path",
    "file",
    "dir",
    "ref",
    "version",
    "format",
    "at",
    "in",
    "used",
    "remaining",
    "tokens",
    "tokenizer",
    "budget",
    "arn",
    "hint",
    "rotation",
];

/// Whether `name` names a secret.
pub(crate) fn is_secret_name(name: &str) -> bool {
    if name.len() > 200 || ANY_WORD.as_ref().is_some_and(|ac| !ac.is_match(name)) {
        return false;
    }
    let mut words = Words::default();
    let mut prev_lower = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase() && prev_lower {
                words.finish();
            }
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
            words.compact.push(c.to_ascii_lowercase());
        } else {
            prev_lower = false;
            words.finish();
        }
    }
    words.finish();
    let compact = words.compact.as_str();
    if KNOWN_BENIGN.contains(&compact) {
        return false;
    }
    let secret = words.short_word || CONTAINS.iter().any(|w| compact.contains(w));
    let last = compact.get(words.last_start..).unwrap_or_default();
    let benign_last = (words.count > 1 && BENIGN_LAST.contains(&last)) || compact == "tokens";
    secret && !benign_last
}

/// The words of a name, kept as one compacted string and a little bookkeeping.
#[derive(Default)]
struct Words {
    compact: String,
    start: usize,
    last_start: usize,
    count: usize,
    short_word: bool,
}

impl Words {
    /// Ends the word being read, if any.
    fn finish(&mut self) {
        if self.compact.len() == self.start {
            return;
        }
        let word = self.compact.get(self.start..).unwrap_or_default();
        self.short_word |= WORDS.contains(&word);
        self.last_start = self.start;
        self.start = self.compact.len();
        self.count += 1;
    }
}

/// Whether `name` is one of `list`, ignoring ASCII case.
pub(crate) fn listed(list: &[String], name: &str) -> bool {
    list.iter().any(|f| f.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::is_secret_name;

    #[test]
    fn secret_names_are_recognised() {
        for name in [
            "password",
            "DB_PASSWORD",
            "passwd",
            "db_pass",
            "x-api-key",
            "apiKey",
            "api_key",
            "clientSecret",
            "client_secret",
            "access_key",
            "AWS_SECRET_ACCESS_KEY",
            "private_key",
            "Authorization",
            "Cookie",
            "set-cookie",
            "sessionId",
            "session",
            "refresh_token",
            "GITHUB_TOKEN",
            "auth",
            "--db-password",
            "credentials",
        ] {
            assert!(is_secret_name(name), "{name} should name a secret");
        }
    }

    #[test]
    fn ordinary_names_are_not_secrets() {
        for name in [
            "user",
            "email",
            "max_tokens",
            "tokens",
            "token_count",
            "input_tokens",
            "secret_name",
            "password_file",
            "session_timeout",
            "author",
            "bypass",
            "compass",
            "PWD",
            "OLDPWD",
            "keyboard",
            "key",
            "id",
            "",
            "___",
        ] {
            assert!(!is_secret_name(name), "{name} should not name a secret");
        }
    }
}
