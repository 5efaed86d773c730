//! Policy selectors resolved against the org's apps: labels repeat in real orgs (the recorded
//! classic org has four apps labelled "Test Deel HR"), and a selector can name nothing. Each
//! entry that matched no app or several is a plan warning naming where it was written; a label
//! matching several apps denies all of them and selects none of them; an id selects one.

use crate::support::plan as plan_support;

use plan_support::*;
use remediator::observe::{FailureKind, Incomplete, Part, PartId, ReadFailure, Snapshot};
use remediator::plan::{ActionKind, Plan, SkipReason, Target};
use remediator::policy::Policy;

const TRANSIENT: &str = "HTTP 503 Service Unavailable from remote server";
const SLACK_1: &str = "0oaslackone000000001";
const SLACK_2: &str = "0oaslacktwo000000002";
const ACME: &str = "0oaacme0000000000001";

/// Two apps labelled "Slack" (one "SLACK": labels match ignoring case) and one "Acme SCIM",
/// each with a user in a transient provisioning error.
fn org() -> Snapshot {
    let mut s = snapshot();
    s.apps = complete(vec![
        app(SLACK_1, "slack", "Slack", Some("ENABLED")),
        app(SLACK_2, "slack", "SLACK", Some("ENABLED")),
        app(ACME, "acme_scim_app", "Acme SCIM", Some("ENABLED")),
    ]);
    s.failed_assignments = complete(vec![
        failure(SLACK_1, "00u1", TRANSIENT, minutes_ago(60)),
        failure(SLACK_2, "00u2", TRANSIENT, minutes_ago(60)),
        failure(ACME, "00u3", TRANSIENT, minutes_ago(60)),
    ]);
    s
}

/// A policy read from files (so warnings can say where), every rule enforced.
fn policy_of(files: &[(&str, &str)]) -> Policy {
    let mut sources: Vec<(String, String)> = files
        .iter()
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect();
    sources.push((
        "global.toml".into(),
        "[global]\ndefault_mode = \"enforce\"\n".into(),
    ));
    Policy::load_sources(&sources).expect("test policy is valid")
}

fn retried(plan: &Plan) -> Vec<String> {
    plan.actions
        .iter()
        .filter(|a| a.kind == ActionKind::RetryProvisioning)
        .filter_map(|a| a.target.app_id.as_ref().map(|id| id.as_str().to_owned()))
        .collect()
}

fn denied(plan: &Plan) -> Vec<String> {
    plan.skipped
        .iter()
        .filter(|s| s.why == SkipReason::DeniedByPolicy)
        .filter_map(|s| s.target.app_id.as_ref().map(|id| id.as_str().to_owned()))
        .collect()
}

#[test]
fn a_label_matching_two_apps_selects_neither_and_warns_with_both_ids() {
    let p = policy_of(&[(
        "retry.toml",
        "[retry_provisioning]\napps = [\"Slack\", \"Acme SCIM\"]\n",
    )]);
    let plan = run(&p, &org(), &journal());
    assert_eq!(retried(&plan), vec![ACME.to_string()], "{plan:#?}");
    assert_eq!(plan.warnings.len(), 1, "{:#?}", plan.warnings);
    let w = &plan.warnings[0];
    assert_eq!(w.selector, "Slack");
    assert_eq!(w.field, "retry_provisioning.apps");
    assert_eq!(w.location, "retry.toml:2:9: retry_provisioning.apps");
    assert_eq!(w.matched, vec![SLACK_1.to_string(), SLACK_2.to_string()]);
    assert!(w.applied.is_empty());
    assert_eq!(
        w.message,
        format!(
            "matched 2 apps by label ({SLACK_1}, {SLACK_2}): applied to none of them; name the \
             app by id"
        )
    );
}

#[test]
fn an_id_selects_exactly_that_app_even_beside_an_ambiguous_label() {
    let text = format!("[retry_provisioning]\napps = [\"Slack\", \"{SLACK_2}\"]\n");
    let p = policy_of(&[("retry.toml", &text)]);
    let plan = run(&p, &org(), &journal());
    assert_eq!(retried(&plan), vec![SLACK_2.to_string()], "{plan:#?}");
    assert_eq!(plan.warnings.len(), 1, "the label still warns");
    assert_eq!(plan.warnings[0].selector, "Slack");
}

