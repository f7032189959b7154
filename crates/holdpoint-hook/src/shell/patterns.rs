//! Glob patterns as `words.rs` builds them: a quoted character escaped with `\`, an
//! unquoted `*`, `?`, `[…]`, `{…}` kept active. Brace expansion as bash does it
//! (`{a,b}`, `{1..3}`, `{a..e}`), the escapes `$'…'` decodes, and whether a pattern
//! globs at all (a lone `[` does not).

/// A brace expansion giving more words than this is not read.
pub const MAX_EXPANSIONS: usize = 64;

/// Characters with a meaning in a pattern: escaped where they stand for themselves.
const SPECIAL: &[char] = &['\\', '*', '?', '[', ']', '{', '}', ','];

/// `text` as a pattern that matches only itself.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if SPECIAL.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A pattern's text with its escapes removed.
pub fn unescape(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            c => out.push(c),
        }
    }
    out
}

/// An unquoted variable's value globs (its `*` matches files) but does not brace-expand.
pub(super) fn unescape_globs(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match (c, chars.clone().next()) {
            ('\\', Some(next @ ('*' | '?' | '[' | ']'))) => {
                out.push(next);
                chars.next();
            }
            ('\\', Some(next)) => {
                out.push('\\');
                out.push(next);
                chars.next();
            }
            (c, _) => out.push(c),
        }
    }
    out
}

/// A pattern's braces and commas escaped, so it is one alternative of a brace group.
pub(super) fn escape_braces(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                out.push('\\');
                out.extend(chars.next());
            }
            '{' | '}' | ',' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// Whether a pattern globs: an unescaped `*` or `?`, or a `[` closed by a later `]` (a
/// lone `[`, as in `[ -f x ]`, is a plain character).
pub fn has_glob(pattern: &str) -> bool {
    let mut chars = pattern.chars();
    let mut open_bracket = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '*' | '?' => return true,
            '[' => open_bracket = true,
            ']' if open_bracket => return true,
            _ => {}
        }
    }
    false
}

/// Bash's brace expansion of a pattern; `None` past [`MAX_EXPANSIONS`] words.
pub fn expand_braces(pattern: &str) -> Option<Vec<String>> {
    let mut done = Vec::new();
    let mut todo = vec![pattern.to_string()];
    while let Some(next) = todo.pop() {
        match split_first_group(&next) {
            None => done.push(next),
            Some(expanded) => todo.extend(expanded.into_iter().rev()),
        }
        if done.len() + todo.len() > MAX_EXPANSIONS {
            return None;
        }
    }
    Some(done)
}

/// The first brace group of `pattern` expanded (`a{b,c}d` → `abd`, `acd`), or `None`
/// when it has none.
fn split_first_group(pattern: &str) -> Option<Vec<String>> {
    let chars: Vec<(usize, char)> = pattern.char_indices().collect();
    let mut k = 0;
    while let Some(&(start, c)) = chars.get(k) {
        k += 1;
        match c {
            '\\' => k += 1,
            '{' => {
                if let Some((end, items)) = group_items(pattern, start) {
                    let prefix = pattern.get(..start).unwrap_or_default();
                    let suffix = pattern.get(end + 1..).unwrap_or_default();
                    return Some(
                        (items.iter())
                            .map(|item| format!("{prefix}{item}{suffix}"))
                            .collect(),
                    );
                }
            }
            _ => {}
        }
    }
    None
}

/// The alternatives of the brace group opening at byte `start`, and its closing byte:
/// comma-separated items, or a `{a..e}` / `{1..9}` sequence.
fn group_items(pattern: &str, start: usize) -> Option<(usize, Vec<String>)> {
    let mut depth = 0;
    let mut items = Vec::new();
    let mut item_start = start + 1;
    let mut chars = pattern.char_indices().skip_while(|(i, _)| *i <= start);
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '{' => depth += 1,
            '}' if depth > 0 => depth -= 1,
            ',' if depth == 0 => {
                items.push(pattern.get(item_start..i)?.to_string());
                item_start = i + 1;
            }
            '}' => {
                let last = pattern.get(item_start..i)?.to_string();
                if items.is_empty() {
                    return sequence(&last).map(|seq| (i, seq));
                }
                items.push(last);
                return Some((i, items));
            }
            _ => {}
        }
    }
    None
}

/// `a..e` or `1..9` (with an optional `..step`) as its items.
fn sequence(body: &str) -> Option<Vec<String>> {
    let mut ends = body.split("..");
    let (first, last) = (ends.next()?, ends.next()?);
    let step: i64 = ends.next().map_or(Some(1), |s| s.parse().ok())?;
    let step = step.unsigned_abs().max(1);
    let (a, b, letters) = match (first.parse::<i64>(), last.parse::<i64>()) {
        (Ok(a), Ok(b)) => (a, b, false),
        _ => {
            let (mut f, mut l) = (first.chars(), last.chars());
            match (f.next(), f.next(), l.next(), l.next()) {
                (Some(a), None, Some(b), None) => {
                    (i64::from(u32::from(a)), i64::from(u32::from(b)), true)
                }
                _ => return None,
            }
        }
    };
    let count = a.abs_diff(b) / step + 1;
    if count > MAX_EXPANSIONS as u64 {
        return Some(vec!["*".into(); MAX_EXPANSIONS + 1]);
    }
    let down = b < a;
    let items = (0..count)
        .map(|n| {
            let offset = i64::try_from(n * step).unwrap_or(0);
            let v = if down { a - offset } else { a + offset };
            if letters {
                (u32::try_from(v).ok().and_then(char::from_u32))
                    .map_or_else(|| "*".to_string(), |c| escape(&c.to_string()))
            } else {
                v.to_string()
            }
        })
        .collect();
    Some(items)
}

/// The text of `$'…'` with bash's escapes decoded (`\x2e`, `\056`, `\u002e`, `\n`, …);
/// `None` for an escape not decoded here (`\c…`).
pub(super) fn decode_ansi_c(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let escape = chars.next()?;
        let simple = match escape {
            'a' => Some('\x07'),
            'b' => Some('\x08'),
            'e' | 'E' => Some('\x1b'),
            'f' => Some('\x0c'),
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            'v' => Some('\x0b'),
            '\\' | '\'' | '"' | '?' => Some(escape),
            _ => None,
        };
        if let Some(decoded) = simple {
            out.push(decoded);
            continue;
        }
        let (radix, max, mut digits) = match escape {
            'x' => (16, 2, String::new()),
            'u' => (16, 4, String::new()),
            'U' => (16, 8, String::new()),
            '0'..='7' => (8, 2, escape.to_string()),
            _ => return None,
        };
        while digits.len() < max + usize::from(radix == 8) {
            match chars.peek() {
                Some(d) if d.is_digit(radix) => digits.push(*d),
                _ => break,
            }
            chars.next();
        }
        let code = u32::from_str_radix(&digits, radix).ok()?;
        out.push(char::from_u32(code)?);
    }
    Some(out)
}
