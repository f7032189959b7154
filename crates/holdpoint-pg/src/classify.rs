//! What a SQL message does, read by PostgreSQL's own parser (`pg_query`): for each
//! statement, its kinds, tables, the functions whose kind only the catalog can tell, and
//! whether it writes without `WHERE`.
//!
//! The parse tree is walked as a whole (every node, however nested), so a writing CTE,
//! a function call deep in an expression or a DML statement inside `EXPLAIN ANALYZE`
//! counts. Whatever the walk does not recognise is `db.unknown`.

use crate::functions::{self, FunctionCall};
use crate::kind::Kind;
use crate::{grammar, settings};
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// One statement of a message, classified.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Statement {
    pub kinds: BTreeSet<Kind>,
    /// Tables as written (`customers`, `billing.invoices`).
    pub tables: BTreeSet<String>,
    /// Calls whose kind depends on the function's definition in the catalog.
    pub calls: Vec<FunctionCall>,
    /// Every function named, for `context.sql.functions`.
    pub functions: BTreeSet<String>,
    /// An UPDATE or DELETE without WHERE.
    pub unbounded: bool,
    /// Column names referenced anywhere (for masking computed result columns).
    pub columns: BTreeSet<String>,
    /// A `*` or whole-row reference.
    pub star: bool,
    /// Its rows come from elsewhere (FETCH from a cursor, EXECUTE of a prepared
    /// statement): any computed column may carry a masked one.
    pub opaque_results: bool,
    /// It may close, replace or end portals (DECLARE, CLOSE, transaction control,
    /// DISCARD): the proxy forgets its named portals.
    pub ends_portals: bool,
    /// `PREPARE name AS …`: the statement prepared (executed later by `EXECUTE name`).
    pub prepares: Option<(String, Box<Statement>)>,
    /// `EXECUTE name`: judged as what `name` was prepared as.
    pub executes: Option<String>,
    /// `COPY … TO`: rows leave in COPY format, past result masking.
    pub copies_out: bool,
    /// Its kinds depend on a literal's value (a file name, a setting, EXPLAIN's options,
    /// `set_config`'s name): it may not share a shape with other literals.
    pub reads_literals: bool,
    /// Names in column notation (`t.name`, `(expr).name`): a call of `name(t)` when no
    /// column has that name and a function of it takes the row (asked of the catalog).
    pub notation: BTreeSet<String>,
    /// Settings changed whose kind only `pg_settings.context` can tell.
    pub settings: BTreeSet<String>,
    /// Syntax of a grammar newer than some servers: the major version that introduced
    /// it and the function an older server calls for it (`grammar.rs`).
    pub grammar: BTreeSet<(u32, String)>,
    /// Why a part is unknown, for the reason shown.
    pub notes: Vec<String>,
}

impl Statement {
    fn unknown(note: impl Into<String>) -> Statement {
        Statement {
            kinds: BTreeSet::from([Kind::Unknown]),
            notes: vec![note.into()],
            ..Statement::default()
        }
    }

    /// A statement holdpoint cannot judge, for the reason `what`.
    pub fn unknown_named(what: &str) -> Statement {
        Statement::unknown(format!("holdpoint cannot judge {what}"))
    }

    /// The most privileged kind, `db.read` for an empty statement.
    pub fn head(&self) -> Kind {
        self.kinds.iter().next_back().copied().unwrap_or(Kind::Read)
    }

    /// Whether judging it for a server of major version `server` needs the catalog or
    /// the prepared statements (or syntax the server reads otherwise).
    pub fn needs_resolving(&self, server: Option<u32>) -> bool {
        !self.calls.is_empty()
            || self.executes.is_some()
            || !self.notation.is_empty()
            || !self.settings.is_empty()
            || self
                .grammar
                .iter()
                .any(|(since, _)| server.is_none_or(|v| v < *since))
    }

    /// Adds everything `other` does to this statement.
    pub(crate) fn absorb(&mut self, other: Statement) {
        self.reads_literals |= other.reads_literals;
        self.opaque_results |= other.opaque_results;
        self.ends_portals |= other.ends_portals;
        if other.executes.is_some() && self.executes != other.executes {
            if self.executes.is_some() {
                self.kinds.insert(Kind::Unknown);
                self.notes.push("two EXECUTEs in one statement".into());
            }
            self.executes = other.executes;
        }
        self.kinds.extend(other.kinds);
        self.tables.extend(other.tables);
        self.calls.extend(other.calls);
        self.functions.extend(other.functions);
        self.unbounded |= other.unbounded;
        self.columns.extend(other.columns);
        self.star |= other.star;
        self.notation.extend(other.notation);
        self.settings.extend(other.settings);
        self.grammar.extend(other.grammar);
        self.notes.extend(other.notes);
    }
}

