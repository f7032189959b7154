//! Runs the detectors over one text and settles what gets masked.
//!
//! Most texts (ids, names, short words) cannot contain anything. One pass of an
//! Aho-Corasick automaton over every detector's trigger words, and the [`Lexed`] pass
//! the byte-level detectors share, decide which detectors run at all (a long text wakes
//! them all anyway, so it skips the test). Findings that overlap are settled by
//! [`Kind::priority`], then by length; masks already in the text are never touched, so
//! masking twice changes nothing.

use crate::config::MaskError;
use crate::detectors::{Detector, Finding, Haystack, LexedTest, Trigger};
use crate::fingerprint::masks_in;
use crate::kind::Kind;
use crate::lex::Lexed;
use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use std::collections::BTreeMap;

/// Texts longer than this skip the trigger test: nearly every detector would wake.
const GATE_LIMIT: usize = 16 * 1024;

/// A set of detectors by index; detectors past 64 (operators' patterns) always run.
type Awake = u64;

pub(crate) struct Scanner {
    detectors: Vec<Detector>,
    /// Trigger words, and for each the detectors it wakes.
    words: AhoCorasick,
    woken_by: Vec<Awake>,
    /// Detectors woken by what the [`Lexed`] pass found.
    lexed_tests: Vec<(usize, LexedTest)>,
    /// Detectors that always run.
    always: Awake,
    disabled: Vec<Kind>,
}

impl Scanner {
    pub(crate) fn new(detectors: Vec<Detector>, disabled: Vec<Kind>) -> Result<Self, MaskError> {
        let mut patterns: Vec<String> = Vec::new();
        let mut woken_by: Vec<Awake> = Vec::new();
        let mut lexed_tests = Vec::new();
        let mut always: Awake = 0;
        for (i, d) in detectors.iter().enumerate().take(64) {
            match &d.trigger {
                Trigger::Words(words) => {
                    for w in words.iter().filter(|w| !w.is_empty()) {
                        let w = w.to_ascii_lowercase();
                        match patterns.iter().position(|p| *p == w) {
                            Some(j) => {
                                if let Some(set) = woken_by.get_mut(j) {
                                    *set |= 1 << i;
                                }
                            }
                            None => {
                                patterns.push(w);
                                woken_by.push(1 << i);
                            }
                        }
                    }
                }
                Trigger::Lexed(test) => lexed_tests.push((i, *test)),
                Trigger::Always => always |= 1 << i,
            }
        }
        // The search (see `awake`) can miss a word that holds, or is held by, a word
        // it reports at the same place; the two wake each other's detectors.
        let own = woken_by.clone();
        for (a, wa) in patterns.iter().enumerate() {
            for (b, wb) in patterns.iter().enumerate() {
                if a != b
                    && (wa.contains(wb.as_str()) || wb.contains(wa.as_str()))
                    && let (Some(set), Some(other)) = (woken_by.get_mut(a), own.get(b))
                {
                    *set |= *other;
                }
            }
        }
        let words = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&patterns)
            .map_err(|e| MaskError::BadPattern {
                name: "trigger words".into(),
                message: e.to_string(),
            })?;
        Ok(Self {
            detectors,
            words,
            woken_by,
            lexed_tests,
            always,
            disabled,
        })
    }

    /// What to mask in `text`: sorted, not overlapping, not touching existing masks.
    pub(crate) fn findings(&self, text: &str) -> Settled {
        if self.always == 0 && self.detectors.len() <= 64 && is_plain(text) {
            return Settled::default();
        }
        let (awake, lexed) = if text.len() > GATE_LIMIT {
            (Awake::MAX, None)
        } else {
            let lexed = Lexed::of(text.as_bytes());
            (self.awake(text, &lexed), Some(lexed))
        };
        if awake == 0 && self.detectors.len() <= 64 {
            return Settled::default();
        }
        let hay = Haystack::new(text, lexed);
        let mut found = Vec::new();
        for (i, d) in self.detectors.iter().enumerate() {
            if i >= 64 || awake & (1 << i) != 0 {
                d.find(&hay, &mut found);
            }
        }
        found.retain(|f| f.end > f.start && !self.disabled.contains(&f.kind));
        if found.is_empty() {
            return Settled::default();
        }
        settle(found, &masks_in(text))
    }

    /// Which of the first 64 detectors could find anything in `text`.
    fn awake(&self, text: &str, lexed: &Lexed) -> Awake {
        let mut awake = self.always;
        // Each search reports the word that ends first from `at` on; the next starts one
        // byte after that word's start, so words that overlap it are found too (except
        // one it holds or that holds it: see `new`).
        let mut at = 0;
        while let Some(m) = self.words.find(aho_corasick::Input::new(text).range(at..)) {
            awake |= self
                .woken_by
                .get(m.pattern().as_usize())
                .copied()
                .unwrap_or(0);
            at = m.start() + 1;
        }
        for (i, test) in &self.lexed_tests {
            awake |= Awake::from(test(lexed)) << i;
        }
        awake
    }
}

/// The longest [`is_plain`] text.
const PLAIN_MAX: usize = 14;

/// Whether no built-in detector can find anything in `text`: a short name or word
/// (`timeout_ms`, `eu-west-1`, `prod`). Every built-in finding needs a byte outside
/// `[A-Za-z0-9_.-]`, at least 8 digits, or at least 15 bytes.
fn is_plain(text: &str) -> bool {
    text.len() <= PLAIN_MAX
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
        && text.bytes().filter(u8::is_ascii_digit).count() < 8
}