#[test]
fn a_unique_label_works_and_warns_about_nothing() {
    let p = policy_of(&[(
        "retry.toml",
        "[retry_provisioning]\napps = [\"acme scim\"]\n",
    )]);
    let plan = run(&p, &org(), &journal());
    assert_eq!(retried(&plan), vec![ACME.to_string()]);
    assert!(plan.warnings.is_empty(), "{:#?}", plan.warnings);
}

#[test]
fn a_misspelled_label_and_an_unknown_id_match_no_app() {
    let p = policy_of(&[
        (
            "retry.toml",
            "[retry_provisioning]\napps = [\"Slakc\", \"0oaNOSUCHAPP\"]\n",
        ),
        (
            "safety.toml",
            "[safety.apps]\ndeny = [\"Payrol (legacy)\"]\n",
        ),
    ]);
    let plan = run(&p, &org(), &journal());
    assert!(plan.actions.is_empty(), "{plan:#?}");
    let shown: Vec<(&str, &str, &str)> = plan
        .warnings
        .iter()
        .map(|w| (w.selector.as_str(), w.location.as_str(), w.message.as_str()))
        .collect();
    assert_eq!(
        shown,
        vec![
            (
                "Payrol (legacy)",
                "safety.toml:2:9: safety.apps.deny",
                "matched no app"
            ),
            (
                "Slakc",
                "retry.toml:2:9: retry_provisioning.apps",
                "matched no app"
            ),
            (
                "0oaNOSUCHAPP",
                "retry.toml:2:18: retry_provisioning.apps",
                "matched no app"
            ),
        ]
    );
    assert!(plan.warnings.iter().all(|w| w.matched.is_empty()));
}

#[test]
fn a_deny_label_matching_two_apps_denies_both() {
    let p = policy_of(&[("safety.toml", "[safety.apps]\ndeny = [\"slack\"]\n")]);
    let plan = run(&p, &org(), &journal());
    assert_eq!(retried(&plan), vec![ACME.to_string()]);
    let mut skipped = denied(&plan);
    skipped.sort();
    assert_eq!(skipped, vec![SLACK_1.to_string(), SLACK_2.to_string()]);
    let w = &plan.warnings[0];
    assert_eq!(w.applied, w.matched);
    assert_eq!(w.applied, vec![SLACK_1.to_string(), SLACK_2.to_string()]);
    assert!(w.message.contains("denied to all of them"), "{}", w.message);
}

#[test]
fn an_allow_label_matching_two_apps_allows_neither() {
    let text = format!("[safety.apps]\nallow = [\"Slack\", \"{ACME}\"]\n");
    let p = policy_of(&[("safety.toml", &text)]);
    let plan = run(&p, &org(), &journal());
    assert_eq!(retried(&plan), vec![ACME.to_string()]);
    let mut skipped = denied(&plan);
    skipped.sort();
    assert_eq!(skipped, vec![SLACK_1.to_string(), SLACK_2.to_string()]);
    assert_eq!(plan.warnings[0].field, "safety.apps.allow");
}

#[test]
fn a_per_app_table_keyed_by_an_ambiguous_label_applies_to_no_app() {
    let text = "[provisioning_features]\naction = \"fix\"\n\
                [provisioning_features.apps.Slack]\ncreate_users = true\n";
    let p = policy_of(&[("features.toml", text)]);
    let mut s = org();
    s.failed_assignments = Part::complete(Vec::new());
    for a in &mut s.apps.value {
        a.user_provisioning = Some(caps(false, false, false));
    }
    let plan = run(&p, &s, &journal());
    assert!(plan.actions.is_empty(), "{plan:#?}");
    let w = &plan.warnings[0];
    assert_eq!(
        (w.field.as_str(), w.location.as_str()),
        (
            "provisioning_features.apps",
            "features.toml:3:1: provisioning_features.apps"
        )
    );
    assert_eq!(w.matched.len(), 2);

    // Named by id, the same settings reach that app only.
    let text = format!(
        "[provisioning_features]\naction = \"fix\"\n[provisioning_features.apps.{SLACK_1}]\n"
    );
    let p = policy_of(&[("features.toml", &text)]);
    let plan = run(&p, &s, &journal());
    let targets: Vec<&Target> = plan.actions.iter().map(|a| &a.target).collect();
    assert_eq!(targets, vec![&Target::app(SLACK_1)], "{plan:#?}");
    assert!(plan.warnings.is_empty(), "{:#?}", plan.warnings);
}

