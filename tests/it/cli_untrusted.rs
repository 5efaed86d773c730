//! Untrusted input and a real org's answers through the real binary, against okta-sim on
//! loopback with the sled journal on disk: edited saved plans and a policy changed since the plan
//! are refused; provisioning is enabled in Okta's two calls and every step of a removal is read
//! back, so an activation that does not take effect stops and compensates the fix; a damaged
//! journal (a truncated database file, one edited byte) is refused before the org is touched, and
//! the documented way out works; token-like org data is redacted in the plan JSON and table.

use crate::support::act as act_support;
use crate::support::cli::{count, stdout_if_exit, text, Cli, ORG2ORG};

use std::path::{Path, PathBuf};

use act_support::scenario;
use okta_sim::SimHandle;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Requests that change the org (anything but GET), whatever their endpoint.
fn writes(sim: &SimHandle) -> u64 {
    sim.stats()
        .endpoints
        .iter()
        .filter(|(endpoint, _)| !endpoint.starts_with("GET "))
        .map(|(_, stats)| stats.count)
        .sum()
}

async fn reset_stats(sim: &SimHandle) {
    let answer = reqwest::Client::new()
        .post(format!("{}/__sim/stats/reset", sim.base_url()))
        .send()
        .await
        .expect("control route");
    assert!(answer.status().is_success());
}

/// `plan --out` into the setup's directory: the path and the saved JSON.
async fn save_plan(setup: &Cli) -> (PathBuf, Value) {
    let path = setup.dir.path().join("plan.json");
    let arg = path.to_str().expect("utf-8 path");
    let planned = setup.run(&["plan", "--output", "json", "--out", arg]).await;
    assert_eq!(planned.status.code(), Some(0), "{}", text(&planned.stderr));
    let saved = serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
    (path, saved)
}

/// What an editor who knows the format does: recompute `plan_digest` after the edit.
fn reseal(plan: &mut Value) {
    let mut content = plan.clone();
    for field in ["policy_digest", "policy_files", "plan_digest"] {
        content.as_object_mut().expect("a plan").remove(field);
    }
    let digest = format!(
        "sha256:{}",
        hex::encode(Sha256::digest(content.to_string().as_bytes()))
    );
    plan["plan_digest"] = Value::from(digest);
}

fn write(path: &Path, plan: &Value) {
    std::fs::write(path, serde_json::to_string_pretty(plan).expect("json")).expect("write plan");
}

/// The saved plan's action of `kind`, edited as JSON text by `edit`.
fn edit_actions(plan: &mut Value, kind: &str, edit: &dyn Fn(Value) -> Value) {
    for action in plan["actions"].as_array_mut().expect("actions") {
        if action["kind"] == kind {
            *action = edit(action.clone());
        }
    }
}

fn replace_in(value: Value, from: &str, to: &str) -> Value {
    serde_json::from_str(&value.to_string().replace(from, to)).expect("still JSON")
}

/// Runs `apply --yes --plan` with `extra` arguments.
async fn apply_plan(setup: &Cli, path: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "apply",
        "--yes",
        "--plan",
        path.to_str().expect("utf-8 path"),
    ];
    args.extend_from_slice(extra);
    setup.run(&args).await
}

const HEALTHY_APP: &str = "0oafeatslack00000001";
const OUTSIDE_RETRY_POLICY: &str = "0oacredszoom00000001";

/// A removal re-aimed at a healthy app: refused whole while the digest is the one recorded, and
/// action by action (the plan made afresh does not hold it) once the editor recomputes it; the
/// healthy app's provisioning is never touched.
#[tokio::test]
async fn a_saved_removal_aimed_at_a_healthy_app_is_refused() {
    let setup = Cli::start(scenario("all-situations")).await;
    let (path, mut plan) = save_plan(&setup).await;
    edit_actions(&mut plan, "remove-push-mappings", &|a| {
        replace_in(a, ORG2ORG, HEALTHY_APP)
    });
    write(&path, &plan);
    reset_stats(setup.sim()).await;
    let out = apply_plan(&setup, &path, &[]).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("plan.json: the plan was changed since it was made"),
        "{stderr}"
    );
    assert_eq!(
        setup.sim().stats().total,
        0,
        "refused before the org was read"
    );

    reseal(&mut plan);
    write(&path, &plan);
    let out = apply_plan(&setup, &path, &["--only", "remove-push-mappings"]).await;
    let stdout = stdout_if_exit(&out, 0, "a resealed edit: ");
    assert!(stdout.contains("0 taken"), "{stdout}");
    assert!(
        stdout.contains("not carried out from the saved plan")
            && stdout.contains("(target, steps, preconditions): it was edited"),
        "{stdout}"
    );
    assert_eq!(
        writes(setup.sim()),
        0,
        "{:?}",
        setup.sim().stats().endpoints
    );
    let healthy = act_support::app_state(setup.sim(), HEALTHY_APP);
    assert_eq!(healthy["provisioning"]["enabled"], true);
}

