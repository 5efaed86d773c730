//! The shipped policy files validate, and say what the examples claim.

use std::time::Duration;

use remediator::policy::{
    CredentialSource, FeatureAction, Mode, Policy, RetryStrategy, RuleKind, Selector, EMBEDDED,
};

#[test]
fn shipped_policy_dir_validates() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/policies");
    let policy = Policy::load_dir(dir).unwrap_or_else(|e| panic!("shipped policies invalid:\n{e}"));
    assert_eq!(policy.mode_for(RuleKind::RetryProvisioning), Mode::Enforce);
    assert_eq!(policy.mode_for(RuleKind::Kpasswd), Mode::Report);
    assert_eq!(policy.schedule.full_reconcile_expr, "0 0 */6 * * *");
    assert_eq!(policy.retry_provisioning.strategy, RetryStrategy::Repush);
    assert_eq!(
        policy.retry_provisioning.apps,
        Selector::Only(vec!["Slack".into(), "Acme SCIM".into()])
    );
    let slack = policy
        .wanted_features("0oaSLACK", "slack")
        .expect("Slack is named");
    assert_eq!(slack.action, FeatureAction::Fix);
    let acme = policy
        .wanted_features("0oaGLOBEX", "Globex SCIM")
        .expect("Globex SCIM is named");
    assert!(acme.create_users && acme.update_attributes && acme.deactivate_users);
    assert_eq!(acme.action, FeatureAction::Report);
    let push = policy
        .remove_push_mappings
        .for_app("0oaORG2ORG", "Partner Org")
        .unwrap();
    assert_eq!(
        push.credential,
        CredentialSource::Env("PARTNER_ORG_TOKEN".into())
    );
    assert!(!push.delete_target_groups);
    // No domain controllers are probed until an admin names real ones.
    assert!(policy.kpasswd.domain_controllers.is_empty());
    assert!(policy.directory_allowed("0oaAD", "corp.example.com AD"));
    assert!(policy.force_sync_applies_to("0oaAD2", "example.com AD"));
    assert!(policy.kpasswd_applies_to("0oaAD", "corp.example.com AD"));
    assert!(!policy.directory_allowed("0oaOTHER", "other.example.com AD"));
    assert!(!policy.app_allowed("0oaPAY", "Payroll (legacy)"));
    assert!(policy.force_sync_path().is_none());
    assert_eq!(policy.safety.cooldown, Duration::from_secs(30 * 60));
}

#[test]
fn embedded_set_is_the_shipped_dir() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    on_disk.sort();
    let embedded: Vec<String> = EMBEDDED
        .iter()
        .map(|(n, _)| n.trim_start_matches("policies/").to_string())
        .collect();
    assert_eq!(embedded, on_disk);
    for (name, text) in EMBEDDED {
        let file = dir.join(name.trim_start_matches("policies/"));
        assert_eq!(std::fs::read_to_string(file).unwrap(), *text, "{name}");
    }
    let p = Policy::default_embedded();
    assert_eq!(p.mode_for(RuleKind::ForceSync), Mode::DryRun);
}

#[test]
fn each_shipped_file_validates_on_its_own() {
    for (name, text) in EMBEDDED {
        if let Err(e) = Policy::load_sources(&[(*name, *text)]) {
            panic!("{name} alone is invalid:\n{e}");
        }
    }
}
