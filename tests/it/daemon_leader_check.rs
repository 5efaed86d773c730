//! Leader election cannot be silently off: a build without the `kubernetes` feature, asked for
//! leader election (by `REMEDIATOR_LEADER_ELECTION=true` or the configuration's
//! `daemon.leader_election`), refuses to start `run` (exit 1, saying why and what to do) before
//! it reads any org or opens any journal.

use crate::support::cli::{parts, Cli};

#[cfg(not(feature = "kubernetes"))]
#[tokio::test]
async fn run_refuses_to_start_without_kubernetes_support_when_leader_election_is_asked() {
    let by_env = Cli::closed_port().env("REMEDIATOR_LEADER_ELECTION", "true");
    let (code, _, stderr) = parts(&by_env.run(&["run"]).await);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("REMEDIATOR_LEADER_ELECTION=true")
            && stderr.contains("no Kubernetes support")
            && stderr.contains("--features kubernetes"),
        "{stderr}"
    );
    assert!(!by_env.state().exists(), "no journal was opened");

    let by_file = Cli::closed_port();
    let config = by_file.dir.path().join("remediator.toml");
    std::fs::write(
        &config,
        format!(
            "[daemon]\nleader_election = true\n\n[[orgs]]\nname = \"prod\"\nurl = \"{}\"\n\
             credentials = {{ token_env = \"OKTA_CLIENT_TOKEN\" }}\n",
            by_file.org_url()
        ),
    )
    .expect("write config");
    let config = config.to_str().expect("utf-8 path");
    let (code, _, stderr) = parts(&by_file.run(&["--config", config, "run"]).await);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("daemon.leader_election in") && stderr.contains("no Kubernetes support"),
        "{stderr}"
    );
    assert!(!by_file.state().exists(), "no journal was opened");
}

#[tokio::test]
async fn a_leader_election_setting_other_than_true_or_false_is_refused() {
    let setup = Cli::closed_port().env("REMEDIATOR_LEADER_ELECTION", "yes");
    let (code, _, stderr) = parts(&setup.run(&["run"]).await);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("REMEDIATOR_LEADER_ELECTION=\"yes\" is not `true` or `false`"),
        "{stderr}"
    );
}
