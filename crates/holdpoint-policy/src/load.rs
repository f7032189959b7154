//! Reading a policy directory: every `*.cedar` file, sorted by name, and the optional
//! `schema.cedarschema`.

use crate::error::PolicyError;
use crate::{HoldDefaults, PolicySet, PolicySource};
use std::path::Path;

/// The schema file looked for next to the policies.
pub const SCHEMA_FILE: &str = "schema.cedarschema";

/// Whether a file name is one of the policy files [`read_dir`] loads. Hidden files
/// (editor backups such as `.#a.cedar`) are skipped.
pub(crate) fn is_policy_file(name: &str) -> bool {
    name.ends_with(".cedar") && !name.starts_with('.')
}

/// Reads every `*.cedar` file of `dir` (not its subdirectories), sorted by file name, and
/// the text of `schema.cedarschema` if present. An empty directory is fine: with no
/// policies everything is denied.
pub fn read_dir(dir: &Path) -> Result<(Vec<PolicySource>, Option<String>), PolicyError> {
    let entries = std::fs::read_dir(dir).map_err(|e| PolicyError::io(dir, e))?;
    let mut names: Vec<String> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| PolicyError::io(dir, e))?;
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            continue;
        };
        let path = entry.path();
        if is_policy_file(&name) && path.is_file() {
            names.push(name);
        }
    }
    names.sort();
    let mut sources = Vec::with_capacity(names.len());
    for name in names {
        let path = dir.join(&name);
        let text = std::fs::read_to_string(&path).map_err(|e| PolicyError::io(&path, e))?;
        sources.push(PolicySource { file: name, text });
    }
    let schema_path = dir.join(SCHEMA_FILE);
    let schema = if schema_path.is_file() {
        Some(std::fs::read_to_string(&schema_path).map_err(|e| PolicyError::io(&schema_path, e))?)
    } else {
        None
    };
    Ok((sources, schema))
}

/// [`read_dir`] then [`PolicySet::compile`], validating against the schema when present.
pub fn load_dir(dir: &Path, defaults: &HoldDefaults) -> Result<PolicySet, PolicyError> {
    let (sources, schema) = read_dir(dir)?;
    PolicySet::compile(&sources, defaults, schema.as_deref())
}
