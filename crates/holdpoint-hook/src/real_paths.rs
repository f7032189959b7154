//! Symlinks resolved on the agent's machine.
//!
//! A file tool's path and a shell line's paths are judged as text by the gateway, which
//! never opens a path a client names. But `ln -s ~/.ssh link` makes `link/id_rsa` a key
//! outside the project. So `holdpoint hook claude-code`, which runs beside the agent,
//! resolves every path of the call as the kernel would ([`resolve`]: each symlink
//! followed, `..` taken after it, a missing tail kept as written) and adds the ones that
//! differ to the hook input as [`REAL_PATHS_FIELD`]. The surface then judges the real
//! path as a further part of the action, and the strictest verdict wins.
//!
//! The HTTP hook sees no filesystem: there the real paths are absent and symlinks are
//! not followed (docs/agents.md).

use serde_json::{Map, Value};
use std::collections::VecDeque;
use std::path::{Component, Path, PathBuf};

/// The field of the hook input that maps a path as the call names it (absolute, or
/// under `~`) to where it really leads.
pub const REAL_PATHS_FIELD: &str = "holdpoint_real_paths";

/// Links followed before a path is taken as unresolvable (the kernel's own limit).
const MAX_LINKS: usize = 40;

/// Where `path` leads: each existing component's symlink followed as the kernel does,
/// the part that does not exist yet kept as written. `None` for a link loop.
pub fn resolve(path: &Path) -> Option<PathBuf> {
    let mut queue: VecDeque<PathBuf> = components(path);
    let mut done = PathBuf::from("/");
    let mut links = 0;
    while let Some(next) = queue.pop_front() {
        if next.as_os_str() == ".." {
            done.pop();
            continue;
        }
        let candidate = done.join(&next);
        match std::fs::symlink_metadata(&candidate) {
            Ok(meta) if meta.file_type().is_symlink() => {
                links += 1;
                if links > MAX_LINKS {
                    return None;
                }
                let target = std::fs::read_link(&candidate).ok()?;
                if target.is_absolute() {
                    done = PathBuf::from("/");
                }
                for (i, part) in components(&target).into_iter().enumerate() {
                    queue.insert(i, part);
                }
            }
            _ => done = candidate,
        }
    }
    Some(done)
}

/// The normal and `..` components of `path` (root and `.` dropped).
fn components(path: &Path) -> VecDeque<PathBuf> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(name) => Some(PathBuf::from(name)),
            Component::ParentDir => Some(PathBuf::from("..")),
            _ => None,
        })
        .collect()
}

/// Sets [`REAL_PATHS_FIELD`] in a PreToolUse input (replacing any the input brought):
/// for each path the call names whose real path differs from the path as written (and
/// normalized as text; a path under `~` always, as the home folder it is in). `home`
/// expands `~`; without it paths under `~` are not resolved.
pub fn add_real_paths(input: &mut Value, home: Option<&str>) {
    if let Some(fields) = input.as_object_mut() {
        fields.remove(REAL_PATHS_FIELD);
    }
    let Ok(action) = crate::action_of(input) else {
        return;
    };
    let mut found = Map::new();
    let cwd = input.get("cwd").and_then(Value::as_str).unwrap_or("/");
    let mut named = named_paths(&action);
    named.push(crate::normalize(cwd, ""));
    if let Some(project) = input.get(crate::PROJECT_FIELD).and_then(Value::as_str) {
        named.push(crate::normalize(project, ""));
    }
    let mut pairs: Vec<(String, PathBuf)> = (named.into_iter())
        .filter_map(|named| raw_path(input, &named, home).map(|raw| (named, raw)))
        .collect();
    pairs.extend(shell_raw_paths(input, home));
    for (named, raw) in pairs {
        let real = match resolve(&raw) {
            Some(real) => real.to_string_lossy().into_owned(),
            // A link loop: nothing can be opened there, but say so rather than trust it.
            None => continue,
        };
        if real != named {
            add_real(&mut found, named, real);
        }
    }
    if !found.is_empty()
        && let Some(fields) = input.as_object_mut()
    {
        fields.insert(REAL_PATHS_FIELD.into(), Value::Object(found));
    }
}

/// Records `real` for `named`: a string, or a list when paths written differently (`x`,
/// `link/../x`) are one path as text but lead to different places.
fn add_real(found: &mut Map<String, Value>, named: String, real: String) {
    let real = Value::String(real);
    match found.get_mut(&named) {
        None => {
            found.insert(named, real);
        }
        Some(Value::Array(list)) => {
            if !list.contains(&real) {
                list.push(real);
            }
        }
        Some(first) => {
            if *first != real {
                *first = Value::Array(vec![first.clone(), real]);
            }
        }
    }
}

