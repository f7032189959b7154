//! From a client's startup message to a running session: refuse what must be refused
//! (replication, a password sent in clear off loopback, a wrong token, an encoding
//! other than UTF8, a server that reads SQL differently: `settings.rs`), log in
//! upstream, and greet the client as the server would, with
//! holdpoint's own cancel key.

use crate::judge::SURFACE;
use crate::listener::Listener;
use crate::session::Session;
use crate::startup::{self, Stream};
use crate::upstream;
use crate::wire::put_frame;
use bytes::{BufMut, BytesMut};
use holdpoint_core::EventType;
use serde_json::json;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use tokio::io::AsyncWriteExt;

/// Startup parameters passed on to the server; every other one is dropped (`options`
/// could set `role`, `replication` would leave the SQL protocol).
const PASSED_ON: &[&str] = &[
    "application_name",
    "datestyle",
    "timezone",
    "intervalstyle",
    "extra_float_digits",
    "search_path",
    "statement_timeout",
    "lock_timeout",
    "idle_in_transaction_session_timeout",
];

pub async fn session(
    listener: Arc<Listener>,
    mut stream: Stream,
    params: BTreeMap<String, String>,
    tls: bool,
    peer: SocketAddr,
) {
    let user = params.get("user").cloned().unwrap_or_default();
    if params
        .get("replication")
        .is_some_and(|r| !matches!(r.as_str(), "false" | "off" | "no" | "0"))
    {
        return startup::refuse(
            &mut stream,
            "28000",
            "holdpoint does not proxy replication connections",
        )
        .await;
    }
    if !tls && !peer.ip().is_loopback() {
        return startup::refuse(
            &mut stream,
            "28000",
            "holdpoint refuses a password sent in clear text off loopback: connect with sslmode=require (the listener needs tls_cert and tls_key)",
        )
        .await;
    }
    if let Some(encoding) = params.get("client_encoding")
        && !matches!(
            encoding
                .to_ascii_lowercase()
                .replace(['-', '_'], "")
                .as_str(),
            "utf8" | "unicode"
        )
    {
        return startup::refuse(
            &mut stream,
            "22023",
            "holdpoint accepts only client_encoding UTF8",
        )
        .await;
    }
    if params
        .get("search_path")
        .is_some_and(|p| crate::settings::shadows_pg_catalog(p))
    {
        return startup::refuse(
            &mut stream,
            "22023",
            "holdpoint refuses a search_path that names a schema before pg_catalog",
        )
        .await;
    }
    let token = match startup::password(&mut stream).await {
        Ok(token) => token,
        Err(_) => return,
    };
    let identity = match listener.gate.authenticate(&token).await {
        Ok(identity) if identity.principal.name.eq_ignore_ascii_case(&user) => identity,
        _ => {
            tracing::info!(%peer, user = %holdpoint_core::text::inert(&user), "a PostgreSQL login with a wrong token");
            return startup::refuse(
                &mut stream,
                "28P01",
                &format!(
                    "password authentication failed for user \"{}\": the password must be the holdpoint token of that name",
                    holdpoint_core::text::inert(&user)
                ),
            )
            .await;
        }
    };
    // Admins manage holdpoint; they do not run statements through it.
    if let Err(e) = holdpoint_gate::may_submit(&identity) {
        return startup::refuse(&mut stream, "28000", &format!("holdpoint: {e}")).await;
    }
    let passed: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| PASSED_ON.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let upstream = match upstream::connect(&listener.target, &passed).await {
        Ok(upstream) => upstream,
        Err(e) => {
            tracing::warn!(listener = %listener.name, error = %e, "upstream login failed");
            return startup::refuse(&mut stream, "08006", &format!("holdpoint: {e}")).await;
        }
    };
    // A server, database or role setting that changes how SQL is read refuses the
    // session before it starts.
    if let Some((name, value)) = crate::reading::first_unsafe(&upstream.announced) {
        tracing::warn!(listener = %listener.name, setting = %name, value = %value, "refused a session: the server reads SQL differently");
        return startup::refuse(
            &mut stream,
            crate::reading::REFUSED,
            &crate::reading::refusal(&name, &value),
        )
        .await;
    }
    let registration = listener.cancels.register(upstream.addr, upstream.key);

    let mut hello = BytesMut::new();
    put_frame(&mut hello, b'R', &0i32.to_be_bytes());
    hello.extend_from_slice(&upstream.announced);
    let mut key = BytesMut::new();
    key.put_i32(registration.key.0);
    key.put_i32(registration.key.1);
    put_frame(&mut hello, b'K', &key);
    put_frame(&mut hello, b'Z', b"I");
    if stream.write_all(&hello).await.is_err() {
        return;
    }

    let opened = Instant::now();
    let application = params.get("application_name").cloned().unwrap_or_default();
    audit(
        &listener,
        &identity,
        EventType::ConnectionOpened,
        json!({
            "listener": listener.name,
            "client": peer.ip().to_string(),
            "tls": tls,
            "application_name": listener.gate.masker().mask_text(&application),
        }),
    )
    .await;
    let session = Session::new(
        listener.clone(),
        identity.clone(),
        stream,
        upstream.stream,
        registration.requested.clone(),
        token,
        &upstream.announced,
    );
    let (statements, ended) = session.run().await;
    audit(
        &listener,
        &identity,
        EventType::ConnectionClosed,
        json!({
            "listener": listener.name,
            "statements": statements,
            "seconds": opened.elapsed().as_secs(),
            "ended": ended,
        }),
    )
    .await;
    drop(registration);
}

pub(crate) async fn audit(
    listener: &Listener,
    who: &holdpoint_core::Identity,
    event: EventType,
    data: serde_json::Value,
) {
    if let Err(e) = listener
        .gate
        .record_surface_events(who, SURFACE, vec![(event, data)])
        .await
    {
        tracing::error!(error = %e, event = %event, "could not audit a PostgreSQL connection event");
    }
}
