//! An org that cannot be read at all, through the real binary against okta-sim over loopback:
//! a rejected API token (401 E0000011), a service app without the apps scope (403 E0000006) and
//! a closed port. `plan` and `apply` exit 1 with one line on stderr saying what failed and what
//! to check, print no plan and never "nothing to do"; `apply` journals the run as failed.

use crate::support::act as act_support;
use crate::support::cli as cli_support;

use cli_support::{parts, with_service_app, Cli, SERVICE_APP_ID};

const WRONG_TOKEN: &str = "00wrong-token-Xq7v";

/// The one error line on stderr (the last; the client's retries may be logged before it),
/// once the run exited 1 and printed nothing on stdout.
fn one_error_line(out: &std::process::Output, what: &str) -> String {
    let (code, stdout, stderr) = parts(out);
    assert_eq!(code, Some(1), "{what}: exit code\n{stdout}\n{stderr}");
    assert_eq!(stdout, "", "{what}: no plan, no \"nothing to do\"");
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(
        errors.len(),
        1,
        "{what}: one error line on stderr: {stderr}"
    );
    assert_eq!(stderr.lines().last(), Some(errors[0]), "{what}: {stderr}");
    errors[0].to_owned()
}

#[tokio::test]
async fn a_rejected_token_is_an_error_that_says_to_check_the_token() {
    let cli = Cli::start(act_support::scenario("healthy"))
        .await
        .env("OKTA_CLIENT_TOKEN", WRONG_TOKEN);
    let expected = format!(
        "error: Okta rejected the API token (HTTP 401 E0000011 Invalid token provided) for GET \
         /api/v1/apps: check OKTA_CLIENT_TOKEN (or okta.client.token in okta.yaml) for {}",
        cli.org_url()
    );
    for args in [
        &["plan"][..],
        &["plan", "--detailed-exitcode"],
        &["plan", "--output", "json"],
    ] {
        let line = one_error_line(&cli.run(args).await, &args.join(" "));
        assert_eq!(line, expected, "{args:?}");
        assert!(!line.contains(WRONG_TOKEN));
    }
    assert!(!cli.state().exists(), "plan writes no journal");

    let line = one_error_line(&cli.run(&["apply", "--yes"]).await, "apply --yes");
    assert!(line.starts_with(&expected), "{line}");
    assert!(line.contains("journaled as failed"), "{line}");

    let (code, list, _) = parts(&cli.run(&["journal", "list"]).await);
    assert_eq!(code, Some(0));
    let finished = list
        .lines()
        .find(|l| l.contains("run_finished"))
        .expect("the run is journaled as finished");
    assert!(finished.contains(" failed "), "{finished}");
    assert!(
        finished.contains("HTTP 401 E0000011 Invalid token provided"),
        "{finished}"
    );
    assert!(
        !list.contains("plan_recorded"),
        "nothing was planned: {list}"
    );
    let (_, export, _) = parts(&cli.run(&["journal", "export"]).await);
    assert!(!export.contains(WRONG_TOKEN), "no secret in the journal");
}

#[tokio::test]
async fn a_service_app_without_the_apps_scope_is_told_which_scope_to_grant() {
    let scenario = with_service_app(act_support::scenario("healthy"), &["okta.logs.read"]);
    let cli = Cli::start(scenario).await.service_app("okta.logs.read");
    let line = one_error_line(&cli.run(&["plan"]).await, "plan");
    assert!(
        line.starts_with("error: Okta refused GET /api/v1/apps (HTTP 403 E0000006 "),
        "{line}"
    );
    assert!(
        line.ends_with(&format!(
            "missing scope okta.apps.read: grant it to the service app {SERVICE_APP_ID} and \
             request it"
        )),
        "{line}"
    );
    let line = one_error_line(&cli.run(&["apply", "--yes"]).await, "apply --yes");
    assert!(line.contains("missing scope okta.apps.read"), "{line}");
}

#[tokio::test]
async fn a_closed_port_is_an_error_that_says_the_org_cannot_be_reached() {
    let cli = Cli::closed_port();
    let line = one_error_line(
        &cli.run(&["plan", "--detailed-exitcode"]).await,
        "plan --detailed-exitcode",
    );
    let start = format!(
        "error: cannot reach {} for GET /api/v1/apps (no connection: ",
        cli.org_url()
    );
    assert!(line.starts_with(&start), "{line}");
    assert!(
        line.ends_with("attempts): check the org URL and the network"),
        "the retries are counted: {line}"
    );

    let line = one_error_line(&cli.run(&["apply", "--yes"]).await, "apply --yes");
    assert!(line.starts_with(&start), "{line}");
    let (_, list, _) = parts(&cli.run(&["journal", "list"]).await);
    assert!(
        list.lines()
            .any(|l| l.contains("run_finished") && l.contains(" failed ")),
        "{list}"
    );
}
