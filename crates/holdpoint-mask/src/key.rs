//! The deployment's masking key: `DATA_DIR/mask.key`, 32 random bytes in hex, mode 0600.

use crate::config::MaskError;
use rand::RngCore;
use std::fs;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

/// The file name of the key inside the data directory.
pub const KEY_FILE: &str = "mask.key";

/// Bytes in a new key, and the least a key may have.
pub const KEY_LEN: usize = 32;

/// Reads `DIR/mask.key`, or creates it (32 random bytes, hex, mode 0600) when missing.
///
/// The directory is created if needed. Two processes starting together agree on one
/// key: the file appears whole through a hard link, and the loser reads the winner's.
pub fn load_or_create_key(data_dir: &Path) -> Result<Vec<u8>, MaskError> {
    let path = data_dir.join(KEY_FILE);
    match fs::read_to_string(&path) {
        Ok(text) => decode(&path, &text),
        Err(e) if e.kind() == ErrorKind::NotFound => create(&path),
        Err(e) => Err(key_error(&path, e)),
    }
}

fn decode(path: &Path, text: &str) -> Result<Vec<u8>, MaskError> {
    let key = hex::decode(text.trim()).map_err(|e| MaskError::Key {
        path: path.to_path_buf(),
        message: format!("not hex: {e}"),
    })?;
    if key.len() < KEY_LEN {
        return Err(MaskError::Key {
            path: path.to_path_buf(),
            message: format!("{} bytes; at least {KEY_LEN} are needed", key.len()),
        });
    }
    Ok(key)
}

fn create(path: &Path) -> Result<Vec<u8>, MaskError> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    fs::create_dir_all(dir).map_err(|e| key_error(path, e))?;
    let mut key = vec![0u8; KEY_LEN];
    rand::rng().fill_bytes(&mut key);
    // Written whole to a private temporary file, then linked into place: a reader never
    // sees a half-written key, and a second process racing us keeps the first key.
    let tmp = dir.join(format!(
        "{KEY_FILE}.{}.{:08x}.tmp",
        std::process::id(),
        rand::random::<u32>()
    ));
    let written = open_new(&tmp).and_then(|mut file| {
        file.write_all(format!("{}\n", hex::encode(&key)).as_bytes())?;
        file.sync_all()
    });
    let linked = written.and_then(|()| fs::hard_link(&tmp, path));
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(key),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {
            let text = fs::read_to_string(path).map_err(|e| key_error(path, e))?;
            decode(path, &text)
        }
        Err(e) => Err(key_error(path, e)),
    }
}

#[cfg(unix)]
fn open_new(path: &Path) -> std::io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn open_new(path: &Path) -> std::io::Result<fs::File> {
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

fn key_error(path: &Path, e: std::io::Error) -> MaskError {
    MaskError::Key {
        path: PathBuf::from(path),
        message: e.to_string(),
    }
}
