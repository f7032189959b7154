//! What compile refuses, and how the refusal names the place.

use crate::{defaults, src};
use holdpoint_policy::{PolicyError, PolicySet, PolicySource, load_dir, read_dir};

fn refuse(sources: &[PolicySource], schema: Option<&str>) -> PolicyError {
    match PolicySet::compile(sources, &defaults(), schema) {
        Ok(set) => panic!("compiled: {:?}", set.ids()),
        Err(err) => err,
    }
}

#[test]
fn a_syntax_error_names_its_file_and_line() {
    let good = src("10-a.cedar", "permit(principal, action, resource);\n");
    let bad = src(
        "20-b.cedar",
        "// fine so far\npermit(principal, action, resource);\n\npermit(principal action, resource);\n",
    );
    let err = refuse(&[good, bad], None);
    match &err {
        PolicyError::Syntax {
            file,
            line,
            message,
        } => {
            assert_eq!((file.as_str(), *line), ("20-b.cedar", 4), "{err}");
            assert!(!message.is_empty());
        }
        other => panic!("wrong error: {other:?}"),
    }
    assert!(
        err.to_string().starts_with("`20-b.cedar` line 4: "),
        "{err}"
    );
}

#[test]
fn a_syntax_error_on_a_later_line_of_a_long_policy() {
    let bad = src(
        "x.cedar",
        "permit(\n  principal,\n  action,\n  resource\n) when { context.a == };\n",
    );
    assert!(matches!(
        refuse(&[bad], None),
        PolicyError::Syntax { line: 5, .. }
    ));
}

#[test]
fn bad_annotations_are_refused_with_policy_file_and_line() {
    let cases = [
        (
            "@hold(\"H\")\n@quorum(\"zero\")\npermit(principal, action, resource);",
            "`@quorum`",
        ),
        (
            "@hold(\"H\")\n@expires(\"soon\")\npermit(principal, action, resource);",
            "`soon`",
        ),
        (
            "@hold(\"H\")\n@grant(\"-1m\")\npermit(principal, action, resource);",
            "`@grant`",
        ),
        (
            "@approvers(\"dba\")\npermit(principal, action, resource);",
            "`@hold",
        ),
        (
            "@hold(\"H\")\nforbid(principal, action, resource);",
            "for permits",
        ),
    ];
    for (text, needle) in cases {
        let file = src(
            "30-c.cedar",
            &format!("permit(principal, action, resource);\n\n{text}\n"),
        );
        let err = refuse(&[file], None);
        match &err {
            PolicyError::Annotation {
                policy,
                file,
                line,
                message,
            } => {
                assert_eq!(policy, "30-c.cedar:3");
                assert_eq!((file.as_str(), *line), ("30-c.cedar", 3));
                assert!(message.contains(needle), "{message} lacks {needle}");
            }
            other => panic!("wrong error for {text}: {other:?}"),
        }
        assert!(
            err.to_string()
                .starts_with("`30-c.cedar` line 3: policy `30-c.cedar:3`: "),
            "{err}"
        );
    }
    let named = src(
        "n.cedar",
        "@id(\"named\") @hold(\"H\") @quorum(\"-2\")\npermit(principal, action, resource);",
    );
    assert!(
        matches!(refuse(&[named], None), PolicyError::Annotation { policy, .. } if policy == "named")
    );
}

#[test]
fn a_duplicate_id_is_refused_naming_both_places() {
    let a = src(
        "a.cedar",
        "@id(\"same\") permit(principal, action, resource);",
    );
    let b = src(
        "b.cedar",
        "\n@id(\"same\") forbid(principal, action, resource);",
    );
    let err = refuse(&[a, b], None);
    assert_eq!(
        err,
        PolicyError::DuplicateId {
            id: "same".into(),
            first: "a.cedar:1".into(),
            second: "b.cedar:2".into(),
        }
    );
}

