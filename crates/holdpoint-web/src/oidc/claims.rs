//! Who the verified claims name, to holdpoint: a user (or an admin, by a configured
//! rule) whose groups are the provider's plus those of the `[[users]]` entry with the
//! same name or email. The implicit groups (`agents`, `users`, `admins`) mean a kind and
//! are never taken from a provider.

use super::OidcConfig;
use holdpoint_core::{Identity, Principal, PrincipalKind};
use holdpoint_gate::{Directory, is_implicit_group, valid_name};
use serde_json::Value;

/// People whose `claim` equals `value` (or, for a list, contains it) sign in as admins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminRule {
    pub claim: String,
    pub value: String,
}

/// The claim as a list of strings: a string is a list of one.
fn strings(claims: &Value, name: &str) -> Vec<String> {
    match claims.get(name) {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

pub fn identity(
    claims: &Value,
    config: &OidcConfig,
    directory: &Directory,
) -> Result<Identity, String> {
    let name = claims
        .get(&config.username_claim)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("the ID token has no `{}` claim", config.username_claim))?
        .to_ascii_lowercase();
    if !valid_name(&name) {
        return Err(format!(
            "the name `{}` cannot be a holdpoint user name",
            holdpoint_core::text::inert(&name)
        ));
    }
    // Only an e-mail the provider verified says who someone is.
    let verified = claims.get("email_verified").and_then(Value::as_bool) == Some(true);
    let email = claims
        .get("email")
        .and_then(Value::as_str)
        .filter(|_| verified);
    let entry = match directory.user(&name) {
        // An entry with an e-mail is this person only if the provider verified that
        // e-mail for them: a provider name alone could be anyone's choosing.
        Some(entry) => match &entry.email {
            Some(known) if email.is_some_and(|e| e.eq_ignore_ascii_case(known)) => Some(entry),
            Some(_) => {
                return Err(format!(
                    "`{name}` is in [[users]] with an e-mail the provider did not verify for this sign-in"
                ));
            }
            None => Some(entry),
        },
        None => email.and_then(|e| directory.by_email(e)),
    };
    let mut groups: Vec<String> = strings(claims, &config.groups_claim)
        .into_iter()
        .filter(|g| valid_name(g))
        .collect();
    if let Some(entry) = entry {
        groups.extend(entry.groups.iter().cloned());
    }
    groups.retain(|g| !is_implicit_group(g));
    groups.sort();
    groups.dedup();
    let admin = config
        .admin
        .as_ref()
        .is_some_and(|rule| strings(claims, &rule.claim).contains(&rule.value));
    let kind = if admin {
        PrincipalKind::Admin
    } else {
        PrincipalKind::User
    };
    Ok(Identity {
        principal: Principal::new(kind, name),
        groups,
        owner: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use holdpoint_gate::DirectoryUser;
    use serde_json::json;

    #[test]
    fn groups_merge_with_the_directory_and_a_claim_makes_admins() {
        let mut config = OidcConfig::new("https://idp", "hp", "s");
        config.admin = Some(AdminRule {
            claim: "groups".into(),
            value: "holdpoint-admins".into(),
        });
        let directory = Directory::new(vec![DirectoryUser {
            name: "al".into(),
            email: Some("Alice@Example.com".into()),
            groups: vec!["sre".into()],
            slack_id: None,
        }]);
        let alice = identity(
            &json!({"preferred_username": "Alice", "email": "alice@example.com",
                    "email_verified": true, "groups": ["dba", "admins", "bad group"]}),
            &config,
            &directory,
        );
        let alice = alice.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            alice.principal,
            Principal::new(PrincipalKind::User, "alice")
        );
        assert_eq!(
            alice.groups,
            vec!["dba", "sre"],
            "no implicit or malformed groups"
        );

        let admin = identity(
            &json!({"preferred_username": "root", "groups": ["holdpoint-admins"]}),
            &config,
            &directory,
        );
        assert_eq!(admin.map(|i| i.principal.kind), Ok(PrincipalKind::Admin));
        assert!(identity(&json!({"sub": "x"}), &config, &directory).is_err());
        // An unverified e-mail gives nobody another person's groups.
        let mallory = identity(
            &json!({"preferred_username": "mallory", "email": "alice@example.com",
                    "email_verified": false}),
            &config,
            &directory,
        );
        assert_eq!(mallory.map(|i| i.groups), Ok(Vec::<String>::new()));
        // A provider name that is a directory entry's, without that entry's verified
        // e-mail, is refused.
        assert!(
            identity(
                &json!({"preferred_username": "al", "email": "mallory@example.com",
                        "email_verified": true}),
                &config,
                &directory
            )
            .is_err()
        );
        assert!(
            identity(
                &json!({"preferred_username": "a b\u{1b}[2J"}),
                &config,
                &directory
            )
            .is_err()
        );
    }
}
