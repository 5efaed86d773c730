//! Running the real `remediator` binary against okta-sim with policies and a sled journal in a
//! temporary directory: what the `cli_` modules share.

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};

use okta_sim::{Scenario, Sim, SimHandle};
use remediator::act::{CRASH_HOOK_ENV, CRASH_HOOK_MARKER};
use remediator::journal::SledJournal;

use super::act::{write_enforce_policy, PARTNER_TOKEN, PARTNER_TOKEN_VAR};

pub const ORG2ORG: &str = "0oaorphorg2org000001";

pub struct Setup {
    pub sim: SimHandle,
    pub token: String,
    pub dir: tempfile::TempDir,
}

impl Setup {
    pub async fn start(scenario: Scenario) -> Setup {
        let token = scenario.org.api_tokens[0].clone();
        let sim = Sim::start(scenario, "127.0.0.1:0")
            .await
            .expect("sim starts");
        let dir = tempfile::tempdir().expect("tempdir");
        write_enforce_policy(&dir.path().join("policies"));
        Setup { sim, token, dir }
    }

    pub fn state(&self) -> std::path::PathBuf {
        self.dir.path().join("state")
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_remediator"));
        command
            .arg("--policies")
            .arg(self.dir.path().join("policies"))
            .arg("--state")
            .arg(self.state())
            .args(args)
            .env("OKTA_CLIENT_ORGURL", self.sim.base_url())
            .env("OKTA_CLIENT_TOKEN", &self.token)
            .env(PARTNER_TOKEN_VAR, PARTNER_TOKEN)
            .env("HOME", self.dir.path())
            .env_remove(CRASH_HOOK_ENV)
            .env_remove("RUST_LOG");
        command
    }

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

    pub fn journal(&self) -> SledJournal {
        SledJournal::open(self.state()).expect("journal opens after the process died")
    }
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
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
