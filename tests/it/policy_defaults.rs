//! The documented defaults: an empty policy file gives exactly these values, and
//! docs/policy.md states each of them.

use std::time::Duration;

use remediator::policy::{
    defaults, FeatureAction, Mode, Policy, RetryStrategy, RuleKind, Selector,
};

const MIN: u64 = 60;
const HOUR: u64 = 60 * MIN;

fn empty() -> Policy {
    Policy::load_sources(&[("policies/empty.toml", "# nothing\n")]).expect("empty file is valid")
}

#[test]
fn empty_policy_has_the_documented_defaults() {
    let p = empty();
    for kind in RuleKind::ALL {
        assert_eq!(p.mode_for(kind), Mode::DryRun, "{kind}");
    }
    assert_eq!(p.safety.max_actions_per_run, 25);
    assert_eq!(p.safety.max_actions_per_hour, 100);
    assert!(p.safety.max_actions_per_kind_per_run.is_empty());
    assert_eq!(p.safety.cooldown, Duration::from_secs(30 * MIN));
    assert_eq!(p.safety.circuit_breaker.window, 20);
    assert_eq!(p.safety.circuit_breaker.failure_ratio, 0.5);
    assert_eq!(p.safety.circuit_breaker.min_actions, 5);
    assert_eq!(
        p.safety.circuit_breaker.open_for,
        Duration::from_secs(30 * MIN)
    );
    assert!(p.app_allowed("0oa1", "anything") && p.directory_allowed("0oa2", "anything"));
    assert_eq!(p.schedule.full_reconcile_expr, "0 0 */6 * * *");
    assert_eq!(p.schedule.log_poll_interval, Duration::from_secs(MIN));
    assert_eq!(p.schedule.log_lookback, Duration::from_secs(24 * HOUR));
    assert_eq!(p.schedule.mapping_sweep_per_minute, 4);
    assert!(p.admin.force_sync_path.is_none() && p.admin.task_retry_path.is_none());
    let r = &p.retry_provisioning;
    assert_eq!(r.apps, Selector::All);
    assert_eq!(r.max_attempts, 5);
    assert_eq!(r.backoff.initial, Duration::from_secs(15 * MIN));
    assert_eq!(r.backoff.multiplier, 2.0);
    assert_eq!(r.backoff.max, Duration::from_secs(24 * HOUR));
    assert_eq!(r.min_error_age, Duration::from_secs(10 * MIN));
    assert_eq!(r.strategy, RetryStrategy::Repush);
    assert!(!r.retry_unknown_errors);
    assert_eq!(
        r.never_retry_errors.0.len(),
        defaults::NEVER_RETRY_ERRORS.len()
    );
    let f = &p.force_sync;
    assert!(f.attributes.is_empty() && !f.use_admin_path);
    assert_eq!(f.verify_timeout, Duration::from_secs(10 * MIN));
    assert_eq!(f.verify_poll_interval, Duration::from_secs(30));
    assert!(p.remove_push_mappings.apps.is_empty());
    assert!(p.provisioning_features.apps.is_empty());
    let k = &p.kpasswd;
    assert_eq!(
        (k.window, k.max_gap),
        (Duration::from_secs(30), Duration::from_secs(45))
    );
    assert!(k.domain_controllers.is_empty() && !k.retry_after_probe_passes);
    assert_eq!(k.probe_timeout, Duration::from_secs(3));
    assert_eq!(p.provisioning_credentials.apps, Selector::All);
}

