//! Each raw JSON-RPC message from the agent, checked before rmcp reads it.
//!
//! rmcp reads a message whose `id` is not a string or an `i64` (`null`, `1.5`, `2^63`,
//! an object, an array, `true`) as a notification, and a notification of a method it
//! does not know as a custom one: a `tools/call` so sent would skip the gate. Here:
//! - a message with a `method` and an `id` that is not a string or an integer in `i64`
//!   is refused with `-32600` (and `id: null`, the id being unusable);
//! - a message with a `method` that is not a string is refused the same way;
//! - a notification (no `id`) of a method outside
//!   [`KNOWN_NOTIFICATIONS`](crate::methods::KNOWN_NOTIFICATIONS) is dropped;
//! - a batch (an array) passes only when each of its messages would; otherwise the
//!   whole batch is refused.
//!
//! Requests of unknown methods pass on to the proxy, which answers `-32601` with their
//! id. Anything that is not JSON passes too, for rmcp to answer with a parse error.
//! [`checked`] is the middleware of `/mcp/{name}`; [`guard_stdio`] wraps `holdpoint mcp`'s
//! stdin and stdout.

use crate::methods::KNOWN_NOTIFICATIONS;
use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio_util::sync::CancellationToken;

/// What becomes of one raw message (or batch).
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// rmcp may read it.
    Pass,
    /// A notification no one needs: it goes nowhere.
    Drop,
    /// Answered with this JSON-RPC error message; it goes nowhere else.
    Refuse(Value),
}

fn invalid(why: &str) -> Frame {
    Frame::Refuse(json!({
        "jsonrpc": "2.0",
        "id": null,
        "error": {"code": -32600, "message": format!("Invalid Request: {why}")},
    }))
}

fn good_id(id: &Value) -> bool {
    match id {
        Value::String(_) => true,
        Value::Number(n) => n.is_i64(),
        _ => false,
    }
}

/// Checks one parsed message.
pub fn check(message: &Value) -> Frame {
    match message {
        Value::Array(batch) => {
            if batch
                .iter()
                .all(|m| !m.is_array() && check(m) == Frame::Pass)
            {
                Frame::Pass
            } else {
                invalid("a batch holds a message holdpoint does not pass")
            }
        }
        Value::Object(fields) => {
            let Some(method) = fields.get("method") else {
                // A response to the proxy's own request: rmcp matches it or drops it.
                return Frame::Pass;
            };
            let Some(method) = method.as_str() else {
                return invalid("`method` must be a string");
            };
            match fields.get("id") {
                Some(id) if !good_id(id) => {
                    invalid("`id` must be a string or an integer (-2^63 to 2^63-1)")
                }
                Some(_) => Frame::Pass,
                None if KNOWN_NOTIFICATIONS.contains(&method) => Frame::Pass,
                None => Frame::Drop,
            }
        }
        _ => Frame::Pass,
    }
}

/// Checks raw bytes: what is not JSON passes (rmcp answers it with a parse error).
pub fn check_bytes(bytes: &[u8]) -> Frame {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(message) => check(&message),
        Err(_) => Frame::Pass,
    }
}

/// The middleware of `/mcp/{name}`: each POSTed message checked before rmcp reads it.
pub async fn checked(request: Request, next: Next) -> Response {
    if request.method() != axum::http::Method::POST {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    // The body's size is bounded by the server's body limit around this layer.
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return (
                axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                "the request body is too large or could not be read",
            )
                .into_response();
        }
    };
    match check_bytes(&bytes) {
        Frame::Pass => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Frame::Drop => axum::http::StatusCode::ACCEPTED.into_response(),
        Frame::Refuse(error) => (
            axum::http::StatusCode::BAD_REQUEST,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            error.to_string(),
        )
            .into_response(),
    }
}

