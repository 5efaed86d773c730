//! Okta Event Hooks on `remediator run`'s listener, through the real binary against okta-sim
//! over loopback: okta-sim's registration passes only after the daemon answers Okta's
//! verification; a wrong or missing secret is refused (401) and an oversized body too (413);
//! an event that the hook delivers and the System Log poll reads triggers one pass, not two.
//!
//! No timed assertions: the test waits for the daemon's metrics under a generous bound.

use std::fs::File;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use okta_sim::{Scenario, Sim};
use regex::Regex;
use serde_json::json;

const WAIT: Duration = Duration::from_secs(120);
const SECRET: &str = "hook-secret-for-tests";
const SLACK: &str = "0oahealthyslack00001";
const ADA: &str = "00uhealthy0000000001";
const SCHEDULE: &str = "[schedule]\nfull_reconcile = \"0 0 0 1 1 * 2099\"\nlog_poll_interval = \"10s\"\nlog_lookback = \"24h\"\n";

struct Daemon {
    child: Child,
    port: u16,
    log: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Daemon {
    fn start(org_url: &str, token: &str) -> Daemon {
        let dir = tempfile::tempdir().expect("temp dir");
        let policies = dir.path().join("policies");
        std::fs::create_dir_all(&policies).expect("policy dir");
        for entry in std::fs::read_dir("policies").expect("shipped policies") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "toml") {
                std::fs::copy(&path, policies.join(path.file_name().expect("name"))).expect("copy");
            }
        }
        std::fs::write(policies.join("schedule.toml"), SCHEDULE).expect("schedule");
        let port = crate::support::daemon::free_port();
        let log = dir.path().join("daemon.log");
        let child = Command::new(env!("CARGO_BIN_EXE_remediator"))
            .arg("--policies")
            .arg(&policies)
            .arg("--state")
            .arg(dir.path().join("state"))
            .args(["--log-format", "json", "run", "--observe-only", "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .env("OKTA_CLIENT_ORGURL", org_url)
            .env("OKTA_CLIENT_TOKEN", token)
            .env("REMEDIATOR_HOOK_SECRET", SECRET)
            .env("HOME", dir.path())
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(&log).expect("log file"))
            .spawn()
            .expect("start remediator run");
        Daemon {
            child,
            port,
            log,
            _dir: dir,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    async fn metrics(&self) -> String {
        match reqwest::get(self.url("/metrics")).await {
            Ok(response) => response.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// The sum of the series matching `pattern` (whose last field is the value).
    async fn metric_sum(&self, pattern: &str) -> u64 {
        let re = Regex::new(pattern).expect("valid pattern");
        self.metrics()
            .await
            .lines()
            .filter(|l| re.is_match(l))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>() as u64
    }

    async fn wait_until(&self, what: &str, pattern: &str, at_least: u64) {
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if self.metric_sum(pattern).await >= at_least {
                return;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        panic!("timed out waiting for {what}\n{}", self.log());
    }

    async fn wait_ready(&self) {
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if let Ok(response) = reqwest::get(self.url("/readyz")).await {
                if response.status() == 200 {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        panic!("not ready\n{}", self.log());
    }
}

const SYSTEM_LOG_RUNS: &str =
    r#"^remediator_reconcile_runs_total\{org="default",trigger="system_log","#;
const POLLS: &str = r#"^remediator_system_log_polls_total\{org="default""#;

#[tokio::test(flavor = "multi_thread")]
async fn the_hook_is_verified_refuses_strangers_and_shares_events_with_the_poll() {
    let scenario =
        Scenario::from_toml_file("tests/scenarios/healthy.toml").expect("scenario loads");
    let token = scenario.org.api_tokens[0].clone();
    let sim = Sim::start(scenario, "127.0.0.1:0")
        .await
        .expect("sim starts");
    let daemon = Daemon::start(sim.base_url(), &token);
    daemon.wait_ready().await;
    let http = reqwest::Client::new();

    // Refused: no secret, a wrong one (verification and delivery alike), an oversized body.
    let answer = http
        .get(daemon.url("/hooks/okta"))
        .header("x-okta-verification-challenge", "abc")
        .send()
        .await
        .expect("answer");
    assert_eq!(answer.status(), 401);
    let answer = http
        .post(daemon.url("/hooks/okta"))
        .header("authorization", "not-the-secret")
        .json(&json!({ "data": { "events": [] } }))
        .send()
        .await
        .expect("answer");
    assert_eq!(answer.status(), 401);
    let huge = vec![b' '; remediator::daemon::MAX_HOOK_BODY_BYTES + 1];
    let answer = http
        .post(daemon.url("/hooks/okta"))
        .header("authorization", SECRET)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .expect("answer");
    assert_eq!(answer.status(), 413);
    assert!(
        !daemon.log().contains(SECRET),
        "the secret never reaches the log"
    );

    // Okta's one-time verification, as okta-sim makes it when the hook is registered.
    let answer = http
        .get(daemon.url("/hooks/okta"))
        .header("authorization", SECRET)
        .header("x-okta-verification-challenge", "challenge-1")
        .send()
        .await
        .expect("answer");
    assert_eq!(answer.status(), 200);
    let body: serde_json::Value = answer.json().await.expect("json");
    assert_eq!(body, json!({ "verification": "challenge-1" }));
    let registered = http
        .post(format!("{}/__sim/event-hooks", sim.base_url()))
        .json(&json!({
            "name": "remediator",
            "url": daemon.url("/hooks/okta"),
            "auth_header_value": SECRET,
            "event_types": ["application.provision.user.push"],
        }))
        .send()
        .await
        .expect("register");
    assert_eq!(registered.status(), 201, "{}", daemon.log());

    // One failure: delivered by the hook and read by the poll, taken once.
    let runs_before = daemon.metric_sum(SYSTEM_LOG_RUNS).await;
    let failed = http
        .post(format!(
            "{}/__sim/app-users/{SLACK}/{ADA}/fail",
            sim.base_url()
        ))
        .json(&json!({ "reason": "Error while creating user: connection timed out" }))
        .send()
        .await
        .expect("fail");
    assert!(failed.status().is_success());
    daemon
        .wait_until("the triggered run", SYSTEM_LOG_RUNS, runs_before + 1)
        .await;
    let polls = daemon.metric_sum(POLLS).await;
    daemon.wait_until("two more polls", POLLS, polls + 2).await;
    assert_eq!(
        daemon.metric_sum(SYSTEM_LOG_RUNS).await,
        runs_before + 1,
        "one pass for the event\n{}",
        daemon.log()
    );
    assert!(
        daemon.log().contains("Event Hook delivery"),
        "the hook delivered\n{}",
        daemon.log()
    );
    sim.shutdown().await;
}
