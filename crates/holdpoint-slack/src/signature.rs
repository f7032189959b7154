//! Slack's request signature: `v0=` + hex of HMAC-SHA256, keyed by the app's signing
//! secret, over `v0:{X-Slack-Request-Timestamp}:{raw body}`, compared in constant time.
//! A timestamp more than five minutes from now is refused, so a captured request cannot
//! be replayed later (a replayed body with a new timestamp fails the signature).

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// How far a request's timestamp may be from now.
pub const MAX_SKEW_SECS: i64 = 5 * 60;

/// The signature Slack sends with a request (for stand-ins and tests).
pub fn sign(signing_secret: &str, timestamp: &str, body: &[u8]) -> String {
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(signing_secret.as_bytes()) else {
        return String::new();
    };
    mac.update(format!("v0:{timestamp}:").as_bytes());
    mac.update(body);
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

/// Checks one request. `now` is Unix seconds.
pub fn verify(
    signing_secret: &str,
    timestamp: &str,
    body: &[u8],
    signature: &str,
    now: i64,
) -> Result<(), &'static str> {
    let at: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| "the request timestamp is not a number")?;
    if (now - at).abs() > MAX_SKEW_SECS {
        return Err("the request timestamp is more than 5 minutes from now");
    }
    let given = signature
        .strip_prefix("v0=")
        .and_then(|hex_text| hex::decode(hex_text).ok())
        .ok_or("the signature is not `v0=` and hex")?;
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(signing_secret.as_bytes())
        .map_err(|_| "the signing secret cannot key HMAC")?;
    mac.update(format!("v0:{}:", timestamp.trim()).as_bytes());
    mac.update(body);
    // `verify_slice` compares in constant time.
    mac.verify_slice(&given)
        .map_err(|_| "the signature does not match")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of Slack's "Verifying requests from Slack".
    const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    const TIMESTAMP: &str = "1531420618";
    const BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const SIGNATURE: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

    #[test]
    fn slacks_worked_example_passes() {
        assert_eq!(
            verify(SECRET, TIMESTAMP, BODY.as_bytes(), SIGNATURE, 1_531_420_618),
            Ok(())
        );
        assert_eq!(sign(SECRET, TIMESTAMP, BODY.as_bytes()), SIGNATURE);
    }

    #[test]
    fn forged_stale_and_replayed_requests_are_refused() {
        let now = 1_531_420_618;
        let tampered = BODY.replace("roadrunner", "wile_e");
        assert!(verify(SECRET, TIMESTAMP, tampered.as_bytes(), SIGNATURE, now).is_err());
        assert!(verify("another-secret", TIMESTAMP, BODY.as_bytes(), SIGNATURE, now).is_err());
        assert!(verify(SECRET, TIMESTAMP, BODY.as_bytes(), SIGNATURE, now + 301).is_err());
        // The same body and signature under a fresh timestamp.
        assert!(verify(SECRET, "1531420918", BODY.as_bytes(), SIGNATURE, now + 300).is_err());
        assert!(verify(SECRET, TIMESTAMP, BODY.as_bytes(), "v0=zz", now).is_err());
        assert!(verify(SECRET, "soon", BODY.as_bytes(), SIGNATURE, now).is_err());
    }
}
