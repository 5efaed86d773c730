//! The `remediator` binary against okta-sim over loopback, for the command-line tests: a
//! scenario served on a free port, the enforcing policies and a state directory in a temporary
//! directory, and the connection settings in the environment (a test may replace them).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use okta_sim::{Scenario, Sim, SimHandle};

use super::act::{write_enforce_policy, PARTNER_TOKEN, PARTNER_TOKEN_VAR};

/// The test-only key pair of the OAuth service app tests.
pub const SERVICE_APP_PUBLIC_KEY: &str = "tests/fixtures/TEST-ONLY-oauth-client-public-key.pem";
pub const SERVICE_APP_PRIVATE_KEY: &str = "tests/fixtures/TEST-ONLY-oauth-client-private-key.pem";
pub const SERVICE_APP_ID: &str = "0oaremediatorsvc0001";

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
        let sim = Sim::start(scenario, "127.0.0.1:0")
            .await
            .expect("sim starts");
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

    /// Runs `remediator ARGS` with stdin closed.
    pub async fn run(&self, args: &[&str]) -> Output {
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
            .envs(&self.env)
            .stdin(Stdio::null());
        tokio::task::spawn_blocking(move || command.output().expect("run remediator"))
            .await
            .expect("join")
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
