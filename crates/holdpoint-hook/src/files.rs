//! What the file tools add to the policy context: the path as the call names it, the
//! patterns Glob and Grep match, and where the agent's machine says the path really
//! leads (see `real_paths.rs`). Each further path is a part of the action, judged with
//! the same rules; the strictest verdict wins.

use crate::shell;
use holdpoint_gate::PARTS_KEY;
use serde_json::{Map, Value, json};

/// The real paths the command hook found (`holdpoint_real_paths`), absent through the
/// HTTP hook.
pub(crate) struct RealPaths<'a>(pub(crate) Option<&'a Map<String, Value>>);

impl RealPaths<'_> {
    /// Where `path` (as the surface writes it) really leads, when that differs.
    fn of(&self, path: &str) -> Option<&str> {
        self.all(path).into_iter().next()
    }

    /// Every place `path` leads, when that differs from it: paths written differently
    /// that are one as text (`x`, `link/../x`) may lead to several.
    fn all(&self, path: &str) -> Vec<&str> {
        let found = self.0.and_then(|found| found.get(path));
        let reals: Vec<&str> = match found {
            Some(Value::String(real)) => vec![real.as_str()],
            Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        reals.into_iter().filter(|real| *real != path).collect()
    }

    /// For each path a shell line names that leads elsewhere, the same path part with
    /// the real path (inside the project when it lies in `cwd` or `cwd`'s real path).
    pub(crate) fn shell_parts(
        &self,
        reading: &shell::Reading,
        resource: &str,
        cwd: &str,
    ) -> Vec<Value> {
        let root = crate::normalize(cwd, "");
        let roots: Vec<&str> = [Some(root.as_str()), self.of(&root)]
            .into_iter()
            .flatten()
            .collect();
        (reading.parts.iter())
            .flat_map(|part| match part {
                shell::Part::Path(p) => (self.all(&p.path).into_iter())
                    .map(|real| {
                        let mut led = p.clone();
                        led.path = real.to_string();
                        led.in_project = inside(&roots, real);
                        json!({"kind": "shell.exec", "resource": resource,
                            "context": crate::path_context(&led)})
                    })
                    .collect(),
                _ => Vec::new(),
            })
            .collect()
    }
}

/// Where a call is made: `cwd` (relative paths are joined to it) and the project
/// (`in_project` is judged from it; none: nothing is in the project).
#[derive(Clone, Copy)]
pub(crate) struct Place<'a> {
    pub(crate) cwd: &'a str,
    pub(crate) project: Option<&'a str>,
}

/// The inputs that name a path for a file tool. A call naming more than one (NotebookEdit
/// with both `notebook_path` and `file_path`, Grep with `file_path` and `path`) has each
/// judged: which one the tool uses is the tool's business.
pub(crate) const PATH_INPUTS: &[&str] = &["file_path", "notebook_path", "path"];

/// The path inputs of `input` other than `main`, the one the action is named after.
pub(crate) fn other_paths(input: &Map<String, Value>, main: &str) -> Vec<String> {
    (PATH_INPUTS.iter())
        .filter_map(|key| input.get(*key).and_then(Value::as_str))
        .filter(|path| *path != main)
        .map(str::to_string)
        .collect()
}

/// Refuses path inputs written differently that are one path as text (see
/// [`crate::HookError::AmbiguousPaths`]).
pub(crate) fn one_way_each(cwd: &str, input: &Map<String, Value>) -> Result<(), crate::HookError> {
    let given: Vec<&str> = (PATH_INPUTS.iter())
        .filter_map(|key| input.get(*key).and_then(Value::as_str))
        .collect();
    let clash = given.iter().enumerate().any(|(i, a)| {
        (given.iter().skip(i + 1)).any(|b| a != b && absolute(cwd, a) == absolute(cwd, b))
    });
    if clash {
        return Err(crate::HookError::AmbiguousPaths);
    }
    Ok(())
}

/// `file` as the surface writes it: under `~` when it starts with `~/` (Claude Code
/// expands it to the home folder, which the gateway does not know: such a path is not
/// `in_project`); else absolute against `cwd` (a `~user` path, which is not expanded,
/// is a relative name like any other). `.`, `..` and empty segments resolved as text.
pub(crate) fn absolute(cwd: &str, file: &str) -> String {
    match file.strip_prefix('~') {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => {
            let rest = crate::normalize("/", rest);
            format!("~{}", rest.trim_end_matches('/'))
        }
        _ => crate::normalize(cwd, file),
    }
}

/// The resource of a file tool's action: `fs` and the path (a `~` as `_`).
pub(crate) fn resource(cwd: &str, file: &str) -> String {
    format!("fs{}", crate::path("/", &absolute(cwd, file)))
}

