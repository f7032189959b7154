//! Bound values as reviewers see them: text as sent, binary decoded for the common
//! types (integers, floats, booleans, text, uuid) and shown as `\x…` hex otherwise.
//! Every value is shown as a string, so a huge integer cannot collide in the digest.

use crate::wire::Reader;

/// A bound value for the action's params.
pub fn shown(raw: &[u8], binary: bool, type_oid: Option<u32>) -> String {
    if !binary {
        return String::from_utf8_lossy(raw).into_owned();
    }
    let decoded = match (type_oid, raw) {
        (Some(16), [b]) => Some((*b != 0).to_string()),
        (Some(21), [a, b]) => Some(i16::from_be_bytes([*a, *b]).to_string()),
        (Some(23), &[a, b, c, d]) => Some(i32::from_be_bytes([a, b, c, d]).to_string()),
        (Some(20), &[a, b, c, d, e, f, g, h]) => {
            Some(i64::from_be_bytes([a, b, c, d, e, f, g, h]).to_string())
        }
        (Some(700), &[a, b, c, d]) => Some(f32::from_be_bytes([a, b, c, d]).to_string()),
        (Some(701), &[a, b, c, d, e, f, g, h]) => {
            Some(f64::from_be_bytes([a, b, c, d, e, f, g, h]).to_string())
        }
        (Some(25 | 1043 | 1042 | 19 | 114), _) => std::str::from_utf8(raw).ok().map(str::to_string),
        (Some(2950), bytes) if bytes.len() == 16 => Some(uuid(bytes)),
        _ => None,
    };
    decoded.unwrap_or_else(|| {
        let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
        format!("\\x{hex}")
    })
}

fn uuid(bytes: &[u8]) -> String {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let part = |a: usize, b: usize| hex.get(a..b).unwrap_or_default();
    format!(
        "{}-{}-{}-{}-{}",
        part(0, 8),
        part(8, 12),
        part(12, 16),
        part(16, 20),
        part(20, 32)
    )
}

/// The parameter types of a ParameterDescription.
pub fn description(body: &[u8]) -> Vec<u32> {
    let mut r = Reader::new(body);
    let Ok(n) = r.count() else {
        return Vec::new();
    };
    (0..n).map_while(|_| r.u32().ok()).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn binary_values_read_as_their_types() {
        assert_eq!(shown(&99i32.to_be_bytes(), true, Some(23)), "99");
        assert_eq!(
            shown(&i64::MAX.to_be_bytes(), true, Some(20)),
            i64::MAX.to_string()
        );
        assert_eq!(shown(&[1], true, Some(16)), "true");
        assert_eq!(shown(b"hi", true, Some(25)), "hi");
        assert_eq!(shown(b"hi", false, None), "hi");
        assert_eq!(shown(&[0xde, 0xad], true, Some(17)), "\\xdead");
        assert_eq!(
            shown(&[1, 2, 3], true, Some(23)),
            "\\x010203",
            "a wrong length is raw"
        );
    }
}