/// For a Bash call, each path of the line as the kernel will be given it (`..` kept),
/// beside the path as the surface writes it.
fn shell_raw_paths(input: &Value, home: Option<&str>) -> Vec<(String, PathBuf)> {
    if input.get("tool_name").and_then(Value::as_str) != Some("Bash") {
        return Vec::new();
    }
    let cwd = input.get("cwd").and_then(Value::as_str).unwrap_or("/");
    let Some(command) = input.pointer("/tool_input/command").and_then(Value::as_str) else {
        return Vec::new();
    };
    (crate::shell::read(command, cwd).parts.into_iter())
        .filter_map(|part| match part {
            crate::shell::Part::Path(p) => {
                expand_home(&p.raw, home).map(|raw| (p.path, PathBuf::from(raw)))
            }
            _ => None,
        })
        .collect()
}

/// Every path the call names, as the surface writes it in `context.path`.
fn named_paths(action: &crate::HookAction) -> Vec<String> {
    let mut paths: Vec<String> = Vec::new();
    let mut push = |value: Option<&Value>| {
        if let Some(path) = value.and_then(Value::as_str)
            && !paths.iter().any(|p| p == path)
        {
            paths.push(path.to_string());
        }
    };
    push(action.context.get("path"));
    let parts = action.context.get(holdpoint_gate::PARTS_KEY);
    for part in parts.and_then(Value::as_array).into_iter().flatten() {
        push(part.pointer("/context/path"));
    }
    paths
}

/// The path as the kernel will be given it: for a file tool's path input, the input
/// joined to `cwd` (or `~` expanded) without resolving `..` as text (after a symlink `..`
/// leads elsewhere); for a shell path, the surface's absolute form with `~` expanded.
fn raw_path(input: &Value, named: &str, home: Option<&str>) -> Option<PathBuf> {
    let cwd = input.get("cwd").and_then(Value::as_str).unwrap_or("/");
    let tool_input = input.get("tool_input");
    let given = (crate::files::PATH_INPUTS.iter())
        .filter_map(|key| tool_input?.get(*key)?.as_str())
        .find(|given| crate::files::absolute(cwd, given) == named);
    match given {
        Some(given) if given.starts_with('~') => expand_home(given, home).map(PathBuf::from),
        Some(given) => Some(Path::new(cwd).join(given)),
        None => expand_home(named, home).map(PathBuf::from),
    }
}

/// `~/x` as `{home}/x`; other paths as they are. `None` for `~` without a home, or
/// `~user` (not resolved).
fn expand_home(path: &str, home: Option<&str>) -> Option<String> {
    match path.strip_prefix('~') {
        None => Some(path.to_string()),
        Some(rest) if rest.is_empty() || rest.starts_with('/') => {
            Some(format!("{}{rest}", home?.trim_end_matches('/')))
        }
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::os::unix::fs::symlink;

    #[test]
    fn a_link_is_followed_and_dotdot_taken_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("secret/keys")).unwrap();
        std::fs::create_dir_all(root.join("project")).unwrap();
        symlink(root.join("secret/keys"), root.join("project/link")).unwrap();
        symlink("../secret", root.join("project/rel")).unwrap();
        assert_eq!(
            resolve(&root.join("project/link/id_rsa")).unwrap(),
            root.join("secret/keys/id_rsa")
        );
        // After the link, `..` leaves from where it leads, not from the project.
        assert_eq!(
            resolve(&root.join("project/link/../x")).unwrap(),
            root.join("secret/x")
        );
        assert_eq!(
            resolve(&root.join("project/rel/keys/a")).unwrap(),
            root.join("secret/keys/a")
        );
        // A missing tail is kept; a dangling link leads where it points.
        symlink(root.join("elsewhere/new"), root.join("project/dangling")).unwrap();
        assert_eq!(
            resolve(&root.join("project/dangling")).unwrap(),
            root.join("elsewhere/new")
        );
        symlink(root.join("project/loop"), root.join("project/loop")).unwrap();
        assert_eq!(resolve(&root.join("project/loop/x")), None);
    }

    #[test]
    fn the_hook_input_gets_the_real_paths_that_differ() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let home = root.join("home");
        std::fs::create_dir_all(home.join(".ssh")).unwrap();
        let project = root.join("project");
        std::fs::create_dir_all(&project).unwrap();
        symlink(home.join(".ssh"), project.join("link")).unwrap();
        let cwd = project.to_string_lossy().into_owned();
        let mut read = json!({"cwd": cwd, "tool_name": "Read",
            "tool_input": {"file_path": "link/id_rsa"}});
        add_real_paths(&mut read, home.to_str());
        let given = format!("{cwd}/link/id_rsa");
        assert_eq!(
            read[REAL_PATHS_FIELD][&given],
            json!(format!("{}/.ssh/id_rsa", home.display()))
        );
        let mut plain = json!({"cwd": cwd, "tool_name": "Read",
            "tool_input": {"file_path": "src/main.rs"}});
        add_real_paths(&mut plain, home.to_str());
        assert!(plain.get(REAL_PATHS_FIELD).is_none());
        let mut shell = json!({"cwd": cwd, "tool_name": "Bash",
            "tool_input": {"command": "cat ./link/id_rsa > ~/out"}});
        add_real_paths(&mut shell, home.to_str());
        assert_eq!(
            shell[REAL_PATHS_FIELD][&given],
            json!(format!("{}/.ssh/id_rsa", home.display()))
        );
    }
}
