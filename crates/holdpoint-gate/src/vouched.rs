//! People an identity provider vouched for (a web sign-in with OIDC): they have no
//! token, so without this the release re-check could not see that a reviewer still has
//! the groups their approval counted with. What the provider said holds until the
//! deadline given (the sign-in's absolute timeout). It is kept in the store, so it
//! survives a restart and every gateway on the same database sees it.

use crate::{Gate, GateError};
use holdpoint_core::{
    Actor, Change, EventType, Identity, NewEvent, Op, Principal, Timestamp, VouchRecord,
};
use serde_json::json;

impl Gate {
    /// Records that an identity provider vouched for `identity` (name, kind, groups)
    /// until `until`: reviews they give count with these groups until then. The latest
    /// sign-in replaces an earlier one. Written with `identity.vouched`; vouches past
    /// their deadline are purged in the same change.
    pub async fn vouch(&self, identity: Identity, until: Timestamp) -> Result<(), GateError> {
        let now = holdpoint_core::audit::truncate_to_micros(self.clock.now());
        let ev = NewEvent::new(
            now,
            EventType::IdentityVouched,
            Actor::system(),
            None,
            json!({"principal": identity.principal, "groups": identity.groups, "until": until}),
        );
        let vouch = VouchRecord {
            identity,
            at: now,
            until,
        };
        self.store
            .apply(Change::new(
                vec![Op::PurgeExpired { now }, Op::Vouch(vouch)],
                vec![ev],
            ))
            .await?;
        Ok(())
    }

    /// Withdraws what a provider said of `principal` (name in any case, same kind):
    /// their reviews no longer count at release, unless they sign in again. Written
    /// with `identity.unvouched` when there was a vouch to withdraw.
    pub async fn unvouch(&self, principal: &Principal) -> Result<(), GateError> {
        let held = self
            .store
            .vouch(&principal.name)
            .await?
            .is_some_and(|v| v.identity.principal.kind == principal.kind);
        if !held {
            return Ok(());
        }
        let ev = NewEvent::new(
            self.clock.now(),
            EventType::IdentityUnvouched,
            Actor::system(),
            None,
            json!({"principal": principal}),
        );
        self.store
            .apply(Change::new(vec![Op::Unvouch(principal.clone())], vec![ev]))
            .await?;
        Ok(())
    }

    /// What a provider said of `principal`, if it still holds at `now`.
    pub(crate) async fn vouched_identity(
        &self,
        principal: &Principal,
        now: Timestamp,
    ) -> Result<Option<Identity>, GateError> {
        Ok(self
            .store
            .vouch(&principal.name)
            .await?
            .filter(|v| v.holds_for(principal, now))
            .map(|v| v.identity))
    }

    /// True when someone a provider vouched for holds `name` now (of any kind).
    pub(crate) async fn vouched_name(&self, name: &str) -> Result<bool, GateError> {
        let now = self.clock.now();
        Ok(self.store.vouch(name).await?.is_some_and(|v| now < v.until))
    }
}