#[test]
fn a_table_entry_by_label_naming_an_app_also_named_by_id_gives_way() {
    let text = format!(
        "[provisioning_features]\naction = \"fix\"\n\
         [provisioning_features.apps.\"Acme SCIM\"]\naction = \"report\"\n\
         [provisioning_features.apps.{ACME}]\naction = \"fix\"\n"
    );
    let p = policy_of(&[("features.toml", &text)]);
    let plan = run(&p, &org(), &journal());
    let w = &plan.warnings[0];
    assert_eq!(w.selector, "Acme SCIM");
    assert_eq!(
        w.message,
        format!("names the same app as the entry \"{ACME}\", which applies instead")
    );
    let resolved = p.resolve_selectors(
        org()
            .apps
            .value
            .iter()
            .map(|a| (a.id.as_str(), a.label.as_str())),
        true,
    );
    let kept: Vec<&str> = resolved
        .policy
        .provisioning_features
        .apps
        .iter()
        .map(|a| a.app.as_str())
        .collect();
    assert_eq!(kept, vec![ACME]);
    assert_eq!(
        p.provisioning_features
            .for_app(ACME, "Acme SCIM")
            .map(|w| w.app.as_str()),
        Some(ACME),
        "the policy as written prefers the entry by id too (the executor reads it)"
    );
}

#[test]
fn with_an_incomplete_app_list_a_selector_matching_nothing_says_so() {
    let p = policy_of(&[("retry.toml", "[retry_provisioning]\napps = [\"Zoom\"]\n")]);
    let mut s = org();
    s.apps.incomplete = vec![Incomplete::new(
        PartId::Apps,
        ReadFailure::new(
            "GET /api/v1/apps",
            FailureKind::Unreachable,
            "page 2: timed out",
        ),
    )];
    let plan = run(&p, &s, &journal());
    assert_eq!(
        plan.warnings[0].message,
        "matched no app among the 3 apps read: the app list is incomplete, so it may name an \
         app that was not read"
    );
}

#[test]
fn the_plan_json_carries_the_warnings_in_a_stable_shape() {
    let p = policy_of(&[("retry.toml", "[retry_provisioning]\napps = [\"Slakc\"]\n")]);
    let plan = run(&p, &org(), &journal());
    let json = serde_json::to_value(&plan).expect("plan serializes");
    assert_eq!(
        json["warnings"],
        serde_json::json!([{
            "selector": "Slakc",
            "field": "retry_provisioning.apps",
            "where": "retry.toml:2:9: retry_provisioning.apps",
            "matched": [],
            "applied": [],
            "message": "matched no app",
        }])
    );
    let back: Plan = serde_json::from_value(json).expect("plan reads back");
    assert_eq!(back.warnings, plan.warnings);
    let clean = run(&policy(), &org(), &journal());
    assert_eq!(
        serde_json::to_value(&clean).expect("serializes")["warnings"],
        serde_json::json!([])
    );
}

#[test]
fn a_policy_built_in_code_warns_with_the_field_as_its_place() {
    let mut p = policy();
    p.kpasswd.directories = remediator::policy::Selector::Only(vec!["corp.example.com".into()]);
    let plan = run(&p, &org(), &journal());
    assert_eq!(plan.warnings[0].location, "kpasswd.directories");
    assert_eq!(plan.warnings[0].message, "matched no directory");
}
