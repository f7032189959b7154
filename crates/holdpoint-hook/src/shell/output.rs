//! What a command substitution prints, where that can be known without running it:
//! `$(cat <<'EOF' … EOF)` (the way Claude Code writes a commit message), `$(echo x)`,
//! `$(printf '%s' x)`. Any other substitution's output is known only when the line
//! runs (see `words.rs`): `cat "$(echo .env)"` names `.env`, `cat "$(… | base64 -d)"`
//! names what no one can see here.

use super::words::{self, Vars};
use brush_parser::ParserOptions;
use brush_parser::ast::{Command, CommandPrefixOrSuffixItem, IoRedirect, SimpleCommand};

/// The output of the substitution `program`, trailing newlines removed, if it prints a
/// text written in it.
pub fn literal_output(program: &str, options: &ParserOptions, vars: &Vars) -> Option<String> {
    if super::depth::too_deep(program) {
        return None;
    }
    let parse_options = options.clone();
    let text = program.to_string();
    let parsed = std::panic::catch_unwind(move || {
        brush_parser::Parser::new(text.as_bytes(), &parse_options).parse_program()
    })
    .ok()?
    .ok()?;
    let [list] = parsed.complete_commands.as_slice() else {
        return None;
    };
    let [item] = list.0.as_slice() else {
        return None;
    };
    let and_or = &item.0;
    let ([Command::Simple(simple)], true) =
        (and_or.first.seq.as_slice(), and_or.additional.is_empty())
    else {
        return None;
    };
    if simple.prefix.is_some() {
        return None;
    }
    let output = match simple.word_or_name.as_ref()?.value.as_str() {
        "cat" => here_document(simple)?,
        "echo" => echo(&arguments(simple, options, vars)?)?,
        "printf" => printf(&arguments(simple, options, vars)?)?,
        _ => return None,
    };
    Some(output.trim_end_matches('\n').to_string())
}

/// `cat <<'EOF' … EOF`: the body, when nothing in it expands.
fn here_document(simple: &SimpleCommand) -> Option<String> {
    let items = &simple.suffix.as_ref()?.0;
    let [CommandPrefixOrSuffixItem::IoRedirect(IoRedirect::HereDocument(fd, doc))] =
        items.as_slice()
    else {
        return None;
    };
    let body = &doc.doc.value;
    let expands = doc.requires_expansion && (body.contains(['$', '`', '\\']));
    (fd.is_none_or(|fd| fd == 0) && !expands).then(|| body.clone())
}

/// The command's arguments, if each is a literal.
fn arguments(simple: &SimpleCommand, options: &ParserOptions, vars: &Vars) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for item in simple.suffix.iter().flat_map(|s| s.0.iter()) {
        let CommandPrefixOrSuffixItem::Word(w) = item else {
            return None;
        };
        let word = words::read(&w.value, options, vars);
        if !word.substitutions.is_empty() || word.unreadable.is_some() {
            return None;
        }
        for value in word.values {
            out.push(value.literal()?.to_string());
        }
    }
    Some(out)
}

/// `echo [-n] words…` (no escapes).
fn echo(args: &[String]) -> Option<String> {
    let words = match args.first().map(String::as_str) {
        Some("-n") => args.get(1..).unwrap_or_default(),
        Some(flag) if flag.starts_with('-') => return None,
        _ => args,
    };
    let text = words.join(" ");
    (!text.contains('\\')).then_some(text)
}

/// `printf FORMAT [args…]` for a format with no escapes and no conversions but `%s`.
fn printf(args: &[String]) -> Option<String> {
    let (format, rest) = args.split_first()?;
    if format.contains('\\') {
        return None;
    }
    match format.as_str() {
        "%s" | "%s\n" => Some(rest.concat()),
        plain if !plain.contains('%') && rest.is_empty() => Some(plain.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output(program: &str) -> Option<String> {
        literal_output(program, &ParserOptions::default(), &Vars::new("/app"))
    }

    #[test]
    fn literal_outputs_are_known_and_others_are_not() {
        let message = "cat <<'EOF'\nfix: the thing\n\nMore words.\nEOF\n";
        assert_eq!(
            output(message).as_deref(),
            Some("fix: the thing\n\nMore words.")
        );
        assert_eq!(output("echo .env").as_deref(), Some(".env"));
        assert_eq!(output("echo -n a b").as_deref(), Some("a b"));
        assert_eq!(output("printf '%s' .e nv").as_deref(), Some(".env"));
        assert_eq!(output("printf .env").as_deref(), Some(".env"));
        for unknown in [
            "echo LmVudg== | base64 -d",
            "cat .env",
            "cat <<EOF\n$(x)\nEOF\n",
            "echo -e '\\x2eenv'",
            "printf '%b' x",
            "echo $(date)",
            "git rev-parse --show-toplevel",
        ] {
            assert_eq!(output(unknown), None, "{unknown:?}");
        }
    }
}