/// Classifies every statement of `sql`. A message that does not parse is one unknown
/// statement: what the proxy cannot read, the server must not run.
pub fn classify(sql: &str) -> Vec<Statement> {
    let parsed = match pg_query::parse(sql, 0) {
        Ok(parsed) => parsed,
        Err(e) => {
            return vec![Statement::unknown(format!(
                "holdpoint could not parse it: {e}"
            ))];
        }
    };
    let tree = match serde_json::to_value(&parsed.protobuf) {
        Ok(tree) => tree,
        Err(e) => return vec![Statement::unknown(format!("unreadable parse tree: {e}"))],
    };
    let Some(stmts) = tree.get("stmts").and_then(Value::as_array) else {
        return Vec::new();
    };
    stmts
        .iter()
        .map(|raw| match raw.get("stmt").and_then(|s| s.get("node")) {
            Some(Value::Object(node)) => match node.iter().next() {
                Some((name, body)) => statement(name, body),
                None => Statement::unknown("an empty statement node"),
            },
            _ => Statement::unknown("a statement without a node"),
        })
        .collect()
}

/// One top-level statement: the kind its type says, plus everything found inside.
fn statement(name: &str, body: &Value) -> Statement {
    let mut st = Statement::default();
    match name {
        "ExplainStmt" if !explain_analyzes(body) => {
            // Plans, runs nothing: a read of the tables it names.
            let mut inner = Statement::default();
            walk(body, &mut inner);
            st.tables = inner.tables;
            st.kinds.insert(Kind::Read);
            st.reads_literals = true;
            // EXPLAIN EXECUTE evaluates the parameters it is given, even without ANALYZE.
            if let Some(("ExecuteStmt", execute)) = body.get("query").and_then(node_of) {
                let mut params = Statement::default();
                walk(execute.get("params").unwrap_or(&Value::Null), &mut params);
                st.absorb(params);
            }
            return st;
        }
        "ExplainStmt" => {
            st.reads_literals = true;
            walk(body, &mut st);
            if let Some((node, inner)) = body.get("query").and_then(node_of) {
                st.absorb(statement(node, inner));
            }
            if st.kinds.is_empty() {
                st.kinds.insert(Kind::Read);
            }
            return st;
        }
        "PrepareStmt" => {
            let name = text(body, "name");
            let inner = match body.get("query").and_then(node_of) {
                Some((node, inner)) => statement(node, inner),
                None => Statement::unknown("PREPARE without a statement"),
            };
            st.kinds.insert(Kind::Read);
            // A literal that decides the prepared statement's kind decides this shape.
            st.reads_literals = inner.reads_literals;
            st.prepares = Some((name, Box::new(inner)));
            return st;
        }
        "ExecuteStmt" => {
            walk(body, &mut st);
            st.executes = Some(text(body, "name"));
            st.opaque_results = true;
            st.kinds.insert(Kind::Read);
            return st;
        }
        _ => {}
    }
    let kinds = base_kinds(name, body, &mut st);
    st.kinds.extend(kinds);
    if name == "DropStmt" {
        st.tables.extend(dropped_tables(body));
    }
    st.copies_out = name == "CopyStmt" && !flag(body, "is_from");
    st.reads_literals |= matches!(name, "CopyStmt" | "VariableSetStmt" | "ExplainStmt");
    node(name, body, &mut st);
    walk(body, &mut st);
    st
}