const SCHEMA: &str = r#"
entity Group;
entity Agent, User in [Group];
entity Resource in [Resource];
action "db";
action "db.read" in ["db"] appliesTo {
  principal: [Agent, User],
  resource: [Resource],
  context: {
    environment: String,
    justification: String,
    surface: String,
    params: { table?: String },
  }
};
"#;

#[test]
fn the_schema_refuses_an_undeclared_attribute() {
    let good = src(
        "10-ok.cedar",
        "@id(\"ok\")\npermit(principal in Group::\"agents\", action in Action::\"db\", resource)\nwhen { context.params has table && context.params.table == \"t\" };\n",
    );
    assert!(PolicySet::compile(std::slice::from_ref(&good), &defaults(), Some(SCHEMA)).is_ok());
    let bad = src(
        "20-bad.cedar",
        "// rows is not in the schema\n@id(\"bad\")\npermit(principal, action == Action::\"db.read\", resource)\nwhen { context.params.rows > 1 };\n",
    );
    // Without a schema nothing is validated.
    assert!(PolicySet::compile(&[good.clone(), bad.clone()], &defaults(), None).is_ok());
    let err = refuse(&[good, bad], Some(SCHEMA));
    match &err {
        PolicyError::Validation {
            file,
            line,
            message,
        } => {
            assert_eq!(file, "20-bad.cedar");
            assert_eq!(*line, 4, "{err}");
            assert!(message.contains("`bad`"), "{message}");
        }
        other => panic!("wrong error: {other:?}"),
    }
}

#[test]
fn the_schema_refuses_an_undeclared_action() {
    let bad = src(
        "a.cedar",
        "permit(principal, action == Action::\"db.drop\", resource);",
    );
    assert!(matches!(
        refuse(&[bad], Some(SCHEMA)),
        PolicyError::Validation { line: 1, .. }
    ));
}

#[test]
fn a_broken_schema_is_refused() {
    let ok = src("a.cedar", "permit(principal, action, resource);");
    let err = refuse(&[ok], Some("entity Group;\nentity ;\n"));
    assert!(
        matches!(&err, PolicyError::Schema { message } if message.starts_with("line 2")),
        "{err}"
    );
}

#[test]
fn read_dir_takes_cedar_files_in_name_order_and_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("20-b.cedar"),
        "forbid(principal, action, resource);",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("10-a.cedar"),
        "permit(principal, action, resource);",
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not cedar").unwrap();
    std::fs::write(dir.path().join(".#10-a.cedar"), "not cedar").unwrap();
    let (sources, schema) = read_dir(dir.path()).unwrap();
    let files: Vec<&str> = sources.iter().map(|s| s.file.as_str()).collect();
    assert_eq!(files, vec!["10-a.cedar", "20-b.cedar"]);
    assert!(schema.is_none());

    std::fs::write(dir.path().join("schema.cedarschema"), SCHEMA).unwrap();
    let (_, schema) = read_dir(dir.path()).unwrap();
    assert_eq!(schema.as_deref(), Some(SCHEMA));
    // The schema has no `Action::"db.write"`... but these policies name no action, so
    // they validate; one that names an undeclared action does not.
    assert!(load_dir(dir.path(), &defaults()).is_ok());
    std::fs::write(
        dir.path().join("30-c.cedar"),
        "permit(principal, action == Action::\"x\", resource);",
    )
    .unwrap();
    assert!(matches!(
        load_dir(dir.path(), &defaults()),
        Err(PolicyError::Validation { file, .. }) if file == "30-c.cedar"
    ));
}

#[test]
fn a_missing_directory_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    assert!(
        matches!(read_dir(&missing), Err(PolicyError::Io { path, .. }) if path.contains("nope"))
    );
}

#[test]
fn an_empty_directory_loads() {
    let dir = tempfile::tempdir().unwrap();
    assert!(load_dir(dir.path(), &defaults()).unwrap().ids().is_empty());
}
