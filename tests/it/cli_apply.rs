//! `remediator apply` through the real binary against okta-sim, with the sled journal on disk:
//! the confirmation rule, the exit codes and summary, and crash safety: the process is killed
//! (SIGKILL) at every step boundary of each multi-step fix, then started again; the restart
//! completes the fix from the journal, no step is done twice, and provisioning is never left
//! enabled.

use crate::support::act as act_support;
use crate::support::cli::{count, stdout_if_exit, text, Cli, ORG2ORG};

use std::process::{Command, Stdio};

use act_support::{scenario, PARTNER_TOKEN};
use remediator::journal::JournalStore;

#[tokio::test]
async fn apply_refuses_to_act_without_yes_when_not_on_a_terminal() {
    let setup = Cli::start(scenario("features-disabled")).await;
    let out = setup.run(&["apply"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("--yes"), "{}", text(&out.stderr));
    assert!(!setup.state().exists(), "nothing was journaled");
    assert_eq!(setup.sim().stats().total, 0, "the org was not even read");
}

#[tokio::test]
async fn apply_fixes_the_org_and_a_second_plan_has_nothing_to_do() {
    let setup = Cli::start(scenario("all-situations")).await;
    let out = setup.run(&["apply", "--yes"]).await;
    // One retry (transient-times:2) fails its first attempt: a partial failure.
    let stdout = stdout_if_exit(&out, 3, "");
    assert!(stdout.contains("5 taken, 4 verified, 1 failed"), "{stdout}");
    assert!(stdout.contains("FAILED"), "{stdout}");
    assert!(
        stdout.contains("kpasswd-blocked"),
        "findings listed: {stdout}"
    );
    let plan = setup.run(&["plan", "--detailed-exitcode"]).await;
    assert_eq!(
        plan.status.code(),
        Some(0),
        "no changes pending: {}",
        text(&plan.stdout)
    );
    let verify = setup.run(&["journal", "verify"]).await;
    assert_eq!(verify.status.code(), Some(0), "{}", text(&verify.stdout));
    let export = setup.run(&["journal", "export"]).await;
    assert!(!text(&export.stdout).contains(PARTNER_TOKEN));
}

#[tokio::test]
async fn apply_only_and_max_actions() {
    let setup = Cli::start(scenario("all-situations")).await;
    let out = setup
        .run(&[
            "apply",
            "--yes",
            "--only",
            "force-sync",
            "--max-actions",
            "1",
        ])
        .await;
    let stdout = stdout_if_exit(&out, 0, "");
    assert!(stdout.contains("1 taken, 1 verified"), "{stdout}");
    assert!(!stdout.contains("retry-provisioning "), "--only: {stdout}");
    let bad = setup.run(&["apply", "--yes", "--only", "reboot"]).await;
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        text(&bad.stderr).contains("--only reboot"),
        "{}",
        text(&bad.stderr)
    );
}

#[tokio::test]
async fn apply_carries_out_a_saved_plan() {
    let setup = Cli::start(scenario("features-disabled")).await;
    let plan_path = setup.dir.path().join("plan.json");
    let plan_arg = plan_path.to_str().expect("utf-8 path");
    let planned = setup.run(&["plan", "--out", plan_arg]).await;
    assert_eq!(planned.status.code(), Some(0), "{}", text(&planned.stderr));
    let out = setup.run(&["apply", "--yes", "--plan", plan_arg]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("1 verified"),
        "{}",
        text(&out.stdout)
    );
    let again = setup.run(&["apply", "--yes", "--plan", plan_arg]).await;
    assert!(
        text(&again.stdout).contains("1 skipped"),
        "{}",
        text(&again.stdout)
    );
    std::fs::write(&plan_path, "{\"org\": 1}").expect("write");
    let broken = setup.run(&["apply", "--yes", "--plan", plan_arg]).await;
    assert_eq!(broken.status.code(), Some(1));
    assert!(
        text(&broken.stderr).contains("plan.json"),
        "{}",
        text(&broken.stderr)
    );
}

