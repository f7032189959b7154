//! Who acts: the principal of DESIGN §1 and the identity a token resolves to.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use utoipa::ToSchema;

/// The three kinds of principal. Only humans (`user`, `admin`) ever review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PrincipalKind {
    /// An AI agent, pipeline or bot: submits, never reviews.
    Agent,
    /// A human: submits, reviews where policy names one of their groups.
    User,
    /// A human who manages tokens and config; reviews only like a user.
    Admin,
}

impl PrincipalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::Agent => "agent",
            PrincipalKind::User => "user",
            PrincipalKind::Admin => "admin",
        }
    }

    /// Humans may review; agents never do (DESIGN §2.2).
    pub fn is_human(self) -> bool {
        !matches!(self, PrincipalKind::Agent)
    }

    /// The group every principal of this kind is implicitly a member of
    /// (`agents`, `users`, `admins`), so policies can say `principal in Group::"agents"`.
    pub fn implicit_group(self) -> &'static str {
        match self {
            PrincipalKind::Agent => "agents",
            PrincipalKind::User => "users",
            PrincipalKind::Admin => "admins",
        }
    }
}

impl fmt::Display for PrincipalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PrincipalKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "agent" => Ok(PrincipalKind::Agent),
            "user" => Ok(PrincipalKind::User),
            "admin" => Ok(PrincipalKind::Admin),
            other => Err(format!(
                "unknown principal kind `{other}`: expected agent, user or admin"
            )),
        }
    }
}

/// Principal names are unique across kinds and compared case-insensitively (DESIGN §1).
pub fn same_name(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Who acts, by kind and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub struct Principal {
    pub kind: PrincipalKind,
    pub name: String,
}

impl Principal {
    pub fn new(kind: PrincipalKind, name: impl Into<String>) -> Self {
        Principal {
            kind,
            name: name.into(),
        }
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.name)
    }
}

/// What a bearer token resolves to: the principal, its groups, and for an agent the
/// human who owns it (barred from reviewing under `@separate`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub principal: Principal,
    /// Explicit groups, from the token and the `[[users]]` directory. The implicit
    /// group of the kind is not listed here; see [`Identity::all_groups`].
    pub groups: Vec<String>,
    pub owner: Option<String>,
}

impl Identity {
    /// Every group the principal is in, the implicit one of its kind included.
    pub fn all_groups(&self) -> Vec<String> {
        let mut groups = self.groups.clone();
        let implicit = self.principal.kind.implicit_group().to_string();
        if !groups.contains(&implicit) {
            groups.push(implicit);
        }
        groups
    }

    /// True when this identity is `principal` (names compared case-insensitively).
    pub fn is(&self, principal: &Principal) -> bool {
        self.principal.kind == principal.kind && same_name(&self.principal.name, &principal.name)
    }

    pub fn in_group(&self, group: &str) -> bool {
        group == self.principal.kind.implicit_group() || self.groups.iter().any(|g| g == group)
    }
}
