//! The gate's Prometheus metrics, named in one place.

use std::time::Duration;

pub fn decision(outcome: &str) {
    metrics::counter!("holdpoint_decisions_total", "outcome" => outcome.to_string()).increment(1);
}

pub fn policy_evaluation(d: Duration) {
    metrics::histogram!("holdpoint_policy_evaluation_seconds").record(d.as_secs_f64());
}

pub fn time_to_decision(d: Duration) {
    metrics::histogram!("holdpoint_time_to_decision_seconds").record(d.as_secs_f64());
}

pub fn set_pending(n: i64) {
    metrics::gauge!("holdpoint_pending_holds").set(n as f64);
}

pub fn hold_opened() {
    metrics::gauge!("holdpoint_pending_holds").increment(1.0);
}

pub fn hold_closed(status: &str) {
    metrics::gauge!("holdpoint_pending_holds").decrement(1.0);
    decision(status);
}

pub fn limited(limit: &'static str) {
    metrics::counter!("holdpoint_limited_total", "limit" => limit).increment(1);
}
