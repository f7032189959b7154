//! Generic high-entropy strings, and the look-alikes that must stay readable.

#![allow(clippy::indexing_slicing)]

mod common;
use common::{assert_masks, assert_untouched, mask};

#[test]
fn random_strings_are_masked() {
    assert_masks(
        "key Zx8Qm2LpR7vN4tK9sW3yB6cH1jD5fG0a here",
        "Zx8Qm2Lp",
        "high_entropy",
    );
    assert_masks(
        "sig=dGhpcyBpcyBhIHNlY3JldCB2YWx1ZQ==",
        "dGhpcyBp",
        "high_entropy",
    );
    assert_masks(
        "X-Signature q8Ja2LmZ93nXbV7kP1rT",
        "q8Ja2LmZ",
        "high_entropy",
    );
    assert_masks(
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "bPxRfi",
        "high_entropy",
    );
}

#[test]
fn uuids_stay() {
    assert_untouched("request 550e8400-e29b-41d4-a716-446655440000 failed");
    assert_untouched("F47AC10B-58CC-4372-A567-0E02B2C3D479");
}

#[test]
fn commit_hashes_stay() {
    assert_untouched("deploy 9fceb02d0ae598e95dc970b74767f19372d61af8");
    assert_untouched("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_untouched("git checkout 9fceb02");
}

#[test]
fn iso_timestamps_stay() {
    assert_untouched("2024-05-01T12:00:00Z");
    assert_untouched("2024-05-01T12:00:00.123456+02:00");
    assert_untouched("created 20240501T120000Z");
}

#[test]
fn file_paths_stay() {
    assert_untouched("/home/alice/projects/holdpoint/crates/holdpoint-mask/src/lib.rs");
    assert_untouched("/Users/Alice/Library/Application Support/Code/User/settings.json");
    assert_untouched("C:\\Program Files\\Holdpoint\\bin\\holdpoint.exe");
    assert_untouched(
        "/var/lib/docker/overlay2/3f9a8c7e1d2b4a6f8e0c9b7a5d3f1e2c4b6a8d0f2e4c6b8a0d2f4e6c8b0a2d4f/merged",
    );
    assert_untouched("s3://acme-prod-backups/2024/05/01/orders-export.parquet");
}

#[test]
fn prose_and_identifiers_stay() {
    let prose = "Rotate the replica credentials after the internationalization rollout; \
                 HoldpointMaskRedactorConfig and users_billing_address_2024_q1 are unaffected.";
    assert_untouched(prose);
    assert_untouched("kubectl delete pod api-server-7d9f8b6c5d-x2k4j -n production");
    assert_untouched("action 01HZX3K4M5N6P7Q8R9S0T1V2W3 is pending");
    assert_untouched("act_01HZX3K4M5N6P7Q8R9S0T1V2W3");
}

#[test]
fn a_path_keeps_its_readable_part() {
    let out = mask("/srv/app/releases/the-quarterly-report-Zx8Qm2LpR7vN4tK9sW3yB6cH");
    assert!(
        out.starts_with("/srv/app/releases/the-quarterly-report-[high_entropy:"),
        "{out}"
    );
}
