//! One test gate for every crate's tests (`test-util`): a real gate on a SQLite file in a
//! temporary folder, policies from text (written to a policy folder there, so a test can
//! change and reload them), a manual clock and no masking unless asked.
//! Tests build it instead of wiring store, policy and clock by hand.
//!
//! ```text
//! let t = TestGate::with_policies(POLICY).build().await;
//! let (secret, bot) = t.token("ci-bot", PrincipalKind::Agent, &[]).await;
//! let again = t.restart().build().await; // the same store file, policies and clock
//! ```

#![expect(
    clippy::panic,
    reason = "test support: a setup that fails fails the test"
)]

use crate::{Directory, DirectoryUser, Gate, GateParts, GateSettings, NewToken};
use holdpoint_core::mask::{Masker, NoMasking};
use holdpoint_core::{Actor, Identity, ManualClock, PrincipalKind};
use holdpoint_policy::{HoldDefaults, PolicyEngine};
use std::sync::Arc;
use std::time::Duration;

/// A gate for tests, with what it was built from.
pub struct TestGate {
    pub gate: Arc<Gate>,
    pub clock: Arc<ManualClock>,
    pub policy: Arc<PolicyEngine>,
    /// The store itself (to close it, say) and its URL (`sqlite://…`).
    pub store: holdpoint_store::SqlStore,
    pub url: String,
    policies: String,
    defaults: HoldDefaults,
    settings: GateSettings,
    users: Vec<DirectoryUser>,
    masker: Arc<dyn Masker>,
    /// Kept so the folder (and the database in it) lives as long as the gate.
    dir: Arc<tempfile::TempDir>,
}

/// How a [`TestGate`] is made; [`TestGate::with_policies`] starts one.
pub struct TestGateBuilder {
    policies: String,
    defaults: HoldDefaults,
    settings: GateSettings,
    users: Vec<DirectoryUser>,
    masker: Arc<dyn Masker>,
    clock: Option<Arc<ManualClock>>,
    dir: Option<Arc<tempfile::TempDir>>,
}

/// The policy file a test gate starts with, in [`TestGate::policy_dir`].
pub const POLICY_FILE: &str = "policies.cedar";

/// The hold defaults tests use: `admins` approve, holds wait 15 minutes.
pub fn test_defaults() -> HoldDefaults {
    HoldDefaults {
        approvers: vec!["admins".into()],
        expiry: Duration::from_secs(900),
        max_duration: holdpoint_policy::MAX_DURATION,
    }
}

impl TestGate {
    /// A gate whose one policy file holds `policies`.
    pub fn with_policies(policies: &str) -> TestGateBuilder {
        TestGateBuilder {
            policies: policies.to_string(),
            defaults: test_defaults(),
            settings: GateSettings::default(),
            users: Vec::new(),
            masker: Arc::new(NoMasking),
            clock: None,
            dir: None,
        }
    }

    /// Another gate on the same store, policy folder, settings, directory, masker and
    /// clock: a restart, or a second replica.
    pub fn restart(&self) -> TestGateBuilder {
        TestGateBuilder {
            policies: self.policies.clone(),
            defaults: self.defaults.clone(),
            settings: self.settings.clone(),
            users: self.users.clone(),
            masker: self.masker.clone(),
            clock: Some(self.clock.clone()),
            dir: Some(self.dir.clone()),
        }
    }

    /// The folder the policies are loaded from: rewrite [`POLICY_FILE`] there and call
    /// `policy.reload()` to change them.
    pub fn policy_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("policies")
    }

    /// A token created directly (no policy), and the identity it authenticates as
    /// (without counting a request).
    pub async fn token(
        &self,
        name: &str,
        kind: PrincipalKind,
        groups: &[&str],
    ) -> (String, Identity) {
        let created = self
            .gate
            .create_token(
                &Actor::system(),
                NewToken {
                    name: name.into(),
                    kind,
                    groups: groups.iter().map(|g| g.to_string()).collect(),
                    owner: None,
                    ttl: None,
                },
            )
            .await;
        let (secret, _) = match created {
            Ok(created) => created,
            Err(e) => panic!("test token `{name}`: {e}"),
        };
        // Setup, not a request of the principal: nothing is counted against its rate.
        match self.gate.recheck_token(&secret).await {
            Ok(identity) => (secret, identity),
            Err(e) => panic!("test token `{name}` does not authenticate: {e}"),
        }
    }
}

impl TestGateBuilder {
    /// The hold defaults (`[approvals]`); [`test_defaults`] unless set.
    pub fn hold_defaults(mut self, defaults: HoldDefaults) -> Self {
        self.defaults = defaults;
        self
    }

    pub fn settings(mut self, settings: GateSettings) -> Self {
        self.settings = settings;
        self
    }

    /// The `[[users]]` directory.
    pub fn users(mut self, users: Vec<DirectoryUser>) -> Self {
        self.users = users;
        self
    }

    pub fn masker(mut self, masker: Arc<dyn Masker>) -> Self {
        self.masker = masker;
        self
    }

    /// Builds the gate; panics (a failing test) when the policies or the store are bad.
    pub async fn build(self) -> TestGate {
        let dir = match self.dir {
            Some(dir) => dir,
            None => Arc::new(tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"))),
        };
        // The policies live in a folder, as in a gateway, so a test may rewrite them and
        // reload; a restart finds the folder as the test left it.
        let policy_dir = dir.path().join("policies");
        let file = policy_dir.join(POLICY_FILE);
        if !file.exists() {
            std::fs::create_dir_all(&policy_dir)
                .and_then(|()| std::fs::write(&file, &self.policies))
                .unwrap_or_else(|e| panic!("test policies: {e}"));
        }
        let set = holdpoint_policy::load_dir(&policy_dir, &self.defaults)
            .unwrap_or_else(|e| panic!("test policies: {e}"));
        let url = format!("sqlite://{}", dir.path().join("hp.db").display());
        let store = holdpoint_store::SqlStore::open(&url, holdpoint_store::OpenMode::Serve)
            .await
            .unwrap_or_else(|e| panic!("test store: {e}"));
        let clock = self
            .clock
            .unwrap_or_else(|| Arc::new(ManualClock::starting_now()));
        let policy = Arc::new(PolicyEngine::new(
            set,
            self.defaults.clone(),
            Some(policy_dir),
        ));
        let gate = Gate::new(GateParts {
            store: Arc::new(store.clone()),
            policy: policy.clone(),
            clock: clock.clone(),
            masker: self.masker.clone(),
            directory: Directory::new(self.users.clone()),
            settings: self.settings.clone(),
        });
        TestGate {
            gate,
            clock,
            policy,
            store,
            url,
            policies: self.policies,
            defaults: self.defaults,
            settings: self.settings,
            users: self.users,
            masker: self.masker,
            dir,
        }
    }
}
