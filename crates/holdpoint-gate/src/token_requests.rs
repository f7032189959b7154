//! `POST /v1/tokens` as an action: `token.create.{kind}` on `holdpoint/tokens/{name}`,
//! with the request as params, through policy like any other action. Allowed, the gate
//! creates the token at once and marks the action `executed`; held, the requester gets the
//! pending action, and once another human approved it, asks again with the same request:
//! that resubmission has the approved digest, uses the approval (once), and receives the
//! secret, shown that one time.
//!
//! Policy decides on top of a fixed rule: only admins request tokens, whatever policy
//! says, so a broad `permit(principal == User::"alice", action, resource)` written for
//! other actions never lets a user mint tokens.

use crate::events::{self, actor};
use crate::{Gate, GateError, NewToken, SurfaceContext};
use holdpoint_core::{
    ActionRecord, ActionRequest, Change, EventType, Identity, Op, Status, TokenRecord,
};
use serde_json::json;

/// What a token request came to.
#[derive(Debug, Clone)]
pub enum TokenOutcome {
    /// Created: the secret (shown once), the stored token, and the executed action.
    Created {
        secret: String,
        token: TokenRecord,
        action: ActionRecord,
    },
    /// Held for approval. Once approved, the same request again receives the token.
    Held(ActionRecord),
}

impl Gate {
    /// Requests a token as `caller`, through policy.
    pub async fn request_token(
        &self,
        caller: &Identity,
        request: NewToken,
    ) -> Result<TokenOutcome, GateError> {
        if caller.principal.kind != holdpoint_core::PrincipalKind::Admin {
            return Err(GateError::Forbidden(
                "only an admin may request a token".into(),
            ));
        }
        let request = self.check_token_request(request).await?;
        let action = ActionRequest {
            kind: format!("token.create.{}", request.kind),
            resource: format!("holdpoint/tokens/{}", request.name),
            environment: String::new(),
            params: json!({
                "name": request.name,
                "kind": request.kind,
                "groups": request.groups,
                "owner": request.owner,
                "ttl_secs": request.ttl.map(|t| t.as_secs()),
            }),
            justification: String::new(),
        };
        let ctx = SurfaceContext {
            surface: "tokens".into(),
            extra: None,
            executes: true,
        };
        let record = self.submit_as(caller, action, ctx).await?;
        match record.status {
            Status::Allowed => self.execute_token(caller, record, request).await,
            Status::Pending => Ok(TokenOutcome::Held(record)),
            _ => Err(GateError::Forbidden(format!(
                "{} ({})",
                record.verdict.reason, record.id
            ))),
        }
    }

    /// Creates the token and marks its action `executed` in one transaction; if the
    /// token cannot be stored, the action is marked `failed`.
    async fn execute_token(
        &self,
        caller: &Identity,
        record: ActionRecord,
        request: NewToken,
    ) -> Result<TokenOutcome, GateError> {
        let by = actor(caller, "api");
        let now = self.clock.now();
        let (secret, token, mut change) = self.token_change(&by, request).await?;
        let mut executed = record.clone();
        executed
            .advance(Status::Executed, now)
            .map_err(crate::review::transition_refused)?;
        change.events.push(events::event(
            &executed,
            EventType::ActionExecuted,
            &by,
            now,
            json!({"token": token.name}),
        ));
        change.ops.push(Op::UpdateAction {
            record: executed.clone(),
            expected_version: record.version,
        });
        match self.apply_token_change(&token, change).await {
            Ok(()) => Ok(TokenOutcome::Created {
                secret,
                token,
                action: executed,
            }),
            Err(error) => {
                let mut failed = record.clone();
                failed
                    .advance(Status::Failed, now)
                    .map_err(crate::review::transition_refused)?;
                let ev = events::event(
                    &failed,
                    EventType::ActionFailed,
                    &by,
                    now,
                    json!({"error": error.to_string()}),
                );
                let change = Change::new(
                    vec![Op::UpdateAction {
                        record: failed,
                        expected_version: record.version,
                    }],
                    vec![ev],
                );
                if let Err(e) = self.store.apply(change).await {
                    tracing::error!(error = %e, "cannot record a failed token creation");
                }
                Err(error)
            }
        }
    }
}
