//! Slack's JSON, read without indexing: a missing key reads as `null`, as it would from
//! `serde_json::Value` indexing, and nothing can panic.

use serde_json::Value;

static NULL: Value = Value::Null;

/// The value at `pointer` (`/user/id`), or `null`.
pub fn at<'a>(value: &'a Value, pointer: &str) -> &'a Value {
    value.pointer(pointer).unwrap_or(&NULL)
}

/// The string at `pointer`, if it is one.
pub fn str_at<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    at(value, pointer).as_str()
}