/// The kinds a statement type carries by itself.
fn base_kinds(name: &str, body: &Value, st: &mut Statement) -> Vec<Kind> {
    use Kind::*;
    match name {
        "SelectStmt" | "VariableShowStmt" | "ListenStmt" | "UnlistenStmt" | "FetchStmt"
        | "ClosePortalStmt" | "DiscardStmt" | "DeallocateStmt" | "DeclareCursorStmt" => {
            vec![Read]
        }
        "InsertStmt" | "UpdateStmt" | "DeleteStmt" | "MergeStmt" | "NotifyStmt" | "LockStmt"
        | "RefreshMatViewStmt" | "CallStmt" => vec![Write],
        "TransactionStmt" if two_phase(body) => vec![Admin],
        "TransactionStmt" | "ConstraintsSetStmt" => vec![Transaction],
        "CopyStmt" => copy_kinds(body),
        "VariableSetStmt" => {
            let setting = text(body, "name");
            if settings::needs_catalog(&setting) {
                st.settings.insert(setting.to_ascii_lowercase());
            }
            // A search path is a list: every schema counts, in order.
            let value = if setting.eq_ignore_ascii_case("search_path") {
                Some(all_strings(body.get("args")).join(","))
            } else {
                first_string(body.get("args"))
            };
            vec![settings::setting_kind(
                &setting,
                value.as_deref(),
                &mut st.notes,
            )]
        }
        "DoStmt" => vec![Write, Ddl, Admin, Privilege],
        "CreateFunctionStmt" | "AlterFunctionStmt" if security_definer(body) => {
            vec![Ddl, Privilege]
        }
        "AlterTableStmt" if alters_access(body) => vec![Ddl, Privilege],
        "CreateSchemaStmt" if body.get("authrole").is_some_and(|r| !r.is_null()) => {
            vec![Ddl, Privilege]
        }
        "GrantStmt"
        | "GrantRoleStmt"
        | "CreateRoleStmt"
        | "AlterRoleStmt"
        | "AlterRoleSetStmt"
        | "DropRoleStmt"
        | "AlterDefaultPrivilegesStmt"
        | "ReassignOwnedStmt"
        | "DropOwnedStmt"
        | "AlterOwnerStmt"
        | "CreatePolicyStmt"
        | "AlterPolicyStmt"
        | "SecLabelStmt"
        | "CreateUserMappingStmt"
        | "AlterUserMappingStmt"
        | "DropUserMappingStmt" => vec![Privilege],
        "TruncateStmt"
        | "VacuumStmt"
        | "AlterSystemStmt"
        | "CheckPointStmt"
        | "ReindexStmt"
        | "ClusterStmt"
        | "LoadStmt"
        | "CreatedbStmt"
        | "DropdbStmt"
        | "AlterDatabaseStmt"
        | "AlterDatabaseSetStmt"
        | "AlterDatabaseRefreshCollStmt"
        | "CreateTableSpaceStmt"
        | "DropTableSpaceStmt"
        | "AlterTableSpaceOptionsStmt"
        | "AlterTableMoveAllStmt"
        | "CreateSubscriptionStmt"
        | "AlterSubscriptionStmt"
        | "DropSubscriptionStmt"
        | "CreatePublicationStmt"
        | "AlterPublicationStmt"
        | "CreateExtensionStmt"
        | "AlterExtensionStmt"
        | "AlterExtensionContentsStmt"
        | "CreateFdwStmt"
        | "AlterFdwStmt"
        | "CreateForeignServerStmt"
        | "AlterForeignServerStmt"
        | "ImportForeignSchemaStmt"
        | "CreateEventTrigStmt"
        | "AlterEventTrigStmt" => vec![Admin],
        other
            if [
                "Create",
                "Alter",
                "Drop",
                "Define",
                "Comment",
                "Rename",
                "Composite",
                "Index",
                "View",
                "Rule",
            ]
            .iter()
            .any(|p| other.starts_with(p)) =>
        {
            vec![Ddl]
        }
        other => {
            st.notes.push(format!(
                "holdpoint does not know the statement type {other}"
            ));
            vec![Unknown]
        }
    }
}

/// COPY FROM STDIN writes; COPY TO exports; a server file or program is admin too.
fn copy_kinds(body: &Value) -> Vec<Kind> {
    let from = flag(body, "is_from");
    let server_side = flag(body, "is_program") || !text(body, "filename").is_empty();
    let mut kinds = vec![if from { Kind::Write } else { Kind::Export }];
    if server_side {
        kinds.push(Kind::Admin);
    }
    kinds
}

/// PREPARE TRANSACTION, COMMIT PREPARED, ROLLBACK PREPARED: two-phase commit, which
/// leaves or ends a transaction outside any session.
fn two_phase(body: &Value) -> bool {
    use pg_query::protobuf::TransactionStmtKind as T;
    let kind = body
        .get("kind")
        .and_then(Value::as_i64)
        .and_then(|k| i32::try_from(k).ok())
        .and_then(|k| T::try_from(k).ok());
    matches!(
        kind,
        Some(T::TransStmtPrepare | T::TransStmtCommitPrepared | T::TransStmtRollbackPrepared)
    )
}

