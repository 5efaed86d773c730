//! The Group Push sweep spread between the daemon's full scans, with the real binary against
//! okta-sim over loopback and the real sled journal: the start-up full scan asks no app about
//! its mappings (only the scan's own pages); the sweep after the polls asks the candidates, and
//! the two apps it finds with provisioning disabled and an ACTIVE mapping are read and reported
//! (okta-sim's request counters, `/metrics`); a restarted daemon's start-up scan asks the apps
//! of the open orphaned-mapping findings again, so nothing resolves them unread; a question
//! that fails gets its app read, and a read that fails too is named in the run's `incomplete`.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::cli_findings::finding_events;
use crate::support::act as act_support;
use crate::support::cli::Cli;
use crate::support::daemon::Daemon;
use crate::support::sim::add_fault;

use okta_sim::{FaultKind, FaultRule};
use remediator::journal::{FindingEvent, JournalStore};
use remediator::plan::FindingKind;

const SCENARIO: &str = "orphaned-push-mappings-quiet";
/// The scenario's two apps with provisioning disabled and an ACTIVE mapping.
const ORPHANED: [&str; 2] = ["0oaquietdeel00000001", "0oaquietscim00000001"];
/// Its app with provisioning disabled and only an INACTIVE mapping.
const ZOOM: &str = "0oaquietzoom00000001";
/// okta-sim's counter of every mappings request (the sweep's questions and the full lists).
const MAPPINGS: &str = "GET /api/v1/apps/{id}/group-push/mappings";
/// How long the daemon is given for a run or for the sweep to find them (a bound, not a figure).
const BOUND: Duration = Duration::from_secs(120);
/// Polls every 10 s and a sweep fast enough to ask every candidate at the second poll (the
/// first only starts its clock); no full scan but the start-up one.
const SCHEDULE: &str = "[schedule]\nfull_reconcile = \"0 0 0 1 1 * 2099\"\nlog_poll_interval = \"10s\"\nlog_lookback = \"24h\"\nmapping_sweep_per_minute = 50\n";

async fn reset_stats(cli: &Cli) {
    let response = reqwest::Client::new()
        .post(format!("{}/__sim/stats/reset", cli.sim().base_url()))
        .send()
        .await
        .expect("control call");
    assert!(response.status().is_success());
}

async fn metrics(daemon: &Daemon) -> String {
    reqwest::get(format!("{}/metrics", daemon.base))
        .await
        .expect("scrape")
        .text()
        .await
        .expect("metrics text")
}

