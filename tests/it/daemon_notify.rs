//! Notifications through the real binary against okta-sim over loopback, to a loopback receiver
//! that records what it gets: `apply --config --org` delivers a finding opened once to a webhook
//! and to a Slack sink in their shapes (not again on the next pass) and a fix undone; the
//! daemon with a receiver that is down retries, journals `notification_failed`, counts the
//! failure on /metrics, and still finishes its run; an http:// URL off loopback is refused at
//! start with its place in the file; the URL never shows in stderr, the journal or /metrics; an
//! action awaiting approval is delivered once as `approval_needed`.

use std::time::Duration;

use crate::support::act::scenario;
use crate::support::cli::{parts, text, Cli, ORG2ORG};
use crate::support::daemon::Daemon;
use crate::support::receiver::{down_url, Receiver};
use serde_json::Value;

/// How long the daemon is given to journal a failed notification (a bound, not a figure).
const DAEMON_BOUND: Duration = Duration::from_secs(180);
const PUBLIC_URL: &str = "https://remediator.example.com/";

/// `remediator.toml` for org `prod` at the sim: a global webhook from `HOOK_URL` and the org's
/// Slack sink from a file holding `slack_url`.
fn config(cli: &Cli, slack_url: &str) -> String {
    let dir = cli.dir.path();
    let slack_file = dir.join("slack-url");
    std::fs::write(&slack_file, format!("{slack_url}\n")).expect("write the Slack URL file");
    let path = dir.join("remediator.toml");
    std::fs::write(
        &path,
        format!(
            "[daemon]\npublic_url = \"{PUBLIC_URL}\"\n\n\
             [[notify]]\nname = \"hook\"\nkind = \"webhook\"\nurl_env = \"HOOK_URL\"\nretry_for = \"2s\"\n\n\
             [[orgs]]\nname = \"prod\"\nurl = \"{}\"\ncredentials = {{ token_env = \"PROD_TOKEN\" }}\n\n\
             [[orgs.notify]]\nname = \"team-slack\"\nkind = \"slack\"\nurl_file = \"{}\"\nretry_for = \"2s\"\n",
            cli.org_url(),
            slack_file.display()
        ),
    )
    .expect("write config");
    path.to_str().expect("utf-8 path").to_owned()
}

fn with_hook(cli: Cli, hook_url: &str) -> Cli {
    let token = cli.token().to_owned();
    cli.env("PROD_TOKEN", &token).env("HOOK_URL", hook_url)
}

fn events<'a>(bodies: &'a [Value], event: &str) -> Vec<&'a Value> {
    bodies.iter().filter(|b| b["event"] == event).collect()
}

#[tokio::test]
async fn apply_delivers_a_finding_opened_once_to_a_webhook_and_to_slack() {
    let receiver = Receiver::start().await;
    let hook = format!("{}/hooks/generic/SECRET-PATH-1", receiver.base);
    let slack = format!("{}/services/T000/B000/SLACKSECRET", receiver.base);
    let cli = with_hook(Cli::start(scenario("kpasswd-blocked")).await, &hook);
    let config = config(&cli, &slack);
    let apply = ["--config", &config, "--org", "prod", "apply", "--yes"];
    let (_, _, stderr) = parts(&cli.run(&apply).await);
    assert!(!stderr.contains("not delivered"), "{stderr}");

    let webhook = receiver.at("/hooks/generic/SECRET-PATH-1");
    let opened = events(&webhook, "finding_opened");
    let finding = opened
        .iter()
        .find(|b| b["kind"] == "kpasswd-blocked")
        .unwrap_or_else(|| panic!("a KPASSWD finding opened in {webhook:#?}"));
    assert_eq!(finding["org"], "prod");
    assert!(
        finding["finding_id"]
            .as_str()
            .is_some_and(|id| id.starts_with("fnd-")),
        "{finding}"
    );
    assert!(
        finding["target"].as_str().is_some_and(|t| !t.is_empty()),
        "{finding}"
    );
    assert!(
        finding["summary"].as_str().is_some_and(|t| !t.is_empty()),
        "{finding}"
    );
    assert!(finding["time"].as_str().is_some(), "{finding}");
    assert_eq!(finding["link"], PUBLIC_URL);
    let id = finding["finding_id"].as_str().expect("id").to_owned();

    let slack_bodies = receiver.at("/services/T000/B000/SLACKSECRET");
    let message = slack_bodies
        .iter()
        .find(|b| b["text"].as_str().is_some_and(|t| t.contains(&id)))
        .unwrap_or_else(|| panic!("a Slack message naming {id} in {slack_bodies:#?}"));
    assert!(
        message["text"]
            .as_str()
            .expect("text")
            .contains("*Finding opened*"),
        "{message}"
    );
    assert_eq!(message["blocks"][0]["type"], "section", "{message}");
    assert_eq!(message["blocks"][1]["type"], "context", "{message}");

    // The next pass finds the same finding: nothing new is sent.
    let (_, _, stderr) = parts(&cli.run(&apply).await);
    assert!(!stderr.contains("not delivered"), "{stderr}");
    let again = receiver.at("/hooks/generic/SECRET-PATH-1");
    assert_eq!(
        events(&again, "finding_opened")
            .iter()
            .filter(|b| b["finding_id"] == id.as_str())
            .count(),
        1,
        "{again:#?}"
    );
}

