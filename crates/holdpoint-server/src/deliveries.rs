//! `GET /v1/deliveries`: the outbox as the delivery worker sees it, so that a channel that
//! keeps failing stays visible (admins only).

use crate::AppState;
use axum::Json;
use axum::extract::{Query, State};
use holdpoint_api::Caller;
use holdpoint_api::{ApiError, ErrorBody};
use holdpoint_core::outbox::Delivery;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

const DEFAULT_LIMIT: u32 = 100;
const MAX_LIMIT: u32 = 1000;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveriesQuery {
    /// Only items not delivered yet.
    pub undelivered: Option<bool>,
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DeliveryList {
    /// Newest first.
    pub deliveries: Vec<Delivery>,
    /// How many items are not delivered yet.
    pub undelivered: i64,
}

#[utoipa::path(get, path = "/v1/deliveries", params(DeliveriesQuery),
    responses((status = 200, description = "Outbox items and their delivery state", body = DeliveryList),
              (status = 401, description = "No or bad token", body = ErrorBody),
              (status = 403, description = "Not allowed for this caller", body = ErrorBody)))]
pub async fn deliveries(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<DeliveriesQuery>,
) -> Result<Json<DeliveryList>, ApiError> {
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let list = state
        .gate
        .deliveries(&caller.0, query.undelivered.unwrap_or(false), limit)
        .await?;
    Ok(Json(DeliveryList {
        deliveries: list.items,
        undelivered: list.undelivered,
    }))
}
