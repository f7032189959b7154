//! `POST /integrations/slack/interactions` and `POST /integrations/slack/commands`.
//!
//! Every request is refused (401, nothing changes) unless its Slack signature verifies
//! and its timestamp is within five minutes. The clicking Slack user is mapped to a
//! holdpoint user (the directory's `slack_id`, else `users.info`'s email matched against
//! the directory's `email`), and every review goes through the gate's rules like any
//! other, with channel `slack`. A refusal (an unmapped user, self-review, a decided hold,
//! a second click) is told to the clicker alone.
//!
//! - **Approve** is a review at once. The click is acknowledged inside Slack's three
//!   seconds and the review done after; a refusal comes back through `response_url`.
//! - **Reject** opens a modal (`views.open` with the click's `trigger_id`) asking for the
//!   reason; its submission is the review, answered inline (a refusal shows on the form).
//! - `/holdpoint pending` lists the holds the caller may review, for them alone.

use crate::api::SlackApi;
use crate::blocks::{APPROVE, REJECT, escape};
use crate::json::{at, str_at};
use crate::signature;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use holdpoint_core::store::ActionFilter;
use holdpoint_core::{ActionId, Decision, Status};
use holdpoint_gate::{Gate, GateError};
use holdpoint_notify::DeliveryError;
use serde_json::{Value, json};
use std::sync::Arc;

/// The modal's callback id, and its reason input's block and action ids.
const REJECT_MODAL: &str = "holdpoint_reject_reason";
const REASON: &str = "reason";

#[derive(Clone)]
pub struct SlackState {
    pub gate: Arc<Gate>,
    pub api: SlackApi,
    pub signing_secret: String,
}

/// The clicks this endpoint understands.
struct Click {
    user: String,
    decision: Decision,
    action_id: String,
    response_url: Option<String>,
}

/// A request whose signature did not verify: 401, nothing done.
struct Refused;

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        (StatusCode::UNAUTHORIZED, "invalid Slack signature").into_response()
    }
}

/// Checks the request's signature; the body's form fields when it verifies.
fn verified(
    state: &SlackState,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Vec<(String, String)>, Refused> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    };
    let now = state.gate.clock().now().timestamp();
    if let Err(why) = signature::verify(
        &state.signing_secret,
        header("x-slack-request-timestamp"),
        body,
        header("x-slack-signature"),
        now,
    ) {
        tracing::warn!(reason = why, "refused a Slack request");
        return Err(Refused);
    }
    Ok(url::form_urlencoded::parse(body).into_owned().collect())
}

pub async fn interactions(
    State(state): State<SlackState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fields = match verified(&state, &headers, &body) {
        Ok(fields) => fields,
        Err(refused) => return refused.into_response(),
    };
    let Some(payload) = fields
        .iter()
        .find(|(key, _)| key == "payload")
        .and_then(|(_, value)| serde_json::from_str::<Value>(value).ok())
    else {
        return StatusCode::OK.into_response();
    };
    match interaction(&state, payload).await {
        Some(answer) => Json(answer).into_response(),
        None => StatusCode::OK.into_response(),
    }
}

/// One interaction, however it came (HTTP or Socket Mode): what to answer inline, if
/// anything. A click is acknowledged at once and reviewed after.
pub(crate) async fn interaction(state: &SlackState, payload: Value) -> Option<Value> {
    match str_at(&payload, "/type") {
        Some("block_actions") => {
            if let Some(click) = parse_click(&payload) {
                tokio::spawn(clicked(
                    state.clone(),
                    click,
                    str_at(&payload, "/trigger_id").map(str::to_string),
                ));
            }
            None
        }
        Some("view_submission") if str_at(&payload, "/view/callback_id") == Some(REJECT_MODAL) => {
            submitted(state, &payload).await
        }
        _ => None,
    }
}

fn parse_click(payload: &Value) -> Option<Click> {
    let action = at(payload, "/actions").as_array()?.first()?;
    let decision = match str_at(action, "/action_id")? {
        APPROVE => Decision::Approve,
        REJECT => Decision::Reject,
        _ => return None,
    };
    Some(Click {
        user: str_at(payload, "/user/id")?.to_string(),
        decision,
        action_id: str_at(action, "/value")?.to_string(),
        response_url: str_at(payload, "/response_url").map(str::to_string),
    })
}

/// A button: Approve reviews at once; Reject asks for the reason first.
async fn clicked(state: SlackState, click: Click, trigger_id: Option<String>) {
    if let (Decision::Reject, Some(trigger_id)) = (click.decision, trigger_id) {
        let modal = json!({"trigger_id": trigger_id, "view": {
            "type": "modal", "callback_id": REJECT_MODAL, "private_metadata": click.action_id,
            "title": {"type": "plain_text", "text": "Reject"},
            "submit": {"type": "plain_text", "text": "Reject"},
            "close": {"type": "plain_text", "text": "Cancel"},
            "blocks": [{"type": "input", "block_id": REASON,
                "label": {"type": "plain_text", "text": "Why? The agent and its owner will see it."},
                "element": {"type": "plain_text_input", "action_id": REASON, "multiline": true,
                            "max_length": 2000}}]}});
        if let Err(e) = state.api.call("views.open", &modal).await {
            tell(
                &state,
                &click,
                &format!("holdpoint could not open the reason form: {}", e.reason),
            )
            .await;
        }
        return;
    }
    review(state, click).await;
}