#[tokio::test]
async fn a_fix_undone_is_delivered() {
    let receiver = Receiver::start().await;
    let hook = format!("{}/hook", receiver.base);
    let cli = with_hook(Cli::start(scenario("orphaned-push-mappings")).await, &hook);
    let rule = serde_json::json!({
        "path_prefix": format!("/api/v1/apps/{ORG2ORG}/connections/default/lifecycle/activate"),
        "method": "POST",
        "kind": { "type": "ignored" },
    });
    let added = reqwest::Client::new()
        .post(format!("{}/__sim/faults", cli.sim().base_url()))
        .json(&rule)
        .send()
        .await
        .expect("control route");
    assert_eq!(added.status(), 201);
    let config = config(&cli, &format!("{}/slack", receiver.base));
    let out = cli
        .run(&["--config", &config, "--org", "prod", "apply", "--yes"])
        .await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let bodies = receiver.at("/hook");
    let undone: Vec<&Value> = bodies
        .iter()
        .filter(|b| b["event"] == "action_compensated" || b["event"] == "action_failed")
        .collect();
    assert_eq!(undone.len(), 1, "{bodies:#?}");
    let undone = undone[0];
    assert!(
        undone["action_id"]
            .as_str()
            .is_some_and(|id| id.starts_with("act-")),
        "{undone}"
    );
    assert_eq!(undone["kind"], "remove-push-mappings", "{undone}");
    assert!(
        undone["target"]
            .as_str()
            .is_some_and(|t| t.contains(ORG2ORG)),
        "{undone}"
    );
}

#[tokio::test]
async fn an_http_url_off_loopback_is_refused_at_start_where_the_file_names_it() {
    let cli = with_hook(
        Cli::start(scenario("healthy")).await,
        "http://hooks.example.com/services/T0/B0/OFFLOOPSECRET",
    );
    let config = config(&cli, "https://hooks.slack.com/services/T0/B0/FILESECRET");
    for args in [
        vec![
            "--config",
            config.as_str(),
            "--org",
            "prod",
            "apply",
            "--yes",
        ],
        vec!["--config", config.as_str(), "run", "--observe-only"],
    ] {
        let (code, stdout, stderr) = parts(&cli.run(&args).await);
        assert_eq!(code, Some(1), "{args:?}: {stdout} {stderr}");
        assert!(
            stderr.contains(&format!("{config}:7:11: notify[0].url_env: ")),
            "{stderr}"
        );
        assert!(stderr.contains("https only"), "{stderr}");
        assert!(
            !stderr.contains("SECRET") && !stderr.contains("hooks.example.com"),
            "{stderr}"
        );
    }
    assert!(!cli.state().join("prod").exists(), "nothing was started");
}

