//! Byte classes, one table lookup each, for the scanners that walk a text byte by byte
//! (high entropy, numbers, IBANs).

pub(crate) const LOWER: u8 = 1;
pub(crate) const UPPER: u8 = 2;
pub(crate) const DIGIT: u8 = 4;
/// Not a hex digit or a separator: `g`–`z`, `G`–`Z`, `+`.
pub(crate) const NOT_HEX: u8 = 8;
/// `[A-Za-z0-9+/_-]`: what a high-entropy token is made of.
pub(crate) const TOKEN: u8 = 16;
/// A digit, `+` or `(`: what a phone, card or SSN can start with.
pub(crate) const NUMBER_START: u8 = 32;
/// A digit or ` ().+-`: what a phone, card or SSN is made of.
pub(crate) const NUMBER: u8 = 64;
/// A capital, a digit or a space: what an IBAN is made of.
pub(crate) const IBAN: u8 = 128;

#[expect(
    clippy::indexing_slicing,
    reason = "evaluated at compile time, with every index below 256"
)]
const CLASSES: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut i = 0usize;
    while i < 256 {
        let b = i as u8;
        let mut c = 0;
        if b.is_ascii_lowercase() {
            c |= LOWER;
        }
        if b.is_ascii_uppercase() {
            c |= UPPER;
        }
        if b.is_ascii_digit() {
            c |= DIGIT | NUMBER_START | NUMBER;
        }
        if (b.is_ascii_alphabetic() && !b.is_ascii_hexdigit()) || b == b'+' {
            c |= NOT_HEX;
        }
        if b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'_' | b'-') {
            c |= TOKEN;
        }
        if matches!(b, b'+' | b'(') {
            c |= NUMBER_START;
        }
        if matches!(b, b' ' | b'(' | b')' | b'.' | b'+' | b'-') {
            c |= NUMBER;
        }
        if b.is_ascii_uppercase() || b.is_ascii_digit() || b == b' ' {
            c |= IBAN;
        }
        table[i] = c;
        i += 1;
    }
    table
};

/// The classes of `b`, as bits.
pub(crate) fn class(b: u8) -> u8 {
    CLASSES.get(usize::from(b)).copied().unwrap_or(0)
}