/// A plan saved before actions carried a `mode` and findings an `id` is carried out as it was
/// then: each action's mode comes from the policy in force when the file is read.
#[tokio::test]
async fn apply_carries_out_a_plan_saved_before_actions_had_a_mode() {
    let setup = Cli::start(scenario("all-situations")).await;
    let plan_path = setup.dir.path().join("older-plan.json");
    let plan_arg = plan_path.to_str().expect("utf-8 path");
    let planned = setup
        .run(&["plan", "--output", "json", "--out", plan_arg])
        .await;
    assert_eq!(planned.status.code(), Some(0), "{}", text(&planned.stderr));
    let mut plan: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&plan_path).expect("read plan")).expect("json");
    // Plans of then had neither modes, finding ids nor digests.
    for field in ["policy_digest", "policy_files", "plan_digest"] {
        plan.as_object_mut().expect("a plan").remove(field);
    }
    for action in plan["actions"].as_array_mut().expect("actions") {
        action.as_object_mut().expect("an action").remove("mode");
    }
    for finding in plan["findings"].as_array_mut().expect("findings") {
        finding.as_object_mut().expect("a finding").remove("id");
    }
    let only_features: Vec<&serde_json::Value> = plan["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .filter(|a| a["kind"] == "fix-provisioning-features")
        .collect();
    assert_eq!(only_features.len(), 1, "{plan}");
    std::fs::write(&plan_path, plan.to_string()).expect("write the older plan");
    let out = setup
        .run(&[
            "apply",
            "--yes",
            "--plan",
            plan_arg,
            "--only",
            "fix-provisioning-features",
        ])
        .await;
    let stdout = stdout_if_exit(&out, 0, "an older plan: ");
    assert!(stdout.contains("1 taken, 1 verified"), "{stdout}");
    std::fs::write(&plan_path, "{").expect("write");
    let broken = setup.run(&["apply", "--yes", "--plan", plan_arg]).await;
    assert_eq!(broken.status.code(), Some(1));
    let stderr = text(&broken.stderr);
    assert!(
        stderr.contains("the saved plan") && stderr.contains("older-plan.json: not JSON"),
        "{stderr}"
    );
}

/// Kills `apply` at `step`, checks the journal holds the unfinished fix, restarts, and checks
/// the fix is finished and the org is as the fix leaves it.
async fn crash_and_restart(name: &str, step: u32) -> Cli {
    let setup = Cli::start(scenario(name)).await;
    setup.apply_and_kill_at(step).await;
    let recovered = {
        let journal = setup.journal();
        let unfinished = journal.unfinished_fixes().expect("fixes");
        assert_eq!(
            unfinished.len(),
            1,
            "{name} step {step}: one unfinished fix"
        );
        assert!(journal.verify().expect("verify").is_ok());
        unfinished[0].action_id.clone()
    };
    let out = setup.run(&["apply", "--yes"]).await;
    let stdout = stdout_if_exit(&out, 0, &format!("{name} step {step}: "));
    assert!(
        stdout.contains("recovered after a restart"),
        "{name} step {step}: {stdout}"
    );
    assert!(stdout.contains("verified"), "{name} step {step}: {stdout}");
    let journal = setup.journal();
    assert!(journal.unfinished_fixes().expect("fixes").is_empty());
    assert!(journal.verify().expect("verify").is_ok());
    // apply recovers where the daemon does: at the start of the pass, before it plans.
    let run = act_support::latest_run(&journal);
    act_support::assert_recovered_before_planning(&journal, &run, &recovered);
    drop(journal);
    let plan = setup.run(&["plan", "--detailed-exitcode"]).await;
    assert_eq!(
        plan.status.code(),
        Some(0),
        "{name} step {step}: {}",
        text(&plan.stdout)
    );
    setup
}

#[tokio::test]
async fn a_remove_push_mappings_fix_killed_at_any_step_is_completed_on_restart() {
    // 0: after the intent; 1: enable provisioning; 2-3: deactivate; 4-5: delete; 6: disable.
    for step in 0..=6 {
        let setup = crash_and_restart("orphaned-push-mappings", step).await;
        let app = act_support::app_state(setup.sim(), ORG2ORG);
        assert_eq!(app["provisioning"]["enabled"], false, "step {step}");
        assert_eq!(app["mappings"], serde_json::json!([]), "step {step}");
        let sim = setup.sim();
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
            assert_eq!(
                count(sim, endpoint),
                times,
                "step {step}: {endpoint} (stats: {:?})",
                sim.stats().endpoints.keys().collect::<Vec<_>>()
            );
        }
    }
}

#[tokio::test]
async fn a_features_fix_killed_at_any_step_is_completed_on_restart() {
    // 0: after the intent; 1: update the features; 2-3: re-push the two users.
    for step in 0..=3 {
        let setup = crash_and_restart("features-disabled", step).await;
        let sim = setup.sim();
        assert_eq!(
            count(sim, "PUT /api/v1/apps/{id}/features/USER_PROVISIONING"),
            1,
            "step {step}"
        );
        assert_eq!(
            count(sim, "POST /api/v1/apps/{id}/users/{id}"),
            2,
            "step {step}: each user re-pushed once"
        );
        for user in ["00ufeat0000000000001", "00ufeat0000000000002"] {
            assert_eq!(
                sim.app_user_sync_state("0oafeatslack00000001", user)
                    .as_deref(),
                Some("SYNCHRONIZED"),
                "step {step}: {user}"
            );
        }
    }
}

