//! People an identity provider vouched for (a web sign-in with OIDC): they have no
//! token, so without this the release re-check could not see that a reviewer still has
//! the groups their approval counted with. What the provider said holds until the
//! deadline given (the sign-in's absolute timeout), in this process only.

use holdpoint_core::{Identity, Principal, Timestamp};
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Default)]
pub(crate) struct Vouched {
    by_name: Mutex<HashMap<String, (Identity, Timestamp)>>,
}

impl Vouched {
    pub(crate) fn get(&self, principal: &Principal, now: Timestamp) -> Option<Identity> {
        let map = self.by_name.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&principal.name.to_ascii_lowercase())
            .filter(|(identity, until)| identity.principal.kind == principal.kind && now < *until)
            .map(|(identity, _)| identity.clone())
    }
}

impl Vouched {
    /// True when someone vouched for holds `name` now.
    pub(crate) fn names(&self, name: &str, now: Timestamp) -> bool {
        let map = self.by_name.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&name.to_ascii_lowercase())
            .is_some_and(|(_, until)| now < *until)
    }
}

impl crate::Gate {
    /// Records that an identity provider vouched for `identity` (name, kind, groups)
    /// until `until`: reviews they give count with these groups until then. The latest
    /// sign-in replaces an earlier one.
    pub fn vouch(&self, identity: Identity, until: Timestamp) {
        let now = self.clock.now();
        let mut map = self
            .vouched
            .by_name
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        map.retain(|_, (_, u)| now < *u);
        map.insert(
            identity.principal.name.to_ascii_lowercase(),
            (identity, until),
        );
    }
}

impl crate::Gate {
    /// Withdraws what a provider said of `principal` (an admin ended their session):
    /// their reviews no longer count at release, unless they sign in again.
    pub fn unvouch(&self, principal: &Principal) {
        let mut map = self
            .vouched
            .by_name
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let name = principal.name.to_ascii_lowercase();
        if map
            .get(&name)
            .is_some_and(|(identity, _)| identity.principal.kind == principal.kind)
        {
            map.remove(&name);
        }
    }
}

impl crate::Gate {
    /// Refuses a name an identity provider may not give a person: a live token's (an
    /// agent's, or a person who signs in with that token). The audit log, visibility
    /// and the self-review rule tell principals apart by name, and provider names can
    /// be chosen.
    pub async fn provider_may_name(&self, name: &str) -> Result<(), crate::GateError> {
        let taken = self
            .store
            .token_by_name(name)
            .await?
            .is_some_and(|token| token.is_live(self.clock.now()));
        if taken {
            return Err(crate::GateError::Conflict(format!(
                "a live token has the name `{name}`"
            )));
        }
        Ok(())
    }
}
