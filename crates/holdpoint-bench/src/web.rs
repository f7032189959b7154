//! The web inbox: how long `GET /inbox` takes with 1,000 pending holds (the JSON list of
//! the same holds beside it), and how soon a decision reaches a signed-in page over
//! `GET /events` (an agent's long-poll on the same gateway beside it).
//!
//! The reviewer signs in the way a browser does (`GET /signin` for the form's token and
//! its cookie, then `POST /signin`) and sends the session cookie on every page request.
//! The event stream is read with a raw HTTP client standing in for a browser: frames are
//! split by hand on the blank line, and each `hold` event is timed as its chunk arrives.

use anyhow::{Context, bail, ensure};
use reqwest::header::{ACCEPT, CONTENT_TYPE, COOKIE, SET_COOKIE};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// Requests of each kind before timing starts.
const WARM_UP: usize = 20;
/// Long-polls parked at a time (each waits at most 30 s, so they are measured in groups).
const POLLS_AT_ONCE: usize = 50;

/// Signs in with a user token through the form and returns the `Cookie` header value of
/// the session.
async fn sign_in(url: &str, token: &str) -> anyhow::Result<String> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let page = http.get(format!("{url}/signin")).send().await?;
    let form_cookie = cookie_value(&page, "holdpoint_signin").context("no sign-in cookie")?;
    let html = page.text().await?;
    let marker = "name=\"form_token\" value=\"";
    let start = html.find(marker).context("no form_token on /signin")? + marker.len();
    let form_token = &html[start..start + html[start..].find('"').context("form_token")?];
    let answer = http
        .post(format!("{url}/signin"))
        .header(COOKIE, format!("holdpoint_signin={form_cookie}"))
        .form(&[
            ("token", token),
            ("form_token", form_token),
            ("next", "/inbox"),
        ])
        .send()
        .await?;
    ensure!(
        answer.status() == reqwest::StatusCode::SEE_OTHER,
        "sign-in answered {}",
        answer.status()
    );
    let session = cookie_value(&answer, "holdpoint").context("no session cookie")?;
    Ok(format!("holdpoint={session}"))
}

fn cookie_value(response: &reqwest::Response, name: &str) -> Option<String> {
    let prefix = format!("{name}=");
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            let rest = v.strip_prefix(&prefix)?;
            Some(rest.split(';').next().unwrap_or_default().to_string())
        })
        .filter(|v| !v.is_empty())
}

/// One GET, body read in full; (milliseconds, body).
async fn timed_get(request: reqwest::RequestBuilder) -> anyhow::Result<(f64, Vec<u8>)> {
    let t = Instant::now();
    let r = request.send().await?;
    let status = r.status();
    let body = r.bytes().await?;
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    ensure!(status.is_success(), "answered {status}");
    Ok((ms, body.to_vec()))
}

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count()
}

async fn inbox(
    url: &str,
    session: &str,
    bearer: &str,
    holds: usize,
    requests: usize,
) -> anyhow::Result<()> {
    let http = super::client();
    let page = || http.get(format!("{url}/inbox")).header(COOKIE, session);
    let fragment = || {
        http.get(format!("{url}/inbox/list"))
            .header(COOKIE, session)
    };
    let list = || {
        http.get(format!("{url}/v1/actions?status=pending&limit=200"))
            .bearer_auth(bearer)
    };
    // What each answer holds: 200 holds and a link to older ones.
    let (_, body) = timed_get(page()).await?;
    let (page_bytes, page_rows) = (body.len(), count(&body, b"<li class=\"hold\""));
    ensure!(
        page_rows == 200 && count(&body, b"/inbox?before=") == 1,
        "the inbox shows {page_rows} holds"
    );
    let (_, body) = timed_get(fragment()).await?;
    let fragment_bytes = body.len();
    let (_, body) = timed_get(list()).await?;
    let v: Value = serde_json::from_slice(&body)?;
    let json_rows = v["actions"].as_array().map_or(0, Vec::len);
    ensure!(
        json_rows == 200 && v["next"].is_string(),
        "the JSON list has {json_rows} actions"
    );
    let json_bytes = body.len();
    for _ in 0..WARM_UP {
        timed_get(page()).await?;
        timed_get(fragment()).await?;
        timed_get(list()).await?;
    }
    // Alternately, so that both see the same machine.
    let (mut pages, mut fragments, mut lists) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..requests {
        pages.push(timed_get(page()).await?.0);
        fragments.push(timed_get(fragment()).await?.0);
        lists.push(timed_get(list()).await?.0);
    }
    let (p50, p99, max) = super::summary(pages);
    let (f50, f99, fmax) = super::summary(fragments);
    let (j50, j99, jmax) = super::summary(lists);
    println!(
        "inbox    pending={holds} requests={requests} GET /inbox (cookie, 200 holds): p50_ms={p50:.3} p99_ms={p99:.3} max_ms={max:.3} bytes={page_bytes}"
    );
    println!(
        "fragment pending={holds} requests={requests} GET /inbox/list (cookie, 200 holds): p50_ms={f50:.3} p99_ms={f99:.3} max_ms={fmax:.3} bytes={fragment_bytes}"
    );
    println!(
        "json     pending={holds} requests={requests} GET /v1/actions?status=pending&limit=200 (bearer): p50_ms={j50:.3} p99_ms={j99:.3} max_ms={jmax:.3} bytes={json_bytes}"
    );
    println!(
        "ratio    /inbox over the JSON list: p50 {:.2}x, p99 {:.2}x",
        p50 / j50,
        p99 / j99
    );
    Ok(())
}

