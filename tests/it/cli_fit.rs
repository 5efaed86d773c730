//! Output that fits, through the real binary against okta-sim: `plan`'s table wraps its reasons
//! to `COLUMNS` (80: every table line fits; 200: a reason stays on its line), `-o wide` keeps
//! every line whole, `status` cuts its lines to `COLUMNS` unless `-o wide`, and the plan names
//! apps by label and users by login beside their ids (the table, and `labels` in its JSON).

use std::process::Output;

use serde_json::Value;

use crate::support::act as act_support;
use crate::support::cli::{stdout_if_exit, Cli};

async fn run_with(cli: &Cli, columns: Option<&str>, args: &[&str]) -> Output {
    let mut command = cli.command(args);
    if let Some(columns) = columns {
        command.env("COLUMNS", columns);
    }
    command.stdin(std::process::Stdio::null());
    tokio::task::spawn_blocking(move || command.output().expect("run remediator"))
        .await
        .expect("join")
}

/// The lines of the plan's ACTIONS, FINDINGS and SKIPPED tables.
fn table_lines(text: &str) -> Vec<&str> {
    let start = text.find("\nACTIONS (").expect("an actions table");
    text[start..]
        .lines()
        .take_while(|l| !l.contains("action(s) `apply` would"))
        .filter(|l| !l.is_empty())
        .collect()
}

/// The ACTIONS table's REASON column read top to bottom, without whitespace (step lines left
/// out).
fn reason_column(text: &str) -> String {
    let step = regex::Regex::new(r"^    \d+\. ").expect("regex");
    let table = &text[text.find("\nACTIONS (").expect("actions")..];
    let mut lines = table.lines().skip(2);
    let header = lines.next().expect("a header");
    let at = header.find("REASON").expect("a REASON column");
    lines
        .take_while(|l| !l.is_empty())
        .filter(|l| !step.is_match(l))
        .map(|l| l.chars().skip(at).collect::<String>())
        .collect::<String>()
        .split_whitespace()
        .collect()
}

#[tokio::test]
async fn the_plan_fits_the_terminal_and_names_apps_and_users() {
    let cli = Cli::start(act_support::scenario("all-situations")).await;
    let json = stdout_if_exit(
        &run_with(&cli, None, &["plan", "-o", "json"]).await,
        0,
        "plan json: ",
    );
    let plan: Value = serde_json::from_str(&json).expect("plan JSON");
    let labels = plan["labels"].as_object().expect("labels in the plan JSON");
    assert!(
        labels.values().any(|l| l == "Acme SCIM"),
        "an app label: {labels:?}"
    );
    assert!(
        labels
            .values()
            .any(|l| l.as_str().is_some_and(|l| l.ends_with("@example.com"))),
        "a user login: {labels:?}"
    );
    let reasons: Vec<&str> = plan["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .chain(plan["findings"].as_array().expect("findings"))
        .map(|a| a["reason"].as_str().expect("reason"))
        .collect();
    assert!(reasons.iter().any(|r| r.len() > 80), "{reasons:?}");

    let narrow = stdout_if_exit(
        &run_with(&cli, Some("80"), &["plan"]).await,
        0,
        "plan COLUMNS=80: ",
    );
    for line in table_lines(&narrow) {
        assert!(
            line.chars().count() <= 80,
            "{} > 80: {line:?}\n{narrow}",
            line.chars().count()
        );
    }
    // Wrapped, not cut: the REASON column of the actions, read down, holds every reason.
    let column = reason_column(&narrow);
    for action in plan["actions"].as_array().expect("actions") {
        let reason: String = action["reason"]
            .as_str()
            .expect("reason")
            .split_whitespace()
            .collect();
        assert!(
            column.contains(&reason),
            "{reason:?} in {column:?}\n{narrow}"
        );
    }
    // The closing line fits too.
    for line in narrow
        .lines()
        .skip_while(|l| !l.contains("action(s) `apply` would"))
    {
        assert!(line.chars().count() <= 80, "{line:?}");
    }

    let wide = stdout_if_exit(
        &run_with(&cli, Some("80"), &["plan", "-o", "wide"]).await,
        0,
        "plan -o wide: ",
    );
    let roomy = stdout_if_exit(
        &run_with(&cli, Some("200"), &["plan"]).await,
        0,
        "plan COLUMNS=200: ",
    );
    for reason in &reasons {
        assert!(
            wide.lines()
                .any(|l| l.ends_with(reason) || l.contains(reason)),
            "-o wide keeps {reason:?} on one line:\n{wide}"
        );
        if reason.len() < 100 {
            assert!(
                roomy.lines().any(|l| l.contains(reason)),
                "200 columns keep {reason:?} on one line:\n{roomy}"
            );
        }
    }
    assert!(
        wide.lines()
            .any(|l| l.contains("app=0oaretryscim00000001;user=") && l.contains("(Acme SCIM, ")),
        "labels and logins beside ids: {wide}"
    );
    assert!(
        table_lines(&wide).iter().any(|l| l.chars().count() > 80),
        "-o wide is not fitted:\n{wide}"
    );
}

#[tokio::test]
async fn status_is_cut_to_the_terminal_unless_wide() {
    let cli = Cli::start(act_support::scenario("all-situations")).await;
    let _ = run_with(&cli, None, &["apply", "--yes"]).await;
    let narrow = stdout_if_exit(
        &run_with(&cli, Some("80"), &["status"]).await,
        0,
        "status COLUMNS=80: ",
    );
    let wide = stdout_if_exit(
        &run_with(&cli, Some("80"), &["status", "-o", "wide"]).await,
        0,
        "status -o wide: ",
    );
    assert!(narrow.lines().all(|l| l.chars().count() <= 80), "{narrow}");
    assert!(narrow.contains('…'), "something was cut: {narrow}");
    assert!(wide.lines().any(|l| l.chars().count() > 80), "{wide}");
    assert!(!wide.contains('…'), "{wide}");
    assert_eq!(narrow.lines().count(), wide.lines().count());
}
