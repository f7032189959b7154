//! Server settings that change how SQL is read. holdpoint reads every statement as
//! PostgreSQL does with `standard_conforming_strings = on` and the UTF8 client encoding;
//! a server that reads it otherwise would run something other than what was judged
//! (`SELECT 'a\'; DELETE …` is one string to one reader and a DELETE to the other).
//! Both are reported by the server (ParameterStatus): at login, where a
//! `postgresql.conf`, `ALTER DATABASE … SET` or `ALTER ROLE … SET` may have set them,
//! and whenever they change. An unsafe value at login refuses the session; one during
//! the session ends it.
//!
//! Which are unsafe: `standard_conforming_strings` other than `on` (backslashes escape
//! in plain strings); a `client_encoding` other than UTF8 (SJIS, BIG5, GBK, GB18030 and
//! UHC have characters whose second byte is a backslash or a quote; no other encoding
//! is accepted either, as pg_query reads UTF-8). `backslash_quote` and
//! `escape_string_warning` are not reported, and a statement that sets them is
//! `db.unknown` (classify.rs).

use crate::wire::Reader;

/// The SQLSTATE of a refused login (`sqlserver_rejected_establishment_of_sqlconnection`).
pub const REFUSED: &str = "08004";

/// True when `name = value` makes the server read SQL differently from holdpoint.
pub fn unsafe_setting(name: &str, value: &str) -> bool {
    match name.to_ascii_lowercase().as_str() {
        "client_encoding" => !matches!(
            value.to_ascii_lowercase().replace(['-', '_'], "").as_str(),
            "utf8" | "unicode"
        ),
        "standard_conforming_strings" => !value.eq_ignore_ascii_case("on"),
        _ => false,
    }
}

/// The first unsafe setting among `announced` ParameterStatus frames (`S`, framed), as
/// `(name, value)`.
pub fn first_unsafe(announced: &[u8]) -> Option<(String, String)> {
    let mut rest = announced;
    while let Some((&tag, after)) = rest.split_first() {
        let len = after
            .get(..4)
            .and_then(|l| <[u8; 4]>::try_from(l).ok())
            .map(i32::from_be_bytes)
            .and_then(|l| usize::try_from(l).ok())?;
        let body = after.get(4..len)?;
        rest = after.get(len..)?;
        if tag != b'S' {
            continue;
        }
        let mut r = Reader::new(body);
        if let (Ok(name), Ok(value)) = (r.cstr(), r.cstr())
            && unsafe_setting(name, value)
        {
            return Some((name.to_string(), value.to_string()));
        }
    }
    None
}

/// What the client is told when a login is refused for `name = value`.
pub fn refusal(name: &str, value: &str) -> String {
    format!(
        "holdpoint: the server reports {name} = {value} for this login (from postgresql.conf, ALTER DATABASE or ALTER ROLE); holdpoint reads SQL only with standard_conforming_strings = on and client_encoding UTF8, so the session is refused"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BytesMut;

    fn status(out: &mut BytesMut, name: &str, value: &str) {
        let mut body = BytesMut::new();
        crate::wire::put_cstr(&mut body, name);
        crate::wire::put_cstr(&mut body, value);
        crate::wire::put_frame(out, b'S', &body);
    }

    #[test]
    fn unsafe_settings_are_found_among_the_announced() {
        let mut ok = BytesMut::new();
        status(&mut ok, "server_version", "15.4");
        status(&mut ok, "client_encoding", "UTF8");
        status(&mut ok, "standard_conforming_strings", "on");
        assert_eq!(first_unsafe(&ok), None);
        for (name, value) in [
            ("standard_conforming_strings", "off"),
            ("client_encoding", "SJIS"),
            ("client_encoding", "BIG5"),
            ("client_encoding", "GBK"),
            ("client_encoding", "LATIN1"),
        ] {
            let mut bad = ok.clone();
            status(&mut bad, name, value);
            assert_eq!(
                first_unsafe(&bad),
                Some((name.to_string(), value.to_string()))
            );
        }
        assert!(!unsafe_setting("DateStyle", "SQL, DMY"));
        // A truncated list is not read past its end.
        assert_eq!(first_unsafe(&ok[..ok.len() - 3]), None);
    }
}
