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
        let real = self.0?.get(path)?.as_str()?;
        (real != path).then_some(real)
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
            .filter_map(|part| match part {
                shell::Part::Path(p) => self.of(&p.path).map(|real| {
                    let mut led = p.clone();
                    led.path = real.to_string();
                    led.in_project = inside(&roots, real);
                    json!({"kind": "shell.exec", "resource": resource,
                        "context": crate::path_context(&led)})
                }),
                _ => None,
            })
            .collect()
    }
}

/// For a file tool: `path` (absolute, `..` resolved as text), `in_project` (inside
/// `cwd`), `real_path` where a symlink leads elsewhere, and a part of kind `kind` for the
/// real path and for each pattern the tool matches.
pub(crate) fn context_for(
    context: &mut Map<String, Value>,
    kind: &str,
    cwd: &str,
    file: &str,
    patterns: &[String],
    real: &RealPaths,
) {
    let root = crate::normalize(cwd, "");
    let roots: Vec<&str> = [Some(root.as_str()), real.of(&root)]
        .into_iter()
        .flatten()
        .collect();
    let absolute = crate::normalize(cwd, file);
    context.insert("path".into(), json!(absolute));
    context.insert("in_project".into(), json!(inside(&roots, &absolute)));
    let mut further: Vec<String> = (patterns.iter())
        .map(|pattern| crate::normalize(cwd, pattern))
        .collect();
    if let Some(resolved) = real.of(&absolute) {
        context.insert("real_path".into(), json!(resolved));
        further.push(resolved.to_string());
    }
    let parts: Vec<Value> = further
        .iter()
        .map(|path| {
            json!({"kind": kind, "resource": format!("fs{}", crate::path("/", path)),
                "context": {"path": path, "in_project": inside(&roots, path)}})
        })
        .collect();
    if !parts.is_empty() {
        context.insert(PARTS_KEY.into(), Value::Array(parts));
    }
}

/// The patterns a listing or search tool matches, as paths: Glob's `pattern` joined to
/// its folder; Grep's `glob`, which matches at any depth, as `{folder}/**/{glob}`. A rule
/// on `*/.env` then covers `Glob **/.env` and `Grep --glob .env`.
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
    pattern
        .filter(|p| !p.is_empty())
        .map(|p| {
            if p.starts_with('/') || folder.is_empty() {
                vec![p]
            } else {
                vec![format!("{folder}/{p}")]
            }
        })
        .unwrap_or_default()
}

/// True when `path` is one of `roots` or lies inside one.
fn inside(roots: &[&str], path: &str) -> bool {
    roots
        .iter()
        .any(|root| path == *root || path.starts_with(&format!("{}/", root.trim_end_matches('/'))))
}