/// The findings that won, and whether that is all there is.
#[derive(Debug, Default)]
pub(crate) struct Settled {
    pub findings: Vec<Finding>,
    /// False when a finding lost an overlap but reached past the winners: once the
    /// winners are masked, what is left of it may be found again, so the masked text
    /// needs another pass.
    pub complete: bool,
}

/// Keeps the findings that win: higher priority first, then longer, then earlier.
/// `masks` (sorted, disjoint) are spans already masked; nothing overlapping them is kept.
///
/// Findings are swept in order of start into clusters that overlap; a finding alone in
/// its cluster (the usual case) is kept as it is.
fn settle(mut found: Vec<Finding>, masks: &[(usize, usize)]) -> Settled {
    found.sort_unstable_by_key(|f| (f.start, f.end));
    let mut kept = Vec::with_capacity(found.len());
    let mut complete = true;
    let mut rest = found.as_slice();
    while let Some(first) = rest.first() {
        let mut end = first.end;
        let len = rest
            .iter()
            .position(|f| {
                let apart = f.start >= end;
                end = end.max(f.end);
                apart
            })
            .unwrap_or(rest.len());
        let (cluster, tail) = rest.split_at(len.max(1));
        let end = cluster.iter().map(|f| f.end).max().unwrap_or(first.end);
        let blocking = overlapping(masks, first.start, end);
        match (cluster, blocking.is_empty()) {
            ([only], true) => kept.push(*only),
            _ => complete &= settle_cluster(cluster, blocking, &mut kept),
        }
        rest = tail;
    }
    kept.sort_unstable_by_key(|f| f.start);
    Settled {
        findings: kept,
        complete,
    }
}

/// The spans of `masks` (sorted, disjoint) that overlap `start..end`.
fn overlapping(masks: &[(usize, usize)], start: usize, end: usize) -> &[(usize, usize)] {
    let from = masks.partition_point(|m| m.1 <= start);
    let to = masks.partition_point(|m| m.0 < end);
    masks.get(from..to.max(from)).unwrap_or_default()
}

/// Settles one cluster of overlapping findings into `kept`; false when a loser reached
/// past the winners.
fn settle_cluster(cluster: &[Finding], masks: &[(usize, usize)], kept: &mut Vec<Finding>) -> bool {
    let mut order: Vec<Finding> = cluster.to_vec();
    order.sort_by(|a, b| {
        b.kind
            .priority()
            .cmp(&a.kind.priority())
            .then((b.end - b.start).cmp(&(a.end - a.start)))
            .then(a.start.cmp(&b.start))
    });
    // start -> end of every span taken so far; disjoint, so the one starting last
    // before a finding's end is the only one that can overlap it.
    let mut taken: BTreeMap<usize, usize> = masks.iter().copied().collect();
    let mut complete = true;
    for f in order {
        let overlaps = taken
            .range(..f.end)
            .next_back()
            .is_some_and(|(_, &end)| end > f.start);
        if !overlaps {
            taken.insert(f.start, f.end);
            kept.push(f);
        } else if complete && !covered(&taken, f) {
            complete = false;
        }
    }
    complete
}

/// Whether the disjoint spans of `taken` cover all of `f`.
fn covered(taken: &BTreeMap<usize, usize>, f: Finding) -> bool {
    let mut pos = f.start;
    // The span holding `f.start`, if one does, then the ones starting inside `f`.
    let first = taken.range(..=f.start).next_back().map(|(s, e)| (*s, *e));
    for (s, e) in first
        .into_iter()
        .chain(taken.range(f.start + 1..f.end).map(|(s, e)| (*s, *e)))
    {
        if s > pos {
            return false;
        }
        pos = pos.max(e);
        if pos >= f.end {
            return true;
        }
    }
    pos >= f.end
}

#[cfg(test)]
mod tests {
    use super::{is_plain, settle};

    #[test]
    fn short_names_are_plain_and_the_rest_is_not() {
        for plain in [
            "",
            "timeout_ms",
            "eu-west-1",
            "prod",
            "10.0.0.1",
            "v1.2.3-rc.4",
        ] {
            assert!(is_plain(plain), "{plain}");
        }
        for other in [
            "a@b.co",
            "4111111111111",
            "xoxb-123456789",
            "a b",
            "12345678",
            "key=value",
        ] {
            assert!(!is_plain(other), "{other}");
        }
    }
    use crate::detectors::finding;
    use crate::kind::Kind;

    #[test]
    fn the_specific_detector_wins_an_overlap() {
        let found = vec![
            finding(0, 30, Kind::HighEntropy),
            finding(5, 30, Kind::Jwt),
            finding(40, 50, Kind::Email),
        ];
        let settled = settle(found, &[]);
        assert_eq!(
            settled.findings,
            vec![finding(5, 30, Kind::Jwt), finding(40, 50, Kind::Email)]
        );
        assert!(
            !settled.complete,
            "0..5 of the high-entropy finding is left over"
        );
    }

    #[test]
    fn existing_masks_are_left_alone() {
        let settled = settle(vec![finding(3, 8, Kind::SecretField)], &[(0, 19)]);
        assert!(settled.findings.is_empty());
        assert!(settled.complete);
    }
}
