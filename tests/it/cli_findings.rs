//! Findings with a life through the real binary against okta-sim over loopback, with the real
//! sled journal: `apply` opens a finding (journaled once, with its id), a pass that sees
//! nothing new journals nothing, `ack` silences it (journaled with who and why, shown by
//! `status`), a pass that could not read the System Log keeps it open, and a complete read
//! without it resolves it. `status` in both forms shows the last run, the next one, the open
//! findings with their age and the breaker.

use crate::support::act as act_support;
use crate::support::cli as cli_support;

use cli_support::{parts, stdout_if_exit, Cli};
use okta_sim::{FaultKind, FaultRule};
use remediator::journal::{EntryKind, EntryKindTag, FindingEvent};
use serde_json::Value;

/// The finding entries' events, in order.
pub(crate) fn finding_events(cli: &Cli) -> Vec<(FindingEvent, String)> {
    cli.entries(EntryKindTag::Finding)
        .into_iter()
        .filter_map(|e| match e.kind {
            EntryKind::Finding {
                event, finding_id, ..
            } => Some((
                event,
                finding_id.map(|id| id.to_string()).unwrap_or_default(),
            )),
            _ => None,
        })
        .collect()
}

async fn status_json(cli: &Cli) -> Value {
    let out = cli.run(&["status", "-o", "json"]).await;
    let stdout = stdout_if_exit(&out, 0, "status -o json: ");
    serde_json::from_str(&stdout).expect("status is JSON")
}

async fn apply(cli: &Cli) {
    let out = cli.run(&["apply", "--yes"]).await;
    let (code, stdout, stderr) = parts(&out);
    assert!(matches!(code, Some(0 | 3)), "{stdout}\n{stderr}");
}

fn kpasswd_finding(status: &Value) -> Option<&Value> {
    status["orgs"][0]["open_findings"]
        .as_array()
        .expect("open findings")
        .iter()
        .find(|f| f["kind"] == "kpasswd-blocked")
}

#[tokio::test]
async fn a_finding_opens_is_acked_survives_an_unread_log_and_resolves_on_a_complete_read() {
    let cli = Cli::start(act_support::scenario("kpasswd-blocked")).await;
    apply(&cli).await;
    let events = finding_events(&cli);
    let opened: Vec<&String> = events
        .iter()
        .filter(|(e, _)| *e == FindingEvent::Opened)
        .map(|(_, id)| id)
        .collect();
    assert!(!opened.is_empty(), "{events:?}");
    let status = status_json(&cli).await;
    let finding = kpasswd_finding(&status).expect("the KPASSWD finding is open");
    let id = finding["id"].as_str().expect("an id").to_owned();
    assert!(
        id.starts_with("fnd-") && opened.contains(&&id),
        "{id} {events:?}"
    );
    assert!(finding["age_seconds"].as_i64().is_some_and(|age| age >= 0));
    let org = &status["orgs"][0];
    assert_eq!(org["last_run"]["trigger"], "manual", "{org}");
    assert!(org["next_run"].is_string(), "{org}");
    assert_eq!(org["breaker"]["open"], false);

    apply(&cli).await;
    assert_eq!(
        finding_events(&cli),
        events,
        "the same finding again journals nothing"
    );

    let out = cli
        .run(&[
            "ack",
            &id,
            "--for",
            "7d",
            "--reason",
            "ticket OPS-17",
            "--by",
            "alice",
        ])
        .await;
    let stdout = stdout_if_exit(&out, 0, "ack: ");
    assert!(stdout.contains(&id) && stdout.contains("alice"), "{stdout}");
    let status = status_json(&cli).await;
    let ack = &kpasswd_finding(&status).expect("still open")["ack"];
    assert_eq!(ack["by"], "alice");
    assert_eq!(ack["reason"], "ticket OPS-17");
    let table = stdout_if_exit(&cli.run(&["status"]).await, 0, "status: ");
    assert!(
        table.contains(&id) && table.contains("acked by alice") && table.contains("last run"),
        "{table}"
    );
    let unknown = cli
        .run(&[
            "ack",
            "fnd-0000000000000000",
            "--reason",
            "x",
            "--by",
            "bob",
        ])
        .await;
    let (code, _, stderr) = parts(&unknown);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("no open finding fnd-0000000000000000"),
        "{stderr}"
    );

    // The System Log unread: the diagnosis cannot be made, and the finding stays open.
    let log_fault = FaultRule {
        path_prefix: Some("/api/v1/logs".into()),
        method: Some("GET".into()),
        kind: FaultKind::NotFound,
        count: None,
        after: 0,
    };
    let control = format!("{}/__sim/faults", cli.sim().base_url());
    let client = reqwest::Client::new();
    let added = client
        .post(&control)
        .json(&log_fault)
        .send()
        .await
        .expect("fault");
    assert_eq!(added.status(), 201);
    apply(&cli).await;
    assert!(
        !finding_events(&cli)
            .iter()
            .any(|(e, _)| *e == FindingEvent::Resolved),
        "not resolved by a pass that did not read the System Log"
    );
    assert!(kpasswd_finding(&status_json(&cli).await).is_some());
    client.delete(&control).send().await.expect("clear faults");

    // A complete read without it (the rule watches no directory now): resolved.
    let kpasswd = cli.dir.path().join("policies/kpasswd.toml");
    let text = std::fs::read_to_string(&kpasswd).expect("policy");
    let text = text.replace(
        "directories = [\"corp.example.com AD\"]",
        "directories = []",
    );
    std::fs::write(&kpasswd, text).expect("policy");
    apply(&cli).await;
    let events = finding_events(&cli);
    assert!(
        events.contains(&(FindingEvent::Resolved, id.clone())),
        "{events:?}"
    );
    assert!(
        events.contains(&(FindingEvent::Acked, id.clone())),
        "{events:?}"
    );
    assert!(kpasswd_finding(&status_json(&cli).await).is_none());
}