/// Runs `apply` on a pseudo-terminal (util-linux `script`), answering the question with
/// `answer`.
async fn apply_on_a_terminal(setup: &Cli, answer: &'static str) -> Option<(i32, String)> {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("util-linux `script` is not installed: the terminal test cannot run here");
        return None;
    }
    let probe = setup.command(&["apply"]);
    let mut line = format!("{:?}", probe.get_program());
    for arg in probe.get_args() {
        line.push(' ');
        line.push_str(&format!("{arg:?}"));
    }
    let mut command = Command::new("script");
    command.args(["-qec", &line, "/dev/null"]);
    for (key, value) in probe.get_envs() {
        match value {
            Some(value) => command.env(key, value),
            None => command.env_remove(key),
        };
    }
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let out = tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut child = command.spawn().expect("spawn script");
        // The question is asked after the org was read; the answer waits in the terminal.
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(answer.as_bytes())
            .expect("answer");
        child.wait_with_output().expect("script output")
    })
    .await
    .expect("join");
    Some((out.status.code().unwrap_or(-1), text(&out.stdout)))
}

#[tokio::test]
async fn on_a_terminal_apply_shows_the_plan_and_asks_first() {
    let setup = Cli::start(scenario("features-disabled")).await;
    let Some((code, stdout)) = apply_on_a_terminal(&setup, "n\n").await else {
        return;
    };
    assert_eq!(code, 1, "declining exits 1, as Terraform does: {stdout}");
    assert!(stdout.contains("Carry out 1 action(s)"), "{stdout}");
    assert!(stdout.contains("Nothing was done."), "{stdout}");
    assert_eq!(
        count(
            setup.sim(),
            "PUT /api/v1/apps/{id}/features/USER_PROVISIONING"
        ),
        0,
        "no answer, no change"
    );
    {
        let journal = setup.journal();
        let run = act_support::latest_run(&journal);
        let entries = journal
            .list(&remediator::journal::EntryFilter {
                run_id: Some(run),
                ..Default::default()
            })
            .expect("list");
        let declined = entries.iter().any(|e| {
            matches!(&e.kind, remediator::journal::EntryKind::Note { text } if text.contains("declined"))
        });
        assert!(declined, "the journal says the plan was declined");
    }
    let Some((code, stdout)) = apply_on_a_terminal(&setup, "y\n").await else {
        return;
    };
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("1 taken, 1 verified"), "{stdout}");
}

#[tokio::test]
async fn a_dry_run_rule_s_actions_stay_previews_and_do_not_fail_the_run() {
    let setup = Cli::start(scenario("orphaned-push-mappings")).await;
    // The shipped policies: remove_push_mappings is in dry-run mode.
    let policies = setup.dir.path().join("policies");
    for entry in std::fs::read_dir("policies").expect("shipped policies") {
        let path = entry.expect("entry").path();
        std::fs::copy(&path, policies.join(path.file_name().expect("name"))).expect("copy");
    }
    let out = setup.run(&["apply", "--yes"]).await;
    let stdout = stdout_if_exit(&out, 0, "");
    assert!(stdout.contains("previewed only"), "{stdout}");
    assert!(stdout.contains("remove-push-mappings"), "{stdout}");
    assert!(stdout.contains("0 taken"), "{stdout}");
    assert_eq!(
        count(
            setup.sim(),
            "PATCH /api/v1/apps/{id}/group-push/mappings/{id}"
        ) + count(setup.sim(), "POST /api/v1/apps/{id}/connections/default"),
        0,
        "a preview changes nothing"
    );
}

/// Recovery compensates only what the fix itself began: killed right after its intent, then an
/// admin re-enables the app's provisioning by hand and the rule goes to report mode; the next
/// start closes the fix without disabling the admin's provisioning.
#[tokio::test]
async fn recovery_never_undoes_what_the_fix_did_not_do() {
    let setup = Cli::start(scenario("orphaned-push-mappings")).await;
    setup.apply_and_kill_at(0).await;
    let response = reqwest::Client::new()
        .post(format!(
            "{}/api/v1/apps/{ORG2ORG}/connections/default?activate=true",
            setup.sim().base_url()
        ))
        .header("Authorization", format!("SSWS {}", setup.token()))
        .json(&serde_json::json!({
            "profile": { "authScheme": "TOKEN", "token": PARTNER_TOKEN }
        }))
        .send()
        .await
        .expect("admin enables provisioning");
    assert!(response.status().is_success(), "{}", response.status());
    let safety = setup.dir.path().join("policies/safety.toml");
    let policy = std::fs::read_to_string(&safety)
        .expect("safety.toml")
        .replace(
            "remove_push_mappings = \"enforce\"",
            "remove_push_mappings = \"report\"",
        );
    std::fs::write(&safety, policy).expect("write safety.toml");
    let out = setup.run(&["apply", "--yes"]).await;
    let stdout = text(&out.stdout);
    assert!(stdout.contains("recovered after a restart"), "{stdout}");
    assert!(
        stdout.contains("never began enabling provisioning"),
        "{stdout}"
    );
    let app = act_support::app_state(setup.sim(), ORG2ORG);
    assert_eq!(
        app["provisioning"]["enabled"], true,
        "the admin's provisioning was disabled"
    );
    assert!(setup
        .journal()
        .unfinished_fixes()
        .expect("fixes")
        .is_empty());
}
