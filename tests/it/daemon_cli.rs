//! `remediator run` through the real binary against okta-sim over loopback HTTP: it reacts to a
//! System Log event, survives the org going away and coming back (readiness drops and
//! recovers), ends cleanly on SIGTERM in the middle of a run and in the middle of a multi-step
//! fix with a consistent journal and org, keeps its policy when a SIGHUP reload is invalid,
//! fixes the org in apply mode, and serves a Prometheus scrape that parses.
//!
//! No timed assertions: each test waits for the daemon's metrics, endpoints or journal to show
//! the reaction, under a generous overall timeout.

use crate::support::act as act_support;
use crate::support::daemon::free_port;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use okta_sim::{Scenario, Sim, SimHandle};
use regex::Regex;
use serde_json::{json, Value};
use tempfile::TempDir;

/// The generous bound on any one wait (a poll interval is 10 s, observation a few seconds).
const WAIT: Duration = Duration::from_secs(120);
/// Pause between two looks at the daemon.
const LOOK_EVERY: Duration = Duration::from_millis(250);

const SCENARIO: &str = "tests/scenarios/healthy.toml";
const SLACK: &str = "0oahealthyslack00001";
const ADA: &str = "00uhealthy0000000001";

/// A schedule whose full runs never come during a test: the daemon reconciles at start-up and
/// on System Log events, polling every 10 s (the policy's lower bound).
const TEST_SCHEDULE: &str = "[schedule]\n\
full_reconcile = \"0 0 0 1 1 * 2099\"\n\
log_poll_interval = \"10s\"\n\
log_lookback = \"24h\"\n";

struct Daemon {
    child: Child,
    port: u16,
    log: PathBuf,
    state: PathBuf,
    policies: PathBuf,
    _dir: TempDir,
}

/// How a test runs the daemon.
#[derive(Clone, Copy)]
struct Mode {
    /// `--observe-only` (some tests give its older name, `--dry-run`).
    observe_only: bool,
    /// Every fixing rule in enforce mode (else the shipped policies).
    enforce: bool,
}

const OBSERVE_ONLY: Mode = Mode {
    observe_only: true,
    enforce: false,
};
const APPLY: Mode = Mode {
    observe_only: false,
    enforce: true,
};

/// The shipped (or enforcing) policies with the test schedule.
fn policies_in(dir: &Path, enforce: bool) -> PathBuf {
    let target = dir.join("policies");
    if enforce {
        act_support::write_enforce_policy(&target);
    } else {
        std::fs::create_dir_all(&target).expect("policy dir");
        for entry in std::fs::read_dir("policies").expect("shipped policies") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "toml") {
                let name = path.file_name().expect("file name");
                std::fs::copy(&path, target.join(name)).expect("copy policy");
            }
        }
    }
    std::fs::write(target.join("schedule.toml"), TEST_SCHEDULE).expect("schedule");
    target
}

async fn start_sim(addr: &str) -> (SimHandle, String) {
    let scenario = Scenario::from_toml_file(SCENARIO).expect("shipped scenario loads");
    start_scenario(scenario, addr).await
}

async fn start_scenario(scenario: Scenario, addr: &str) -> (SimHandle, String) {
    let token = scenario.org.api_tokens[0].clone();
    let sim = Sim::start(scenario, addr).await.expect("sim starts");
    (sim, token)
}

fn start_daemon(base_url: &str, token: &str) -> Daemon {
    start_daemon_in(base_url, token, OBSERVE_ONLY)
}

fn start_daemon_in(base_url: &str, token: &str, mode: Mode) -> Daemon {
    start_daemon_edited(base_url, token, mode, |_| {})
}

