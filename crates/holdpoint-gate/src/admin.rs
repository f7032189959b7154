//! What only admins may read or do: the audit log and its verification, the outbox's
//! deliveries, the token list and revocation. Every method takes the caller and refuses
//! anyone who is not an admin, so no surface or channel has to remember the rule.

use crate::{Gate, GateError};
use holdpoint_core::audit::ChainReport;
use holdpoint_core::outbox::Delivery;
use holdpoint_core::{AuditEvent, Identity, PrincipalKind, TokenRecord};

/// Outbox items and how many wait to be delivered.
#[derive(Debug, Clone)]
pub struct DeliveryList {
    pub items: Vec<Delivery>,
    pub undelivered: i64,
}

/// Refuses anyone but an admin (403).
pub(crate) fn admin_only(caller: &Identity) -> Result<(), GateError> {
    if caller.principal.kind == PrincipalKind::Admin {
        Ok(())
    } else {
        Err(GateError::Forbidden("only an admin may do this".into()))
    }
}

impl Gate {
    /// Audit events with `seq > after`, in order, at most `limit`.
    pub async fn audit_events(
        &self,
        caller: &Identity,
        after: i64,
        limit: u32,
    ) -> Result<Vec<AuditEvent>, GateError> {
        admin_only(caller)?;
        Ok(self.store.audit_events(after.max(0), limit).await?)
    }

    /// Reads the whole chain and verifies it.
    pub async fn verify_chain(&self, caller: &Identity) -> Result<ChainReport, GateError> {
        admin_only(caller)?;
        Ok(self.store.verify_chain().await?)
    }

    /// Outbox items, newest first (only undelivered ones with `undelivered`).
    pub async fn deliveries(
        &self,
        caller: &Identity,
        undelivered: bool,
        limit: u32,
    ) -> Result<DeliveryList, GateError> {
        admin_only(caller)?;
        Ok(DeliveryList {
            items: self.store.deliveries(undelivered, limit).await?,
            undelivered: self.store.outbox_depth().await?,
        })
    }

    /// Every token, live or not (never a secret: only hashes are stored).
    pub async fn list_tokens(&self, caller: &Identity) -> Result<Vec<TokenRecord>, GateError> {
        admin_only(caller)?;
        Ok(self.store.tokens().await?)
    }
}
