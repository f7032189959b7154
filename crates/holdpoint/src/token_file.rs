//! The gateway's URL and token as an agent's configuration hands them over: from flags
//! and the environment, or from a token file (`--token-file`, written at 0600 by
//! `init --agent claude-code`), so no token sits in a file meant to be committed.
//!
//! An agent that fills `${VAR}` only from its own environment (Claude Code in
//! `.mcp.json`) may pass the text `${VAR}` itself; that is named as such, not reported
//! as an unreachable gateway or a refused token.

use crate::cli::Remote;
use anyhow::{Context, bail};
use std::path::Path;

/// The most a token file may hold.
const MAX_TOKEN_FILE: u64 = 4096;

/// [`Remote`] with its token read from `token_file` when no token is given.
pub fn resolve(remote: &Remote) -> anyhow::Result<Remote> {
    unfilled("the gateway URL (HOLDPOINT_URL or --url)", &remote.url)?;
    let token = match (&remote.token, &remote.token_file) {
        (Some(token), _) => {
            unfilled("the token (HOLDPOINT_TOKEN or --token)", token)?;
            Some(token.clone())
        }
        (None, Some(file)) => Some(read(file)?),
        (None, None) => None,
    };
    Ok(Remote {
        url: remote.url.clone(),
        token,
        token_file: remote.token_file.clone(),
    })
}

/// Fails when `value` still holds a `${…}` reference no one filled in.
fn unfilled(what: &str, value: &str) -> anyhow::Result<()> {
    if let Some(start) = value.find("${") {
        let rest = value.get(start..).unwrap_or_default();
        let name = rest.split_once('}').map_or(rest, |(name, _)| name);
        bail!(
            "{what} is the literal text `{name}}}`: the variable was never filled in (Claude \
             Code fills `${{…}}` in .mcp.json from its own environment only, not from \
             settings.json's `env`); run `holdpoint init --agent claude-code` again, which \
             writes a token file instead"
        );
    }
    Ok(())
}

/// The token in `file`, trimmed.
fn read(file: &Path) -> anyhow::Result<String> {
    use std::io::Read;
    let opened = std::fs::File::open(file)
        .with_context(|| format!("cannot read the token file {}", file.display()))?;
    let mut text = String::new();
    opened
        .take(MAX_TOKEN_FILE)
        .read_to_string(&mut text)
        .with_context(|| format!("cannot read the token file {}", file.display()))?;
    let token = text.trim();
    if token.is_empty() {
        bail!("the token file {} is empty", file.display());
    }
    unfilled(&format!("the token in {}", file.display()), token)?;
    Ok(token.to_string())
}

/// Writes `token` to `file` at 0600, its folder at 0700 with a `.gitignore` that keeps
/// the folder out of git.
pub fn write(file: &Path, token: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
    if let Some(folder) = file.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(folder)
            .with_context(|| format!("cannot create {}", folder.display()))?;
        std::fs::write(
            folder.join(".gitignore"),
            "# written by holdpoint: private\n*\n",
        )
        .with_context(|| format!("cannot write {}/.gitignore", folder.display()))?;
    }
    let mut opened = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(file)
        .with_context(|| format!("cannot write {}", file.display()))?;
    opened.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    opened.write_all(format!("{token}\n").as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn remote(url: &str, token: Option<&str>, file: Option<&Path>) -> Remote {
        Remote {
            url: url.into(),
            token: token.map(str::to_string),
            token_file: file.map(Path::to_path_buf),
        }
    }

    #[test]
    fn a_token_file_is_read_and_unfilled_variables_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("agent/token");
        write(&file, "hp_abc").unwrap();
        let resolved = resolve(&remote("http://gw", None, Some(&file))).unwrap();
        assert_eq!(resolved.token.as_deref(), Some("hp_abc"));
        let given = resolve(&remote("http://gw", Some("hp_x"), Some(&file))).unwrap();
        assert_eq!(given.token.as_deref(), Some("hp_x"));
        let error = resolve(&remote("${HOLDPOINT_URL}", None, None)).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("literal text `${HOLDPOINT_URL}`"),
            "{error}"
        );
        let error = resolve(&remote("http://gw", Some("${HOLDPOINT_TOKEN}"), None)).unwrap_err();
        assert!(error.to_string().contains("never filled in"), "{error}");
        let missing = resolve(&remote("http://gw", None, Some(&dir.path().join("none"))));
        assert!(missing.unwrap_err().to_string().contains("token file"));
    }
}
