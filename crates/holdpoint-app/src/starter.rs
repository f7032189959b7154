//! The starter config `holdpoint init` writes.

/// The starter `holdpoint.toml`.
pub const STARTER_CONFIG: &str = r#"# holdpoint configuration. Every section is optional.

[server]
listen = "127.0.0.1:8470"
public_url = "http://127.0.0.1:8470"     # used in links sent to reviewers

[store]
url = "sqlite://holdpoint-data/holdpoint.db"   # or postgres://user@host/db

[policy]
dir = "policies"                         # every .cedar file here; reloaded on change

[approvals]
default_approvers = ["admins"]           # groups asked when a @hold names no @approvers
default_expiry = "15m"                   # when a @hold names no @expires
approval_ttl = "15m"                     # an unused single-use approval lapses after this
max_duration = "30d"                     # the longest @expires or @grant a policy may ask

# What one principal, and all connections together, may use (429 with Retry-After).
[limits]
requests_per_second = 50                 # per principal, sustained (0 = no limit)
request_burst = 100                      # per principal, above the sustained rate
pending_holds = 100                      # per principal
long_polls = 32                          # per principal, open at once
# connections = 4096                     # at once; capped below the descriptor limit
header_timeout = "10s"                   # to send a request's headers
max_token_ttl = "366d"                   # the longest token ttl

# Masking: secrets and personal data are masked before anything leaves the gate.
# [masking]
# disable = ["phone"]                    # detectors to turn off (see docs/masking.md)
# fields = ["internal_ref"]              # more field names whose values are secret
# exempt_fields = ["request_id"]         # field names never masked
# [[masking.patterns]]
# name = "employee_id"
# regex = "EMP-[0-9]{6}"

# Humans and their groups, beyond the groups on their tokens.
# [[users]]
# name = "alice"
# email = "alice@example.com"
# groups = ["dba"]

# Secrets are never written here: each key ending in `_env` names the environment
# variable that holds one.
# [slack]
# channel = "C0APPROVALS"
# bot_token_env = "SLACK_BOT_TOKEN"
# signing_secret_env = "SLACK_SIGNING_SECRET"
# [[webhooks]]
# name = "siem"
# url = "https://siem.example.com/holdpoint"
# secret_env = "SIEM_WEBHOOK_SECRET"
"#;

#[cfg(test)]
mod tests {
    #[test]
    fn the_starter_config_loads() {
        let config = crate::Config::parse(super::STARTER_CONFIG);
        assert!(config.is_ok(), "{:?}", config.err());
    }
}
