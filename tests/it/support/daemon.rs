//! `remediator run` started by a test on a free loopback port: waiting for what its
//! `/v1/status` shows, stopping it as an operator does (SIGTERM, a clean exit), and killing it
//! when the test ends either way.

use std::process::{Child, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::cli::Cli;

/// How often `/v1/status` is asked while waiting.
const STATUS_POLL: Duration = Duration::from_millis(200);

/// A free port on loopback (bound and let go: the daemon binds it next).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// A running daemon, killed when dropped.
pub struct Daemon {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT`, its listener.
    pub base: String,
}

impl Daemon {
    /// `remediator GLOBAL... run RUN... --listen 127.0.0.1:PORT` with the test org's settings;
    /// stdout discarded, stderr to `stderr`.
    pub fn spawn(cli: &Cli, global: &[&str], run: &[&str], stderr: Stdio) -> Daemon {
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let mut args: Vec<&str> = global.to_vec();
        args.push("run");
        args.extend_from_slice(run);
        args.extend(["--listen", listen.as_str()]);
        let mut command = cli.command(&args);
        command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr);
        Daemon {
            child: Some(command.spawn().expect("start the daemon")),
            base: format!("http://{listen}"),
        }
    }

    /// The first `/v1/status` answer `ready` accepts; fails the test after `bound`, saying
    /// that the daemon did not get to `what`.
    pub async fn status_when(
        &self,
        bound: Duration,
        what: &str,
        ready: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + bound;
        loop {
            if let Ok(response) = reqwest::get(format!("{}/v1/status", self.base)).await {
                let body: Value = response.json().await.unwrap_or_default();
                if ready(&body) {
                    return body;
                }
            }
            assert!(Instant::now() < deadline, "the daemon did not {what}");
            tokio::time::sleep(STATUS_POLL).await;
        }
    }

    /// `GET PATH` on its listener, as JSON.
    pub async fn get_json(&self, path: &str) -> Value {
        reqwest::get(format!("{}{path}", self.base))
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
            .json()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: not JSON: {e}"))
    }

    /// The status once the first org's first run is journaled.
    pub async fn after_first_run(&self, bound: Duration) -> Value {
        self.status_when(bound, "finish a run", |s| {
            s["orgs"][0]["last_run"].is_object()
        })
        .await
    }

    /// Stops it with SIGTERM, as an operator does, and its exit status.
    pub async fn stop(mut self) -> ExitStatus {
        let mut child = self.child.take().expect("running until stopped");
        let signalled = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status()
            .expect("kill");
        assert!(signalled.success(), "SIGTERM to the daemon: {signalled:?}");
        tokio::task::spawn_blocking(move || child.wait().expect("wait for the daemon"))
            .await
            .expect("join")
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running until stopped").id()
    }

    /// Kills it now (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.child = None;
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
    }
}