/// A retry re-aimed at an app outside `retry_provisioning.apps`, and a retry grown to 5,000
/// users, are not carried out.
#[tokio::test]
async fn saved_retries_outside_the_policy_or_grown_to_5000_users_are_refused() {
    let setup = Cli::start(scenario("all-situations")).await;
    let (path, saved) = save_plan(&setup).await;
    let retries = saved["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .filter(|a| a["kind"] == "retry-provisioning")
        .count();
    assert!(retries >= 2, "{saved}");

    let mut outside = saved.clone();
    edit_actions(&mut outside, "retry-provisioning", &|a| {
        replace_in(a, "0oaretryscim00000001", OUTSIDE_RETRY_POLICY)
    });
    reseal(&mut outside);
    write(&path, &outside);
    reset_stats(setup.sim()).await;
    let out = apply_plan(&setup, &path, &["--only", "retry-provisioning"]).await;
    let stdout = stdout_if_exit(&out, 0, "outside the policy: ");
    assert!(stdout.contains("0 taken"), "{stdout}");
    assert_eq!(stdout.matches("it was edited").count(), retries, "{stdout}");
    assert_eq!(
        writes(setup.sim()),
        0,
        "{:?}",
        setup.sim().stats().endpoints
    );

    let mut grown = saved.clone();
    edit_actions(&mut grown, "retry-provisioning", &|mut a| {
        let step = a["steps"][0].clone();
        let steps: Vec<Value> = (0..5_000)
            .map(|i| {
                let mut s = step.clone();
                s["user_id"] = Value::from(format!("00u{i:017}"));
                s
            })
            .collect();
        a["steps"] = Value::from(steps);
        a
    });
    reseal(&mut grown);
    write(&path, &grown);
    let out = apply_plan(&setup, &path, &["--only", "retry-provisioning"]).await;
    let stdout = stdout_if_exit(&out, 0, "5,000 users: ");
    assert!(stdout.contains("0 taken"), "{stdout}");
    assert!(stdout.contains("(steps): it was edited"), "{stdout}");
    assert_eq!(
        writes(setup.sim()),
        0,
        "{:?}",
        setup.sim().stats().endpoints
    );
}

/// A plan made under another policy is refused naming the file that changed; a comment is no
/// change.
#[tokio::test]
async fn a_saved_plan_made_under_another_policy_is_refused() {
    let setup = Cli::start(scenario("features-disabled")).await;
    let (path, _) = save_plan(&setup).await;
    let policies = setup.dir.path().join("policies");
    let retry = policies.join("retry.toml");
    let original = std::fs::read_to_string(&retry).expect("retry.toml");
    let changed = original.replace("max_attempts = 5", "max_attempts = 4");
    assert_ne!(changed, original);
    std::fs::write(&retry, changed).expect("write retry.toml");
    reset_stats(setup.sim()).await;
    let out = apply_plan(&setup, &path, &[]).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("the policy changed since the plan was made: retry.toml differs"),
        "{stderr}"
    );
    assert_eq!(setup.sim().stats().total, 0);

    std::fs::write(&retry, format!("# reviewed\n{original}")).expect("write retry.toml");
    let out = apply_plan(&setup, &path, &[]).await;
    let stdout = stdout_if_exit(&out, 0, "a comment is no change: ");
    assert!(stdout.contains("1 taken, 1 verified"), "{stdout}");
}

