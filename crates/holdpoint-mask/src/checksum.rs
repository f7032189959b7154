//! The checks that tell a card number, an IBAN or a US SSN from any other number.

/// Luhn check over the ASCII digits of `text` (other characters are skipped).
pub(crate) fn luhn(text: &str) -> bool {
    let mut sum = 0u32;
    let mut count = 0usize;
    for b in text.bytes().rev().filter(u8::is_ascii_digit) {
        let d = u32::from(b - b'0');
        let d = if count % 2 == 1 {
            let twice = d * 2;
            if twice > 9 { twice - 9 } else { twice }
        } else {
            d
        };
        sum += d;
        count += 1;
    }
    count > 0 && sum.is_multiple_of(10)
}

/// A payment card number: 13 to 19 digits, a major network's first digit, Luhn-valid.
pub(crate) fn card_number(text: &str) -> bool {
    let digits = text.bytes().filter(u8::is_ascii_digit).count();
    let first = text.bytes().find(u8::is_ascii_digit);
    (13..=19).contains(&digits) && matches!(first, Some(b'2'..=b'6')) && luhn(text)
}

/// ISO 13616 IBAN check (mod 97 = 1) over `text` with spaces ignored.
pub(crate) fn iban(text: &str) -> bool {
    let compact: Vec<u8> = text.bytes().filter(|b| *b != b' ').collect();
    if !(15..=34).contains(&compact.len()) {
        return false;
    }
    let Some((head, tail)) = compact.split_at_checked(4) else {
        return false;
    };
    let valid_head = head.first().is_some_and(u8::is_ascii_uppercase)
        && head.get(1).is_some_and(u8::is_ascii_uppercase)
        && head.get(2).is_some_and(u8::is_ascii_digit)
        && head.get(3).is_some_and(u8::is_ascii_digit);
    if !valid_head {
        return false;
    }
    let mut rem = 0u32;
    for &b in tail.iter().chain(head) {
        rem = match b {
            b'0'..=b'9' => (rem * 10 + u32::from(b - b'0')) % 97,
            b'A'..=b'Z' => (rem * 100 + u32::from(b - b'A') + 10) % 97,
            _ => return false,
        };
    }
    rem == 1
}

/// A US social security number `AAA-GG-SSSS`: area not 000, 666 or 9xx; group not 00;
/// serial not 0000.
pub(crate) fn us_ssn(area: &str, group: &str, serial: &str) -> bool {
    area != "000" && area != "666" && !area.starts_with('9') && group != "00" && serial != "0000"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_accepts_test_cards_and_refuses_typos() {
        assert!(luhn("4111 1111 1111 1111"));
        assert!(luhn("5555-5555-5555-4444"));
        assert!(luhn("378282246310005"));
        assert!(!luhn("4111 1111 1111 1112"));
        assert!(!luhn(""));
    }

    #[test]
    fn cards_need_a_network_digit_and_length() {
        assert!(card_number("4111111111111111"));
        assert!(!card_number("1111111111111117")); // Luhn-valid, no network starts with 1
        assert!(!card_number("4111"));
    }

    #[test]
    fn iban_checks_mod_97() {
        assert!(iban("GB82 WEST 1234 5698 7654 32"));
        assert!(iban("DE89370400440532013000"));
        assert!(iban("NL91ABNA0417164300"));
        assert!(!iban("GB82 WEST 1234 5698 7654 33"));
        assert!(!iban("GB82"));
        assert!(!iban("gb82west12345698765432"));
    }

    #[test]
    fn ssn_rules() {
        assert!(us_ssn("123", "45", "6789"));
        assert!(!us_ssn("000", "45", "6789"));
        assert!(!us_ssn("666", "45", "6789"));
        assert!(!us_ssn("912", "45", "6789"));
        assert!(!us_ssn("123", "00", "6789"));
        assert!(!us_ssn("123", "45", "0000"));
    }
}
