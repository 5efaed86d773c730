//! The daemon's API and the command line going through it, with the real binary against
//! okta-sim over loopback and the real sled journal: while `remediator run` holds the state
//! directory, `status` (both forms), `journal list|show|export` and `ack` answer through the
//! daemon (the address in `STATE/daemon.json`); a write without the API token is refused; the
//! file is removed when the daemon stops.

use std::process::Stdio;
use std::time::Duration;

use crate::support::act as act_support;
use crate::support::cli as cli_support;

use crate::support::daemon::Daemon;
use cli_support::{parts, stdout_if_exit, Cli};
use serde_json::{json, Value};

/// How long the daemon is given to start and finish its first run (a bound, not a figure).
const FIRST_RUN_BOUND: Duration = Duration::from_secs(180);
const API_TOKEN: &str = "test-api-token-0123456789";

/// `remediator run --observe-only`, once its first run is journaled.
async fn start(cli: &Cli) -> Daemon {
    let daemon = Daemon::spawn(cli, &[], &["--observe-only"], Stdio::null());
    daemon.after_first_run(FIRST_RUN_BOUND).await;
    daemon
}

#[tokio::test]
async fn status_journal_and_ack_go_through_the_running_daemon() {
    let cli = Cli::start(act_support::scenario("kpasswd-blocked"))
        .await
        .env("REMEDIATOR_API_TOKEN", API_TOKEN);
    let daemon = start(&cli).await;
    let file: Value = serde_json::from_slice(
        &std::fs::read(cli.state().join("daemon.json")).expect("daemon.json is written"),
    )
    .expect("daemon.json is JSON");
    assert_eq!(file["pid"], daemon.pid());
    assert!(cli.state().join("daemon.json").exists());

    let status = stdout_if_exit(&cli.run(&["status", "-o", "json"]).await, 0, "status: ");
    let status: Value = serde_json::from_str(&status).expect("status JSON");
    let org = &status["orgs"][0];
    assert_eq!(org["last_run"]["trigger"], "timer", "{org}");
    assert_eq!(org["last_run"]["observe_only"], true, "{org}");
    let finding = org["open_findings"]
        .as_array()
        .expect("open findings")
        .iter()
        .find(|f| f["kind"] == "kpasswd-blocked")
        .unwrap_or_else(|| panic!("a KPASSWD finding in {org}"));
    let id = finding["id"].as_str().expect("id").to_owned();
    let table = stdout_if_exit(&cli.run(&["status"]).await, 0, "status table: ");
    assert!(table.contains(&id) && table.contains("next run"), "{table}");

    let listing = stdout_if_exit(
        &cli.run(&["journal", "list", "--kind", "finding"]).await,
        0,
        "journal list: ",
    );
    assert!(listing.contains("finding"), "{listing}");
    // The first line is the header (ID TIME KIND ...), then one entry a line.
    let entry_id = listing
        .lines()
        .nth(1)
        .and_then(|line| line.split_whitespace().next())
        .expect("an entry under the header")
        .to_owned();
    let shown = stdout_if_exit(
        &cli.run(&["journal", "show", &entry_id]).await,
        0,
        "journal show: ",
    );
    assert!(shown.contains(&id), "{shown}");
    let export = stdout_if_exit(
        &cli.run(&["journal", "export"]).await,
        0,
        "journal export: ",
    );
    assert!(export.lines().count() > 3 && export.contains("run_started"));

    // A write without the token is refused and journals nothing; the command line has it.
    let refused = reqwest::Client::new()
        .post(format!("{}/v1/findings/{id}/ack", daemon.base))
        .json(&json!({ "by": "mallory", "reason": "no", "for": "1d" }))
        .send()
        .await
        .expect("answer");
    assert_eq!(refused.status().as_u16(), 401);
    let wrong = reqwest::Client::new()
        .post(format!("{}/v1/findings/{id}/ack", daemon.base))
        .bearer_auth("test-api-token-0123456780")
        .json(&json!({ "by": "mallory", "reason": "no", "for": "1d" }))
        .send()
        .await
        .expect("answer");
    assert_eq!(wrong.status().as_u16(), 401);
    let out = cli
        .run(&[
            "ack",
            &id,
            "--for",
            "2d",
            "--reason",
            "change CHG-9",
            "--by",
            "alice",
        ])
        .await;
    let (code, stdout, stderr) = parts(&out);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let findings: Value = daemon.get_json("/v1/findings").await;
    let acked = findings["orgs"][0]["open_findings"]
        .as_array()
        .expect("open")
        .iter()
        .find(|f| f["id"] == id.as_str())
        .expect("still open");
    assert_eq!(acked["ack"]["by"], "alice");
    let journal: Value = daemon.get_json("/v1/journal?kind=finding").await;
    let bys: Vec<&Value> = journal
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["kind"]["event"] == "acked")
        .map(|e| &e["kind"]["details"]["by"])
        .collect();
    assert_eq!(
        bys,
        [&json!("alice")],
        "only the authorized ack is journaled"
    );

    let exit = daemon.stop().await;
    assert!(exit.success(), "{exit:?}");
    assert!(!cli.state().join("daemon.json").exists(), "removed at exit");
    // The journal is free again: the same commands read it directly.
    let listing = stdout_if_exit(
        &cli.run(&["journal", "list", "--kind", "finding"]).await,
        0,
        "",
    );
    assert!(listing.contains("finding"));
}