/// When each action's `approved` event arrived on the stream.
#[derive(Default)]
struct Seen {
    approved: Mutex<HashMap<String, Instant>>,
    arrived: Notify,
    resyncs: Mutex<usize>,
}

/// Reads `GET /events` until it ends, splitting frames on the blank line.
async fn read_events(mut stream: reqwest::Response, seen: Arc<Seen>) -> anyhow::Result<()> {
    let mut buf: Vec<u8> = Vec::new();
    while let Some(chunk) = stream.chunk().await? {
        let at = Instant::now();
        buf.extend(chunk.iter().filter(|b| **b != b'\r'));
        while let Some(end) = buf.windows(2).position(|w| w == b"\n\n") {
            let frame: Vec<u8> = buf.drain(..end + 2).collect();
            let frame = String::from_utf8_lossy(&frame);
            let (mut event, mut data) = ("", String::new());
            for line in frame.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    event = v.trim_start();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim_start());
                }
            }
            match event {
                "hold" => {
                    let v: Value = serde_json::from_str(&data)?;
                    if v["status"] == "approved" {
                        let id = v["id"].as_str().unwrap_or_default().to_string();
                        seen.approved.lock().unwrap().entry(id).or_insert(at);
                        seen.arrived.notify_waiters();
                    }
                }
                "resync" => *seen.resyncs.lock().unwrap() += 1,
                _ => {}
            }
        }
    }
    Ok(())
}

async fn approve(
    http: &reqwest::Client,
    url: &str,
    reviewer: &str,
    id: &str,
) -> anyhow::Result<()> {
    let r = http
        .post(format!("{url}/v1/actions/{id}/reviews"))
        .bearer_auth(reviewer)
        .json(&json!({"decision": "approve", "comment": "bench"}))
        .send()
        .await?;
    if !r.status().is_success() {
        bail!("review failed: {}", r.text().await?);
    }
    r.bytes().await?;
    Ok(())
}

