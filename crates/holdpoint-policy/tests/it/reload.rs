//! The engine: reload keeps or swaps the set; the watcher reloads on change.

use crate::{Act, defaults, outcome};
use holdpoint_core::Outcome;
use holdpoint_policy::{PolicyEngine, PolicyError, PolicySet, load_dir};
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

fn write(dir: &Path, file: &str, text: &str) {
    std::fs::write(dir.join(file), text).unwrap();
}

fn engine_on(dir: &Path) -> Arc<PolicyEngine> {
    let set = load_dir(dir, &defaults()).unwrap();
    Arc::new(PolicyEngine::new(set, defaults(), Some(dir.to_path_buf())))
}

#[test]
fn reload_keeps_the_old_set_on_error_and_swaps_on_success() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "10-a.cedar",
        "@id(\"reads\") permit(principal, action == Action::\"db.read\", resource);",
    );
    let engine = engine_on(dir.path());
    let read = || Act::agent("db.read", "x");
    let ddl = || Act::agent("db.ddl", "x");
    assert_eq!(
        engine.evaluate(&read().input()).verdict().outcome,
        Outcome::Allow
    );

    write(
        dir.path(),
        "20-b.cedar",
        "@id(\"ddl\") permit(principal, action == Action::\"db.ddl\" resource);",
    );
    let err = engine.reload().unwrap_err();
    assert!(
        matches!(&err, PolicyError::Syntax { file, line: 1, .. } if file == "20-b.cedar"),
        "{err}"
    );
    assert_eq!(engine.current().ids(), vec!["reads".to_string()]);
    assert_eq!(outcome(&engine.current(), ddl()), Outcome::Deny);

    write(
        dir.path(),
        "20-b.cedar",
        "@id(\"ddl\") @hold(\"DDL\") permit(principal, action == Action::\"db.ddl\", resource);",
    );
    assert_eq!(
        engine.reload().unwrap(),
        vec!["reads".to_string(), "ddl".to_string()]
    );
    assert_eq!(
        engine.evaluate(&ddl().input()).verdict().outcome,
        Outcome::Hold
    );
}

#[test]
fn an_engine_without_a_directory_cannot_reload_or_watch() {
    let set = PolicySet::compile(&[], &defaults(), None).unwrap();
    let engine = Arc::new(PolicyEngine::new(set, defaults(), None));
    assert_eq!(engine.reload(), Err(PolicyError::NoDirectory));
    assert!(matches!(
        engine.watch(|_| {}),
        Err(PolicyError::NoDirectory)
    ));
}

/// Waits for the next reload result; a generous limit, since this waits for an event.
fn next(rx: &mpsc::Receiver<Result<Vec<String>, PolicyError>>) -> Result<Vec<String>, PolicyError> {
    rx.recv_timeout(Duration::from_secs(10))
        .expect("the watcher did not reload within 10 s")
}

#[test]
fn the_watcher_reloads_on_change_and_stops_when_dropped() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "10-a.cedar",
        "@id(\"reads\") permit(principal, action == Action::\"db.read\", resource);",
    );
    let engine = engine_on(dir.path());
    let (tx, rx) = mpsc::channel();
    let watcher = engine
        .watch(move |result| {
            let _ = tx.send(result);
        })
        .unwrap();

    write(
        dir.path(),
        "20-b.cedar",
        "@id(\"ddl\") permit(principal, action == Action::\"db.ddl\", resource);",
    );
    let mut result = next(&rx);
    // A slow machine may split one write into two reloads; the last one has both files.
    while result.as_ref().map(|ids| ids.len()) == Ok(1) {
        result = next(&rx);
    }
    assert_eq!(result, Ok(vec!["reads".to_string(), "ddl".to_string()]));
    assert_eq!(
        outcome(&engine.current(), Act::agent("db.ddl", "x")),
        Outcome::Allow
    );

    write(dir.path(), "20-b.cedar", "permit(principal,");
    let err = next(&rx).unwrap_err();
    assert!(
        matches!(&err, PolicyError::Syntax { file, .. } if file == "20-b.cedar"),
        "{err}"
    );
    assert_eq!(
        engine.current().ids(),
        vec!["reads".to_string(), "ddl".to_string()]
    );

    drop(watcher);
    // Dropping stops the thread, which drops the callback and with it the sender.
    loop {
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(_) => continue,
            Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => panic!("the watcher is still running"),
        }
    }
}

#[test]
fn engine_set_and_watcher_can_be_shared_across_threads() {
    fn shared<T: Send + Sync>() {}
    shared::<PolicyEngine>();
    shared::<PolicySet>();
    shared::<holdpoint_policy::PolicyWatcher>();
    shared::<PolicyError>();
}
