//! What a Glob or Grep pattern could match among the names the starter rules guard.
//!
//! The rules are written on paths (`*/.env`, `*/.ssh/*`), and a pattern is judged as a
//! path: `**/.env` is refused. But `.en[v]`, `*.env`, `.env*` or `{a,.env}` match `.env`
//! too, and no rule on the text names it. So for each segment of a pattern that has a
//! wildcard and some literal text, each guarded name it matches gives one more path, the
//! pattern with that segment replaced by the name, judged like the pattern. A segment of
//! wildcards alone (`*`, `**`) is left as it is: it aims at nothing, as a search of a
//! whole folder does not (docs/agents.md names that limit). Braces are expanded first,
//! across segments too; each alternative is a further path.

/// The file and folder names the starter rules guard by name (credentials, holdpoint's
/// own files).
const GUARDED_NAMES: &[&str] = &[
    ".env",
    ".env.local",
    ".netrc",
    ".git-credentials",
    ".ssh",
    ".aws",
    ".azure",
    ".kube",
    "gcloud",
    "holdpoint-data",
    "holdpoint.toml",
    "holdpoint.db",
    "admin.token",
];

/// Segments longer than this are not matched (no name guarded is near it).
const MAX_SEGMENT: usize = 256;
/// The most alternatives a segment's braces expand to.
const MAX_ALTERNATIVES: usize = 64;
/// The most further paths one pattern gives.
const MAX_VARIANTS: usize = 16;

/// Each alternative of the pattern's braces (`{.s,x/.s}sh` is `.ssh` and `x/.ssh`), and
/// each alternative with a wildcard segment that matches a guarded name replaced by it.
pub(crate) fn aimed(pattern: &str) -> Vec<String> {
    let mut budget = MAX_ALTERNATIVES;
    let mut out = Vec::new();
    for alternative in expand(pattern, &mut budget) {
        if alternative != pattern && out.len() < MAX_VARIANTS {
            out.push(alternative.clone());
        }
        let segments: Vec<&str> = alternative.split('/').collect();
        for (i, segment) in segments.iter().enumerate() {
            if !aims(segment) {
                continue;
            }
            for name in GUARDED_NAMES {
                if out.len() >= MAX_VARIANTS {
                    return out;
                }
                if matches(segment, name) {
                    let variant: Vec<&str> = (segments.iter().enumerate())
                        .map(|(j, s)| if i == j { *name } else { *s })
                        .collect();
                    out.push(variant.join("/"));
                }
            }
        }
    }
    out
}

/// A segment with a wildcard and some literal text.
fn aims(segment: &str) -> bool {
    segment.len() <= MAX_SEGMENT
        && segment.contains(['*', '?', '[', '{'])
        && segment.chars().any(|c| c != '*' && c != '?')
}

/// Whether `pattern` (one segment, braces expanded) matches `name`, case aside.
fn matches(pattern: &str, name: &str) -> bool {
    let name: Vec<char> = name.to_lowercase().chars().collect();
    let mut budget = MAX_ALTERNATIVES;
    expand(&pattern.to_lowercase(), &mut budget)
        .iter()
        .any(|alternative| matches_tokens(&tokens(alternative), &name))
}

/// `pattern` with its braces expanded, at most `budget` alternatives in all.
fn expand(pattern: &str, budget: &mut usize) -> Vec<String> {
    let Some(open) = pattern.find('{') else {
        return vec![pattern.to_string()];
    };
    let mut depth = 0usize;
    let mut cuts = vec![open];
    let mut close = None;
    for (i, c) in pattern.char_indices().filter(|(i, _)| *i >= open) {
        match c {
            '{' => depth += 1,
            '}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    close = Some(i);
                    break;
                }
            }
            ',' if depth == 1 => cuts.push(i),
            _ => {}
        }
    }
    let Some(close) = close else {
        return vec![pattern.to_string()];
    };
    cuts.push(close);
    let head = pattern.get(..open).unwrap_or_default();
    let tail = pattern.get(close + 1..).unwrap_or_default();
    let mut out = Vec::new();
    for pair in cuts.windows(2) {
        let (Some(from), Some(to)) = (pair.first(), pair.get(1)) else {
            continue;
        };
        let alternative = pattern.get(from + 1..*to).unwrap_or_default();
        for expanded in expand(&format!("{head}{alternative}{tail}"), budget) {
            if *budget == 0 {
                return out;
            }
            *budget -= 1;
            out.push(expanded);
        }
    }
    out
}