/// The removal enables provisioning in the recorded two calls and reads every step back, each
/// read-back journaled with its step.
#[tokio::test]
async fn a_removal_enables_in_two_calls_and_reads_every_step_back() {
    let setup = Cli::start(scenario("orphaned-push-mappings")).await;
    let out = setup.run(&["apply", "--yes"]).await;
    let stdout = stdout_if_exit(&out, 0, "");
    assert!(stdout.contains("1 taken, 1 verified"), "{stdout}");
    for (endpoint, times) in [
        ("POST /api/v1/apps/{id}/connections/default", 1),
        (
            "POST /api/v1/apps/{id}/connections/default/lifecycle/activate",
            1,
        ),
        ("PATCH /api/v1/apps/{id}/group-push/mappings/{id}", 2),
        ("DELETE /api/v1/apps/{id}/group-push/mappings/{id}", 2),
        (
            "POST /api/v1/apps/{id}/connections/default/lifecycle/deactivate",
            1,
        ),
    ] {
        assert_eq!(count(setup.sim(), endpoint), times, "{endpoint}");
    }
    let export = text(&setup.run(&["journal", "export"]).await.stdout);
    for read_back in [
        "token set (answered DISABLED), lifecycle/activate; read back: ENABLED",
        "PATCH INACTIVE; read back: INACTIVE",
        "read back INACTIVE, DELETE; read back: gone",
        "lifecycle/deactivate; read back: DISABLED",
    ] {
        assert!(export.contains(read_back), "{read_back}: {export}");
    }
}

/// Okta acknowledges the activation (204) but the connection stays DISABLED: the fix stops
/// before any mapping write and is compensated, never verified.
#[tokio::test]
async fn an_activation_that_does_not_take_effect_stops_and_compensates_the_fix() {
    let setup = Cli::start(scenario("orphaned-push-mappings")).await;
    let rule = serde_json::json!({
        "path_prefix": format!("/api/v1/apps/{ORG2ORG}/connections/default/lifecycle/activate"),
        "method": "POST",
        "kind": { "type": "ignored" },
    });
    let added = reqwest::Client::new()
        .post(format!("{}/__sim/faults", setup.sim().base_url()))
        .json(&rule)
        .send()
        .await
        .expect("control route");
    assert_eq!(added.status(), 201);
    let out = setup.run(&["apply", "--yes"]).await;
    let stdout = stdout_if_exit(&out, 3, "");
    assert!(stdout.contains("0 verified"), "{stdout}");
    assert!(stdout.contains("1 compensated"), "{stdout}");
    assert!(
        stdout.contains("is DISABLED after lifecycle/activate"),
        "{stdout}"
    );
    for endpoint in [
        "PATCH /api/v1/apps/{id}/group-push/mappings/{id}",
        "DELETE /api/v1/apps/{id}/group-push/mappings/{id}",
    ] {
        assert_eq!(
            count(setup.sim(), endpoint),
            0,
            "no mapping write: {endpoint}"
        );
    }
    let app = act_support::app_state(setup.sim(), ORG2ORG);
    assert_eq!(app["provisioning"]["enabled"], false);
    assert_eq!(app["mappings"].as_array().map(Vec::len), Some(2));
    let verified = setup
        .run(&["journal", "list", "--outcome", "verified"])
        .await;
    assert_eq!(
        text(&verified.stdout).lines().count(),
        1,
        "only the header: nothing was verified"
    );
    let export = text(&setup.run(&["journal", "export"]).await.stdout);
    assert!(export.contains("read back: DISABLED"), "{export}");
}

/// A journal made by a pass that held every action (`--max-actions 0`), so the org still needs
/// the fix afterwards.
async fn journal_with_nothing_done(setup: &Cli) {
    for _ in 0..3 {
        let out = setup.run(&["apply", "--yes", "--max-actions", "0"]).await;
        assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    }
}

fn db_file(state: &Path) -> PathBuf {
    let db = state.join("db");
    assert!(db.is_file(), "sled keeps its log in {}", db.display());
    db
}

