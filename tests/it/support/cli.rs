//! The `remediator` binary against okta-sim over loopback, for the command-line tests: a
//! scenario served on a free port, the enforcing policies and a state directory in a temporary
//! directory, and the connection settings in the environment (a test may replace them); a run
//! killed at a step of the executor, and the journal it left.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use okta_sim::{Scenario, SimHandle};
use remediator::act::{CRASH_HOOK_ENV, CRASH_HOOK_MARKER};
use remediator::journal::{Entry, EntryFilter, EntryKindTag, JournalStore, SledJournal};

use super::act::{write_enforce_policy, PARTNER_TOKEN, PARTNER_TOKEN_VAR};
use super::sim::serve;

/// The test-only key pair of the OAuth service app tests.
pub const SERVICE_APP_PUBLIC_KEY: &str = "tests/fixtures/TEST-ONLY-oauth-client-public-key.pem";
pub const SERVICE_APP_PRIVATE_KEY: &str = "tests/fixtures/TEST-ONLY-oauth-client-private-key.pem";
pub const SERVICE_APP_ID: &str = "0oaremediatorsvc0001";
/// The org2org app of the orphaned-mappings scenarios.
pub const ORG2ORG: &str = "0oaorphorg2org000001";

pub struct Cli {
    /// The org (none: nothing listens at the org URL).
    pub sim: Option<SimHandle>,
    pub dir: tempfile::TempDir,
    env: BTreeMap<String, String>,
}

impl Cli {
    /// `scenario` served on loopback; the client uses its first API token.
    pub async fn start(scenario: Scenario) -> Cli {
        let token = scenario.org.api_tokens[0].clone();
        let sim = serve(scenario).await;
        let url = sim.base_url().to_owned();
        Cli::new(Some(sim), &url).env("OKTA_CLIENT_TOKEN", &token)
    }

    /// An org URL nothing listens at (a port bound, then released).
    pub fn closed_port() -> Cli {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        Cli::new(None, &format!("http://127.0.0.1:{port}")).env("OKTA_CLIENT_TOKEN", "any-token")
    }

    fn new(sim: Option<SimHandle>, url: &str) -> Cli {
        let dir = tempfile::tempdir().expect("tempdir");
        write_enforce_policy(&dir.path().join("policies"));
        let cli = Cli {
            sim,
            dir,
            env: BTreeMap::new(),
        };
        cli.env("OKTA_CLIENT_ORGURL", url)
            .env(PARTNER_TOKEN_VAR, PARTNER_TOKEN)
    }

    /// Sets an environment variable of the runs.
    pub fn env(mut self, name: &str, value: &str) -> Cli {
        self.env.insert(name.to_owned(), value.to_owned());
        self
    }

    /// Connects as the OAuth service app `SERVICE_APP_ID`, asking for `scopes`.
    pub fn service_app(mut self, scopes: &str) -> Cli {
        self.env.remove("OKTA_CLIENT_TOKEN");
        self.env("OKTA_CLIENT_AUTHORIZATIONMODE", "PrivateKey")
            .env("OKTA_CLIENT_CLIENTID", SERVICE_APP_ID)
            .env("OKTA_CLIENT_SCOPES", scopes)
            .env("OKTA_CLIENT_PRIVATEKEY", SERVICE_APP_PRIVATE_KEY)
    }

    pub fn org_url(&self) -> &str {
        &self.env["OKTA_CLIENT_ORGURL"]
    }

    pub fn state(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// The org served (panics for an org URL nothing listens at).
    pub fn sim(&self) -> &SimHandle {
        self.sim.as_ref().expect("this org is served by okta-sim")
    }

    /// The API token the runs use.
    pub fn token(&self) -> &str {
        &self.env["OKTA_CLIENT_TOKEN"]
    }

    /// `remediator ARGS` with this org's policies, state and environment (nothing else of
    /// the test's environment).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_remediator"));
        command
            .arg("--policies")
            .arg(self.dir.path().join("policies"))
            .arg("--state")
            .arg(self.state())
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .envs(&self.env);
        command
    }

    /// Runs `remediator ARGS` with stdin closed.
    pub async fn run(&self, args: &[&str]) -> Output {
        let mut command = self.command(args);
        command.stdin(Stdio::null());
        tokio::task::spawn_blocking(move || command.output().expect("run remediator"))
            .await
            .expect("join")
    }

    /// Runs `apply --yes` with the crash hook at `step` and kills it with SIGKILL there.
    pub async fn apply_and_kill_at(&self, step: u32) {
        let mut command = self.command(&["apply", "--yes"]);
        command
            .env(CRASH_HOOK_ENV, step.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        tokio::task::spawn_blocking(move || {
            let mut child = command.spawn().expect("spawn remediator");
            let stderr = child.stderr.take().expect("stderr");
            let mut seen = Vec::new();
            for line in BufReader::new(stderr).lines() {
                let line = line.expect("stderr line");
                if line.contains(CRASH_HOOK_MARKER) {
                    child.kill().expect("SIGKILL");
                    child.wait().expect("reap");
                    return;
                }
                seen.push(line);
            }
            let status = child.wait().expect("reap");
            panic!("step {step}: the hook was not reached ({status}); stderr: {seen:#?}");
        })
        .await
        .expect("join");
    }

    /// The journal a run left (also after it was killed).
    pub fn journal(&self) -> SledJournal {
        SledJournal::open(self.state()).expect("journal opens after the process died")
    }

    /// The journal's entries of `kind`, in order.
    pub fn entries(&self, kind: EntryKindTag) -> Vec<Entry> {
        let filter = EntryFilter {
            kind: Some(kind),
            ..EntryFilter::default()
        };
        self.journal().list(&filter).expect("list the journal")
    }
}

/// A scenario that also has the OAuth service app `SERVICE_APP_ID`, granted `scopes`.
pub fn with_service_app(mut scenario: Scenario, scopes: &[&str]) -> Scenario {
    let public_key = std::fs::read_to_string(SERVICE_APP_PUBLIC_KEY).expect("test public key");
    let app = serde_json::json!({
        "client_id": SERVICE_APP_ID,
        "public_key_pem": public_key,
        "scopes": scopes,
    });
    scenario
        .org
        .service_apps
        .push(serde_json::from_value(app).expect("a service app"));
    scenario
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The exit code, stdout and stderr of a run.
pub fn parts(out: &Output) -> (Option<i32>, String, String) {
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

/// `out`'s stdout, once its exit code is `code` (else both streams are shown after `context`).
pub fn stdout_if_exit(out: &Output, code: i32, context: &str) -> String {
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(code),
        "{context}{stdout}\n{}",
        text(&out.stderr)
    );
    stdout
}

/// Requests per endpoint key, for "no step done twice".
pub fn count(sim: &SimHandle, endpoint: &str) -> u64 {
    sim.stats().count(endpoint)
}