/// One piece of a glob.
enum Token {
    /// `*` (and `**`, within a segment the same).
    Any,
    /// `?`.
    One,
    /// `[…]`: ranges, and whether negated.
    Class(Vec<(char, char)>, bool),
    Literal(char),
}

impl Token {
    fn accepts(&self, c: char) -> bool {
        match self {
            Token::Any | Token::One => true,
            Token::Class(ranges, negated) => {
                ranges.iter().any(|(lo, hi)| *lo <= c && c <= *hi) != *negated
            }
            Token::Literal(l) => *l == c,
        }
    }
}

fn tokens(pattern: &str) -> Vec<Token> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(c) = chars.get(i) {
        i += 1;
        match c {
            '*' => out.push(Token::Any),
            '?' => out.push(Token::One),
            '\\' => {
                out.push(Token::Literal(chars.get(i).copied().unwrap_or('\\')));
                i += 1;
            }
            '[' => match class(chars.get(i..).unwrap_or_default()) {
                Some((token, used)) => {
                    out.push(token);
                    i += used;
                }
                None => out.push(Token::Literal('[')),
            },
            other => out.push(Token::Literal(*other)),
        }
    }
    out
}

/// A class after its `[`: the token and the characters it used, `None` if unclosed.
fn class(rest: &[char]) -> Option<(Token, usize)> {
    let negated = matches!(rest.first(), Some('!' | '^'));
    let mut i = usize::from(negated);
    let mut ranges = Vec::new();
    let mut first = true;
    loop {
        let c = *rest.get(i)?;
        if c == ']' && !first {
            return Some((Token::Class(ranges, negated), i + 1));
        }
        first = false;
        match (rest.get(i + 1), rest.get(i + 2)) {
            (Some('-'), Some(end)) if *end != ']' => {
                ranges.push((c, *end));
                i += 3;
            }
            _ => {
                ranges.push((c, c));
                i += 1;
            }
        }
    }
}

/// Whether `tokens` match all of `name`: the set of prefixes of `name` matched so far.
fn matches_tokens(tokens: &[Token], name: &[char]) -> bool {
    let mut reach: Vec<bool> = std::iter::once(true)
        .chain(name.iter().map(|_| false))
        .collect();
    for token in tokens {
        reach = match token {
            Token::Any => {
                let mut seen = false;
                (reach.iter())
                    .map(|r| {
                        seen |= *r;
                        seen
                    })
                    .collect()
            }
            _ => std::iter::once(false)
                .chain((reach.iter().zip(name.iter())).map(|(r, c)| *r && token.accepts(*c)))
                .collect(),
        };
    }
    reach.last().copied().unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_aimed_at_a_guarded_name_give_it() {
        for (pattern, name) in [
            (".en[v]", ".env"),
            ("*.env", ".env"),
            (".env*", ".env"),
            ("{a,.env}", ".env"),
            ("{a,{b,.e?v}}", ".env"),
            (".ss[a-z]", ".ssh"),
            (".[!x]ws", ".aws"),
            ("*.TOKEN", "admin.token"),
            ("\\.en[v]", ".env"),
        ] {
            assert!(matches(pattern, name), "{pattern} {name}");
        }
        for (pattern, name) in [(".en[!v]", ".env"), ("*.rs", ".env"), ("[", ".env")] {
            assert!(!matches(pattern, name), "{pattern} {name}");
        }
        assert_eq!(aimed("/p/**/.en[v]"), vec!["/p/**/.env"]);
        assert_eq!(aimed("/h/{.s,x/.s}sh/*"), vec!["/h/.ssh/*", "/h/x/.ssh/*"]);
        assert_eq!(aimed("/h/.ss[h]/*"), vec!["/h/.ssh/*"]);
        assert!(aimed("/p/**/*").is_empty());
        assert!(aimed("/p/src/*.rs").is_empty());
        let many = format!("{{{}}}", vec!["a"; 10_000].join(","));
        assert!(aimed(&many).len() <= MAX_VARIANTS);
    }
}
