//! Times are stored as BIGINT microseconds since the Unix epoch (UTC).

use crate::error::corrupt;
use holdpoint_core::{StoreError, Timestamp};

pub(crate) fn to_micros(t: Timestamp) -> i64 {
    t.timestamp_micros()
}

pub(crate) fn opt_to_micros(t: Option<Timestamp>) -> Option<i64> {
    t.map(to_micros)
}

/// `what` names the column in the error when the stored number is not a time.
pub(crate) fn from_micros(micros: i64, what: &str) -> Result<Timestamp, StoreError> {
    chrono::DateTime::from_timestamp_micros(micros)
        .ok_or_else(|| corrupt(what, format!("{micros} is out of range for a time")))
}

pub(crate) fn opt_from_micros(
    micros: Option<i64>,
    what: &str,
) -> Result<Option<Timestamp>, StoreError> {
    micros.map(|m| from_micros(m, what)).transpose()
}
