//! The user's latest prompt per Claude Code session, for reviewers: Claude Code's
//! `UserPromptSubmit` hook (`holdpoint hook claude-code` on that event) stores it, and the
//! `PreToolUse` call of the same session reads it. Claude Code may not have written its
//! transcript yet when a tool call follows a prompt at once; this file is written before
//! the model sees the prompt.
//!
//! One private file per session (0600, in a 0700 folder under `~/.cache/holdpoint`),
//! outside the project, where the agent's file tools need an admin to read or write.

use std::path::{Path, PathBuf};

/// The most of a prompt kept (reviewers see a cut prompt; the justification is cut too).
const MAX_PROMPT: usize = 16 * 1024;

/// `~/.cache/holdpoint/prompts`.
pub fn folder(home: &Path) -> PathBuf {
    home.join(".cache/holdpoint/prompts")
}

/// The file of `session`; `None` for an id that is not a plain name.
fn file(folder: &Path, session: &str) -> Option<PathBuf> {
    let plain = !session.is_empty()
        && session.len() <= 128
        && session
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    plain.then(|| folder.join(session))
}

/// Stores `prompt` as the latest of `session`.
pub fn save(folder: &Path, session: &str, prompt: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
    let Some(path) = file(folder, session) else {
        return Err(std::io::Error::other("the session id is not a plain name"));
    };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(folder)?;
    let mut cut = prompt.len().min(MAX_PROMPT);
    while !prompt.is_char_boundary(cut) {
        cut -= 1;
    }
    let mut opened = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)?;
    opened.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    opened.write_all(prompt.get(..cut).unwrap_or_default().as_bytes())
}

/// The latest prompt stored for `session`.
pub fn load(folder: &Path, session: &str) -> Option<String> {
    let text = std::fs::read_to_string(file(folder, session)?).ok()?;
    (!text.trim().is_empty()).then_some(text)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn prompts_are_kept_per_session_in_private_files() {
        let home = tempfile::tempdir().unwrap();
        let folder = folder(home.path());
        save(&folder, "s-1", "tidy up").unwrap();
        save(&folder, "s-2", "other").unwrap();
        save(&folder, "s-1", "tidy up, then release").unwrap();
        assert_eq!(
            load(&folder, "s-1").as_deref(),
            Some("tidy up, then release")
        );
        assert_eq!(load(&folder, "s-3"), None);
        let mode = std::fs::metadata(folder.join("s-1"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(save(&folder, "../escape", "x").is_err());
        assert_eq!(load(&folder, "../s-1"), None);
        save(&folder, "long", &"é".repeat(MAX_PROMPT)).unwrap();
        assert_eq!(load(&folder, "long").unwrap().len(), MAX_PROMPT);
    }
}
