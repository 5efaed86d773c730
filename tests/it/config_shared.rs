//! What the policy files and the daemon's configuration share (`remediator::config`): one rule
//! for environment variable names, the same refusal located at file:line:column and field,
//! and a secret pasted in place of a name never shown.

use std::path::Path;

use remediator::config::{is_var_name, CredentialSource, Diagnostic, MAX_VAR_NAME_LEN};
use remediator::daemon::{DaemonConfig, OrgCredentials};
use remediator::policy::Policy;

/// Names an admin may use, in either case.
const ACCEPTED: &[&str] = &[
    "ACME_SCIM_TOKEN",
    "acme_scim_token",
    "Acme_Token_2",
    "_PRIVATE",
    "A",
];

/// Not variable names: most are values pasted where the name belongs.
const REFUSED: &[&str] = &[
    "",
    "1TOKEN",
    "ACME-TOKEN",
    "ACME TOKEN",
    "SSWS 00aBcD",
    "00aBcD-xyz_secret",
    "A=B",
    "TOKÉN",
    "$ACME_TOKEN",
];

fn policy_with_env(name: &str) -> Result<CredentialSource, Vec<Diagnostic>> {
    let text =
        format!("[remove_push_mappings.apps.\"Acme SCIM\"]\ncredential = {{ env = \"{name}\" }}\n");
    let policy = Policy::load_sources(&[("push.toml", text)]).map_err(|e| e.0)?;
    Ok(policy.remove_push_mappings.apps[0].credential.clone())
}

fn daemon_with_env(key: &str, name: &str) -> Result<CredentialSource, Diagnostic> {
    let credentials = match key {
        "token_env" => format!("credentials = {{ token_env = \"{name}\" }}"),
        _ => format!("credentials = {{ client_id = \"0oa1\", private_key_env = \"{name}\" }}"),
    };
    let text =
        format!("[[orgs]]\nname = \"prod\"\nurl = \"https://prod.okta.com\"\n{credentials}\n");
    let config = DaemonConfig::parse(Path::new("remediator.toml"), &text)?;
    match config.orgs[0].credentials.clone() {
        OrgCredentials::Token(source) | OrgCredentials::PrivateKey { key: source, .. } => {
            Ok(source)
        }
        other => panic!("unexpected credentials {other:?}"),
    }
}

fn every_name() -> Vec<String> {
    let mut names: Vec<String> = ACCEPTED
        .iter()
        .chain(REFUSED)
        .map(|s| s.to_string())
        .collect();
    names.push("V".repeat(MAX_VAR_NAME_LEN));
    names.push("V".repeat(MAX_VAR_NAME_LEN + 1));
    names
}

#[test]
fn policy_and_daemon_accept_and_refuse_the_same_names() {
    for name in every_name() {
        let expected = ACCEPTED.contains(&name.as_str()) || name.len() == MAX_VAR_NAME_LEN;
        assert_eq!(is_var_name(&name), expected, "{name:?}");
        let policy = policy_with_env(&name);
        let token = daemon_with_env("token_env", &name);
        let key = daemon_with_env("private_key_env", &name);
        assert_eq!(policy.is_ok(), expected, "policy, {name:?}: {policy:?}");
        assert_eq!(
            token.is_ok(),
            expected,
            "daemon token_env, {name:?}: {token:?}"
        );
        assert_eq!(
            key.is_ok(),
            expected,
            "daemon private_key_env, {name:?}: {key:?}"
        );
        if expected {
            let source = CredentialSource::Env(name.clone());
            assert_eq!(policy.unwrap(), source);
            assert_eq!(token.unwrap(), source);
            assert_eq!(key.unwrap(), source);
        }
    }
}

#[test]
fn a_refused_name_is_located_the_same_way_and_never_shown() {
    let name = "00aBcD-xyz_secret";
    let policy = policy_with_env(name).expect_err("refused");
    assert_eq!(policy.len(), 1, "{policy:?}");
    let policy = &policy[0];
    let daemon = daemon_with_env("token_env", name).expect_err("refused");
    assert_eq!(
        policy.to_string(),
        "push.toml:2:14: remove_push_mappings.apps.Acme SCIM.credential.env: expected an \
         environment variable name (letters, digits, _), found something else (value not shown: \
         it may be a secret)"
    );
    assert_eq!(
        daemon.to_string(),
        "remediator.toml:4:29: orgs[0].credentials.token_env: expected an environment variable \
         name (letters, digits, _), found something else (value not shown: it may be a secret)"
    );
    assert_eq!(policy.problem, daemon.problem, "one rule, one message");
    let key = daemon_with_env("private_key_env", name).expect_err("refused");
    assert_eq!(key.field, "orgs[0].credentials.private_key_env");
    for shown in [
        format!("{policy} {policy:?}"),
        format!("{daemon} {daemon:?} {key} {key:?}"),
    ] {
        assert!(!shown.contains("xyz_secret"), "{shown}");
    }
}