#[tokio::test]
async fn a_receiver_that_is_down_is_retried_then_journaled_and_counted_while_the_run_finishes() {
    let hook = down_url("/hooks/DOWNSECRET");
    let slack = down_url("/services/T1/B1/SLACKDOWNSECRET");
    let cli = with_hook(Cli::start(scenario("kpasswd-blocked")).await, &hook)
        .env("RUST_LOG", "info,remediator=debug");
    let config = config(&cli, &slack);
    let stderr_path = cli.dir.path().join("daemon.stderr");
    let stderr = std::fs::File::create(&stderr_path).expect("stderr file");
    let daemon = Daemon::spawn(
        &cli,
        &["--config", &config],
        &["--observe-only"],
        stderr.into(),
    );
    let base = daemon.base.clone();
    let list = |kind: &'static str| {
        let args = [
            "--config",
            config.as_str(),
            "--org",
            "prod",
            "journal",
            "list",
            "--kind",
            kind,
        ];
        let cli = &cli;
        async move { text(&cli.run(&args).await.stdout) }
    };
    let deadline = std::time::Instant::now() + DAEMON_BOUND;
    let failed = loop {
        let failed = list("notification_failed").await;
        if failed.contains("team-slack") && failed.contains("hook") {
            break failed;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no notification_failed entries: {failed}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    // Each delivery was tried more than once.
    for note in failed.split("not delivered after ").skip(1) {
        let attempts: u32 = note
            .split_whitespace()
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("attempts in {failed}"));
        assert!(attempts >= 2, "{failed}");
    }
    // The run was not held up by the receiver: its run_finished entry comes before the failed
    // deliveries (entry ids are in journal order).
    let finished = list("run_finished").await;
    let first_id = |listing: &str| {
        listing
            .lines()
            .nth(1)
            .and_then(|l| l.split_whitespace().next())
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("an entry in {listing}"))
    };
    assert!(
        first_id(&finished) < first_id(&failed),
        "the run finished before its notifications failed: {finished} {failed}"
    );

    let metrics = reqwest::get(format!("{base}/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics text");
    for sink in ["hook", "team-slack"] {
        let line = metrics
            .lines()
            .find(|l| {
                l.starts_with(&format!(
                    "remediator_notification_failures_total{{sink=\"{sink}\"}}"
                ))
            })
            .unwrap_or_else(|| panic!("{sink}'s failures in {metrics}"));
        let value: f64 = line
            .rsplit(' ')
            .next()
            .and_then(|v| v.parse().ok())
            .expect("a value");
        assert!(value >= 1.0, "{line}");
    }
    assert!(
        metrics.contains("remediator_notifications_total{sink=\"hook\",event=\"finding_opened\",result=\"failed\"}"),
        "{metrics}"
    );
    let export = text(
        &cli.run(&["--config", &config, "--org", "prod", "journal", "export"])
            .await
            .stdout,
    );
    assert!(export.contains("notification_failed"), "{export}");
    drop(daemon);
    let stderr = std::fs::read_to_string(&stderr_path).expect("daemon stderr");
    assert!(
        stderr.contains("notification could not be delivered"),
        "{stderr}"
    );
    for (what, shown) in [
        ("stderr", &stderr),
        ("journal list", &failed),
        ("journal export", &export),
        ("metrics", &metrics),
    ] {
        for secret in ["DOWNSECRET", "/hooks/", "/services/", &hook, &slack] {
            assert!(!shown.contains(secret), "{what} shows {secret}: {shown}");
        }
    }
}

/// Orphaned mappings reported (rule in `report`), then removed (rule in `enforce`): the next
/// pass no longer finds them, and the finding's resolution is delivered.
#[tokio::test]
async fn a_finding_fixed_is_delivered_as_resolved() {
    let receiver = Receiver::start().await;
    let hook = format!("{}/hook", receiver.base);
    let cli = with_hook(Cli::start(scenario("orphaned-push-mappings")).await, &hook);
    let config = config(&cli, &format!("{}/slack", receiver.base));
    let safety = cli.dir.path().join("policies/safety.toml");
    let enforcing = std::fs::read_to_string(&safety).expect("safety policy");
    let reporting = enforcing.replace(
        "remove_push_mappings = \"enforce\"",
        "remove_push_mappings = \"report\"",
    );
    assert_ne!(reporting, enforcing, "the test policy enforces the removal");
    let apply = [
        "--config",
        config.as_str(),
        "--org",
        "prod",
        "apply",
        "--yes",
    ];
    std::fs::write(&safety, &reporting).expect("report only");
    cli.run(&apply).await;
    let bodies = receiver.at("/hook");
    let opened = events(&bodies, "finding_opened");
    let orphaned = opened
        .iter()
        .find(|b| b["kind"] == "push-mappings-orphaned")
        .unwrap_or_else(|| panic!("the orphaned mappings reported in {bodies:#?}"));
    let id = orphaned["finding_id"].as_str().expect("id").to_owned();
    assert!(
        events(&bodies, "finding_resolved").is_empty(),
        "{bodies:#?}"
    );

    std::fs::write(&safety, &enforcing).expect("enforce");
    let fixed = cli.run(&apply).await;
    assert_eq!(fixed.status.code(), Some(0), "{}", text(&fixed.stderr));
    cli.run(&apply).await;
    let bodies = receiver.at("/hook");
    let resolved = events(&bodies, "finding_resolved");
    assert_eq!(
        resolved
            .iter()
            .filter(|b| b["finding_id"] == id.as_str())
            .count(),
        1,
        "{bodies:#?}"
    );
    assert_eq!(
        events(&bodies, "finding_opened")
            .iter()
            .filter(|b| b["finding_id"] == id.as_str())
            .count(),
        1,
        "{bodies:#?}"
    );
}

