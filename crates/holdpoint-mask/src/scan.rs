//! Runs the detectors over one text and settles what gets masked.
//!
//! Most texts (ids, names, short words) cannot contain anything. One pass of an
//! Aho-Corasick automaton over every detector's trigger words, and one pass counting
//! digits and the longest token, decide which detectors run at all (a long text wakes
//! them all anyway, so it skips the test). Findings that overlap are settled by
//! [`Kind::priority`], then by length; masks already in the text are never touched, so
//! masking twice changes nothing.

use crate::config::MaskError;
use crate::detectors::{Detector, Finding, Haystack, ShapeTest, Trigger};
use crate::entropy::is_token_byte;
use crate::fingerprint::masks_in;
use crate::kind::Kind;
use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

/// Texts longer than this skip the trigger test: nearly every detector would wake.
const GATE_LIMIT: usize = 16 * 1024;

/// A set of detectors by index; detectors past 64 (operators' patterns) always run.
type Awake = u64;

pub(crate) struct Scanner {
    detectors: Vec<Detector>,
    /// Trigger words, and for each the detectors it wakes.
    words: AhoCorasick,
    woken_by: Vec<Awake>,
    /// Detectors woken by the shape of a text.
    shape_tests: Vec<(usize, ShapeTest)>,
    /// Detectors that always run.
    always: Awake,
    disabled: Vec<Kind>,
}

impl Scanner {
    pub(crate) fn new(detectors: Vec<Detector>, disabled: Vec<Kind>) -> Result<Self, MaskError> {
        let mut patterns: Vec<String> = Vec::new();
        let mut woken_by: Vec<Awake> = Vec::new();
        let mut shape_tests = Vec::new();
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
                Trigger::Shape(test) => shape_tests.push((i, *test)),
                Trigger::Always => always |= 1 << i,
            }
        }
        // The search reports words without overlaps: a word hidden under another it
        // overlaps must be woken by that one.
        let own = woken_by.clone();
        for (a, wa) in patterns.iter().enumerate() {
            for (b, wb) in patterns.iter().enumerate() {
                if a != b
                    && can_overlap(wa, wb)
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
            shape_tests,
            always,
            disabled,
        })
    }

    /// What to mask in `text`: sorted, not overlapping, not touching existing masks.
    pub(crate) fn findings(&self, text: &str) -> Settled {
        let awake = if text.len() > GATE_LIMIT {
            Awake::MAX
        } else {
            self.awake(text)
        };
        if awake == 0 && self.detectors.len() <= 64 {
            return Settled::default();
        }
        let hay = Haystack::new(text);
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
    fn awake(&self, text: &str) -> Awake {
        let mut awake = self.always;
        for m in self.words.find_iter(text) {
            awake |= self
                .woken_by
                .get(m.pattern().as_usize())
                .copied()
                .unwrap_or(0);
        }
        let shape = Shape::of(text.as_bytes());
        for (i, test) in &self.shape_tests {
            awake |= Awake::from(test(&shape)) << i;
        }
        awake
    }
}

/// Whether occurrences of `a` and `b` can overlap in a text: one holds the other, or an
/// end of one is a start of the other.
fn can_overlap(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let ends_starts = |x: &[u8], y: &[u8]| {
        (1..x.len().min(y.len())).any(|k| x.ends_with(y.get(..k).unwrap_or_default()))
    };
    a.windows(b.len().max(1)).any(|w| w == b)
        || b.windows(a.len().max(1)).any(|w| w == a)
        || ends_starts(a, b)
        || ends_starts(b, a)
}

/// What one cheap pass over a text tells.
pub(crate) struct Shape {
    /// ASCII digits.
    pub digits: usize,
    /// The longest run of token bytes (see [`crate::entropy`]).
    pub longest_run: usize,
}

impl Shape {
    fn of(bytes: &[u8]) -> Shape {
        let (mut digits, mut run, mut longest_run) = (0, 0, 0);
        for &b in bytes {
            digits += usize::from(b.is_ascii_digit());
            run = if is_token_byte(b) { run + 1 } else { 0 };
            longest_run = longest_run.max(run);
        }
        Shape {
            digits,
            longest_run,
        }
    }
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
    let mut taken: Vec<(usize, usize)> = masks.to_vec();
    let mut complete = true;
    for f in order {
        if taken.iter().any(|&(s, e)| s < f.end && f.start < e) {
            complete &= covered(&taken, f);
        } else {
            taken.push((f.start, f.end));
            kept.push(f);
        }
    }
    complete
}

/// Whether the disjoint spans of `taken` cover all of `f`.
fn covered(taken: &[(usize, usize)], f: Finding) -> bool {
    let mut spans: Vec<(usize, usize)> = taken
        .iter()
        .copied()
        .filter(|&(s, e)| s < f.end && f.start < e)
        .collect();
    spans.sort_unstable();
    let mut pos = f.start;
    for (s, e) in spans {
        if s > pos {
            return false;
        }
        pos = pos.max(e);
    }
    pos >= f.end
}

#[cfg(test)]
mod tests {
    use super::{can_overlap, settle};

    #[test]
    fn words_that_overlap_are_known() {
        assert!(can_overlap("auth", "authorization"));
        assert!(can_overlap("key", "eyj"));
        assert!(can_overlap("sk-", "sk-ant-"));
        assert!(!can_overlap("token", "cookie"));
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
