//! `plan`, `apply`, `status` and `journal` (prune too) take the daemon's `--config FILE --org NAME`, through the
//! real binary: the org's URL, credentials, policies and journal are the ones `run` would use
//! (`<--state>/<org>`), and a file of several orgs needs `--org`.

use crate::support::act::scenario;
use crate::support::cli::{parts, stdout_if_exit, Cli};

/// A configuration of two orgs: `alpha` (the served org) and `beta` (nothing listens there).
fn two_orgs(setup: &Cli, alpha: &str) -> String {
    let path = setup.dir.path().join("remediator.toml");
    std::fs::write(
        &path,
        format!(
            "[[orgs]]\nname = \"alpha\"\nurl = \"{}\"\ncredentials = {{ token_env = \"ALPHA_TOKEN\" }}\n\n\
             [[orgs]]\nname = \"beta\"\nurl = \"http://127.0.0.1:9\"\ncredentials = {{ token_env = \"BETA_TOKEN\" }}\n",
            alpha
        ),
    )
    .expect("write config");
    path.to_str().expect("utf-8 path").to_owned()
}

#[tokio::test]
async fn plan_apply_journal_and_status_work_on_the_org_of_config_and_org() {
    let served = Cli::start(scenario("features-disabled")).await;
    let token = served.token().to_owned();
    let alpha = served.org_url().to_owned();
    // Only the file's credentials: the convention's token points nowhere useful.
    let setup = served
        .env("ALPHA_TOKEN", &token)
        .env("OKTA_CLIENT_TOKEN", "not-the-token")
        .env("OKTA_CLIENT_ORGURL", "http://127.0.0.1:9");
    let config = two_orgs(&setup, &alpha);

    let (code, _, stderr) = parts(&setup.run(&["--config", &config, "plan"]).await);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("has 2 orgs: choose one with --org NAME (alpha, beta)"),
        "{stderr}"
    );
    let (code, _, stderr) = parts(
        &setup
            .run(&["--config", &config, "--org", "gamma", "plan"])
            .await,
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("no org \"gamma\""), "{stderr}");

    let plan = setup
        .run(&[
            "--config",
            &config,
            "--org",
            "alpha",
            "plan",
            "--detailed-exitcode",
        ])
        .await;
    let stdout = stdout_if_exit(&plan, 2, "");
    assert!(stdout.contains(&alpha), "{stdout}");
    assert!(!setup.state().exists(), "planning journals nothing");

    let apply = setup
        .run(&["--config", &config, "--org", "alpha", "apply", "--yes"])
        .await;
    let stdout = stdout_if_exit(&apply, 0, "");
    assert!(stdout.contains("1 taken, 1 verified"), "{stdout}");
    assert!(
        setup.state().join("alpha").exists(),
        "the daemon's journal of org alpha: <--state>/alpha"
    );

    let list = setup
        .run(&["--config", &config, "--org", "alpha", "journal", "list"])
        .await;
    let stdout = stdout_if_exit(&list, 0, "");
    assert!(stdout.contains("outcome"), "{stdout}");
    // status reads the same journal, and names the org as the configuration does.
    let status = setup
        .run(&[
            "--config", &config, "--org", "alpha", "status", "-o", "json",
        ])
        .await;
    let stdout = stdout_if_exit(&status, 0, "status: ");
    let status: serde_json::Value = serde_json::from_str(&stdout).expect("status JSON");
    assert_eq!(status["orgs"][0]["org"], "alpha", "{status}");
    assert!(
        status["orgs"][0]["last_run"]["run_id"].is_string(),
        "the apply above is its last run: {status}"
    );
    let plan = setup
        .run(&[
            "--config",
            &config,
            "--org",
            "alpha",
            "plan",
            "--detailed-exitcode",
        ])
        .await;
    stdout_if_exit(&plan, 0, "nothing pending after the fix: ");
    // journal prune works on the same journal.
    let export = setup.dir.path().join("alpha-pruned.jsonl");
    let prune = setup
        .run(&[
            "--config",
            &config,
            "--org",
            "alpha",
            "journal",
            "prune",
            "--older-than",
            "0s",
            "--export",
            export.to_str().expect("utf-8 path"),
        ])
        .await;
    let stdout = stdout_if_exit(&prune, 0, "prune: ");
    assert!(stdout.contains("pruned"), "{stdout}");
    let verify = setup
        .run(&["--config", &config, "--org", "alpha", "journal", "verify"])
        .await;
    let stdout = stdout_if_exit(&verify, 0, "verify: ");
    assert!(stdout.contains("from the anchor"), "{stdout}");
}
