//! Telling a random secret from an identifier, a hash, a path or a word.
//!
//! A token is a run of `[A-Za-z0-9+/_-]`. It is split on `-`, `_` and `/` into
//! segments. A segment looks random when it mixes letter cases or letters and digits,
//! changes class often (`aZ3q` changes at every step, `HoldpointMask` twice), and is not
//! hex (hashes, UUIDs) or a ULID. When the random segments of a token add up to
//! [`MIN_RUN`] characters and carry enough Shannon entropy, they are a secret.
//!
//! So `7f3a…` commit hashes, UUIDs, `2024-05-01T12:00:00Z`, `/home/alice/src/lib.rs`,
//! `HoldpointMaskConfig` and prose stay; `wJalrXUtnFEMI/K7MDENG/bPxRfiCY…` does not.

use crate::class::{DIGIT, LOWER, NOT_HEX, UPPER, class};

/// The least length of random text that counts as a secret.
pub(crate) const MIN_RUN: usize = 20;

/// The least length of a segment that counts toward [`MIN_RUN`].
const MIN_SEGMENT: usize = 6;

fn is_separator(b: u8) -> bool {
    matches!(b, b'-' | b'_' | b'/')
}

/// Within `token` (a maximal run of token bytes), the span that looks like a random
/// secret, if any.
pub(crate) fn random_span(token: &[u8]) -> Option<(usize, usize)> {
    if token.len() < MIN_RUN || !mixed_and_not_hex(token) {
        return None;
    }
    let mut counts = [0u32; 128];
    let mut random_len = 0usize;
    let mut alnum_len = 0usize;
    let mut span: Option<(usize, usize)> = None;
    let mut start = 0usize;
    for end in 0..=token.len() {
        let at_end = end == token.len();
        if !at_end && !token.get(end).copied().is_some_and(is_separator) {
            continue;
        }
        let segment = token.get(start..end).unwrap_or_default();
        alnum_len += segment.len();
        if looks_random(segment) {
            random_len += segment.len();
            for &b in segment {
                if let Some(c) = counts.get_mut(usize::from(b & 0x7f)) {
                    *c += 1;
                }
            }
            span = Some(match span {
                Some((s, _)) => (s, end),
                None => (start, end),
            });
        }
        start = end + 1;
    }
    let (s, e) = span?;
    if random_len < MIN_RUN || entropy(&counts, random_len) < threshold(random_len) {
        return None;
    }
    // Mostly random: mask the whole token, so no less random piece of a secret shows.
    if random_len * 2 >= alnum_len {
        let end = token
            .iter()
            .rposition(|b| !is_separator(*b))
            .map_or(0, |i| i + 1);
        let begin = token.iter().position(|b| !is_separator(*b)).unwrap_or(0);
        return (begin < end).then_some((begin, end));
    }
    Some((s, e))
}

/// The quick test first: a random token mixes two of lower case, upper case and digits,
/// and is not all hex (hashes, UUIDs).
fn mixed_and_not_hex(token: &[u8]) -> bool {
    let all = token.iter().fold(0, |acc, &b| acc | class(b));
    all & NOT_HEX != 0 && (all & (LOWER | UPPER | DIGIT)).count_ones() >= 2
}

/// Whether one separator-free segment looks random.
fn looks_random(segment: &[u8]) -> bool {
    let core = trim_padding(segment);
    if core.len() < MIN_SEGMENT || is_hex(core) || is_ulid(core) {
        return false;
    }
    let (mut lower, mut upper, mut digit) = (false, false, false);
    let mut switches = 0usize;
    let mut alnum = 0usize;
    let mut prev: Option<u8> = None;
    for &b in core {
        let class = match b {
            b'a'..=b'z' => 0u8,
            b'A'..=b'Z' => 1,
            b'0'..=b'9' => 2,
            _ => continue,
        };
        lower |= class == 0;
        upper |= class == 1;
        digit |= class == 2;
        if prev.is_some_and(|p| p != class) {
            switches += 1;
        }
        prev = Some(class);
        alnum += 1;
    }
    let classes = usize::from(lower) + usize::from(upper) + usize::from(digit);
    classes >= 2 && alnum > 1 && switches * 10 >= (alnum - 1) * 3
}

fn trim_padding(segment: &[u8]) -> &[u8] {
    let end = segment
        .iter()
        .rposition(|b| *b != b'=')
        .map_or(0, |i| i + 1);
    segment.get(..end).unwrap_or_default()
}

fn is_hex(segment: &[u8]) -> bool {
    segment.iter().all(u8::is_ascii_hexdigit)
}

/// 26 characters of Crockford base32, upper case: the ids holdpoint itself hands out.
fn is_ulid(segment: &[u8]) -> bool {
    segment.len() == 26
        && segment.iter().all(|b| {
            b.is_ascii_digit()
                || (b.is_ascii_uppercase() && !matches!(b, b'I' | b'L' | b'O' | b'U'))
        })
}

/// Shannon entropy in bits per character: log2(n) - sum(c log2 c) / n.
fn entropy(counts: &[u32; 128], total: usize) -> f64 {
    let n = total as f64;
    let sum: f64 = counts
        .iter()
        .filter(|c| **c > 1)
        .map(|&c| {
            let c = f64::from(c);
            c * c.log2()
        })
        .sum();
    n.log2() - sum / n
}

/// The entropy random text of `len` characters clears with room to spare: three
/// quarters of the most `len` distinct characters could give, capped at 64 symbols.
fn threshold(len: usize) -> f64 {
    let symbols = len.min(64) as f64;
    0.75 * symbols.log2()
}

#[cfg(test)]
mod tests {
    use super::random_span;

    fn random(s: &str) -> bool {
        random_span(s.as_bytes()).is_some()
    }

    #[test]
    fn random_keys_are_found() {
        for s in [
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "Zx8Qm2LpR7vN4tK9sW3yB6cH1jD5fG0a",
            "q8Ja2LmZ93nXbV7kP1rT",
            "dGhpcyBpcyBhIHNlY3JldCB2YWx1ZQ==",
            "3xK9-mQ2pL7vR4tN8sW1yB6cH5jD0fGa",
        ] {
            assert!(random(s), "{s} should look random");
        }
    }

    #[test]
    fn ids_hashes_paths_and_words_are_not() {
        for s in [
            "550e8400-e29b-41d4-a716-446655440000",
            "9fceb02d0ae598e95dc970b74767f19372d61af8",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "01HZX3K4M5N6P7Q8R9S0T1V2W3",
            "act_01HZX3K4M5N6P7Q8R9S0T1V2W3",
            "/home/alice/projects/holdpoint/crates/holdpoint-mask/src/lib",
            "/Users/Alice/Library/Application",
            "HoldpointMaskRedactorConfig",
            "internationalization",
            "api-server-7d9f8b6c5d-x2k4j",
            "users_billing_address_2024_q1",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "2024-05-01T12",
        ] {
            assert!(!random(s), "{s} should not look random");
        }
    }

    #[test]
    fn a_random_tail_is_masked_alone() {
        let token = b"release-notes-for-the-third-quarter-Zx8Qm2LpR7vN4tK9sW3yB6cH";
        let (s, e) = random_span(token).unwrap();
        assert_eq!(token.get(s..e), Some(&b"Zx8Qm2LpR7vN4tK9sW3yB6cH"[..]));
    }
}
