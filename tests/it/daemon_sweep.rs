//! The Group Push sweep spread between the daemon's full scans, with the real binary against
//! okta-sim over loopback and the real sled journal: the start-up full scan asks no app about
//! its mappings (only the scan's own pages); the sweep after the polls asks each candidate
//! once, and the two apps it finds with provisioning disabled and an ACTIVE mapping are read
//! and reported (okta-sim's request counters, `/metrics`); a restarted daemon's start-up scan
//! asks the apps of the open orphaned-mapping findings again, so nothing resolves them unread.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::act as act_support;
use crate::support::cli::Cli;
use crate::support::daemon::Daemon;

use crate::cli_findings::finding_events;
use remediator::journal::{FindingEvent, JournalStore};
use remediator::plan::FindingKind;

const SCENARIO: &str = "orphaned-push-mappings-quiet";
/// The scenario's two apps with provisioning disabled and an ACTIVE mapping.
const ORPHANED: [&str; 2] = ["0oaquietdeel00000001", "0oaquietscim00000001"];
/// okta-sim's counter of every mappings request (the sweep's questions and the full lists).
const MAPPINGS: &str = "GET /api/v1/apps/{id}/group-push/mappings";
/// How long the daemon is given for a run or for the sweep to find them (a bound, not a figure).
const BOUND: Duration = Duration::from_secs(120);
/// Polls every 10 s and a sweep fast enough to ask every candidate at the second poll; no
/// full scan but the start-up one.
const SCHEDULE: &str = "[schedule]\nfull_reconcile = \"0 0 0 1 1 * 2099\"\nlog_poll_interval = \"10s\"\nlog_lookback = \"24h\"\nmapping_sweep_per_minute = 600\n";

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

#[tokio::test]
async fn full_scans_read_only_their_pages_and_the_sweep_finds_orphans_between_them() {
    let cli = Cli::start(act_support::scenario(SCENARIO)).await;
    std::fs::write(cli.dir.path().join("policies/schedule.toml"), SCHEDULE).expect("schedule");

    let daemon = Daemon::spawn(&cli, &[], &[], Stdio::null());
    daemon.after_first_run(BOUND).await;
    // The first poll is 10 s after the run and only starts the sweep's clock.
    assert_eq!(
        cli.sim().stats().count(MAPPINGS),
        0,
        "the start-up scan asked about mappings"
    );
    let text = findings_reach(&daemon, 2.0).await;
    // Three candidates asked once each (Deel, Acme and Zoom, whose only mapping is INACTIVE;
    // Slack's provisioning is enabled, the others cannot hold mappings), then the full lists
    // of the two found.
    assert_eq!(cli.sim().stats().count(MAPPINGS), 3 + 2);
    let questions = |answer: &str| {
        sample(
            &text,
            &[
                "remediator_mapping_sweep_questions_total{",
                &format!("answer=\"{answer}\""),
            ],
        )
    };
    assert_eq!(questions("active"), Some(2.0), "{text}");
    assert_eq!(questions("none"), Some(1.0), "{text}");
    assert!(
        sample(
            &text,
            &["remediator_mapping_sweep_apps{", "state=\"asked\""]
        )
        .is_some(),
        "{text}"
    );
    stop(daemon).await;
    assert_eq!(orphaned_findings(&cli), ORPHANED);

    // Restarted: its sweep knows nothing yet, but the open findings' apps are asked again by
    // the start-up scan (a question and the full list each), and stay open.
    reset_stats(&cli).await;
    let daemon = Daemon::spawn(&cli, &[], &[], Stdio::null());
    daemon.after_first_run(BOUND).await;
    assert_eq!(cli.sim().stats().count(MAPPINGS), 2 + 2);
    findings_reach(&daemon, 2.0).await;
    stop(daemon).await;
    assert_eq!(orphaned_findings(&cli), ORPHANED);
    assert_eq!(resolved(&cli), 0, "a finding was resolved unread");
}

#[tokio::test]
async fn with_the_sweep_off_each_full_scan_asks_every_candidate() {
    let cli = Cli::start(act_support::scenario(SCENARIO)).await;
    let schedule = SCHEDULE.replace("= 600", "= 0");
    std::fs::write(cli.dir.path().join("policies/schedule.toml"), schedule).expect("schedule");
    let daemon = Daemon::spawn(&cli, &[], &[], Stdio::null());
    daemon.after_first_run(BOUND).await;
    // As `plan` does: three questions, two full lists, all in the start-up scan.
    assert_eq!(cli.sim().stats().count(MAPPINGS), 3 + 2);
    findings_reach(&daemon, 2.0).await;
    stop(daemon).await;
}