/// `stdin` and `stdout` of `holdpoint mcp`, as rmcp should read and write them: each line
/// from the agent checked first, refusals written back between rmcp's own lines. `closed`
/// fires the moment the agent closes stdin, before rmcp sees the end: held calls then
/// withdraw their holds while rmcp still lets its handlers run.
pub fn guard_stdio<R, W>(
    stdin: R,
    stdout: W,
    closed: CancellationToken,
) -> (tokio::io::DuplexStream, tokio::io::DuplexStream)
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    const BUFFER: usize = 1 << 16;
    let (rmcp_in, mut to_rmcp) = tokio::io::duplex(BUFFER);
    let (rmcp_out, from_rmcp) = tokio::io::duplex(BUFFER);
    let (refusals, mut queue) = tokio::sync::mpsc::unbounded_channel::<Vec<u8>>();
    // rmcp's lines join the refusals in one queue, which one task writes out whole.
    let from_rmcp_lines = refusals.clone();
    tokio::spawn(async move {
        let mut lines = BufReader::new(stdin);
        let mut line = Vec::new();
        loop {
            line.clear();
            match lines.read_until(b'\n', &mut line).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            match check_bytes(&line) {
                Frame::Pass => {
                    if to_rmcp.write_all(&line).await.is_err() {
                        break;
                    }
                }
                Frame::Drop => {}
                Frame::Refuse(error) => {
                    let _ = refusals.send(format!("{error}\n").into_bytes());
                }
            }
        }
        // The agent closed stdin: the session ends, and rmcp sees the end too.
        closed.cancel();
        let _ = to_rmcp.shutdown().await;
    });
    tokio::spawn(async move {
        let mut from_rmcp = BufReader::new(from_rmcp);
        loop {
            let mut line = Vec::new();
            match from_rmcp.read_until(b'\n', &mut line).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if from_rmcp_lines.send(line).is_err() {
                        break;
                    }
                }
            }
        }
    });
    tokio::spawn(async move {
        let mut out = stdout;
        while let Some(line) = queue.recv().await {
            if out.write_all(&line).await.is_err() || out.flush().await.is_err() {
                break;
            }
        }
    });
    (rmcp_in, rmcp_out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gated_method_with_an_odd_id_or_as_a_notification_goes_nowhere() {
        let call = |id: Option<Value>| {
            let mut m = json!({"jsonrpc": "2.0", "method": "tools/call",
                "params": {"name": "x", "arguments": {}}});
            if let (Some(id), Some(fields)) = (id, m.as_object_mut()) {
                fields.insert("id".into(), id);
            }
            m
        };
        for id in [
            json!(null),
            json!(1.5),
            json!(9_223_372_036_854_775_808_u64),
            json!({"a": 1}),
            json!([1]),
            json!(true),
            json!(1e3),
        ] {
            assert!(
                matches!(check(&call(Some(id.clone()))), Frame::Refuse(_)),
                "{id}"
            );
        }
        assert_eq!(check(&call(None)), Frame::Drop);
        assert_eq!(check(&call(Some(json!(7)))), Frame::Pass);
        assert_eq!(check(&call(Some(json!(-7)))), Frame::Pass);
        assert_eq!(check(&call(Some(json!(i64::MAX)))), Frame::Pass);
        assert_eq!(check(&call(Some(json!("abc")))), Frame::Pass);
        let note = json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
            "params": {"requestId": 1}});
        assert_eq!(check(&note), Frame::Pass);
        let odd = json!({"jsonrpc": "2.0", "method": "Notifications/Cancelled"});
        assert_eq!(check(&odd), Frame::Drop);
        assert_eq!(
            check(&json!([call(Some(json!(1))), call(None)])),
            invalid("a batch holds a message holdpoint does not pass")
        );
        assert!(matches!(
            check(&json!({"method": 5, "id": 1})),
            Frame::Refuse(_)
        ));
        assert_eq!(check_bytes(b"not json"), Frame::Pass);
    }
}
