//! What the byte-level detectors look at, found once per text: long runs of token
//! bytes (high entropy), runs of digits and ` ().+-` with enough digits (phones, cards,
//! SSNs), and IBAN heads. The trigger test reads the same result.
//!
//! Each kind of run has a least length, so the scan looks at one byte in that many and
//! reads around it only when it could be inside such a run: most of a text is passed
//! over without being looked at byte by byte.

use crate::class::{DIGIT, IBAN, LOWER, NUMBER, NUMBER_START, TOKEN, UPPER, class};
use crate::entropy::MIN_RUN;

/// The fewest digits a phone number, SSN or card can have.
pub(crate) const MIN_DIGITS: usize = 8;

/// The shortest IBAN, without spaces.
const MIN_IBAN: usize = 15;

/// A run of digits and ` ().+-` that starts with a digit, `+` or `(`, ends with a digit
/// and holds at least [`MIN_DIGITS`] digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NumericRun {
    pub start: usize,
    pub end: usize,
    pub digits: usize,
    pub dashes: usize,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Lexed {
    /// Runs of token bytes at least [`MIN_RUN`] long, as `start..end`.
    pub long_tokens: Vec<(usize, usize)>,
    pub numbers: Vec<NumericRun>,
    /// Where `AA00` (two capitals, two digits) starts after a word break, in a run of
    /// capitals, digits and spaces long enough for an IBAN.
    pub iban_heads: Vec<usize>,
}

impl Lexed {
    pub(crate) fn of(bytes: &[u8]) -> Lexed {
        let mut lexed = Lexed::default();
        // The shortest run of any kind is a number's.
        if bytes.len() < MIN_DIGITS {
            return lexed;
        }
        runs(bytes, TOKEN, MIN_RUN, |start, end| {
            lexed.long_tokens.push((start, end))
        });
        runs(bytes, NUMBER, MIN_DIGITS, |start, end| {
            lexed.numbers.extend(numeric_run(bytes, start, end));
        });
        runs(bytes, IBAN, MIN_IBAN, |start, end| {
            lexed
                .iban_heads
                .extend((start..end).filter(|&i| is_iban_head(bytes, i)));
        });
        lexed
    }
}

/// Calls `found` with every maximal run of bytes of class `bits` at least `min` long,
/// looking at one byte in `min` until one is of the class.
fn runs(bytes: &[u8], bits: u8, min: usize, mut found: impl FnMut(usize, usize)) {
    let is = |i: usize| bytes.get(i).is_some_and(|b| class(*b) & bits != 0);
    // INVARIANT: every run of `min` or more that starts before `i` has been found.
    let mut i: usize = 0;
    while let Some(probe) = i.checked_add(min.max(1) - 1).filter(|p| *p < bytes.len()) {
        if !is(probe) {
            i = probe + 1;
            continue;
        }
        let not = |b: &u8| class(*b) & bits == 0;
        let start = bytes
            .get(i..probe)
            .and_then(|head| head.iter().rposition(not))
            .map_or(i, |j| i + j + 1);
        let end = bytes
            .get(probe..)
            .and_then(|tail| tail.iter().position(not))
            .map_or(bytes.len(), |j| probe + j);
        if end - start >= min {
            found(start, end);
        }
        i = end + 1;
    }
}

/// The numeric run in `start..end` (bytes of class [`NUMBER`]): from its first digit,
/// `+` or `(` to its last digit, if it holds enough digits.
fn numeric_run(bytes: &[u8], start: usize, end: usize) -> Option<NumericRun> {
    let run = bytes.get(start..end)?;
    let first = run.iter().position(|b| class(*b) & NUMBER_START != 0)?;
    let last = run.iter().rposition(u8::is_ascii_digit)?;
    let body = run.get(first..=last)?;
    let digits = body.iter().filter(|b| b.is_ascii_digit()).count();
    (digits >= MIN_DIGITS).then(|| NumericRun {
        start: start + first,
        end: start + last + 1,
        digits,
        dashes: body.iter().filter(|b| **b == b'-').count(),
    })
}

/// Whether `AA00` starts at `i`, after a word break.
fn is_iban_head(bytes: &[u8], i: usize) -> bool {
    let is = |at: usize, bits: u8| bytes.get(at).is_some_and(|b| class(*b) & bits != 0);
    is(i, UPPER)
        && is(i + 1, UPPER)
        && is(i + 2, DIGIT)
        && is(i + 3, DIGIT)
        && !i
            .checked_sub(1)
            .is_some_and(|before| is(before, UPPER | LOWER | DIGIT))
}

#[cfg(test)]
mod tests {
    use super::{Lexed, NumericRun, runs};

    #[test]
    fn one_pass_finds_tokens_numbers_and_iban_heads() {
        let text = "id Zx8Qm2LpR7vN4tK9sW3yB6cH, call +1 (415) 555-2671. IBAN GB82 WEST 1234 5698 7654 32 x";
        let lexed = Lexed::of(text.as_bytes());
        assert_eq!(lexed.long_tokens, vec![(3, 27)]);
        let phone = NumericRun {
            start: 34,
            end: 51,
            digits: 11,
            dashes: 1,
        };
        let iban_digits = NumericRun {
            start: 68,
            end: 85,
            digits: 14,
            dashes: 0,
        };
        assert_eq!(lexed.numbers, vec![phone, iban_digits]);
        assert_eq!(lexed.iban_heads, vec![58]);
    }

    #[test]
    fn a_head_inside_a_word_is_not_a_head() {
        assert!(
            Lexed::of(b"xGB82 WEST 1234 5698 7654 32")
                .iban_heads
                .is_empty()
        );
        assert_eq!(
            Lexed::of(b"GB82 WEST 1234 5698 7654 32").iban_heads,
            vec![0]
        );
    }

    #[test]
    fn every_long_run_is_found_wherever_it_falls() {
        let text = b"ab cdefgh ijklmnopqrst uv";
        for min in 1..12 {
            let mut found = Vec::new();
            runs(text, crate::class::LOWER, min, |s, e| found.push((s, e)));
            let expected: Vec<(usize, usize)> = [(0, 2), (3, 9), (10, 22), (23, 25)]
                .into_iter()
                .filter(|(s, e)| e - s >= min)
                .collect();
            assert_eq!(found, expected, "min {min}");
        }
    }
}