/// For a file tool: `path` (absolute, `..` resolved as text, or under `~`), `in_project`
/// (inside the project), `real_path` where a symlink leads elsewhere, and a part of kind
/// `kind` for each further path (patterns the tool matches, other path inputs), for the
/// real path of the path and of each further path; and for each of these paths that has capitals, a part with it in lower
/// case (on a case-insensitive filesystem `.SSH/id_rsa` is the key).
pub(crate) fn context_for(
    context: &mut Map<String, Value>,
    kind: &str,
    at: Place,
    file: &str,
    further: &[String],
    real: &RealPaths,
) {
    // A path as written is inside the project as written; a real path is inside it
    // also when inside the project's own real path (a project reached through a
    // symlinked folder). So a real path given for the project never widens what the
    // written paths may reach.
    let root = at.project.map(|project| crate::normalize(project, ""));
    let written: Vec<&str> = root.as_deref().into_iter().collect();
    let roots: Vec<&str> = [root.as_deref(), root.as_deref().and_then(|r| real.of(r))]
        .into_iter()
        .flatten()
        .collect();
    let path = absolute(at.cwd, file);
    let path_within = inside(&written, &path);
    context.insert("path".into(), json!(path));
    context.insert("in_project".into(), json!(path_within));
    let mut judged: Vec<(String, bool)> = (further.iter())
        .map(|other| absolute(at.cwd, other))
        .map(|other| {
            let within = inside(&written, &other);
            (other, within)
        })
        .collect();
    let resolved: Vec<(String, bool)> = (judged.iter())
        .filter_map(|(other, _)| real.of(other))
        .map(|resolved| (resolved.to_string(), inside(&roots, resolved)))
        .collect();
    judged.extend(resolved);
    if let Some(resolved) = real.of(&path) {
        context.insert("real_path".into(), json!(resolved));
        judged.push((resolved.to_string(), inside(&roots, resolved)));
    }
    let mut folded: Vec<(String, bool)> = Vec::new();
    for (named, within) in
        std::iter::once((path.clone(), path_within)).chain(judged.iter().cloned())
    {
        let lower = named.to_lowercase();
        if lower != named {
            folded.push((lower, within));
        }
    }
    judged.extend(folded);
    let parts: Vec<Value> = judged
        .iter()
        .map(|(path, within)| {
            json!({"kind": kind, "resource": format!("fs{}", crate::path("/", path)),
                "context": {"path": path, "in_project": within}})
        })
        .collect();
    if !parts.is_empty() {
        context.insert(PARTS_KEY.into(), Value::Array(parts));
    }
}

/// For each shell part whose `path` has capitals, the same part with the path in lower
/// case (see [`context_for`]).
pub(crate) fn case_folded(parts: &[Value]) -> Vec<Value> {
    (parts.iter())
        .filter_map(|part| {
            let path = part.pointer("/context/path")?.as_str()?;
            let lower = path.to_lowercase();
            (lower != path).then(|| {
                let mut folded = part.clone();
                if let Some(context) = folded.get_mut("context").and_then(Value::as_object_mut) {
                    context.insert("path".into(), json!(lower));
                }
                folded
            })
        })
        .collect()
}

/// The patterns a listing or search tool matches, as paths: Glob's `pattern` joined to
/// its folder; Grep's `glob`, which matches at any depth, as `{folder}/**/{glob}`. A rule
/// on `*/.env` then covers `Glob **/.env` and `Grep --glob .env`; and each guarded name a
/// wildcard aims at (`Grep --glob '.en[v]'`), as that path (`globs.rs`).
pub(crate) fn patterns(tool: &str, input: &Map<String, Value>) -> Vec<String> {
    let text = |key: &str| input.get(key).and_then(Value::as_str);
    let folder = text("path").unwrap_or("");
    let pattern = match tool {
        "Glob" => text("pattern").map(str::to_string),
        "Grep" => text("glob").map(|glob| {
            if glob.contains('/') {
                glob.to_string()
            } else {
                format!("**/{glob}")
            }
        }),
        _ => None,
    };
    let mut paths: Vec<String> = pattern
        .filter(|p| !p.is_empty())
        .map(|p| {
            if p.starts_with('/') || folder.is_empty() {
                vec![p]
            } else {
                vec![format!("{folder}/{p}")]
            }
        })
        .unwrap_or_default();
    // `.en[v]` is `.env` too (globs.rs).
    let aimed: Vec<String> = paths.iter().flat_map(|p| crate::globs::aimed(p)).collect();
    paths.extend(aimed);
    paths
}

/// True when `path` is one of `roots` or lies inside one.
fn inside(roots: &[&str], path: &str) -> bool {
    roots
        .iter()
        .any(|root| path == *root || path.starts_with(&format!("{}/", root.trim_end_matches('/'))))
}
