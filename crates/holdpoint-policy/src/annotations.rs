//! The annotations holdpoint reads (DESIGN §3), checked once at compile time.
//!
//! `@id`, `@hold`, `@approvers`, `@quorum`, `@expires`, `@separate`, `@grant`,
//! `@slack_channel` and `@reason`. Anything else is left alone, so teams can add their own (`@owner`, …).

use crate::HoldDefaults;
use crate::error::PolicyError;
use cedar_policy as cedar;
use holdpoint_core::duration::parse_duration;
use std::time::Duration;

/// The annotations that only make sense next to `@hold`.
const HOLD_ONLY: [&str; 6] = [
    "approvers",
    "quorum",
    "expires",
    "separate",
    "grant",
    "slack_channel",
];

/// What holdpoint knows about one policy besides its Cedar meaning.
#[derive(Debug, Clone)]
pub(crate) struct Meta {
    pub id: String,
    pub file: String,
    pub line: usize,
    /// Present on a permit with `@hold`; defaults already applied.
    pub hold: Option<HoldSpec>,
    /// `@reason` of a forbid.
    pub reason: Option<String>,
}

/// The terms one holding permit asks for.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HoldSpec {
    pub title: String,
    pub approvers: Vec<String>,
    pub quorum: u32,
    pub expires: Duration,
    pub separate: bool,
    pub grant: Option<Duration>,
    /// `@slack_channel("C…")`: where Slack asks about this hold instead of `[slack]`'s.
    pub slack_channel: Option<String>,
}

/// The policy's name: its `@id`, else `file:line`.
pub(crate) fn policy_id(
    policy: &cedar::Policy,
    file: &str,
    line: usize,
) -> Result<String, PolicyError> {
    let fallback = format!("{file}:{line}");
    match policy.annotation("id") {
        None => Ok(fallback),
        Some(id) if id.trim().is_empty() => Err(PolicyError::Annotation {
            policy: fallback,
            file: file.into(),
            line,
            message: "`@id` is empty: give the policy a name, like `@id(\"prod-schema-change\")`"
                .into(),
        }),
        Some(id) => Ok(id.trim().to_string()),
    }
}

/// Reads and checks the annotations of one policy.
pub(crate) fn read(
    policy: &cedar::Policy,
    id: String,
    file: &str,
    line: usize,
    defaults: &HoldDefaults,
) -> Result<Meta, PolicyError> {
    let bad = |message: String| PolicyError::Annotation {
        policy: id.clone(),
        file: file.into(),
        line,
        message,
    };
    if let Some(name) = capitalised_principal(policy) {
        return Err(bad(format!(
            "principal names are lowercase (they are compared case-insensitively): \
             write `{}` instead of `{name}`",
            name.to_ascii_lowercase()
        )));
    }
    let forbid = policy.effect() == cedar::Effect::Forbid;
    let hold = match policy.annotation("hold") {
        Some(_) if forbid => {
            return Err(bad(
                "`@hold` is for permits: a forbid refuses outright (use `@reason` to explain)"
                    .into(),
            ));
        }
        Some(title) => Some(hold_spec(policy, title, defaults).map_err(bad)?),
        None => {
            if let Some(name) = HOLD_ONLY
                .iter()
                .find(|name| policy.annotation(name).is_some())
            {
                return Err(bad(format!(
                    "`@{name}` needs `@hold(\"title\")` on the same policy"
                )));
            }
            None
        }
    };
    let reason = if forbid {
        policy
            .annotation("reason")
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_string)
    } else {
        None
    };
    Ok(Meta {
        id,
        file: file.into(),
        line,
        hold,
        reason,
    })
}

/// An `Agent::"…"` or `User::"…"` with capitals anywhere in the policy (scope or
/// conditions), which would never match: holdpoint lowercases principal names.
fn capitalised_principal(policy: &cedar::Policy) -> Option<String> {
    let json = policy.to_json().ok()?;
    find_capitalised(&json)
}

fn find_capitalised(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::Object(map) => {
            let entity = map.get("__entity").or_else(|| map.get("entity"));
            if let Some(serde_json::Value::Object(e)) = entity
                && let (Some(ty), Some(id)) = (
                    e.get("type").and_then(|t| t.as_str()),
                    e.get("id").and_then(|i| i.as_str()),
                )
                && (ty == "Agent" || ty == "User")
                && id.chars().any(|c| c.is_ascii_uppercase())
            {
                return Some(format!("{ty}::\"{id}\""));
            }
            map.values().find_map(find_capitalised)
        }
        serde_json::Value::Array(items) => items.iter().find_map(find_capitalised),
        _ => None,
    }
}

fn hold_spec(
    policy: &cedar::Policy,
    title: &str,
    defaults: &HoldDefaults,
) -> Result<HoldSpec, String> {
    let title = title.trim();
    if title.is_empty() {
        return Err("`@hold` needs a title for reviewers, like `@hold(\"Schema change\")`".into());
    }
    let approvers = match policy.annotation("approvers") {
        Some(list) => approvers(list)?,
        None => defaults.approvers.clone(),
    };
    let quorum = match policy.annotation("quorum") {
        Some(text) => quorum(text)?,
        None => 1,
    };
    let expires = match policy.annotation("expires") {
        Some(text) => bounded_duration("expires", text, defaults.max_duration)?,
        None => defaults.expiry,
    };
    let separate = match policy.annotation("separate") {
        None => false,
        Some("") => true,
        Some(value) => {
            return Err(format!(
                "`@separate` takes no value, but has `{value}`: write `@separate` alone"
            ));
        }
    };
    let grant = policy
        .annotation("grant")
        .map(|text| bounded_duration("grant", text, defaults.max_duration))
        .transpose()?;
    let slack_channel = match policy.annotation("slack_channel").map(str::trim) {
        None => None,
        Some(id) if !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric()) => {
            Some(id.to_string())
        }
        Some(other) => {
            return Err(format!(
                "`@slack_channel` takes a channel id like `C0123456789`, not `{other}`"
            ));
        }
    };
    Ok(HoldSpec {
        title: title.to_string(),
        approvers,
        quorum,
        expires,
        separate,
        grant,
        slack_channel,
    })
}

