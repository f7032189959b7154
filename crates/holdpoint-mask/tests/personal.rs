//! Emails, phone numbers, cards, US SSNs and IBANs, with the numbers that are not.

#![allow(clippy::indexing_slicing)]

mod common;
use common::{assert_masks, assert_untouched, mask};

#[test]
fn emails_are_masked() {
    assert_masks(
        "contact alice.smith+ops@example.co.uk today",
        "alice.smith",
        "email",
    );
    assert_masks("<bob@acme.io>", "bob@acme.io", "email");
    let out = mask("from bob@acme.io to carol@acme.io");
    assert_eq!(out.matches("[email:").count(), 2, "{out}");
}

#[test]
fn things_with_at_signs_stay() {
    assert_untouched("git clone git@github.com:acme/app.git");
    assert_untouched("npm install lodash@4.17.21");
    assert_untouched("image nginx@sha256:abcdef");
    assert_untouched("@channel please review");
    assert_untouched("ssh://deploy@bastion.example.com");
}

#[test]
fn phone_numbers_are_masked() {
    assert_masks("call +1 (415) 555-2671 now", "555-2671", "phone");
    assert_masks("tel: +44 20 7946 0958", "7946 0958", "phone");
    assert_masks("+14155552671", "4155552671", "phone");
    assert_masks("(415) 555-2671", "555-2671", "phone");
    assert_masks("cell 415-555-2671.", "415-555-2671", "phone");
    assert_masks("office 415.555.2671", "415.555.2671", "phone");
}

#[test]
fn dates_addresses_and_numbers_are_not_phones() {
    assert_untouched("on 2024-05-01 at 12:00:00");
    assert_untouched("2024-05-01T12:00:00.000+02:00");
    assert_untouched("connect to 192.168.100.200 or 10.0.0.1");
    assert_untouched("order 1234567890 shipped");
    assert_untouched("version 1.415.555.2671");
    assert_untouched("limit 4155552671 rows"); // bare digits: no separators, no +
    assert_untouched("timeout +30 s");
}

#[test]
fn card_numbers_are_masked() {
    assert_masks(
        "card 4111 1111 1111 1111 exp 12/27",
        "1111 1111",
        "card_number",
    );
    assert_masks("4111-1111-1111-1111", "1111-1111", "card_number");
    assert_masks("pan=5555555555554444", "5555555555554444", "card_number");
    assert_masks("amex 3782 822463 10005", "822463", "card_number");
    let out = mask("4111 1111 1111 1111 2");
    assert!(
        out.starts_with("[card_number:") && out.ends_with("] 2"),
        "{out}"
    );
}

#[test]
fn numbers_that_fail_luhn_or_shape_are_not_cards() {
    assert_untouched("4111 1111 1111 1112");
    assert_untouched("id 1714567890123"); // a millisecond timestamp
    assert_untouched("1111111111111117"); // Luhn-valid, no network starts with 1
    assert_untouched("41 11 11 11 11 11 11 11"); // groups too short
    assert_untouched("4111 1111-1111 1111"); // mixed separators
}

#[test]
fn us_ssns_are_masked() {
    assert_masks("ssn 123-45-6789", "123-45-6789", "us_ssn");
    assert_masks("SSN: 078-05-1120.", "078-05-1120", "us_ssn");
}

#[test]
fn invalid_ssns_stay() {
    assert_untouched("000-12-3456");
    assert_untouched("666-12-3456");
    assert_untouched("912-34-5678");
    assert_untouched("123-00-4567");
    assert_untouched("123-45-0000");
    assert_untouched("part 123-45-6789-01");
}

#[test]
fn ibans_are_masked() {
    assert_masks(
        "IBAN GB82 WEST 1234 5698 7654 32 please",
        "WEST 1234",
        "iban",
    );
    assert_masks(
        "to DE89370400440532013000.",
        "DE89370400440532013000",
        "iban",
    );
    assert_masks("NL91ABNA0417164300", "NL91ABNA0417164300", "iban");
}

#[test]
fn iban_shapes_that_fail_the_checksum_stay() {
    assert_untouched("GB82 WEST 1234 5698 7654 33");
    assert_untouched("DE89370400440532013001");
    assert_untouched("SKU AB12CDEF34567890123");
}
