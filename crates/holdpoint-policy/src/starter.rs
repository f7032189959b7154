//! The starter policies: embedded in the binary (`serve` with no config loads them) and
//! written by `holdpoint init`. They show all three outcomes and name `admins` as
//! approvers, so the first-start admin token can approve.

use crate::PolicySource;
use crate::error::PolicyError;
use std::io::Write;
use std::path::{Path, PathBuf};

/// File name and text of each starter file, in load order.
const FILES: [(&str, &str); 7] = [
    ("00-reads.cedar", include_str!("starter/00-reads.cedar")),
    (
        "10-database.cedar",
        include_str!("starter/10-database.cedar"),
    ),
    (
        "20-infrastructure.cedar",
        include_str!("starter/20-infrastructure.cedar"),
    ),
    ("30-tokens.cedar", include_str!("starter/30-tokens.cedar")),
    ("40-agents.cedar", include_str!("starter/40-agents.cedar")),
    (
        "45-agent-guard.cedar",
        include_str!("starter/45-agent-guard.cedar"),
    ),
    (
        "46-mcp-methods.cedar",
        include_str!("starter/46-mcp-methods.cedar"),
    ),
];

/// The embedded starter policies.
pub fn starter_sources() -> Vec<PolicySource> {
    FILES
        .iter()
        .map(|(file, text)| PolicySource {
            file: (*file).to_string(),
            text: (*text).to_string(),
        })
        .collect()
}

/// Writes the starter files into `dir` (created if missing) and returns their paths.
/// Refuses, before writing anything, if any of them already exists.
pub fn write_starter(dir: &Path) -> Result<Vec<PathBuf>, PolicyError> {
    std::fs::create_dir_all(dir).map_err(|e| PolicyError::io(dir, e))?;
    if let Some(existing) = FILES
        .iter()
        .map(|(file, _)| dir.join(file))
        .find(|path| path.exists())
    {
        return Err(PolicyError::io(
            &existing,
            "already exists; not overwriting (move it away to write the starter policies)",
        ));
    }
    let mut written = Vec::with_capacity(FILES.len());
    for (file, text) in FILES {
        let path = dir.join(file);
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| PolicyError::io(&path, e))?;
        out.write_all(text.as_bytes())
            .map_err(|e| PolicyError::io(&path, e))?;
        written.push(path);
    }
    Ok(written)
}