/// The value of the sample whose line holds every one of `parts`.
fn sample(metrics: &str, parts: &[&str]) -> Option<f64> {
    metrics
        .lines()
        .filter(|l| !l.starts_with('#'))
        .find(|l| parts.iter().all(|p| l.contains(p)))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// Waits until the latest plan holds `n` orphaned-mapping findings.
async fn findings_reach(daemon: &Daemon, n: f64) -> String {
    let deadline = Instant::now() + BOUND;
    loop {
        let text = metrics(daemon).await;
        let kind = "kind=\"push-mappings-orphaned-no-credential\"";
        if sample(&text, &["remediator_findings{", kind]) == Some(n) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "the sweep did not find {n} orphaned apps:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn stop(daemon: Daemon) {
    let exit = daemon.stop().await;
    assert!(exit.success(), "{exit:?}");
}

fn orphaned_findings(cli: &Cli) -> Vec<String> {
    let mut apps: Vec<String> = cli
        .journal()
        .open_findings()
        .expect("open findings")
        .into_iter()
        .filter(|f| f.kind == FindingKind::PushMappingsOrphanedNoCredential)
        .filter_map(|f| f.target.app_id.map(|a| a.to_string()))
        .collect();
    apps.sort();
    apps
}

fn resolved(cli: &Cli) -> usize {
    finding_events(cli)
        .iter()
        .filter(|(event, _)| *event == FindingEvent::Resolved)
        .count()
}

/// The sum of the samples whose line holds every one of `parts`.
fn total(metrics: &str, parts: &[&str]) -> f64 {
    metrics
        .lines()
        .filter(|l| !l.starts_with('#') && parts.iter().all(|p| l.contains(p)))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Waits until this daemon process (not an earlier one: the journal keeps their runs) has
/// finished a run.
async fn first_run(daemon: &Daemon) {
    let deadline = Instant::now() + BOUND;
    loop {
        if let Ok(response) = reqwest::get(format!("{}/metrics", daemon.base)).await {
            let text = response.text().await.unwrap_or_default();
            if total(&text, &["remediator_reconcile_runs_total{"]) >= 1.0 {
                return;
            }
        }
        assert!(Instant::now() < deadline, "the daemon did not finish a run");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits until okta-sim has served `scan + 2` mappings requests (the start-up scan's
/// questions, the two orphans' full lists) and as many more as the sweep's questions this
/// process counts: the sweep goes on asking what is left while the test looks, so the two
/// figures are compared until they agree.
async fn mappings_served(cli: &Cli, daemon: &Daemon, scan: u64) -> String {
    let deadline = Instant::now() + BOUND;
    loop {
        let text = metrics(daemon).await;
        let questions = total(&text, &["remediator_mapping_sweep_questions_total{"]) as u64;
        let served = cli.sim().stats().count(MAPPINGS);
        if served == scan + 2 + questions {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "{served} mappings requests served, expected {scan} + 2 + {questions} sweep questions:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn full_scans_read_only_their_pages_and_the_sweep_finds_orphans_between_them() {
    let cli = Cli::start(act_support::scenario(SCENARIO)).await;
    std::fs::write(cli.dir.path().join("policies/schedule.toml"), SCHEDULE).expect("schedule");

    let daemon = Daemon::spawn(&cli, &[], &[], Stdio::null());
    first_run(&daemon).await;
    // The first poll comes 10 s after the run and only starts the sweep's clock: nothing has
    // asked about mappings yet, the start-up scan included.
    let text = metrics(&daemon).await;
    let asked = total(&text, &["remediator_mapping_sweep_questions_total{"]);
    assert_eq!(asked, 0.0, "{text}");
    assert_eq!(
        cli.sim().stats().count(MAPPINGS),
        0,
        "the start-up scan asked about mappings"
    );
    findings_reach(&daemon, 2.0).await;
    // The sweep asked the three candidates (Deel, Acme and Zoom, whose only mapping is
    // INACTIVE; Slack's provisioning is enabled, the others cannot hold mappings); the two
    // orphans were read whole; Zoom, left alone in the next cycles, is asked again.
    let text = mappings_served(&cli, &daemon, 0).await;
    let questions = |answer: &str| {
        let label = format!("answer=\"{answer}\"");
        sample(
            &text,
            &["remediator_mapping_sweep_questions_total{", &label],
        )
    };
    assert_eq!(questions("active"), Some(2.0), "{text}");
    assert!(questions("none") >= Some(1.0), "{text}");
    assert_eq!(questions("failed"), Some(0.0), "{text}");
    let cycles = sample(&text, &["remediator_mapping_sweep_cycles_total{"]);
    assert!(cycles >= Some(1.0), "{text}");
    stop(daemon).await;
    assert_eq!(orphaned_findings(&cli), ORPHANED);

    // Restarted: its sweep knows nothing yet, but the open findings' apps are asked again by
    // the start-up scan (a question and the full list each), and stay open.
    reset_stats(&cli).await;
    let daemon = Daemon::spawn(&cli, &[], &[], Stdio::null());
    first_run(&daemon).await;
    mappings_served(&cli, &daemon, 2).await;
    findings_reach(&daemon, 2.0).await;
    stop(daemon).await;
    assert_eq!(orphaned_findings(&cli), ORPHANED);
    assert_eq!(resolved(&cli), 0, "a finding was resolved unread");
}

#[tokio::test]
async fn with_the_sweep_off_each_full_scan_asks_every_candidate() {
    let cli = Cli::start(act_support::scenario(SCENARIO)).await;
    let schedule = SCHEDULE.replace("= 50", "= 0");
    std::fs::write(cli.dir.path().join("policies/schedule.toml"), schedule).expect("schedule");
    let daemon = Daemon::spawn(&cli, &[], &[], Stdio::null());
    first_run(&daemon).await;
    // As `plan` does: three questions, two full lists, all in the start-up scan.
    assert_eq!(cli.sim().stats().count(MAPPINGS), 3 + 2);
    findings_reach(&daemon, 2.0).await;
    stop(daemon).await;
}

#[tokio::test]
async fn a_failed_question_gets_its_app_read_and_a_failed_read_is_named() {
    let cli = Cli::start(act_support::scenario(SCENARIO)).await;
    std::fs::write(cli.dir.path().join("policies/schedule.toml"), SCHEDULE).expect("schedule");
    // Every mappings answer about Zoom is garbage: its question fails, and so does the full
    // list its targeted read then asks for.
    let rule = FaultRule {
        path_prefix: Some(format!("/api/v1/apps/{ZOOM}/group-push/mappings")),
        method: Some("GET".into()),
        kind: FaultKind::Malformed,
        count: None,
        after: 0,
    };
    add_fault(cli.sim(), &rule).await;
    let daemon = Daemon::spawn(&cli, &[], &[], Stdio::null());
    first_run(&daemon).await;
    let names_zoom = |s: &serde_json::Value| {
        s["orgs"][0]["last_run"]["incomplete"]
            .as_array()
            .is_some_and(|parts| {
                parts
                    .iter()
                    .filter_map(|p| p.as_str())
                    .any(|p| p.contains(ZOOM) && p.contains("push-mappings"))
            })
    };
    let status = daemon
        .status_when(BOUND, "name Zoom's mappings as not read", names_zoom)
        .await;
    let outcome = &status["orgs"][0]["last_run"]["outcome"];
    assert_eq!(outcome, "partial", "{status}");
    let text = metrics(&daemon).await;
    let failed = [
        "remediator_mapping_sweep_questions_total{",
        "answer=\"failed\"",
    ];
    assert!(sample(&text, &failed) >= Some(1.0), "{text}");
    // The orphans are found all the same.
    findings_reach(&daemon, 2.0).await;
    stop(daemon).await;
}
