//! The PostgreSQL proxy under test: a fresh database on the machine's PostgreSQL, a
//! gateway with a `[[postgres]]` listener in front of it, an agent token, and clients
//! (psql, tokio-postgres, raw protocol messages).

use super::{Gateway, text};
use holdpoint_core::env::{Env, ProcessEnv};
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

pub const SERVER: &str = "postgres://postgres@127.0.0.1:5432";

/// A database of its own for one test, dropped at the end.
pub struct Db {
    pub name: String,
}

impl Db {
    /// A fresh database; `None` (skip) when PostgreSQL is unreachable outside CI.
    pub fn fresh(tag: &str) -> Option<Db> {
        let name = format!("hp_{tag}_{}", std::process::id());
        let drop = direct(
            "test",
            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        );
        if !drop.status.success() {
            let why = text(&drop.stderr);
            if ProcessEnv.var("CI").as_deref() == Some("true") {
                panic!("PostgreSQL is unreachable and CI=true: {why}");
            }
            eprintln!("skipping: PostgreSQL is unreachable: {why}");
            return None;
        }
        let made = direct("test", &format!("CREATE DATABASE {name}"));
        assert!(made.status.success(), "{}", text(&made.stderr));
        Some(Db { name })
    }

    pub fn url(&self) -> String {
        format!("{SERVER}/{}", self.name)
    }