#[test]
fn per_app_defaults_fill_in() {
    let text = "[provisioning_features]\naction = \"fix\"\n[provisioning_features.apps.Zoom]\n\
                deactivate_users = false\n[kpasswd]\nwindow = \"50s\"\n\
                [remove_push_mappings.apps.Zoom]\ncredential = { file = \"/run/secrets/zoom\" }\n\
                [retry_provisioning]\nnever_retry_errors = [\"seat limit\"]\n";
    let p = Policy::load_sources(&[("p.toml", text)]).unwrap_or_else(|e| panic!("{e}"));
    let zoom = p.wanted_features("0oaZ", "zoom").unwrap();
    assert!(zoom.create_users && zoom.update_attributes && !zoom.deactivate_users);
    assert_eq!(
        zoom.action,
        FeatureAction::Fix,
        "section action is the app default"
    );
    assert_eq!(
        p.kpasswd.max_gap,
        Duration::from_secs(50),
        "max_gap follows a larger window"
    );
    assert!(
        !p.remove_push_mappings
            .for_app("0oaZ", "Zoom")
            .unwrap()
            .delete_target_groups
    );
    let r = &p.retry_provisioning;
    assert_eq!(
        r.never_retry_errors.find("Seat Limit reached"),
        Some("seat limit")
    );
    assert!(
        r.never_retry_errors
            .find("User account is inactive")
            .is_some(),
        "built-ins kept"
    );
}

#[test]
fn docs_state_every_key_and_default() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/policy.md"))
        .expect("docs/policy.md exists");
    for needle in [
        "`default_mode`",
        "`max_actions_per_run`",
        "`max_actions_per_hour`",
        "`max_actions_per_kind_per_run`",
        "`cooldown`",
        "`window`",
        "`failure_ratio`",
        "`min_actions`",
        "`open_for`",
        "`allow`",
        "`deny`",
        "`full_reconcile`",
        "`log_poll_interval`",
        "`log_lookback`",
        "`mapping_sweep_per_minute`",
        "`force_sync_path`",
        "`task_retry_path`",
        "`apps`",
        "`max_attempts`",
        "`initial`",
        "`multiplier`",
        "`max`",
        "`min_error_age`",
        "`never_retry_errors`",
        "`strategy`",
        "`retry_unknown_errors`",
        "`directories`",
        "`attributes`",
        "`verify_timeout`",
        "`verify_poll_interval`",
        "`use_admin_path`",
        "`credential`",
        "`delete_target_groups`",
        "`create_users`",
        "`update_attributes`",
        "`deactivate_users`",
        "`action`",
        "`max_gap`",
        "`domain_controllers`",
        "`probe_timeout`",
        "`retry_after_probe_passes`",
        "`error_patterns`",
        "0 0 */6 * * *",
        "\"30m\"",
        "\"24h\"",
        "\"90d\"",
        "\"45s\"",
        "464",
    ] {
        assert!(
            doc.contains(needle),
            "docs/policy.md does not mention {needle}"
        );
    }
}

#[test]
fn five_field_cron_is_read_with_seconds_0_and_noted() {
    let text = "[schedule]\nfull_reconcile = \"*/5  * * * *\"\n";
    let p = Policy::load_sources(&[("s.toml", text)]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(p.schedule.full_reconcile_expr, "0 */5 * * * *");
    let after = "2026-12-31T23:01:30Z"
        .parse::<chrono::DateTime<chrono::Utc>>()
        .unwrap();
    let next = p.schedule.full_reconcile.after(&after).next().unwrap();
    assert_eq!(next.to_rfc3339(), "2026-12-31T23:05:00+00:00");
    assert_eq!(
        p.notes,
        vec![
            "s.toml:2:18: schedule.full_reconcile: \"*/5  * * * *\" has 5 fields: read with \
              seconds 0 as \"0 */5 * * * *\""
                .to_string()
        ]
    );
    let six =
        Policy::load_sources(&[("s.toml", "[schedule]\nfull_reconcile = \"0 */5 * * * *\"\n")])
            .unwrap_or_else(|e| panic!("{e}"));
    assert!(six.notes.is_empty());
}

#[test]
fn seven_field_cron_with_a_year_is_accepted() {
    let text = "[schedule]\nfull_reconcile = \"0 30 2 * * Mon-Fri 2027-2099\"\n";
    let p = Policy::load_sources(&[("s.toml", text)]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        p.schedule.full_reconcile_expr,
        "0 30 2 * * Mon-Fri 2027-2099"
    );
    let after = "2026-12-31T23:00:00Z"
        .parse::<chrono::DateTime<chrono::Utc>>()
        .unwrap();
    let next = p.schedule.full_reconcile.after(&after).next().unwrap();
    assert_eq!(next.to_rfc3339(), "2027-01-01T02:30:00+00:00");
}