fn explain_analyzes(body: &Value) -> bool {
    options(body).any(|(name, arg)| {
        name == "analyze"
            && !matches!(
                arg.map(|a| a.to_ascii_lowercase()).as_deref(),
                Some("false" | "off" | "0")
            )
    })
}

fn security_definer(body: &Value) -> bool {
    body.get("options")
        .or_else(|| body.get("actions"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|o| o.get("node").and_then(|n| n.get("DefElem")))
        .any(|d| {
            text(d, "defname") == "security"
                && d.get("arg")
                    .and_then(|a| a.get("node"))
                    .and_then(|n| n.get("Boolean"))
                    .and_then(|b| b.get("boolval"))
                    .and_then(Value::as_bool)
                    .unwrap_or(true)
        })
}

/// ALTER TABLE … ENABLE/DISABLE/FORCE ROW LEVEL SECURITY, or … OWNER TO.
fn alters_access(body: &Value) -> bool {
    body.get("cmds")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("node").and_then(|n| n.get("AlterTableCmd")))
        .filter_map(|c| c.get("subtype").and_then(Value::as_i64))
        .filter_map(|t| i32::try_from(t).ok())
        .filter_map(|t| pg_query::protobuf::AlterTableType::try_from(t).ok())
        .any(|t| {
            let name = t.as_str_name();
            name.contains("RowSecurity") || name.contains("ChangeOwner")
        })
}

fn dropped_tables(body: &Value) -> Vec<String> {
    let kind = body
        .get("remove_type")
        .and_then(Value::as_i64)
        .and_then(|t| i32::try_from(t).ok())
        .and_then(|t| pg_query::protobuf::ObjectType::try_from(t).ok());
    use pg_query::protobuf::ObjectType as O;
    if !matches!(
        kind,
        Some(O::ObjectTable | O::ObjectView | O::ObjectMatview | O::ObjectForeignTable)
    ) {
        return Vec::new();
    }
    body.get("objects")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|o| o.get("node").and_then(|n| n.get("List")))
        .map(|list| strings(list.get("items")).join("."))
        .filter(|name| !name.is_empty())
        .collect()
}

