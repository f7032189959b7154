//! The deployment key in `DATA_DIR/mask.key`.

#![allow(clippy::indexing_slicing)]

use holdpoint_mask::{MaskError, load_or_create_key};

#[test]
fn the_key_is_created_once_and_reused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("holdpoint-data");
    let first = load_or_create_key(&data).unwrap();
    assert_eq!(first.len(), 32);
    let text = std::fs::read_to_string(data.join("mask.key")).unwrap();
    assert_eq!(text.trim(), hex::encode(&first));
    assert_eq!(load_or_create_key(&data).unwrap(), first);
    // No temporary file is left behind.
    assert_eq!(std::fs::read_dir(&data).unwrap().count(), 1);
}

#[cfg(unix)]
#[test]
fn the_key_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    load_or_create_key(dir.path()).unwrap();
    let mode = std::fs::metadata(dir.path().join("mask.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn two_directories_get_two_keys() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    assert_ne!(
        load_or_create_key(a.path()).unwrap(),
        load_or_create_key(b.path()).unwrap()
    );
}

#[test]
fn a_damaged_key_file_is_refused_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mask.key");
    std::fs::write(&path, "not hex").unwrap();
    let err = load_or_create_key(dir.path()).unwrap_err();
    assert!(matches!(err, MaskError::Key { .. }));
    assert!(
        err.to_string().contains(&format!("`{}`", path.display())),
        "{err}"
    );
    std::fs::write(&path, "abcd").unwrap();
    assert!(
        load_or_create_key(dir.path())
            .unwrap_err()
            .to_string()
            .contains("at least 32")
    );
}
