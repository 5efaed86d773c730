//! Output for scripts and for terminals, through the real binary: `-o json` of `apply` (the run
//! report), `journal list` and `policy validate`; `journal list` with a header, stable columns,
//! `--since` as a duration, fitted to `COLUMNS` unless `-o wide`.

use crate::support::act::scenario;
use crate::support::cli::{parts, stdout_if_exit, Cli};

fn json(stdout: &str) -> serde_json::Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

#[tokio::test]
async fn apply_reports_the_run_as_json() {
    let setup = Cli::start(scenario("features-disabled")).await;
    let (code, _, stderr) = parts(&setup.run(&["apply", "-o", "json"]).await);
    assert_eq!(code, Some(1), "-o json needs --yes: {stderr}");
    assert!(stderr.contains("--yes"), "{stderr}");
    let out = setup.run(&["apply", "--yes", "-o", "json"]).await;
    let report = json(&stdout_if_exit(&out, 0, ""));
    assert_eq!(report["exit_code"], 0);
    assert_eq!(report["counts"]["verified"], 1, "{report:#}");
    assert_eq!(report["actions"][0]["outcome"], "verified", "{report:#}");
    assert_eq!(report["org"], setup.org_url());
    assert_eq!(report["complete"], true);
}

#[tokio::test]
async fn journal_list_has_a_header_json_since_a_duration_and_fits_columns() {
    let setup = Cli::start(scenario("features-disabled")).await;
    stdout_if_exit(&setup.run(&["apply", "--yes"]).await, 0, "");

    let list = stdout_if_exit(&setup.run(&["journal", "list"]).await, 0, "");
    let mut lines = list.lines();
    let header: Vec<&str> = lines.next().expect("a header").split_whitespace().collect();
    assert_eq!(
        header,
        ["ID", "TIME", "KIND", "OUTCOME", "ACTION", "TARGET", "NOTE"]
    );
    let rows: Vec<&str> = lines.collect();
    assert!(rows.len() >= 4, "{list}");
    for row in &rows {
        // Every column present (`-` for none), so `awk '{print $3}'` is the kind.
        assert!(row.split_whitespace().count() >= 6, "{row}");
    }

    let entries = json(&stdout_if_exit(
        &setup.run(&["journal", "list", "-o", "json"]).await,
        0,
        "",
    ));
    let entries = entries.as_array().expect("an array");
    assert_eq!(entries.len(), rows.len());
    assert!(entries.iter().all(|e| e["hash"].is_string()), "{entries:?}");

    let recent = stdout_if_exit(
        &setup.run(&["journal", "list", "--since", "1h"]).await,
        0,
        "",
    );
    assert_eq!(recent.lines().count(), rows.len() + 1, "{recent}");
    let future = stdout_if_exit(
        &setup
            .run(&["journal", "list", "--since", "2099-01-01T00:00:00Z"])
            .await,
        0,
        "",
    );
    assert_eq!(future.lines().count(), 1, "only the header: {future}");
}

#[tokio::test]
async fn journal_list_fits_columns_unless_wide() {
    // A run that could not read the org: its end carries the long reason in NOTE.
    let setup = Cli::closed_port();
    assert_eq!(setup.run(&["apply", "--yes"]).await.status.code(), Some(1));
    let list = |args: &[&str], columns: usize| {
        let mut command = setup.command(args);
        command.env("COLUMNS", columns.to_string());
        stdout_if_exit(&command.output().expect("run"), 0, "")
    };
    let wide = list(&["journal", "list", "-o", "wide"], 40);
    let note_at = wide
        .lines()
        .next()
        .and_then(|header| header.find("NOTE"))
        .expect("a NOTE column");
    let columns = note_at + 20;
    let longest = |text: &str| text.lines().map(|l| l.chars().count()).max().unwrap_or(0);
    assert!(longest(&wide) > columns, "-o wide is never cut: {wide}");
    let fitted = list(&["journal", "list"], columns);
    assert!(
        longest(&fitted) <= columns,
        "fits {columns} columns: {fitted}"
    );
    assert!(fitted.lines().any(|l| l.ends_with('…')), "{fitted}");
}

#[tokio::test]
async fn policy_validate_reports_json_with_each_error_located() {
    let setup = Cli::closed_port();
    let out = setup.run(&["policy", "validate", "-o", "json"]).await;
    let report = json(&stdout_if_exit(&out, 0, ""));
    assert_eq!(report["valid"], true, "{report:#}");
    assert_eq!(report["errors"], serde_json::json!([]));

    let bad = setup.dir.path().join("bad-policies");
    std::fs::create_dir_all(&bad).expect("mkdir");
    std::fs::write(
        bad.join("policy.toml"),
        "[retry_provisioning]\nmax_attempts = \"many\"\n",
    )
    .expect("write");
    let bad = bad.to_str().expect("utf-8");
    let out = setup.run(&["policy", "validate", bad, "-o", "json"]).await;
    let report = json(&stdout_if_exit(&out, 1, ""));
    assert_eq!(report["valid"], false, "{report:#}");
    let error = &report["errors"][0];
    assert_eq!(error["line"], 2, "{report:#}");
    assert!(error["file"]
        .as_str()
        .is_some_and(|f| f.ends_with("policy.toml")));
    assert!(
        error["field"]
            .as_str()
            .is_some_and(|f| f.contains("max_attempts")),
        "{report:#}"
    );
}

#[tokio::test]
async fn logs_into_a_pipe_have_no_colour() {
    // Retries of an org nothing listens at are logged as warnings on stderr (a pipe here).
    let setup = Cli::closed_port();
    let (code, _, stderr) = parts(&setup.run(&["plan"]).await);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("WARN"), "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "no ANSI escape: {stderr:?}");
}