/// A daemon whose policy directory `edit` changes before the start.
fn start_daemon_edited(base_url: &str, token: &str, mode: Mode, edit: impl Fn(&Path)) -> Daemon {
    let dir = tempfile::tempdir().expect("temp dir");
    let policies = policies_in(dir.path(), mode.enforce);
    edit(&policies);
    let state = dir.path().join("state");
    let log = dir.path().join("daemon.log");
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_remediator"))
        .arg("--policies")
        .arg(&policies)
        .arg("--state")
        .arg(&state)
        .args(["--log-format", "json", "run", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .args(mode.observe_only.then_some("--observe-only"))
        .env("OKTA_CLIENT_ORGURL", base_url)
        .env(act_support::PARTNER_TOKEN_VAR, act_support::PARTNER_TOKEN)
        .env("OKTA_CLIENT_TOKEN", token)
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
        state,
        policies,
        _dir: dir,
    }
}

impl Daemon {
    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// GET `path`: status and body, or `None` while nothing answers.
    async fn get(&self, path: &str) -> Option<(u16, String)> {
        let response = reqwest::get(self.url(path)).await.ok()?;
        let status = response.status().as_u16();
        Some((status, response.text().await.ok()?))
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name} failed");
    }

    fn assert_running(&mut self) {
        let exited = self.child.try_wait().expect("try_wait");
        assert!(
            exited.is_none(),
            "daemon exited: {exited:?}\n{}",
            self.log()
        );
    }

    /// Waits until `check` holds, or fails with what was last seen and the daemon's log.
    async fn wait_for<F, Fut>(&mut self, what: &str, mut check: F) -> String
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<String, String>>,
    {
        let deadline = Instant::now() + WAIT;
        let mut last = String::new();
        while Instant::now() < deadline {
            self.assert_running();
            match check().await {
                Ok(seen) => return seen,
                Err(seen) => last = seen,
            }
            tokio::time::sleep(LOOK_EVERY).await;
        }
        panic!(
            "timed out waiting for {what}; last seen: {last}\n--- daemon log\n{}",
            self.log()
        );
    }

    async fn wait_ready(&mut self, want: u16) {
        let url = self.url("/readyz");
        self.wait_for(&format!("/readyz {want}"), || {
            let url = url.clone();
            async move {
                let Ok(response) = reqwest::get(&url).await else {
                    return Err("no answer".to_owned());
                };
                let status = response.status().as_u16();
                let body = response.text().await.unwrap_or_default();
                if status == want {
                    Ok(body)
                } else {
                    Err(format!("{status} {body}"))
                }
            }
        })
        .await;
    }

    /// Waits until the sample named by `pattern` (a regex over one metrics line) is present.
    async fn wait_metric(&mut self, pattern: &str) -> String {
        let url = self.url("/metrics");
        let re = Regex::new(pattern).expect("valid pattern");
        self.wait_for(&format!("a metric matching {pattern}"), || {
            let (url, re) = (url.clone(), re.clone());
            async move {
                let text = reqwest::get(&url)
                    .await
                    .map_err(|e| e.to_string())?
                    .text()
                    .await
                    .map_err(|e| e.to_string())?;
                match text.lines().find(|l| re.is_match(l)) {
                    Some(line) => Ok(line.to_owned()),
                    None => Err(text),
                }
            }
        })
        .await
    }

    async fn wait_log(&mut self, needle: &str) -> String {
        let log = self.log.clone();
        self.wait_for(&format!("log line with {needle:?}"), || {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            let found = text.lines().find(|l| l.contains(needle)).map(str::to_owned);
            async move { found.ok_or_else(|| "not yet".to_owned()) }
        })
        .await
    }

    /// SIGTERM, then the exit status (within the wait bound).
    async fn terminate(&mut self) -> ExitStatus {
        self.signal("TERM");
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            tokio::time::sleep(LOOK_EVERY).await;
        }
        let _ = self.child.kill();
        panic!("daemon did not stop after SIGTERM\n{}", self.log());
    }

    fn journal(&self, args: &[&str]) -> (i32, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_remediator"))
            .arg("--state")
            .arg(&self.state)
            .arg("journal")
            .args(args)
            .output()
            .expect("run remediator journal");
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.code().unwrap_or(-1), text)
    }

    /// The journal's entries (the daemon must have stopped: sled locks the directory).
    fn entries(&self) -> Vec<Value> {
        let (code, text) = self.journal(&["export"]);
        assert_eq!(code, 0, "journal export: {text}");
        text.lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect()
    }

    /// After a stop: the chain verifies and every run that started finished.
    fn assert_consistent_journal(&self) -> Vec<Value> {
        let (code, text) = self.journal(&["verify"]);
        assert_eq!(code, 0, "journal verify: {text}");
        assert!(text.contains("journal ok"), "{text}");
        let entries = self.entries();
        let runs_of = |kind: &str| -> Vec<String> {
            entries
                .iter()
                .filter(|e| e["kind"]["type"] == kind)
                .map(|e| e["run_id"].as_str().expect("run id").to_owned())
                .collect()
        };
        let started = runs_of("run_started");
        let finished = runs_of("run_finished");
        assert!(!started.is_empty(), "no run journaled");
        assert_eq!(started, finished, "a run started but did not finish");
        entries
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

async fn inject_failure(base_url: &str) {
    let event = json!({
        "eventType": "application.provision.user.push",
        "displayMessage": "Push new user to external application",
        "outcome": { "result": "FAILURE", "reason": "Error while creating user: connection reset" },
        "target": [
            { "id": ADA, "type": "User", "alternateId": "ada@example.com", "displayName": "Ada Lovelace" },
            { "id": SLACK, "type": "AppInstance", "alternateId": "Slack", "displayName": "Slack" }
        ]
    });
    let response = reqwest::Client::new()
        .post(format!("{base_url}/__sim/events"))
        .json(&event)
        .send()
        .await
        .expect("inject event");
    assert_eq!(response.status().as_u16(), 201);
}

/// Every line of an OpenMetrics text exposition is a comment, a sample or `# EOF`.
fn assert_exposition_parses(text: &str) {
    let sample = Regex::new(
        r#"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)( [0-9.]+)?$"#,
    )
    .expect("valid pattern");
    let comment =
        Regex::new(r"^# (HELP|TYPE|UNIT) [a-zA-Z_:][a-zA-Z0-9_:]*( .*)?$").expect("valid pattern");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.last(), Some(&"# EOF"), "exposition must end in # EOF");
    for line in &lines[..lines.len() - 1] {
        assert!(
            sample.is_match(line) || comment.is_match(line),
            "not a valid exposition line: {line:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn reacts_to_a_system_log_event_and_serves_metrics() {
    let (sim, token) = start_sim("127.0.0.1:0").await;
    let base = sim.base_url().to_owned();
    let mut daemon = start_daemon(&base, &token);
    daemon.wait_ready(200).await;
    assert_eq!(daemon.get("/healthz").await, Some((200, "ok\n".to_owned())));
    daemon
        .wait_metric(r#"^remediator_system_log_polls_total\{org="default",result="ok"\} [1-9]"#)
        .await;

    inject_failure(&base).await;
    daemon
        .wait_metric(r#"^remediator_reconcile_runs_total\{org="default",trigger="system_log",result="(ok|partial)"\} 1"#)
        .await;

    let response = reqwest::get(daemon.url("/metrics")).await.expect("scrape");
    let content_type = response.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    let text = response.text().await.expect("body");
    assert_exposition_parses(&text);
    for family in [
        "remediator_reconcile_runs",
        "remediator_reconcile_duration_seconds",
        "remediator_actions",
        "remediator_planned_actions",
        "remediator_findings",
        "remediator_okta_requests",
        "remediator_okta_rate_limit_waits",
        "remediator_journal_size_bytes",
        "remediator_circuit_breaker_open",
        "remediator_org_ready",
    ] {
        assert!(
            text.contains(&format!("# TYPE {family} ")),
            "family {family} missing from\n{text}"
        );
    }
    for sample in [
        r#"remediator_okta_requests_total{org="default",method="GET",endpoint="/api/v1/logs",status="200"}"#,
        r#"remediator_okta_requests_total{org="default",method="GET",endpoint="/api/v1/apps/{id}/users",status="200"}"#,
        r#"remediator_circuit_breaker_open{org="default"} 0"#,
        r#"remediator_org_ready{org="default"} 1"#,
        r#"remediator_reconcile_runs_total{org="default",trigger="timer",result="ok"} 1"#,
    ] {
        assert!(text.contains(sample), "{sample} missing from\n{text}");
    }

    let status = daemon.terminate().await;
    assert_eq!(status.code(), Some(0), "{}", daemon.log());
    let entries = daemon.assert_consistent_journal();
    let triggered = entries
        .iter()
        .filter(|e| e["kind"]["type"] == "run_started")
        .filter(|e| e["kind"]["trigger"] == "system_log" && e["kind"]["dry_run"] == true)
        .count();
    assert!(triggered >= 1, "no system_log run in the journal");
    assert!(
        entries
            .iter()
            .any(|e| e["kind"]["type"] == "cursor_advanced"),
        "the System Log cursor was not journaled"
    );
    // The reconcile span names org, trigger and observe-only (as `dry_run`) in the JSON logs.
    let log = daemon.log();
    assert!(
        log.lines().any(|l| l.contains("reconcile finished")
            && l.contains(r#""trigger":"system_log""#)
            && l.contains(r#""dry_run":true"#)
            && l.contains(r#""org":"default""#)),
        "no JSON reconcile span with org/trigger/dry_run:\n{log}"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn survives_the_org_going_away_and_coming_back() {
    let (sim, token) = start_sim("127.0.0.1:0").await;
    let addr = sim.addr().to_string();
    let base = sim.base_url().to_owned();
    let mut daemon = start_daemon(&base, &token);
    daemon.wait_ready(200).await;

    sim.shutdown().await;
    daemon.wait_ready(503).await;
    daemon
        .wait_metric(r#"^remediator_org_ready\{org="default"\} 0"#)
        .await;
    daemon
        .wait_metric(r#"^remediator_okta_requests_total\{org="default",method="GET",endpoint="/api/v1/logs",status="error"\} [1-9]"#)
        .await;
    assert_eq!(daemon.get("/healthz").await.map(|r| r.0), Some(200));

    let (sim, _) = start_sim(&addr).await;
    daemon.wait_ready(200).await;
    daemon.assert_running();

    let status = daemon.terminate().await;
    assert_eq!(status.code(), Some(0), "{}", daemon.log());
    daemon.assert_consistent_journal();
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_in_the_middle_of_a_run_lets_it_finish_and_journal() {
    let (sim, token) = start_sim("127.0.0.1:0").await;
    let base = sim.base_url().to_owned();
    let mut daemon = start_daemon(&base, &token);
    daemon.wait_ready(200).await;

    // Slow app reads make the triggered run last seconds; SIGTERM arrives while it runs.
    let fault =
        json!({ "path_prefix": "/api/v1/apps", "kind": { "type": "latency", "millis": 1500 } });
    let response = reqwest::Client::new()
        .post(format!("{base}/__sim/faults"))
        .json(&fault)
        .send()
        .await
        .expect("add fault");
    assert!(response.status().is_success(), "{}", response.status());
    inject_failure(&base).await;
    daemon
        .wait_log("System Log events call for a reconcile")
        .await;
    let status = daemon.terminate().await;
    assert_eq!(status.code(), Some(0), "{}", daemon.log());
    let log = daemon.log();
    let stop = log
        .find("finishing the current step")
        .expect("the first SIGTERM is logged");
    let finished_after_stop = log[stop..]
        .lines()
        .any(|l| l.contains("reconcile finished") && l.contains("system_log"));
    assert!(
        finished_after_stop,
        "the run in progress did not finish after SIGTERM:\n{log}"
    );
    let entries = daemon.assert_consistent_journal();
    let last_start = entries
        .iter()
        .rev()
        .find(|e| e["kind"]["type"] == "run_started")
        .expect("a run");
    assert_eq!(last_start["kind"]["trigger"], "system_log");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invalid_policy_reload_is_rejected_and_the_old_policy_kept() {
    let (sim, token) = start_sim("127.0.0.1:0").await;
    let base = sim.base_url().to_owned();
    let mut daemon = start_daemon(&base, &token);
    daemon.wait_ready(200).await;

    let broken = TEST_SCHEDULE.replace("\"10s\"", "\"often\"");
    std::fs::write(daemon.policies.join("schedule.toml"), broken).expect("write");
    daemon.signal("HUP");
    let line = daemon.wait_log("policy reload rejected").await;
    assert!(
        line.contains("schedule.toml:3:") && line.contains("schedule.log_poll_interval"),
        "the rejection names file, line and field: {line}"
    );
    // Still polling every 10 s with the old policy, and still reacting.
    inject_failure(&base).await;
    daemon
        .wait_metric(r#"^remediator_reconcile_runs_total\{org="default",trigger="system_log",result="(ok|partial)"\} 1"#)
        .await;

    std::fs::write(daemon.policies.join("schedule.toml"), TEST_SCHEDULE).expect("write");
    daemon.signal("HUP");
    daemon.wait_log("policy reloaded").await;

    let status = daemon.terminate().await;
    assert_eq!(status.code(), Some(0), "{}", daemon.log());
    daemon.assert_consistent_journal();
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_mode_fixes_a_failed_assignment_and_journals_it() {
    let (sim, token) =
        start_scenario(act_support::scenario("retry-transient"), "127.0.0.1:0").await;
    let failed: Vec<(String, String)> = sim.state_json()["apps"]
        .as_array()
        .expect("apps")
        .iter()
        .flat_map(|app| {
            let app_id = app["id"].as_str().expect("app id").to_owned();
            app["users"]
                .as_array()
                .expect("users")
                .iter()
                .filter(|u| u["syncState"] == "ERROR")
                .map(move |u| {
                    (
                        app_id.clone(),
                        u["id"].as_str().expect("user id").to_owned(),
                    )
                })
        })
        .collect();
    assert!(!failed.is_empty(), "the scenario has failed assignments");
    let base = sim.base_url().to_owned();
    let mut daemon = start_daemon_in(&base, &token, APPLY);
    daemon
        .wait_metric(r#"^remediator_actions_total\{org="default",kind="retry-provisioning",outcome="verified"\} [1-9]"#)
        .await;
    daemon.wait_ready(200).await;
    let status = daemon.terminate().await;
    assert_eq!(status.code(), Some(0), "{}", daemon.log());
    let still_failed: Vec<&(String, String)> = failed
        .iter()
        .filter(|(app, user)| sim.app_user_sync_state(app, user).as_deref() == Some("ERROR"))
        .collect();
    let entries = daemon.assert_consistent_journal();
    let started = entries
        .iter()
        .find(|e| e["kind"]["type"] == "run_started")
        .expect("a run");
    assert_eq!(started["kind"]["dry_run"], false);
    assert!(
        entries
            .iter()
            .any(|e| e["kind"]["type"] == "outcome" && e["kind"]["outcome"] == "verified"),
        "no verified outcome journaled"
    );
    assert!(
        still_failed.len() < failed.len(),
        "nothing was fixed: {still_failed:?}"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_in_the_middle_of_a_multi_step_fix_leaves_journal_and_org_consistent() {
    const ORG2ORG: &str = "0oaorphorg2org000001";
    const PATCH_MAPPING: &str = "PATCH /api/v1/apps/{id}/group-push/mappings/{id}";
    let (sim, token) = start_scenario(
        act_support::scenario("orphaned-push-mappings"),
        "127.0.0.1:0",
    )
    .await;
    let base = sim.base_url().to_owned();
    // Slow mapping writes: the fix (enable provisioning, deactivate and delete two mappings,
    // disable provisioning) takes seconds, and SIGTERM arrives in its middle.
    for method in ["PATCH", "DELETE"] {
        let fault = json!({
            "path_prefix": format!("/api/v1/apps/{ORG2ORG}/group-push/mappings/"),
            "method": method,
            "kind": { "type": "latency", "millis": 1500 }
        });
        let response = reqwest::Client::new()
            .post(format!("{base}/__sim/faults"))
            .json(&fault)
            .send()
            .await
            .expect("add fault");
        assert!(response.status().is_success(), "{}", response.status());
    }
    let mut daemon = start_daemon_in(&base, &token, APPLY);
    let stats = || sim.stats().count(PATCH_MAPPING);
    let deadline = Instant::now() + WAIT;
    while stats() == 0 {
        daemon.assert_running();
        assert!(
            Instant::now() < deadline,
            "the fix never started\n{}",
            daemon.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let status = daemon.terminate().await;
    assert_eq!(status.code(), Some(0), "{}", daemon.log());
    let log = daemon.log();
    let stop = log
        .find("finishing the current step")
        .expect("the SIGTERM is logged");
    assert!(
        log[stop..]
            .lines()
            .any(|l| l.contains("action finished") && l.contains("remove-push-mappings")),
        "SIGTERM did not arrive in the middle of the fix:\n{log}"
    );

    let entries = daemon.assert_consistent_journal();
    let (code, text) = daemon.journal(&["list", "--kind", "outcome"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("verified"), "the fix did not finish: {text}");
    assert!(
        !entries
            .iter()
            .any(|e| e.to_string().contains(act_support::PARTNER_TOKEN)),
        "the credential reached the journal"
    );
    let app = act_support::app_state(&sim, ORG2ORG);
    assert_eq!(
        app["provisioning"]["enabled"], false,
        "provisioning left enabled"
    );
    assert_eq!(app["mappings"], json!([]), "mappings left behind");
    sim.shutdown().await;
}

#[test]
fn a_config_error_names_file_line_and_field() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("remediator.toml");
    std::fs::write(
        &config,
        "[[orgs]]\nname = \"prod\"\nurl = \"https://prod.okta.com\"\n\
         credentials = { token_env = \"PROD_TOKEN\" }\nlisten = \"x\"\n",
    )
    .expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_remediator"))
        .arg("--config")
        .arg(&config)
        .args(["run", "--dry-run"])
        .env("HOME", dir.path())
        .output()
        .expect("run remediator");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("remediator.toml:5:1") && stderr.contains("listen"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn one_daemon_serves_several_orgs_from_a_config_file() {
    let (sim_a, token_a) = start_sim("127.0.0.1:0").await;
    let (sim_b, token_b) =
        start_scenario(act_support::scenario("retry-transient"), "127.0.0.1:0").await;
    let dir = tempfile::tempdir().expect("temp dir");
    let policies = policies_in(dir.path(), false);
    let config = dir.path().join("remediator.toml");
    let port = free_port();
    std::fs::write(
        &config,
        format!(
            "[daemon]\nlisten = \"127.0.0.1:{port}\"\n\n\
             [[orgs]]\nname = \"alpha\"\nurl = \"{}\"\ncredentials = {{ token_env = \"ALPHA_TOKEN\" }}\n\n\
             [[orgs]]\nname = \"beta\"\nurl = \"{}\"\ncredentials = {{ token_env = \"BETA_TOKEN\" }}\n",
            sim_a.base_url(),
            sim_b.base_url()
        ),
    )
    .expect("write config");
    let state = dir.path().join("state");
    let log = dir.path().join("daemon.log");
    let child = Command::new(env!("CARGO_BIN_EXE_remediator"))
        .arg("--config")
        .arg(&config)
        .arg("--policies")
        .arg(&policies)
        .arg("--state")
        .arg(&state)
        .args(["--log-format", "json", "run", "--dry-run"])
        .env("ALPHA_TOKEN", &token_a)
        .env("BETA_TOKEN", &token_b)
        .env("HOME", dir.path())
        .env("RUST_LOG", "info")
        .env_remove("OKTA_CLIENT_ORGURL")
        .env_remove("OKTA_CLIENT_TOKEN")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(File::create(&log).expect("log file"))
        .spawn()
        .expect("start remediator run");
    let mut daemon = Daemon {
        child,
        port,
        log,
        state: state.join("alpha"),
        policies,
        _dir: dir,
    };
    daemon.wait_ready(200).await;
    for org in ["alpha", "beta"] {
        daemon
            .wait_metric(&format!(r#"^remediator_org_ready\{{org="{org}"\}} 1"#))
            .await;
    }
    // beta's failed assignments are planned (observe-only): its gauge shows them, alpha's does not.
    daemon
        .wait_metric(r#"^remediator_planned_actions\{org="beta",kind="retry-provisioning"\} [1-9]"#)
        .await;
    daemon
        .wait_metric(r#"^remediator_planned_actions\{org="alpha",kind="retry-provisioning"\} 0"#)
        .await;
    let status = daemon.terminate().await;
    assert_eq!(status.code(), Some(0), "{}", daemon.log());
    for (org, url) in [("alpha", sim_a.base_url()), ("beta", sim_b.base_url())] {
        daemon.state = state.join(org);
        let entries = daemon.assert_consistent_journal();
        let started = entries
            .iter()
            .find(|e| e["kind"]["type"] == "run_started")
            .expect("a run");
        assert_eq!(
            started["payload"]["org"], url,
            "{org}'s journal holds its own org"
        );
    }
    sim_a.shutdown().await;
    sim_b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn becomes_ready_when_an_org_unreachable_at_start_comes_up() {
    let addr = format!("127.0.0.1:{}", free_port());
    let scenario = Scenario::from_toml_file(SCENARIO).expect("shipped scenario loads");
    let token = scenario.org.api_tokens[0].clone();
    let mut daemon = start_daemon(&format!("http://{addr}"), &token);
    daemon.wait_ready(503).await;
    daemon
        .wait_metric(
            r#"^remediator_reconcile_runs_total\{org="default",trigger="timer",result="\w+"\} 1"#,
        )
        .await;
    let (sim, _) = start_scenario(scenario, &addr).await;
    daemon.wait_ready(200).await;
    let status = daemon.terminate().await;
    assert_eq!(status.code(), Some(0), "{}", daemon.log());
    let entries = daemon.assert_consistent_journal();
    let runs = entries
        .iter()
        .filter(|e| e["kind"]["type"] == "run_started")
        .count();
    assert!(runs >= 2, "the failed start-up run was not repeated");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_sigterm_aborts_and_the_journal_chain_still_verifies() {
    let (sim, token) = start_sim("127.0.0.1:0").await;
    let base = sim.base_url().to_owned();
    let mut daemon = start_daemon(&base, &token);
    daemon.wait_ready(200).await;
    // A triggered run made slow enough to be in progress when the signals arrive.
    let fault =
        json!({ "path_prefix": "/api/v1/apps", "kind": { "type": "latency", "millis": 5000 } });
    let response = reqwest::Client::new()
        .post(format!("{base}/__sim/faults"))
        .json(&fault)
        .send()
        .await
        .expect("add fault");
    assert!(response.status().is_success());
    inject_failure(&base).await;
    daemon
        .wait_log("System Log events call for a reconcile")
        .await;
    daemon.signal("TERM");
    daemon.wait_log("finishing the current step").await;
    let status = daemon.terminate().await;
    assert_eq!(status.code(), Some(1), "{}", daemon.log());
    assert!(daemon.log().contains("aborting"), "{}", daemon.log());
    let (code, text) = daemon.journal(&["verify"]);
    assert_eq!(code, 0, "journal verify after an abort: {text}");
    sim.shutdown().await;
}

#[tokio::test]
async fn ready_once_the_org_is_observed_while_the_first_run_still_acts() {
    const ORG2ORG: &str = "0oaorphorg2org000001";
    let (sim, token) = start_scenario(
        act_support::scenario("orphaned-push-mappings"),
        "127.0.0.1:0",
    )
    .await;
    let base = sim.base_url().to_owned();
    // Each mapping write takes 2 s: the first run's fix lasts at least 8 s after observing.
    for method in ["PATCH", "DELETE"] {
        let fault = json!({
            "path_prefix": format!("/api/v1/apps/{ORG2ORG}/group-push/mappings/"),
            "method": method,
            "kind": { "type": "latency", "millis": 2000 }
        });
        reqwest::Client::new()
            .post(format!("{base}/__sim/faults"))
            .json(&fault)
            .send()
            .await
            .expect("add fault");
    }
    let mut daemon = start_daemon_in(&base, &token, APPLY);
    let deadline = Instant::now() + WAIT;
    while sim
        .stats()
        .count("PATCH /api/v1/apps/{id}/group-push/mappings/{id}")
        == 0
    {
        daemon.assert_running();
        assert!(
            Instant::now() < deadline,
            "the fix never started\n{}",
            daemon.log()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The fix is under way (its first mapping write is still being answered): ready already.
    let (status, body) = daemon.get("/readyz").await.expect("/readyz answers");
    let log = daemon.log();
    assert!(
        !log.lines()
            .any(|l| l.contains("action finished") && l.contains("remove-push-mappings")),
        "the fix ended before /readyz was asked; the test proves nothing:\n{log}"
    );
    assert_eq!(status, 200, "{body}\n{log}");
    daemon.terminate().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_authentication_failure_is_reported_as_one_at_once() {
    let (sim, _token) = start_sim("127.0.0.1:0").await;
    let mut daemon = start_daemon(sim.base_url(), "00wrong-token-daemon");
    // The first answer may come before the start-up run has ended ("not observed yet").
    let url = daemon.url("/readyz");
    let body = daemon
        .wait_for("/readyz naming the authentication failure", || {
            let url = url.clone();
            async move {
                let text = reqwest::get(&url)
                    .await
                    .map_err(|e| e.to_string())?
                    .text()
                    .await
                    .map_err(|e| e.to_string())?;
                if text.contains("authentication failed") {
                    Ok(text)
                } else {
                    Err(text)
                }
            }
        })
        .await;
    assert!(body.starts_with("not ready: "), "{body}");
    assert!(
        body.contains(
            "default (authentication failed: GET /api/v1/apps: HTTP 401 E0000011 Invalid token provided)"
        ),
        "{body}"
    );
    assert!(!body.contains("not reachable"), "{body}");
    daemon
        .wait_metric(
            r#"^remediator_org_read_failures_total\{org="default",reason="authentication"\} [1-9]"#,
        )
        .await;
    daemon
        .wait_metric(r#"^remediator_org_readable\{org="default"\} 0$"#)
        .await;
    daemon
        .wait_metric(
            r#"^remediator_org_read_failures_total\{org="default",reason="unreachable"\} 0$"#,
        )
        .await;
    daemon
        .wait_metric(r#"^remediator_last_successful_run_timestamp_seconds\{org="default"\} 0$"#)
        .await;
    daemon
        .wait_metric(r#"^remediator_reconcile_runs_total\{org="default",trigger="timer",result="error"\} 1$"#)
        .await;
    daemon
        .wait_metric(
            r#"^remediator_build_info\{version="[0-9.]+",commit="([0-9a-f]+|unknown)"\} 1$"#,
        )
        .await;
    let line = daemon.wait_log("could not read the org").await;
    assert!(line.contains(r#""level":"ERROR""#), "{line}");
    assert!(line.contains(r#""kind":"authentication""#), "{line}");
    assert!(
        !daemon.log().contains("00wrong-token-daemon"),
        "no secret in the logs"
    );

    let status = daemon.terminate().await;
    assert_eq!(status.code(), Some(0), "{}", daemon.log());
    let entries = daemon.assert_consistent_journal();
    let failed = entries
        .iter()
        .find(|e| e["kind"]["type"] == "run_finished")
        .expect("the run finished");
    let error = failed["kind"]["error"].as_str().expect("with its error");
    assert!(error.contains("HTTP 401 E0000011"), "{error}");
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_readable_org_is_counted_readable_with_its_last_successful_run() {
    let (sim, token) = start_sim("127.0.0.1:0").await;
    let mut daemon = start_daemon(sim.base_url(), &token);
    daemon.wait_ready(200).await;
    daemon
        .wait_metric(r#"^remediator_org_readable\{org="default"\} 1$"#)
        .await;
    let line = daemon
        .wait_metric(r#"^remediator_last_successful_run_timestamp_seconds\{org="default"\} [1-9]"#)
        .await;
    let seconds: i64 = line
        .rsplit(' ')
        .next()
        .and_then(|v| v.parse().ok())
        .expect("a whole number of seconds");
    let now = chrono::Utc::now().timestamp();
    assert!(seconds <= now && seconds > now - 3600, "{line}");
    let status = daemon.terminate().await;
    assert_eq!(status.code(), Some(0), "{}", daemon.log());
    sim.shutdown().await;
}

/// Makes `user`'s assignment to `app` fail now, with its System Log event (okta-sim's control
/// route, as a failed push is recorded).
async fn fail_app_user(base_url: &str, app: &str, user: &str) {
    let response = reqwest::Client::new()
        .post(format!("{base_url}/__sim/app-users/{app}/{user}/fail"))
        .json(&json!({ "reason": "Error while creating user: connection timed out" }))
        .send()
        .await
        .expect("fail the app user");
    assert_eq!(response.status().as_u16(), 200);
}

/// With a `min_error_age` longer than the poll interval, the run the failure event triggers
/// holds the retry as too recent; the follow-up pass it asks for (not the cron schedule, years
/// away) carries the retry out and verifies it.
#[tokio::test(flavor = "multi_thread")]
async fn a_too_recent_failure_is_requeued_and_fixed_by_the_follow_up_pass() {
    let (sim, token) = start_sim("127.0.0.1:0").await;
    let base = sim.base_url().to_owned();
    let mut daemon = start_daemon_edited(&base, &token, APPLY, |policies| {
        let path = policies.join("retry.toml");
        let text = std::fs::read_to_string(&path).expect("retry policy");
        assert!(text.contains("min_error_age = \"10m\""), "{text}");
        let text = text.replace("min_error_age = \"10m\"", "min_error_age = \"30s\"");
        std::fs::write(&path, text).expect("write retry policy");
    });
    daemon.wait_ready(200).await;
    daemon
        .wait_metric(r#"^remediator_requeues_total\{org="default",reason="too-recent"\} 0"#)
        .await;
    daemon
        .wait_metric(r#"^remediator_requeues_pending\{org="default"\} 0"#)
        .await;

    fail_app_user(&base, SLACK, ADA).await;
    assert_eq!(
        sim.app_user_sync_state(SLACK, ADA).as_deref(),
        Some("ERROR")
    );
    daemon
        .wait_metric(r#"^remediator_requeues_total\{org="default",reason="too-recent"\} 1"#)
        .await;
    daemon
        .wait_metric(r#"^remediator_actions_total\{org="default",kind="retry-provisioning",outcome="verified"\} 1"#)
        .await;
    daemon
        .wait_metric(
            r#"^remediator_reconcile_runs_total\{org="default",trigger="requeue",result="ok"\} 1"#,
        )
        .await;
    daemon
        .wait_metric(r#"^remediator_requeues_pending\{org="default"\} 0"#)
        .await;
    assert_ne!(
        sim.app_user_sync_state(SLACK, ADA).as_deref(),
        Some("ERROR")
    );

    let status = daemon.terminate().await;
    assert_eq!(status.code(), Some(0), "{}", daemon.log());
    let entries = daemon.assert_consistent_journal();
    let run_of = |trigger: &str| -> Vec<String> {
        entries
            .iter()
            .filter(|e| e["kind"]["type"] == "run_started" && e["kind"]["trigger"] == trigger)
            .map(|e| e["run_id"].as_str().expect("run id").to_owned())
            .collect()
    };
    let triggered = run_of("system_log");
    let follow_ups = run_of("requeue");
    assert_eq!(follow_ups.len(), 1, "one follow-up pass");
    // The triggered run held the retry as too recent, with the time its wait ends.
    let held = entries
        .iter()
        .filter(|e| e["kind"]["type"] == "plan_recorded")
        .filter(|e| triggered.iter().any(|r| e["run_id"] == r.as_str()))
        .flat_map(|e| {
            e["kind"]["plan"]["skipped"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .find(|s| s["why"] == "too-recent" && s["target"]["user_id"] == ADA)
        .expect("the triggered run skipped the failure as too recent");
    let retry_at: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(held["retry_at"].clone()).expect("the skip has retry_at");
    let scheduled = entries
        .iter()
        .find(|e| e["kind"]["type"] == "requeue_scheduled")
        .expect("the follow-up pass is journaled");
    assert_eq!(scheduled["kind"]["waiting"]["too-recent"], 1);
    let scheduled_at: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(scheduled["kind"]["retry_at"].clone()).expect("retry_at");
    assert_eq!(scheduled_at, retry_at);
    // The follow-up pass started once the wait had ended, and its retry was verified.
    let follow_up = &follow_ups[0];
    let started: chrono::DateTime<chrono::Utc> = entries
        .iter()
        .find(|e| e["kind"]["type"] == "run_started" && e["run_id"] == follow_up.as_str())
        .map(|e| serde_json::from_value(e["time"].clone()).expect("entry time"))
        .expect("the follow-up run");
    assert!(started >= retry_at, "{started} before {retry_at}");
    assert!(
        entries.iter().any(|e| e["run_id"] == follow_up.as_str()
            && e["kind"]["type"] == "outcome"
            && e["kind"]["outcome"] == "verified"),
        "the follow-up pass did not verify the retry"
    );
    sim.shutdown().await;
}