/// The reject modal's submission: the review; a refusal is answered inline, on the form.
async fn submitted(state: &SlackState, payload: &Value) -> Option<Value> {
    let user = str_at(payload, "/user/id").unwrap_or_default();
    let action_id = str_at(payload, "/view/private_metadata").unwrap_or_default();
    let reason = str_at(
        payload,
        &format!("/view/state/values/{REASON}/{REASON}/value"),
    )
    .unwrap_or_default();
    let outcome = match reviewer(state, user).await {
        Ok(identity) => state
            .gate
            .review(
                &identity,
                &ActionId(action_id.to_string()),
                Decision::Reject,
                reason,
                "slack",
            )
            .await
            .map(|_| ())
            .map_err(|e| e.to_string()),
        Err(why) => Err(why.to_string()),
    };
    outcome.err().map(|why| {
        json!({"response_action": "errors", "errors": {REASON: format!("Not recorded: {why}")}})
    })
}

async fn tell(state: &SlackState, click: &Click, text: &str) {
    if let Some(url) = &click.response_url {
        state.api.respond(url, text).await;
    }
}

/// `/holdpoint pending`: the holds the caller may review, for them alone.
pub async fn commands(
    State(state): State<SlackState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fields = match verified(&state, &headers, &body) {
        Ok(fields) => fields,
        Err(refused) => return refused.into_response(),
    };
    let field = |name: &str| {
        fields
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    };
    Json(command(&state, field("text"), field("user_id")).await).into_response()
}

/// A `/holdpoint` command, however it came: the ephemeral answer.
pub(crate) async fn command(state: &SlackState, text: &str, user: &str) -> Value {
    let text = match text.trim() {
        "" | "pending" => pending(state, user).await,
        other => format!(
            "Unknown request `{}`: try `/holdpoint pending`.",
            escape(other)
        ),
    };
    json!({"response_type": "ephemeral", "text": text})
}

async fn pending(state: &SlackState, user: &str) -> String {
    let identity = match reviewer(state, user).await {
        Ok(identity) => identity,
        Err(why) => return why.to_string(),
    };
    let filter = ActionFilter {
        status: Some(Status::Pending),
        limit: 20,
        ..ActionFilter::default()
    };
    let holds = match state.gate.list(&identity, filter).await {
        Ok(holds) => holds,
        Err(e) => return format!("holdpoint cannot list holds: {e}"),
    };
    let masker = state.gate.masker();
    let mine: Vec<String> = holds
        .iter()
        .filter(|h| !h.requested_by(&identity.principal))
        .map(|h| {
            let title = h.hold.as_ref().map_or("", |hold| hold.title.as_str());
            format!(
                "• `{}` {}: `{}` on `{}` by {}",
                h.id,
                escape(title),
                escape(&h.kind),
                escape(&h.shown_resource(masker.as_ref())),
                escape(&h.principal.name)
            )
        })
        .collect();
    if mine.is_empty() {
        "Nothing waits for your review.".to_string()
    } else {
        format!("Waiting for review:\n{}", mine.join("\n"))
    }
}

async fn review(state: SlackState, click: Click) {
    let outcome = match reviewer(&state, &click.user).await {
        Ok(identity) => state
            .gate
            .review(
                &identity,
                &ActionId(click.action_id.clone()),
                click.decision,
                "",
                "slack",
            )
            .await
            .map(|_| ())
            .map_err(|e| e.to_string()),
        Err(why) => Err(why.to_string()),
    };
    if let Err(why) = outcome {
        tracing::info!(user = %click.user, action = %click.action_id, reason = %why, "a Slack review was refused");
        tell(
            &state,
            &click,
            &format!("holdpoint did not record your review: {why}"),
        )
        .await;
    }
}

/// Why a Slack user cannot review as a holdpoint user.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReviewerError {
    #[error("cannot look your Slack account up ({})", .0.reason)]
    Lookup(DeliveryError),
    #[error("your Slack account is not mapped to a holdpoint user ([[users]] slack_id or email)")]
    Unmapped,
    #[error(transparent)]
    Gate(#[from] GateError),
}

/// The holdpoint user behind a Slack user, with their groups.
async fn reviewer(
    state: &SlackState,
    slack_user: &str,
) -> Result<holdpoint_core::Identity, ReviewerError> {
    let directory = state.gate.directory();
    let user = match directory.by_slack_id(slack_user) {
        Some(user) => user.clone(),
        None => {
            let email = state
                .api
                .email_of(slack_user)
                .await
                .map_err(ReviewerError::Lookup)?;
            email
                .and_then(|email| directory.by_email(&email).cloned())
                .ok_or(ReviewerError::Unmapped)?
        }
    };
    Ok(state.gate.directory_identity(&user).await?)
}
