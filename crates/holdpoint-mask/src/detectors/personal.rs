//! Personal data: email addresses, phone numbers, payment cards (Luhn), US social
//! security numbers and IBANs (mod 97). Numbers are checked in their context so
//! dates, IP addresses, versions and plain counts stay readable.

use super::{
    Detector, Finder, Finding, Haystack, Trigger, byte_at, byte_before, finding, regex, simple,
    slice,
};
use crate::checksum;
use crate::config::MaskError;
use crate::kind::Kind;

/// +44 20 7946 0958, +1 (415) 555-2671 | (415) 555-2671, 415-555-2671, 415.555.2671
const PHONE: &str = r"\+\d{1,3}(?:[ .-]?\(?\d{1,5}\)?){1,6}|(?:\([2-9]\d{2}\)[ .-]?|\b[2-9]\d{2}[ .-])[2-9]\d{2}[ .-]\d{4}\b";
const SSN: &str = r"\b\d{3}-\d{2}-\d{4}\b";
/// Up to 24 digits, so a card followed by more digits can be cut back to the card.
const CARD: &str = r"\b[2-6]\d(?:[ -]?\d){11,22}\b";
const IBAN: &str = r"^[A-Z]{2}\d{2}(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,4})?)\b";

pub(super) fn detectors() -> Result<Vec<Detector>, MaskError> {
    Ok(vec![
        simple(
            Kind::Email,
            &["@"],
            0,
            r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b",
            Some(person_address),
        )?,
        numbers()?,
        iban()?,
    ])
}

/// Phone numbers, card numbers and SSNs live in runs of digits and ` ().+-`. One pass
/// finds the runs with enough digits; the three regexes run on those runs only.
fn numbers() -> Result<Detector, MaskError> {
    let phone = regex(Kind::Phone, PHONE)?;
    let ssn = regex(Kind::UsSsn, SSN)?;
    let card = regex(Kind::CardNumber, CARD)?;
    let find = move |hay: &Haystack<'_>, out: &mut Vec<Finding>| {
        let text = hay.text;
        for run in &hay.lexed().numbers {
            let s = slice(text, run.start, run.end);
            for m in phone.find_iter(s) {
                let (start, end) = (run.start + m.start(), run.start + m.end());
                if is_phone(text, start, end) {
                    out.push(finding(start, end, Kind::Phone));
                }
            }
            if run.digits >= 9 && run.dashes >= 2 {
                for m in ssn.find_iter(s) {
                    let (start, end) = (run.start + m.start(), run.start + m.end());
                    if is_ssn(text, start, end) {
                        out.push(finding(start, end, Kind::UsSsn));
                    }
                }
            }
            if run.digits >= 13 {
                for m in card.find_iter(s) {
                    let (start, end) = (run.start + m.start(), run.start + m.end());
                    if stands_alone(text, start, end)
                        && let Some(len) = card_prefix(m.as_str())
                    {
                        out.push(finding(start, start + len, Kind::CardNumber));
                    }
                }
            }
        }
    };
    Ok(Detector {
        trigger: Trigger::Lexed(|lexed| !lexed.numbers.is_empty()),
        finder: Finder::Custom(Box::new(find)),
    })
}

/// `git@github.com:org/repo.git` is a remote, and the `user:pass@host` of a URL a
/// login, not a person's address.
fn person_address(text: &str, start: usize, end: usize) -> bool {
    if slice(text, start, end).starts_with("git@")
        || byte_before(text, start).is_some_and(|b| b == b'/' || b == b':')
    {
        return false;
    }
    // Inside a URL's authority: `scheme://` earlier in the same word.
    let word_start = text
        .as_bytes()
        .get(..start)
        .and_then(|head| {
            head.iter()
                .rposition(|b| b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b'<' | b'('))
        })
        .map_or(0, |i| i + 1);
    !slice(text, word_start, start).contains("://")
}

/// Not part of a longer number, a date, a version or an address.
fn stands_alone(text: &str, start: usize, end: usize) -> bool {
    let before = byte_before(text, start);
    let after = byte_at(text, end);
    let after2 = byte_at(text, end + 1);
    let joined_before = before.is_some_and(|b| {
        b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'/' | b'_' | b'+')
    });
    let joined_after = after
        .is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'/' | b'_'))
        || (after == Some(b'.') && after2.is_some_and(|b| b.is_ascii_digit()));
    !joined_before && !joined_after
}

fn digits(s: &str) -> usize {
    s.bytes().filter(u8::is_ascii_digit).count()
}

fn is_phone(text: &str, start: usize, end: usize) -> bool {
    (8..=15).contains(&digits(slice(text, start, end))) && stands_alone(text, start, end)
}

fn is_ssn(text: &str, start: usize, end: usize) -> bool {
    let s = slice(text, start, end);
    let mut parts = s.split('-');
    let ok = match (parts.next(), parts.next(), parts.next()) {
        (Some(a), Some(g), Some(n)) => checksum::us_ssn(a, g, n),
        _ => false,
    };
    ok && stands_alone(text, start, end)
}

/// 13 to 19 digits in groups of at least 3 with one kind of separator. When the run is
/// longer than a card, trailing groups are dropped until the Luhn check passes: the
/// length of that group-aligned prefix of `run`.
fn card_prefix(run: &str) -> Option<usize> {
    let seps: Vec<usize> = run.match_indices([' ', '-']).map(|(i, _)| i).collect();
    if seps.is_empty() {
        return checksum::card_number(run).then_some(run.len());
    }
    let one_kind = seps.windows(2).all(|w| match w {
        [a, b] => run.as_bytes().get(*a) == run.as_bytes().get(*b),
        _ => true,
    });
    if !one_kind {
        return None;
    }
    let mut ends: Vec<usize> = seps.clone();
    ends.push(run.len());
    let mut group_start = 0;
    for (i, end) in ends.iter().enumerate() {
        if end.saturating_sub(group_start) < 3 && i + 1 < ends.len() {
            return None;
        }
        group_start = end + 1;
    }
    ends.iter()
        .rev()
        .map(|&end| (end, slice(run, 0, end)))
        .find(|(_, prefix)| checksum::card_number(prefix))
        .map(|(end, _)| end)
}

/// `GB82 WEST 1234 5698 7654 32` or `DE89370400440532013000`: found by its head (two
/// capitals and two digits after a word break), then read with an anchored regex.
fn iban() -> Result<Detector, MaskError> {
    let kind = Kind::Iban;
    let re = regex(kind, IBAN)?;
    let find = move |hay: &Haystack<'_>, out: &mut Vec<Finding>| {
        let text = hay.text;
        let mut next = 0;
        for &at in &hay.lexed().iban_heads {
            if at >= next
                && let Some(m) = text.get(at..).and_then(|rest| re.find(rest))
                && checksum::iban(m.as_str())
            {
                out.push(finding(at, at + m.end(), kind));
                next = at + m.end();
            }
        }
    };
    Ok(Detector {
        trigger: Trigger::Lexed(|lexed| !lexed.iban_heads.is_empty()),
        finder: Finder::Custom(Box::new(find)),
    })
}