    /// Runs `sql` directly (not through holdpoint) as `postgres`; its stdout.
    pub fn run(&self, sql: &str) -> String {
        let out = direct(&self.name, sql);
        assert!(out.status.success(), "{sql}: {}", text(&out.stderr));
        text(&out.stdout)
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        let _ = direct(
            "test",
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

fn direct(db: &str, sql: &str) -> Output {
    Command::new("psql")
        .args([
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            db,
            "-XAtq",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            sql,
        ])
        .output()
        .expect("psql")
}

/// A gateway with one `[[postgres]]` listener in front of `db`, named after its environment.
pub struct Proxy {
    pub gw: Gateway,
    pub addr: String,
    pub token: String,
    pub db: Db,
    pub dir: tempfile::TempDir,
}

impl Proxy {
    /// `environment` is the listener's; `extra` is added to its `[[postgres]]` entry;
    /// `policies`, when given, replace the starter set.
    pub fn start(db: Db, environment: &str, extra: &str, policies: Option<&str>) -> Proxy {
        Proxy::start_with(db, environment, extra, policies, &db_url_env())
    }

    pub fn start_with(
        db: Db,
        environment: &str,
        extra: &str,
        policies: Option<&str>,
        upstream: &[(&str, String)],
    ) -> Proxy {
        Proxy::start_on(db, "127.0.0.1:0", environment, extra, policies, upstream)
    }

    /// [`Proxy::start_with`], listening on `listen`.
    pub fn start_on(
        db: Db,
        listen: &str,
        environment: &str,
        extra: &str,
        policies: Option<&str>,
        upstream: &[(&str, String)],
    ) -> Proxy {
        let dir = tempfile::tempdir().expect("tempdir");
        let policy = match policies {
            Some(text) => {
                let pdir = dir.path().join("policies");
                std::fs::create_dir_all(&pdir).expect("policies");
                std::fs::write(pdir.join("test.cedar"), text).expect("policy");
                format!("[policy]\ndir = \"{}\"\n", pdir.display())
            }
            None => String::new(),
        };
        let config = dir.path().join("holdpoint.toml");
        std::fs::write(
            &config,
            format!(
                "{policy}\n[[postgres]]\nname = \"{environment}\"\nlisten = \"{listen}\"\nupstream_env = \"HP_TEST_UPSTREAM\"\nenvironment = \"{environment}\"\n{extra}\n"
            ),
        )
        .expect("config");
        let mut env: Vec<(&str, String)> = vec![("HP_TEST_UPSTREAM", db.url())];
        env.extend(upstream.iter().cloned());
        let data = dir.path().join("data");
        let log = dir.path().join("serve.log");
        let env_refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let gw = Gateway::start_logged(
            &data,
            &["--config", config.to_str().expect("utf-8 path")],
            &env_refs,
            &log,
        );
        let addr = gw
            .postgres
            .first()
            .map(|(_, a)| a.clone())
            .expect("a [[postgres]] listener");
        let token = gw.create_token("bot", "agent", &[]);
        Proxy {
            gw,
            addr,
            token,
            db,
            dir,
        }
    }

    pub fn port(&self) -> &str {
        self.addr.rsplit(':').next().expect("port")
    }

    /// `psql` through the proxy as `bot`, with `args` after the connection options.
    pub fn psql(&self, args: &[&str]) -> Output {
        self.psql_command(args).output().expect("psql")
    }

    pub fn psql_command(&self, args: &[&str]) -> Command {
        let mut c = Command::new("psql");
        c.args([
            "-h",
            "127.0.0.1",
            "-p",
            self.port(),
            "-U",
            "bot",
            "-d",
            &self.db.name,
            "-X",
        ])
        .args(args)
        .env("PGPASSWORD", &self.token)
        .env("PGSSLMODE", "disable")
        .env("PGCONNECT_TIMEOUT", "10");
        c
    }

    /// A tokio-postgres client through the proxy.
    pub async fn client(&self) -> tokio_postgres::Client {
        self.client_as(&self.token)
            .await
            .expect("connect through holdpoint")
    }

    pub async fn client_as(
        &self,
        password: &str,
    ) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
        let config = format!(
            "host=127.0.0.1 port={} user=bot password={password} dbname={} sslmode=disable",
            self.port(),
            self.db.name
        );
        let (client, connection) = tokio_postgres::connect(&config, tokio_postgres::NoTls).await?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(client)
    }

    /// The id of the first pending hold, once there is one.
    pub fn wait_pending(&self) -> String {
        for _ in 0..400 {
            let out = self.gw.cli(&self.gw.admin_token(), &["pending"]);
            let listed = text(&out.stdout);
            if listed.contains("act_") {
                return super::act_id(&listed);
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("no hold appeared");
    }

    /// An action's status, as the API reports it.
    pub fn status(&self, id: &str) -> String {
        let body = self.gw.admin_get(&format!("/v1/actions/{id}"));
        let v: serde_json::Value = serde_json::from_str(&body).expect("json");
        v["status"].as_str().unwrap_or_default().to_string()
    }

    /// Waits until `id` has `status`.
    pub fn wait_status(&self, id: &str, status: &str) {
        for _ in 0..400 {
            if self.status(id) == status {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("{id} never became {status}: {}", self.status(id));
    }

    pub fn approve(&self, id: &str, comment: &str) {
        let out = self.gw.cli(
            &self.gw.admin_token(),
            &["approve", id, "--comment", comment],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
    }

    pub fn reject(&self, id: &str, comment: &str) {
        let out = self.gw.cli(
            &self.gw.admin_token(),
            &["reject", id, "--comment", comment],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
    }

    /// The audit events of type `t`, as JSON.
    pub fn events(&self, t: &str) -> Vec<serde_json::Value> {
        let mut found = Vec::new();
        let mut after = 0i64;
        loop {
            let body = self
                .gw
                .admin_get(&format!("/v1/audit?after={after}&limit=500"));
            let v: serde_json::Value = serde_json::from_str(&body).expect("json");
            let events = v["events"].as_array().cloned().unwrap_or_default();
            found.extend(events.iter().filter(|e| e["type"] == t).cloned());
            match v["next"].as_i64() {
                Some(next) if !events.is_empty() => after = next,
                _ => return found,
            }
        }
    }

    pub fn data(&self) -> &Path {
        &self.gw.data
    }
}

fn db_url_env() -> Vec<(&'static str, String)> {
    Vec::new()
}

/// The SQLSTATE and message of a tokio-postgres error.
pub fn db_error(e: &tokio_postgres::Error) -> (String, String) {
    match e.as_db_error() {
        Some(db) => (db.code().code().to_string(), db.message().to_string()),
        None => (String::new(), e.to_string()),
    }
}

/// A client that speaks raw protocol messages, to send what drivers never would.
pub struct Raw {
    stream: std::net::TcpStream,
    buf: bytes::BytesMut,
}

/// One backend message: its type and body.
pub type Msg = (u8, Vec<u8>);

impl Raw {
    /// Connects as `user` with `password`, passing `extra` startup parameters; returns
    /// the client, or the login's error message.
    pub fn connect(
        addr: &str,
        user: &str,
        password: &str,
        db: &str,
        extra: &[(&str, &str)],
    ) -> Result<Raw, String> {
        use std::io::Write;
        let stream = std::net::TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .expect("timeout");
        let mut raw = Raw {
            stream,
            buf: bytes::BytesMut::new(),
        };
        let mut out = bytes::BytesMut::new();
        let mut params = vec![("user", user), ("database", db)];
        params.extend(extra.iter().copied());
        postgres_protocol::message::frontend::startup_message(params, &mut out).expect("startup");
        raw.stream.write_all(&out).expect("write");
        loop {
            let (tag, body) = raw.next().ok_or("closed during login")?;
            match tag {
                b'R' if body.get(..4) == Some(&[0, 0, 0, 3]) => {
                    out.clear();
                    postgres_protocol::message::frontend::password_message(
                        password.as_bytes(),
                        &mut out,
                    )
                    .expect("pw");
                    raw.stream.write_all(&out).expect("write");
                }
                b'E' => return Err(text(&body)),
                b'Z' => return Ok(raw),
                _ => {}
            }
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        use std::io::Write;
        self.stream.write_all(bytes).expect("write");
    }

    /// The next message, or `None` when the server closed.
    pub fn next(&mut self) -> Option<Msg> {
        use std::io::Read;
        loop {
            if self.buf.len() >= 5 {
                let len = i32::from_be_bytes([self.buf[1], self.buf[2], self.buf[3], self.buf[4]])
                    as usize;
                if self.buf.len() > len {
                    let frame = self.buf.split_to(1 + len);
                    return Some((frame[0], frame[5..].to_vec()));
                }
            }
            let mut chunk = [0u8; 8192];
            match self.stream.read(&mut chunk) {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// Every message up to and including the next ReadyForQuery.
    pub fn until_ready(&mut self) -> Vec<Msg> {
        let mut all = Vec::new();
        while let Some(m) = self.next() {
            let done = m.0 == b'Z';
            all.push(m);
            if done {
                return all;
            }
        }
        all
    }
}

/// The SQLSTATEs of the errors among `msgs`.
pub fn codes(msgs: &[Msg]) -> Vec<String> {
    msgs.iter()
        .filter(|(t, _)| *t == b'E')
        .map(|(_, body)| {
            body.split(|b| *b == 0)
                .find_map(|f| f.strip_prefix(b"C"))
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .unwrap_or_default()
        })
        .collect()
}

/// The first column of each DataRow among `msgs`, as text (None for NULL).
pub fn first_values(msgs: &[Msg]) -> Vec<Option<String>> {
    msgs.iter()
        .filter(|(t, _)| *t == b'D')
        .map(|(_, body)| {
            let len = i32::from_be_bytes([body[2], body[3], body[4], body[5]]);
            (len >= 0).then(|| String::from_utf8_lossy(&body[6..6 + len as usize]).into_owned())
        })
        .collect()
}

/// Appends a Bind of `statement` to `portal`, with no parameters and results in
/// `formats` (empty: all text).
pub fn bind(out: &mut bytes::BytesMut, portal: &str, statement: &str, formats: &[i16]) {
    postgres_protocol::message::frontend::bind(
        portal,
        statement,
        std::iter::empty::<i16>(),
        std::iter::empty::<Option<&[u8]>>(),
        |_: Option<&[u8]>,
         _: &mut bytes::BytesMut|
         -> Result<postgres_protocol::IsNull, Box<dyn std::error::Error + Sync + Send>> {
            Ok(postgres_protocol::IsNull::Yes)
        },
        formats.iter().copied(),
        out,
    )
    .map_err(|_| "bind")
    .expect("a Bind message");
}