/// `apply` waits for its run's notifications; those it could not deliver are said on stderr
/// and journaled, and the URL is not shown.
#[tokio::test]
async fn apply_says_on_stderr_what_it_could_not_deliver() {
    let hook = down_url("/hooks/APPLYDOWNSECRET");
    let cli = with_hook(Cli::start(scenario("kpasswd-blocked")).await, &hook);
    let config = config(&cli, &down_url("/services/T2/B2/APPLYSLACKSECRET"));
    let (_, _, stderr) = parts(
        &cli.run(&["--config", &config, "--org", "prod", "apply", "--yes"])
            .await,
    );
    assert!(
        stderr.contains("warning: 2 notification(s) not delivered (2 failed after retries"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("SECRET") && !stderr.contains("/hooks/"),
        "{stderr}"
    );
    let failed = text(
        &cli.run(&[
            "--config",
            &config,
            "--org",
            "prod",
            "journal",
            "list",
            "-o",
            "wide",
            "--kind",
            "notification-failed",
        ])
        .await
        .stdout,
    );
    assert!(
        failed.contains("sink hook: finding_opened not delivered after"),
        "{failed}"
    );
    assert!(
        failed.contains("sink team-slack: finding_opened"),
        "{failed}"
    );
    assert!(!failed.contains("SECRET"), "{failed}");
}

/// An org that rejects the token is told once however often it is tried, and once when it is
/// read again.
#[tokio::test]
async fn an_unreadable_org_is_told_once_and_again_when_it_recovers() {
    let receiver = Receiver::start().await;
    let hook = format!("{}/hook", receiver.base);
    let cli = Cli::start(scenario("healthy")).await;
    let token = cli.token().to_owned();
    let cli = cli.env("HOOK_URL", &hook);
    let config = config(&cli, &format!("{}/slack", receiver.base));
    let apply = [
        "--config",
        config.as_str(),
        "--org",
        "prod",
        "apply",
        "--yes",
    ];
    let rejected = cli.env("PROD_TOKEN", "not-the-token");
    for _ in 0..2 {
        let out = rejected.run(&apply).await;
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    }
    let bodies = receiver.at("/hook");
    let unreadable = events(&bodies, "org_unreadable");
    assert_eq!(unreadable.len(), 1, "{bodies:#?}");
    assert!(
        unreadable[0]["summary"]
            .as_str()
            .is_some_and(|s| s.contains("401")),
        "{bodies:#?}"
    );
    assert!(unreadable[0].get("finding_id").is_none() && unreadable[0].get("action_id").is_none());
    let readable = rejected.env("PROD_TOKEN", &token);
    readable.run(&apply).await;
    readable.run(&apply).await;
    let bodies = receiver.at("/hook");
    assert_eq!(events(&bodies, "org_recovered").len(), 1, "{bodies:#?}");
    assert_eq!(events(&bodies, "org_unreadable").len(), 1, "{bodies:#?}");
}

/// A fix whose rule requires approval is asked for once in the journal, and that request is
/// delivered once as `approval_needed`, naming the action and how to approve it; the next pass,
/// which finds the request still waiting, sends nothing.
#[tokio::test]
async fn an_action_awaiting_approval_is_delivered_once_as_approval_needed() {
    let receiver = Receiver::start().await;
    let hook = format!("{}/approvals", receiver.base);
    let cli = with_hook(crate::cli_approvals::approval_org().await, &hook);
    let config = config(&cli, &format!("{}/slack", receiver.base));
    let apply = ["--config", &config, "--org", "prod", "apply", "--yes"];
    cli.run(&apply).await;
    let asked = asked_in(&cli);
    assert_eq!(asked.len(), 1, "{asked:?}");
    let action = asked[0].action_id.clone().expect("an action's entry");

    let bodies = receiver.at("/approvals");
    let needed = events(&bodies, "approval_needed");
    assert_eq!(needed.len(), 1, "{bodies:#?}");
    assert_eq!(needed[0]["action_id"], action.as_str(), "{}", needed[0]);
    assert_eq!(needed[0]["kind"], "remove-push-mappings", "{}", needed[0]);
    let summary = needed[0]["summary"].as_str().expect("summary");
    assert!(
        summary.contains(&format!("remediator approve {action}")),
        "{summary}"
    );

    cli.run(&apply).await;
    assert_eq!(asked_in(&cli).len(), 1, "asked once in the journal");
    let again = receiver.at("/approvals");
    assert_eq!(events(&again, "approval_needed").len(), 1, "{again:#?}");
}

/// The `awaiting_approval` entries of org `prod`'s journal (`<state>/prod` with `--config`).
fn asked_in(cli: &Cli) -> Vec<remediator::journal::Entry> {
    use remediator::journal::{EntryFilter, EntryKindTag, JournalStore, SledJournal};
    let journal = SledJournal::open(cli.state().join("prod")).expect("prod's journal");
    journal
        .list(&EntryFilter {
            kind: Some(EntryKindTag::AwaitingApproval),
            ..EntryFilter::default()
        })
        .expect("list")
}