fn approvers(list: &str) -> Result<Vec<String>, String> {
    let mut groups: Vec<String> = Vec::new();
    for group in list.split(',').map(str::trim).filter(|g| !g.is_empty()) {
        if group.chars().any(char::is_whitespace) {
            return Err(format!(
                "`@approvers` group `{group}` contains a space: separate groups with commas"
            ));
        }
        if !groups.iter().any(|g| g == group) {
            groups.push(group.to_string());
        }
    }
    if groups.is_empty() {
        return Err(format!(
            "`@approvers(\"{list}\")` names no group: list groups like `@approvers(\"sre, dba\")`"
        ));
    }
    Ok(groups)
}

fn quorum(text: &str) -> Result<u32, String> {
    match text.trim().parse::<u32>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!(
            "bad `@quorum` `{text}`: expected a whole number of approvers, 1 or more"
        )),
    }
}

/// A duration longer than zero and at most `max` (`[approvals] max_duration`).
fn bounded_duration(name: &str, text: &str, max: Duration) -> Result<Duration, String> {
    let duration = parse_duration(text).map_err(|e| format!("bad `@{name}`: {e}"))?;
    if duration.is_zero() {
        return Err(format!("bad `@{name}` `{text}`: must be longer than zero"));
    }
    if duration > max {
        return Err(format!(
            "bad `@{name}` `{text}`: longer than the {} allowed (`[approvals] max_duration`)",
            holdpoint_core::duration::format_duration(max)
        ));
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> HoldDefaults {
        HoldDefaults {
            approvers: vec!["admins".into()],
            expiry: Duration::from_secs(900),
            max_duration: crate::MAX_DURATION,
        }
    }

    fn meta(text: &str) -> Result<Meta, PolicyError> {
        let policy = cedar::Policy::parse(None, text).unwrap();
        let id = policy_id(&policy, "t.cedar", 3)?;
        read(&policy, id, "t.cedar", 3, &defaults())
    }

    #[test]
    fn hold_terms_with_defaults_and_overrides() {
        let m = meta("@hold(\"h\") permit(principal, action, resource);").unwrap();
        let spec = m.hold.unwrap();
        assert_eq!(spec.approvers, vec!["admins".to_string()]);
        assert_eq!((spec.quorum, spec.expires), (1, Duration::from_secs(900)));
        assert!(!spec.separate && spec.grant.is_none());

        let m = meta(
            "@id(\"x\") @hold(\"h\") @approvers(\"sre, dba,sre\") @quorum(\"2\") @expires(\"30m\") @separate @grant(\"10m\") permit(principal, action, resource);",
        )
        .unwrap();
        assert_eq!(m.id, "x");
        let spec = m.hold.unwrap();
        assert_eq!(spec.approvers, vec!["sre".to_string(), "dba".to_string()]);
        assert_eq!(spec.quorum, 2);
        assert_eq!(spec.expires, Duration::from_secs(1800));
        assert!(spec.separate);
        assert_eq!(spec.grant, Some(Duration::from_secs(600)));
    }

    #[test]
    fn bad_values_are_refused() {
        for text in [
            "@hold(\"h\") @quorum(\"0\") permit(principal, action, resource);",
            "@hold(\"h\") @quorum(\"two\") permit(principal, action, resource);",
            "@hold(\"h\") @expires(\"soon\") permit(principal, action, resource);",
            "@hold(\"h\") @grant(\"0s\") permit(principal, action, resource);",
            "@hold(\"h\") @expires(\"300000y\") permit(principal, action, resource);",
            "@hold(\"h\") @expires(\"31d\") permit(principal, action, resource);",
            "@hold(\"h\") @grant(\"1000y\") permit(principal, action, resource);",
            "@hold(\"h\") @approvers(\" , \") permit(principal, action, resource);",
            "@hold(\"h\") @separate(\"no\") permit(principal, action, resource);",
            "@hold(\"h\") @slack_channel(\"#general\") permit(principal, action, resource);",
            "@slack_channel(\"C1\") permit(principal, action, resource);",
            "@hold(\"\") permit(principal, action, resource);",
            "@hold(\"h\") forbid(principal, action, resource);",
            "@quorum(\"2\") permit(principal, action, resource);",
            "@id(\" \") permit(principal, action, resource);",
            "forbid(principal == Agent::\"CI-Bot\", action, resource);",
            "forbid(principal, action, resource) when { principal == Agent::\"CI-Bot\" };",
            "forbid(principal, action, resource) when { [User::\"Bob\"].contains(principal) };",
        ] {
            let err = meta(text)
                .err()
                .unwrap_or_else(|| panic!("accepted: {text}"));
            assert!(
                matches!(&err, PolicyError::Annotation { line: 3, file, .. } if file == "t.cedar"),
                "{err}"
            );
        }
    }

    #[test]
    fn reasons_and_unknown_annotations() {
        let m =
            meta("@reason(\"no\") @owner(\"team\") forbid(principal, action, resource);").unwrap();
        assert_eq!(m.reason.as_deref(), Some("no"));
        assert_eq!(m.id, "t.cedar:3");
    }
}