/// Every node below `value`: tables, function calls, writes, locks, column references.
fn walk(value: &Value, st: &mut Statement) {
    match value {
        Value::Object(map) => {
            if map.contains_key("relname") && map.contains_key("relpersistence") {
                let schema = text_of(map, "schemaname");
                let rel = text_of(map, "relname");
                st.tables.insert(if schema.is_empty() {
                    rel
                } else {
                    format!("{schema}.{rel}")
                });
            }
            if map.contains_key("funcname") && map.contains_key("funcformat") {
                let call = functions::call(strings(map.get("funcname")), map.get("args"));
                st.functions.insert(call.qualified());
                if call.name.eq_ignore_ascii_case("set_config") {
                    st.reads_literals = true;
                    if let Some(name) = call.first.as_deref().filter(|n| settings::needs_catalog(n))
                    {
                        st.settings.insert(name.to_ascii_lowercase());
                    }
                }
                match call.fixed_kind(&mut st.notes) {
                    Some(kind) => {
                        st.kinds.insert(kind);
                    }
                    None => st.calls.push(call),
                }
            }
            for (key, child) in map {
                node(key, child, st);
                walk(child, st);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| walk(i, st)),
        _ => {}
    }
}

/// What a nested node adds by its type.
fn node(key: &str, body: &Value, st: &mut Statement) {
    if let Some((since, name)) = grammar::construct(key, body) {
        st.grammar.insert((since, name.to_string()));
    }
    match key {
        // EXECUTE inside another statement (EXPLAIN ANALYZE EXECUTE, CREATE TABLE … AS
        // EXECUTE): judged as what it prepared, like a top-level one.
        "ExecuteStmt" => {
            let name = text(body, "name");
            if st.executes.as_ref().is_some_and(|e| *e != name) {
                st.kinds.insert(Kind::Unknown);
                st.notes.push("two EXECUTEs in one statement".into());
            }
            st.executes = Some(name);
            st.opaque_results = true;
        }
        "FetchStmt" => st.opaque_results = true,
        // ALTER SYSTEM / ROLE / DATABASE … SET: the setting, in a field of its own.
        "setstmt" if body.is_object() => {
            let kinds = base_kinds("VariableSetStmt", body, st);
            st.kinds.extend(kinds);
            st.reads_literals = true;
        }
        "DeclareCursorStmt" | "ClosePortalStmt" | "TransactionStmt" | "DiscardStmt" => {
            st.ends_portals = true;
        }
        // Any other statement nested in this one (CREATE SCHEMA … GRANT, a function's
        // `SET role = …`) carries its own kinds.
        "SelectStmt" | "InsertStmt" | "UpdateStmt" | "DeleteStmt" | "MergeStmt" | "ReturnStmt" => {}
        other if other.ends_with("Stmt") => {
            let kinds = base_kinds(other, body, st);
            st.kinds.extend(kinds);
            if other == "VariableSetStmt" {
                st.reads_literals = true;
            }
        }
        _ => {}
    }
    match key {
        "InsertStmt" | "MergeStmt" => {
            st.kinds.insert(Kind::Write);
        }
        "UpdateStmt" | "DeleteStmt" => {
            st.kinds.insert(Kind::Write);
            if body.get("where_clause").is_none_or(Value::is_null) {
                st.unbounded = true;
            }
        }
        "SelectStmt" => {
            if body
                .get("locking_clause")
                .and_then(Value::as_array)
                .is_some_and(|l| !l.is_empty())
            {
                st.kinds.insert(Kind::Write);
            }
            if body.get("into_clause").is_some_and(|i| !i.is_null()) {
                st.kinds.insert(Kind::Ddl);
            }
        }
        "ColumnRef" => {
            let fields = body.get("fields").and_then(Value::as_array);
            let fields = fields.map(Vec::as_slice).unwrap_or_default();
            match fields.last().and_then(|f| f.get("node")) {
                Some(last) if last.get("AStar").is_some() => st.star = true,
                Some(last) => {
                    if let Some(name) = last.get("String").map(|s| text(s, "sval")) {
                        // A lone name may be a whole-row reference to a table alias;
                        // `t.name` may be a call of `name(t)`.
                        if fields.len() == 1 {
                            st.star = true;
                        } else {
                            st.notation.insert(name.clone());
                        }
                        st.columns.insert(name);
                    }
                }
                None => {}
            }
        }
        // `(expr).name`: a field of a row, or a call of `name(expr)`.
        "AIndirection" => {
            st.notation.extend(strings(body.get("indirection")));
        }
        _ => {}
    }
}

fn node_of(value: &Value) -> Option<(&str, &Value)> {
    value
        .get("node")
        .and_then(Value::as_object)
        .and_then(|m| m.iter().next())
        .map(|(k, v)| (k.as_str(), v))
}

fn options(body: &Value) -> impl Iterator<Item = (String, Option<String>)> + '_ {
    body.get("options")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|o| o.get("node").and_then(|n| n.get("DefElem")))
        .map(|d| {
            let arg = d.get("arg").and_then(|a| a.get("node")).and_then(|n| {
                n.get("String")
                    .map(|s| text(s, "sval"))
                    .or_else(|| n.get("Boolean").map(|b| flag(b, "boolval").to_string()))
                    .or_else(|| n.get("Integer").map(|i| i.to_string()))
            });
            (text(d, "defname"), arg)
        })
}

/// The `sval`s of a list of `String` nodes.
pub(crate) fn strings(list: Option<&Value>) -> Vec<String> {
    list.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|n| n.get("node").and_then(|n| n.get("String")))
        .map(|s| text(s, "sval"))
        .collect()
}

/// The first argument when it is a string constant.
pub(crate) fn first_string(args: Option<&Value>) -> Option<String> {
    let first = args.and_then(Value::as_array)?.first()?;
    let constant = first.get("node")?.get("AConst")?;
    constant.get("val")?.get("Sval").map(|s| text(s, "sval"))
}

/// Every string constant among `args`, in order.
fn all_strings(args: Option<&Value>) -> Vec<String> {
    args.and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|a| a.get("node")?.get("AConst")?.get("val")?.get("Sval"))
                .map(|s| text(s, "sval"))
                .collect()
        })
        .unwrap_or_default()
}

fn text(value: &Value, key: &str) -> String {
    value
        .as_object()
        .map(|m| text_of(m, key))
        .unwrap_or_default()
}

fn text_of(map: &Map<String, Value>, key: &str) -> String {
    map.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn flag(value: &Value, key: &str) -> bool {
    value.get(key).and_then(Value::as_bool).unwrap_or(false)
}