/// `journal verify` and `apply` on a damaged journal: a clear error naming the directory and the
/// way out, no panic, and not one request that changes the org.
async fn assert_refused(setup: &Cli) {
    let state = setup.state().display().to_string();
    let verify = setup.run(&["journal", "verify"]).await;
    assert_eq!(verify.status.code(), Some(1), "{}", text(&verify.stdout));
    let said = format!("{}{}", text(&verify.stdout), text(&verify.stderr));
    assert!(!said.contains("panicked"), "{said}");
    reset_stats(setup.sim()).await;
    let out = setup.run(&["apply", "--yes"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stderr.contains("refusing to act on the org")
            && stderr.contains(&state)
            && stderr.contains("journal export --best-effort")
            && stderr.contains("journal new --continue-from"),
        "{stderr}"
    );
    assert_eq!(
        writes(setup.sim()),
        0,
        "{:?}",
        setup.sim().stats().endpoints
    );
}

/// The way out, end to end: export what is readable, move the journal aside, start a new one
/// continuing the old chain; it verifies, says what it continues, and apply acts again.
async fn take_the_way_out(setup: &Cli) {
    let export_path = setup.dir.path().join("old-journal.jsonl");
    let export = setup.run(&["journal", "export", "--best-effort"]).await;
    assert!(
        matches!(export.status.code(), Some(0 | 3)),
        "{}",
        text(&export.stderr)
    );
    assert!(
        text(&export.stderr).contains("readable entries"),
        "{}",
        text(&export.stderr)
    );
    std::fs::write(&export_path, &export.stdout).expect("write the export");
    let last: Value = serde_json::from_str(
        text(&export.stdout)
            .lines()
            .last()
            .expect("some entries are readable"),
    )
    .expect("an entry");
    std::fs::rename(setup.state(), setup.dir.path().join("state.damaged")).expect("move aside");
    let new = setup
        .run(&[
            "journal",
            "new",
            "--continue-from",
            export_path.to_str().expect("utf-8"),
        ])
        .await;
    let stdout = stdout_if_exit(&new, 0, "journal new: ");
    assert!(stdout.contains("continues"), "{stdout}");
    let verify = setup.run(&["journal", "verify"]).await;
    assert_eq!(verify.status.code(), Some(0), "{}", text(&verify.stdout));
    let first = setup.run(&["journal", "export"]).await;
    let first: Value =
        serde_json::from_str(text(&first.stdout).lines().next().expect("an entry")).expect("json");
    assert_eq!(first["kind"]["type"], "chain_continued", "{first}");
    assert_eq!(first["kind"]["previous_last_hash"], last["hash"], "{first}");
    let out = setup.run(&["apply", "--yes"]).await;
    let stdout = stdout_if_exit(&out, 0, "apply on the new journal: ");
    assert!(stdout.contains("1 taken, 1 verified"), "{stdout}");
}

#[tokio::test]
async fn a_truncated_journal_is_refused_and_the_way_out_works() {
    let setup = Cli::start(scenario("features-disabled")).await;
    journal_with_nothing_done(&setup).await;
    let db = db_file(&setup.state());
    let bytes = std::fs::read(&db).expect("read db");
    // sled's log file is allocated in segments: half of what was written, not of the zeros after.
    let written = bytes
        .iter()
        .rposition(|b| *b != 0)
        .expect("the log holds data")
        + 1;
    std::fs::write(&db, &bytes[..written / 2]).expect("truncate");
    assert_refused(&setup).await;
    take_the_way_out(&setup).await;
}

#[tokio::test]
async fn a_journal_with_one_edited_byte_is_refused_and_the_way_out_works() {
    let setup = Cli::start(scenario("features-disabled")).await;
    journal_with_nothing_done(&setup).await;
    let db = db_file(&setup.state());
    let mut bytes = std::fs::read(&db).expect("read db");
    let needle = b"\"run_finished\"";
    let at = bytes
        .windows(needle.len())
        .rposition(|w| w == needle)
        .expect("the last run's end is in the log");
    bytes[at + 5] = b'X';
    std::fs::write(&db, &bytes).expect("edit one byte");
    assert_refused(&setup).await;
    take_the_way_out(&setup).await;
}

/// Org data that looks like an API token never reaches the plan's JSON, its table, or the
/// saved plan.
#[tokio::test]
async fn token_like_org_data_is_redacted_in_the_plan_json_and_table() {
    const LOOKS_LIKE_A_TOKEN: &str = "00abcdefghijABCDEFGHIJ0123456789-_klmnopqr";
    let mut scenario = scenario("retry-transient");
    for user in &mut scenario.apps[0].users {
        if let Some(text) = &mut user.error_text {
            text.push_str(&format!(" (request {LOOKS_LIKE_A_TOKEN})"));
        }
    }
    let setup = Cli::start(scenario).await;
    let out_path = setup.dir.path().join("plan.json");
    let json = setup
        .run(&[
            "plan",
            "--output",
            "json",
            "--out",
            out_path.to_str().expect("utf-8"),
        ])
        .await;
    let json = stdout_if_exit(&json, 0, "plan json: ");
    assert!(
        json.contains("[redacted: looked like an Okta API token]"),
        "{json}"
    );
    let table = setup.run(&["plan"]).await;
    let table = format!("{}{}", text(&table.stdout), text(&table.stderr));
    let saved = std::fs::read_to_string(&out_path).expect("saved plan");
    for (what, shown) in [("json", &json), ("table", &table), ("saved", &saved)] {
        assert!(!shown.contains(LOOKS_LIKE_A_TOKEN), "{what}: {shown}");
    }
}
