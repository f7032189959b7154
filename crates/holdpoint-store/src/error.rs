//! How database errors become [`StoreError`]s. Nothing here panics: a full disk, a closed
//! pool or a database that went away is `Unavailable`, with the database's own message.

use holdpoint_core::StoreError;

/// Classifies an error from sqlx.
pub(crate) fn from_sqlx(err: sqlx::Error) -> StoreError {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict(db.message().to_string())
        }
        sqlx::Error::Decode(_) | sqlx::Error::ColumnDecode { .. } => {
            StoreError::Corrupt(err.to_string())
        }
        _ => StoreError::Unavailable(err.to_string()),
    }
}

/// Stored data that cannot be turned back into holdpoint's types.
pub(crate) fn corrupt(what: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {detail}"))
}
