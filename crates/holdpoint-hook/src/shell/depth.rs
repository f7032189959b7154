//! How deeply a command line nests, counted before the parser sees it. The parser
//! recurses once per level, and ten thousand `(` overflow its stack: an overflow aborts
//! the process, which no `catch_unwind` catches, and a hook that crashes decides
//! nothing. So a line nested deeper than [`MAX_NESTING`] is not parsed at all.
//!
//! The count follows bash's quoting (single and double quotes, `$'…'`, backslashes,
//! comments, here-documents). Where it could be wrong it counts more, never less: an
//! opening inside single quotes still counts until the quote ends, a closing that does
//! not match what is open is ignored.

/// Lines nested deeper than this (brackets, braces, substitutions, quotes inside
/// substitutions, `if`/`while`/`for`/`case`) are not handed to the parser.
pub const MAX_NESTING: usize = 64;

/// Whether `text` nests deeper than the parser may be asked to read.
pub fn too_deep(text: &str) -> bool {
    nesting(text, false) > MAX_NESTING
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    Paren,
    Brace,
    Keyword,
    Backtick,
    Double,
    /// An unquoted here-document's body: substitutions count, quotes do not.
    Body,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quote {
    Single,
    AnsiC,
}

/// A here-document whose body starts after the current line.
struct Pending {
    delimiter: String,
    strip_tabs: bool,
    quoted: bool,
}

#[derive(Default)]
struct Scan {
    stack: Vec<Open>,
    quote: Option<Quote>,
    /// Openings seen inside the current single quotes.
    latent: usize,
    deepest: usize,
    pending: Vec<Pending>,
    /// Where the last unescaped `$` of unquoted code stood.
    dollar_at: Option<usize>,
}

const OPENERS: &[char] = &['(', '{', '`'];
const KEYWORDS_OPEN: &[&str] = &["if", "while", "until", "for", "case", "select"];
const KEYWORDS_CLOSE: &[&str] = &["fi", "done", "esac"];

/// The deepest nesting in `text`; `body` reads it as an unquoted here-document's body.
fn nesting(text: &str, body: bool) -> usize {
    let chars: Vec<char> = text.chars().collect();
    let mut scan = Scan::default();
    if body {
        scan.stack.push(Open::Body);
    }
    let mut i = 0;
    let mut word_start = true;
    while let Some(&c) = chars.get(i) {
        let at = |k: usize| chars.get(k).copied();
        i = match (scan.quote, scan.stack.last().copied()) {
            (Some(quote), _) => scan.quoted(c, quote, i),
            (None, Some(Open::Double | Open::Body)) => scan.double(c, at(i + 1), i),
            (None, _) => scan.code(&chars, i, &mut word_start),
        };
        scan.deepest = scan.deepest.max(scan.stack.len() + scan.latent);
    }
    scan.deepest
}

impl Scan {
    fn push(&mut self, open: Open) {
        self.stack.push(open);
    }

    fn pop_if(&mut self, open: Open) {
        if self.stack.last() == Some(&open) {
            self.stack.pop();
        }
    }

    /// Inside `'…'` or `$'…'`: only the closing quote ends it.
    fn quoted(&mut self, c: char, quote: Quote, i: usize) -> usize {
        if quote == Quote::AnsiC && c == '\\' {
            return i + 2;
        }
        if c == '\'' {
            self.quote = None;
            self.latent = 0;
        } else if OPENERS.contains(&c) {
            self.latent += 1;
        }
        i + 1
    }

    /// Inside `"…"` or a here-document's body.
    fn double(&mut self, c: char, next: Option<char>, i: usize) -> usize {
        match (c, next) {
            ('\\', _) => return i + 2,
            ('"', _) => self.pop_if(Open::Double),
            ('$', Some('(')) => {
                self.push(Open::Paren);
                return i + 2;
            }
            ('$', Some('{')) => {
                self.push(Open::Brace);
                return i + 2;
            }
            ('`', _) => self.push(Open::Backtick),
            _ => {}
        }
        i + 1
    }

    /// Unquoted code.
    fn code(&mut self, chars: &[char], i: usize, word_start: &mut bool) -> usize {
        let Some(&c) = chars.get(i) else {
            return i + 1;
        };
        let starts_word = *word_start;
        // `{` and `}` start no word: `${#x}` holds no comment.
        *word_start = c.is_whitespace() || ";|&()".contains(c);
        if c == '$' {
            self.dollar_at = Some(i);
        }
        match c {
            '\\' => return i + 2,
            '\'' => {
                // `$'…'` only after a `$` that is no escaped one (`\$'x\'` is plain).
                let ansi = i > 0 && self.dollar_at == Some(i - 1);
                self.quote = Some(if ansi { Quote::AnsiC } else { Quote::Single });
            }
            '"' => self.push(Open::Double),
            '`' if self.stack.last() == Some(&Open::Backtick) => {
                self.stack.pop();
            }
            '`' => self.push(Open::Backtick),
            '(' => self.push(Open::Paren),
            ')' => self.pop_if(Open::Paren),
            '{' => self.push(Open::Brace),
            '}' => self.pop_if(Open::Brace),
            '#' if starts_word => return skip_line(chars, i),
            '\n' => return self.here_documents(chars, i + 1),
            '<' if chars.get(i + 1) == Some(&'<') && chars.get(i + 2) != Some(&'<') => {
                return self.here_document_start(chars, i + 2);
            }
            c if starts_word && c.is_ascii_lowercase() => return self.keyword(chars, i),
            _ => {}
        }
        i + 1
    }

    /// A word that may open or close a compound command.
    fn keyword(&mut self, chars: &[char], i: usize) -> usize {
        let end = (i..chars.len())
            .find(|&k| chars.get(k).is_none_or(|c| !c.is_ascii_alphanumeric()))
            .unwrap_or(chars.len());
        let word: String = chars.get(i..end).unwrap_or_default().iter().collect();
        if KEYWORDS_OPEN.contains(&word.as_str()) {
            self.push(Open::Keyword);
        } else if KEYWORDS_CLOSE.contains(&word.as_str()) {
            self.pop_if(Open::Keyword);
        }
        end.max(i + 1)
    }

    /// After `<<`: the delimiter of a here-document whose body follows the line.
    fn here_document_start(&mut self, chars: &[char], mut i: usize) -> usize {
        let strip_tabs = chars.get(i) == Some(&'-');
        if strip_tabs {
            i += 1;
        }
        while chars.get(i).is_some_and(|c| *c == ' ' || *c == '\t') {
            i += 1;
        }
        let mut delimiter = String::new();
        let mut quoted = false;
        while let Some(&c) = chars.get(i) {
            if c.is_whitespace() || ";|&<>()".contains(c) {
                break;
            }
            if matches!(c, '\'' | '"' | '\\') {
                quoted = true;
            } else {
                delimiter.push(c);
            }
            i += 1;
        }
        self.pending.push(Pending {
            delimiter,
            strip_tabs,
            quoted,
        });
        i
    }

    /// At the start of a line: the bodies of the here-documents the last line opened.
    fn here_documents(&mut self, chars: &[char], mut i: usize) -> usize {
        for doc in std::mem::take(&mut self.pending) {
            let mut body = String::new();
            while i < chars.len() {
                let end = (i..chars.len())
                    .find(|&k| chars.get(k) == Some(&'\n'))
                    .unwrap_or(chars.len());
                let line: String = chars.get(i..end).unwrap_or_default().iter().collect();
                i = end + 1;
                let compared = if doc.strip_tabs {
                    line.trim_start_matches('\t')
                } else {
                    &line
                };
                if compared == doc.delimiter {
                    break;
                }
                body.push_str(&line);
                body.push('\n');
            }
            if !doc.quoted {
                let inner = nesting(&body, true);
                self.deepest = self.deepest.max(self.stack.len() + inner);
            }
        }
        i
    }
}

/// The index of the newline ending the line `i` is on (a comment's end).
fn skip_line(chars: &[char], i: usize) -> usize {
    (i..chars.len())
        .find(|&k| chars.get(k) == Some(&'\n'))
        .unwrap_or(chars.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_follows_brackets_keywords_and_quotes() {
        assert_eq!(nesting("ls -la", false), 0);
        assert_eq!(nesting("echo $(a $(b))", false), 2);
        assert_eq!(nesting("if true; then (x); fi", false), 2);
        assert_eq!(nesting("echo ')))'; (((x)))", false), 3);
        assert_eq!(nesting("case x in a) y;; esac; (z)", false), 1);
        assert_eq!(nesting("echo \"$(a \"$(b)\")\"", false), 4);
        assert_eq!(nesting("# ((((\nls", false), 0);
        // Openings inside single quotes count while the quote lasts.
        assert_eq!(nesting("echo '(((('", false), 4);
    }

    #[test]
    fn here_document_bodies_are_read_as_bash_reads_them() {
        let quoted = "cat <<'EOF'\nit's ((((\nEOF\n(x)";
        assert_eq!(nesting(quoted, false), 1);
        let unquoted = "cat <<EOF\n$(a $(b))\nEOF\nls";
        assert_eq!(nesting(unquoted, false), 3);
    }

    #[test]
    fn deep_lines_are_too_deep() {
        assert!(too_deep(&"(".repeat(10_000)));
        assert!(too_deep(&"$(".repeat(10_000)));
        assert!(too_deep(&"if ".repeat(100)));
        assert!(!too_deep("cd build && (make; make test)"));
        // What looks like a comment or an ANSI-C quote but is none hides nothing.
        let deep = "( ".repeat(100);
        assert!(too_deep(&format!("echo ${{#x}}; {deep}")));
        assert!(too_deep(&format!("echo \\$'x\\' {deep}")));
        assert!(too_deep(&format!("echo a#b {deep}")));
        assert!(!too_deep(&format!("ls # {deep}")));
    }
}