async fn decisions(
    url: &str,
    session: &str,
    agent: &str,
    reviewer: &str,
    ids: &[String],
    n: usize,
) -> anyhow::Result<()> {
    let (by_page, by_poll) = ids.split_at(n);
    let by_poll = &by_poll[..n];
    // No overall timeout on the stream: it stays open for the whole measurement.
    let sse = reqwest::Client::new()
        .get(format!("{url}/events"))
        .header(COOKIE, session)
        .header(ACCEPT, "text/event-stream")
        .send()
        .await?;
    ensure!(sse.status().is_success(), "GET /events: {}", sse.status());
    let kind = sse
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    ensure!(
        kind.starts_with("text/event-stream"),
        "GET /events is {kind}"
    );
    let seen = Arc::new(Seen::default());
    let reader = tokio::spawn(read_events(sse, seen.clone()));
    let http = super::client();
    let (mut event_from_request, mut event_from_response, mut event_first) =
        (Vec::new(), Vec::new(), 0);
    let (mut poll_from_request, mut poll_from_response, mut poll_first) =
        (Vec::new(), Vec::new(), 0);
    let mut reviews = Vec::new();
    for (page_ids, poll_ids) in by_page
        .chunks(POLLS_AT_ONCE)
        .zip(by_poll.chunks(POLLS_AT_ONCE))
    {
        let polls: Vec<_> = poll_ids
            .iter()
            .map(|id| super::spawn_poll(&http, url, agent, id, "30s"))
            .collect();
        // Let every poll reach the gateway and park.
        tokio::time::sleep(Duration::from_secs(1)).await;
        // One of each in turn, so that both see the same machine.
        for ((page_id, poll_id), poll) in page_ids.iter().zip(poll_ids).zip(polls) {
            let sent = Instant::now();
            approve(&http, url, reviewer, page_id).await?;
            let answered = Instant::now();
            reviews.push(answered.duration_since(sent).as_secs_f64() * 1000.0);
            let arrived = loop {
                let waiting = seen.arrived.notified();
                if let Some(at) = seen.approved.lock().unwrap().get(page_id) {
                    break *at;
                }
                tokio::time::timeout(Duration::from_secs(30), waiting)
                    .await
                    .map_err(|_| anyhow::anyhow!("no approved event for {page_id} within 30 s"))?;
            };
            if arrived < answered {
                event_first += 1;
            }
            event_from_request.push(arrived.duration_since(sent).as_secs_f64() * 1000.0);
            event_from_response
                .push(arrived.saturating_duration_since(answered).as_secs_f64() * 1000.0);

            let sent = Instant::now();
            approve(&http, url, reviewer, poll_id).await?;
            let answered = Instant::now();
            reviews.push(answered.duration_since(sent).as_secs_f64() * 1000.0);
            let (woken, status) = poll.await??;
            ensure!(status == "approved", "poll of {poll_id} saw {status}");
            if woken < answered {
                poll_first += 1;
            }
            poll_from_request.push(woken.duration_since(sent).as_secs_f64() * 1000.0);
            poll_from_response
                .push(woken.saturating_duration_since(answered).as_secs_f64() * 1000.0);
        }
    }
    reader.abort();
    let resyncs = *seen.resyncs.lock().unwrap();
    let (e50, e99, emax) = super::summary(event_from_request);
    let (er50, er99, _) = super::summary(event_from_response);
    let (l50, l99, lmax) = super::summary(poll_from_request);
    let (lr50, lr99, _) = super::summary(poll_from_response);
    let (r50, r99, _) = super::summary(reviews);
    println!(
        "sse      holds={n} review_sent_to_event: p50_ms={e50:.3} p99_ms={e99:.3} max_ms={emax:.3}; review_response_to_event: p50_ms={er50:.3} p99_ms={er99:.3} (event first in {event_first}; resyncs={resyncs})"
    );
    println!(
        "longpoll holds={n} review_sent_to_poll_response: p50_ms={l50:.3} p99_ms={l99:.3} max_ms={lmax:.3}; review_response_to_poll_response: p50_ms={lr50:.3} p99_ms={lr99:.3} (poll answered first in {poll_first})"
    );
    println!(
        "ratio    event over long-poll, from the review sent: p50 {:.2}x, p99 {:.2}x; the review's own round trip: p50_ms={r50:.3} p99_ms={r99:.3}",
        e50 / l50,
        e99 / l99
    );
    println!(
        "note     the event stream is read by a raw HTTP client (reqwest, frames split by hand) standing in for a browser"
    );
    Ok(())
}

pub async fn web(
    url: &str,
    agent: &str,
    reviewer: &str,
    holds: usize,
    requests: usize,
    decided: usize,
) -> anyhow::Result<()> {
    ensure!(
        holds >= 2 * decided && holds > 200,
        "--holds must be over 200 and at least twice --decisions"
    );
    let ids = super::submit_holds(url, agent, holds).await?;
    let session = sign_in(url, reviewer).await?;
    inbox(url, &session, reviewer, holds, requests).await?;
    decisions(url, &session, agent, reviewer, &ids, decided).await
}
