//! The executor against okta-sim over loopback HTTP, with a real sled journal: each situation
//! is fixed and a second plan has no actions left, the journal tells the whole story, an
//! observe-only pass and apply plan the same, saved plans are carried out only while their
//! state holds, the executor's gate holds actions with typed reasons, and faults during apply
//! lose no journal entry and leave no half-done fix.

use crate::support::act as act_support;

use act_support::{scenario, Env, PARTNER_TOKEN};
use chrono::{Duration, Utc};
use okta_sim::{FaultKind, FaultRule, Scenario};
use remediator::journal::{EntryKind, EntryKindTag, JournalStore, Outcome};
use remediator::okta::{
    CapabilitiesCreateObject, CapabilitiesObject, CapabilitiesUpdateObject, EnabledStatus, OrgApi,
    StatusHolder,
};
use remediator::plan::{ActionKind, ActionMode, SkipReason};
use remediator::policy::{Mode, RuleKind};
use remediator::reconcile::PlanSource;

const ORG2ORG: &str = "0oaorphorg2org000001";

fn outcomes(report: &remediator::reconcile::PassReport) -> Vec<(ActionKind, Outcome)> {
    report
        .executed
        .actions
        .iter()
        .map(|a| (a.kind, a.outcome))
        .collect()
}

#[tokio::test]
async fn each_situation_is_fixed_and_a_second_plan_has_no_actions() {
    let cases: &[(&str, &[&str])] = &[
        ("force-sync", &["force-sync"]),
        ("orphaned-push-mappings", &["remove-push-mappings"]),
        ("features-disabled", &["fix-provisioning-features"]),
        ("kpasswd-blocked", &[]),
        ("credentials-invalid", &[]),
    ];
    for (name, kinds) in cases {
        let env = Env::start(scenario(name)).await;
        let report = env.apply().await;
        let taken: Vec<&str> = report
            .executed
            .actions
            .iter()
            .map(|a| a.kind.as_str())
            .collect();
        assert_eq!(&taken, kinds, "{name}: actions taken");
        for action in &report.executed.actions {
            assert_eq!(
                action.outcome,
                Outcome::Verified,
                "{name}: {} did not verify: {}",
                action.kind,
                action.reason
            );
        }
        let second = env.observe_only().await;
        assert!(
            second.actions.is_empty(),
            "{name}: second plan still has actions: {:?}",
            second.actions
        );
        assert!(env.journal.verify().expect("verify").is_ok(), "{name}");
    }
}

/// A retry that does not verify is retried on later runs (after its backoff) until it does;
/// a verified fix resets its attempts.
#[tokio::test]
async fn a_failed_retry_is_retried_on_later_runs_until_it_verifies() {
    let env = Env::start(scenario("retry-transient")).await;
    let now = Utc::now();
    let first = env.pass_at(now, PlanSource::Observe, false).await;
    let mut first_outcomes = outcomes(&first);
    first_outcomes.sort_by_key(|(kind, outcome)| (*kind, outcome.as_str()));
    assert_eq!(
        first_outcomes,
        vec![
            (ActionKind::RetryProvisioning, Outcome::Failed),
            (ActionKind::RetryProvisioning, Outcome::Verified),
        ],
        "transient-times:2 fails its first retry"
    );
    assert_eq!(env.journal.view(now).expect("view").attempts.len(), 1);
    // Later runs, each past the backoff and the error's minimum age.
    let mut at = now;
    let mut verified = false;
    for _ in 0..3 {
        at += Duration::hours(2);
        let pass = env.pass_at(at, PlanSource::Observe, false).await;
        if outcomes(&pass).contains(&(ActionKind::RetryProvisioning, Outcome::Verified)) {
            verified = true;
            break;
        }
    }
    assert!(verified, "the retry verified within three later runs");
    let view = env.journal.view(at).expect("view");
    assert!(
        view.attempts.is_empty(),
        "attempts reset: {:?}",
        view.attempts
    );
    let last = env
        .pass_at(at + Duration::hours(2), PlanSource::Observe, true)
        .await;
    assert!(last.plan.actions.is_empty(), "{:?}", last.plan.actions);
}

#[tokio::test]
async fn the_journal_tells_the_whole_story_of_a_multi_step_fix() {
    let env = Env::start(scenario("orphaned-push-mappings")).await;
    let report = env.apply().await;
    let action = &report.executed.actions[0];
    assert_eq!(action.outcome, Outcome::Verified, "{}", action.reason);
    let tags: Vec<EntryKindTag> = env
        .entries_of(&action.action_id)
        .iter()
        .map(|e| e.kind.tag())
        .collect();
    let mut expected = vec![EntryKindTag::Intent];
    for _ in 0..6 {
        expected.extend([EntryKindTag::StepStarted, EntryKindTag::StepFinished]);
    }
    expected.extend([EntryKindTag::Verification, EntryKindTag::Outcome]);
    assert_eq!(tags, expected);
    let entries = env.entries_of(&action.action_id);
    let names: Vec<String> = entries
        .iter()
        .filter_map(|e| match &e.kind {
            EntryKind::StepFinished { name, outcome, .. } => {
                assert!(outcome.ok, "{name}: {}", outcome.detail);
                Some(name.clone())
            }
            _ => None,
        })
        .collect();
    assert!(names[0].starts_with("enable-provisioning"), "{names:?}");
    assert!(names[5].starts_with("disable-provisioning"), "{names:?}");
    // The run around it.
    let run: Vec<EntryKindTag> = env
        .journal
        .list(&remediator::journal::EntryFilter {
            run_id: Some(report.run_id.clone()),
            ..Default::default()
        })
        .expect("list")
        .iter()
        .map(|e| e.kind.tag())
        .collect();
    assert_eq!(run.first(), Some(&EntryKindTag::RunStarted));
    assert_eq!(run.get(1), Some(&EntryKindTag::PlanRecorded));
    assert_eq!(run.last(), Some(&EntryKindTag::RunFinished));
    // The org, and no secret anywhere in the journal.
    assert!(!env.provisioning_enabled(ORG2ORG));
    assert!(env.mapping_ids(ORG2ORG).is_empty());
    let mut export = Vec::new();
    env.journal.export(&mut export).expect("export");
    let export = String::from_utf8(export).expect("utf-8");
    assert!(
        !export.contains(PARTNER_TOKEN),
        "the credential leaked into the journal"
    );
    assert!(env.journal.verify().expect("verify").is_ok());
}

#[tokio::test]
async fn an_observe_only_pass_and_apply_plan_the_same() {
    let env = Env::start(scenario("all-situations")).await;
    let at = Utc::now();
    let dry = env.pass_at(at, PlanSource::Observe, true).await;
    assert!(
        dry.executed.actions.is_empty(),
        "an observe-only pass acts on nothing"
    );
    let applied = env.pass_at(at, PlanSource::Observe, false).await;
    assert_eq!(
        serde_json::to_value(&dry.plan).expect("json"),
        serde_json::to_value(&applied.plan).expect("json")
    );
    assert_eq!(applied.executed.actions.len(), dry.plan.actions.len());
}

#[tokio::test]
async fn a_saved_plan_runs_each_action_once() {
    let env = Env::start(scenario("features-disabled")).await;
    let saved = env.observe_only().await;
    assert_eq!(saved.actions.len(), 1);
    let first = env
        .pass_at(
            Utc::now(),
            PlanSource::Saved(Box::new(saved.clone())),
            false,
        )
        .await;
    assert_eq!(first.executed.actions[0].outcome, Outcome::Verified);
    // The same saved plan again: the fix is done, so the plan made afresh no longer holds it.
    let again = env
        .pass_at(Utc::now(), PlanSource::Saved(Box::new(saved)), false)
        .await;
    assert_eq!(again.executed.actions[0].outcome, Outcome::Skipped);
    assert!(
        again.executed.actions[0]
            .reason
            .contains("not carried out from the saved plan: the current policy does not plan"),
        "{}",
        again.executed.actions[0].reason
    );
    assert!(!again.executed.actions[0].taken);
}

#[tokio::test]
async fn a_saved_plan_whose_state_changed_is_skipped() {
    let env = Env::start(scenario("features-disabled")).await;
    let saved = env.observe_only().await;
    assert_eq!(saved.actions.len(), 1);
    // An admin turns the features on by hand before the saved plan is applied.
    let slack = remediator::okta::AppId::new("0oafeatslack00000001");
    let on = || StatusHolder {
        status: EnabledStatus::Enabled,
    };
    let all_on = CapabilitiesObject {
        create: Some(CapabilitiesCreateObject {
            lifecycle_create: Some(on()),
        }),
        update: Some(CapabilitiesUpdateObject {
            lifecycle_deactivate: Some(on()),
            profile: Some(on()),
            password: None,
        }),
    };
    env.api
        .update_user_provisioning_feature(&slack, &all_on)
        .await
        .expect("update by hand");
    let report = env
        .pass_at(Utc::now(), PlanSource::Saved(Box::new(saved)), false)
        .await;
    let action = &report.executed.actions[0];
    assert_eq!(action.outcome, Outcome::Skipped, "{}", action.reason);
    assert!(
        action.reason.contains("no longer holds"),
        "{}",
        action.reason
    );
    assert!(!action.taken);
}

#[tokio::test]
async fn a_saved_plan_for_another_org_is_refused() {
    let env = Env::start(scenario("features-disabled")).await;
    let mut plan = env.observe_only().await;
    plan.org = "https://other.okta.com".to_owned();
    let clock = Utc::now;
    let error = remediator::reconcile::run_pass(
        &env.org(&clock),
        env.sim.base_url(),
        PlanSource::Saved(Box::new(plan)),
        &remediator::reconcile::PassSettings {
            trigger: remediator::reconcile::Trigger::Manual,
            observe_only: false,
            execute: remediator::act::ExecuteOptions::new(""),
            sweep: Default::default(),
        },
        &tokio_util::sync::CancellationToken::new(),
        &remediator::reconcile::NoProgress,
    )
    .await
    .expect_err("refused");
    assert!(error.to_string().contains("other.okta.com"), "{error}");
}

fn with_faults(mut scenario: Scenario, faults: Vec<FaultRule>) -> Scenario {
    scenario.faults = faults;
    scenario
}

fn fault(method: &str, path: &str, kind: FaultKind, count: Option<u64>) -> FaultRule {
    FaultRule {
        path_prefix: Some(path.to_owned()),
        method: Some(method.to_owned()),
        kind,
        count,
        after: 0,
    }
}

/// Every intent has its outcome (an action planned again in a later run has one of each per
/// run), the chain holds, and no fix is left unfinished.
fn assert_consistent(env: &Env) {
    let intents = env
        .journal
        .list(&remediator::journal::EntryFilter {
            kind: Some(EntryKindTag::Intent),
            ..Default::default()
        })
        .expect("list");
    for intent in &intents {
        let id = intent.action_id.as_deref().expect("intent has an action");
        let entries = env.entries_of(id);
        let begun = entries
            .iter()
            .filter(|e| e.kind.tag() == EntryKindTag::Intent)
            .count();
        let ended = entries
            .iter()
            .filter(|e| e.kind.tag() == EntryKindTag::Outcome && e.payload["taken"] != false)
            .count();
        assert_eq!(begun, ended, "action {id}: every intent has its outcome");
    }
    assert!(env.journal.unfinished_fixes().expect("fixes").is_empty());
    assert!(env.journal.verify().expect("verify").is_ok());
}

#[tokio::test]
async fn transient_faults_during_apply_are_absorbed() {
    let app = format!("/api/v1/apps/{ORG2ORG}");
    let faults = vec![
        fault("PATCH", &app, FaultKind::RateLimited, Some(3)),
        fault(
            "DELETE",
            &app,
            FaultKind::ServerError { status: 503 },
            Some(2),
        ),
        fault("POST", &app, FaultKind::Drop, Some(1)),
    ];
    let mut scenario = with_faults(scenario("orphaned-push-mappings"), faults);
    // A short rate-limit window, so waiting for the reset after a 429 takes seconds.
    scenario.rate_limits.window = std::time::Duration::from_secs(2);
    let env = Env::start(scenario).await;
    let report = env.apply().await;
    let action = &report.executed.actions[0];
    assert_eq!(action.outcome, Outcome::Verified, "{}", action.reason);
    assert!(env.sim.stats().faults_injected >= 6);
    assert!(!env.provisioning_enabled(ORG2ORG));
    assert!(env.mapping_ids(ORG2ORG).is_empty());
    assert_consistent(&env);
}

#[tokio::test]
async fn a_step_that_keeps_failing_is_compensated() {
    let app = format!("/api/v1/apps/{ORG2ORG}/group-push");
    let faults = vec![fault(
        "DELETE",
        &app,
        FaultKind::ServerError { status: 503 },
        None,
    )];
    let env = Env::start(with_faults(scenario("orphaned-push-mappings"), faults)).await;
    let report = env.apply().await;
    let action = &report.executed.actions[0];
    assert_eq!(action.outcome, Outcome::Compensated, "{}", action.reason);
    assert!(report.partial_failure());
    assert!(
        !env.provisioning_enabled(ORG2ORG),
        "provisioning left enabled"
    );
    assert_consistent(&env);
}

#[tokio::test]
async fn a_failed_compensation_is_finished_by_the_next_run() {
    let app = format!("/api/v1/apps/{ORG2ORG}");
    let faults = vec![
        fault("DELETE", &app, FaultKind::ServerError { status: 500 }, None),
        fault(
            "POST",
            &format!("{app}/connections/default/lifecycle/deactivate"),
            FaultKind::ServerError { status: 500 },
            None,
        ),
    ];
    let env = Env::start(with_faults(scenario("orphaned-push-mappings"), faults)).await;
    let report = env.apply().await;
    assert_eq!(report.executed.actions[0].outcome, Outcome::Failed);
    assert!(env.provisioning_enabled(ORG2ORG));
    let unfinished = env.journal.unfinished_fixes().expect("fixes");
    assert_eq!(unfinished.len(), 1, "the fix stays unfinished");
    assert_eq!(unfinished[0].action_kind, ActionKind::RemovePushMappings);
    // The org recovers; the next run finishes the fix first.
    reqwest::Client::new()
        .delete(format!("{}/__sim/faults", env.sim.base_url()))
        .send()
        .await
        .expect("clear faults");
    let next = env.apply().await;
    assert_eq!(next.recovered.actions.len(), 1);
    let recovered = &next.recovered.actions[0];
    assert!(
        matches!(recovered.outcome, Outcome::Verified | Outcome::Compensated),
        "{recovered:?}"
    );
    assert!(!env.provisioning_enabled(ORG2ORG));
    assert_consistent(&env);
}

#[tokio::test]
async fn max_actions_holds_the_rest() {
    let env = Env::start(scenario("all-situations")).await;
    let settings = remediator::reconcile::PassSettings {
        trigger: remediator::reconcile::Trigger::Manual,
        observe_only: false,
        execute: remediator::act::ExecuteOptions {
            max_actions: Some(1),
            only: vec![
                ActionKind::RetryProvisioning,
                ActionKind::FixProvisioningFeatures,
            ],
            verify_poll_interval: act_support::TEST_POLL,
            ..remediator::act::ExecuteOptions::new("")
        },
        sweep: Default::default(),
    };
    let clock = Utc::now;
    let report = remediator::reconcile::run_pass(
        &env.org(&clock),
        env.sim.base_url(),
        PlanSource::Observe,
        &settings,
        &tokio_util::sync::CancellationToken::new(),
        &remediator::reconcile::NoProgress,
    )
    .await
    .expect("pass");
    let kinds: Vec<&str> = report
        .executed
        .actions
        .iter()
        .map(|a| a.kind.as_str())
        .collect();
    assert!(
        kinds
            .iter()
            .all(|k| *k == "retry-provisioning" || *k == "fix-provisioning-features"),
        "--only: {kinds:?}"
    );
    let taken = report.executed.actions.iter().filter(|a| a.taken).count();
    assert_eq!(taken, 1);
    let held: Vec<_> = report
        .executed
        .actions
        .iter()
        .filter(|a| a.outcome == Outcome::Held)
        .collect();
    assert_eq!(held.len(), kinds.len() - 1);
    assert!(held.iter().all(|a| a.reason.contains("--max-actions 1")));
    assert!(held.iter().all(|a| a.why == Some(SkipReason::MaxActions)));
    assert_held_in_the_journal(&env, &held, SkipReason::MaxActions);
    assert!(report.partial_failure());
}

/// Each held action's `outcome` entry carries the gate's reason: its text and its tag.
fn assert_held_in_the_journal(env: &Env, held: &[&remediator::act::ActionReport], why: SkipReason) {
    for action in held {
        let outcome = env
            .entries_of(action.action_id.as_str())
            .into_iter()
            .find_map(|e| match e.kind {
                EntryKind::Outcome {
                    outcome,
                    reason,
                    why,
                } => Some((outcome, reason, why)),
                _ => None,
            })
            .expect("the held action's outcome is journaled");
        assert_eq!(
            outcome,
            (Outcome::Held, action.reason.clone(), Some(why)),
            "{}",
            action.action_id
        );
    }
}

/// A plan saved while its rule was in enforce mode is held by the executor's gate once the rule
/// is not: the executor checks the mode again, against the policy in force.
#[tokio::test]
async fn an_enforce_action_whose_rule_left_enforce_mode_is_held() {
    let mut env = Env::start(scenario("features-disabled")).await;
    let plan = env.observe_only().await;
    assert_eq!(plan.actions.len(), 1, "{:?}", plan.actions);
    assert_eq!(plan.actions[0].mode, ActionMode::Enforce);
    env.policy
        .global
        .modes
        .insert(RuleKind::ProvisioningFeatures, Mode::DryRun);
    let report = env
        .pass_at(Utc::now(), PlanSource::Saved(Box::new(plan)), false)
        .await;
    let held: Vec<_> = report.executed.actions.iter().collect();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].outcome, Outcome::Held);
    assert_eq!(held[0].why, Some(SkipReason::Mode));
    assert_eq!(
        held[0].reason,
        "rule provisioning_features is in dry-run mode"
    );
    assert!(!held[0].taken);
    assert_held_in_the_journal(&env, &held, SkipReason::Mode);
}

/// The executor's gate reads the journal as it is when the action is about to be taken: a
/// saved plan whose target is cooling down since it was planned is held, not carried out.
#[tokio::test]
async fn a_saved_action_on_a_target_cooling_down_since_planning_is_held() {
    let env = Env::start(scenario("features-disabled")).await;
    let plan = env.observe_only().await;
    let action = plan.actions[0].clone();
    let until = Utc::now() + Duration::minutes(30);
    env.journal
        .append(
            Utc::now(),
            remediator::journal::EntryDraft::new(
                "run-elsewhere",
                EntryKind::Note {
                    text: "another fix finished here".into(),
                },
            )
            .target(action.target.clone()),
            &[remediator::journal::Effect::SetCooldown { until }],
        )
        .expect("cooldown journaled");
    let report = env
        .pass_at(Utc::now(), PlanSource::Saved(Box::new(plan)), false)
        .await;
    let held: Vec<_> = report.executed.actions.iter().collect();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].why, Some(SkipReason::Cooldown));
    assert!(
        held[0].reason.starts_with("cooldown until "),
        "{}",
        held[0].reason
    );
    assert_held_in_the_journal(&env, &held, SkipReason::Cooldown);
}

#[tokio::test]
async fn a_fix_that_never_verifies_is_quarantined_after_its_attempts() {
    let app = format!("/api/v1/apps/{ORG2ORG}/group-push");
    let faults = vec![fault(
        "DELETE",
        &app,
        FaultKind::ServerError { status: 503 },
        None,
    )];
    let env = Env::start(with_faults(scenario("orphaned-push-mappings"), faults)).await;
    let mut at = Utc::now();
    for attempt in 0..remediator::plan::MAX_UNVERIFIED_FIX_ATTEMPTS {
        let report = env.pass_at(at, PlanSource::Observe, false).await;
        assert_eq!(
            outcomes(&report),
            vec![(ActionKind::RemovePushMappings, Outcome::Compensated)],
            "attempt {attempt}"
        );
        at += Duration::hours(1);
    }
    let plan = env.pass_at(at, PlanSource::Observe, true).await.plan;
    assert!(plan.actions.is_empty(), "{:?}", plan.actions);
    let quarantined: Vec<_> = plan
        .findings
        .iter()
        .filter(|f| f.kind == remediator::plan::FindingKind::FixQuarantined)
        .collect();
    assert_eq!(quarantined.len(), 1, "{:?}", plan.findings);
    assert!(quarantined[0].reason.contains("3 time(s)"));
    assert!(!env.provisioning_enabled(ORG2ORG));
    assert_consistent(&env);
}

#[tokio::test]
async fn the_circuit_breaker_opens_on_failures_and_holds_the_rest() {
    let mut env = Env::start(scenario("all-situations")).await;
    let breaker = &mut env.policy.safety.circuit_breaker;
    breaker.min_actions = 2;
    breaker.failure_ratio = 0.5;
    let report = env.apply().await;
    let results: Vec<(&str, Outcome)> = report
        .executed
        .actions
        .iter()
        .map(|a| (a.kind.as_str(), a.outcome))
        .collect();
    // The two retries run first; one fails (transient-times:2): 1 of 2 failed trips the breaker.
    let failed_at = results
        .iter()
        .position(|(_, o)| *o == Outcome::Failed)
        .expect("one retry fails");
    assert!(failed_at <= 1, "{results:?}");
    let after = &report.executed.actions[2..];
    assert!(!after.is_empty());
    for action in after {
        assert_eq!(action.outcome, Outcome::Held, "{results:?}");
        assert!(
            action.reason.contains("circuit breaker"),
            "{}",
            action.reason
        );
        assert_eq!(action.why, Some(SkipReason::CircuitBreakerOpen));
    }
    let held: Vec<_> = after.iter().collect();
    assert_held_in_the_journal(&env, &held, SkipReason::CircuitBreakerOpen);
    let view = env.journal.view(Utc::now()).expect("view");
    assert!(view.breaker_open());
    let plan = env.observe_only().await;
    assert!(plan.actions.is_empty());
    assert!(plan
        .skipped
        .iter()
        .any(|s| s.why == remediator::plan::SkipReason::CircuitBreakerOpen));
}

/// Org data that looks like a credential (here in an error text) is redacted in the journal,
/// and neither leaks nor stops the run.
#[tokio::test]
async fn org_data_that_looks_like_a_token_is_redacted_not_fatal() {
    const LOOKS_LIKE_A_TOKEN: &str = "00abcdefghijABCDEFGHIJ0123456789-_klmnopqr";
    let mut scenario = scenario("retry-transient");
    for user in &mut scenario.apps[0].users {
        if let Some(text) = &mut user.error_text {
            text.push_str(&format!(" (request {LOOKS_LIKE_A_TOKEN})"));
        }
    }
    let env = Env::start(scenario).await;
    let report = env.apply().await;
    assert!(!report.executed.actions.is_empty());
    assert!(report
        .executed
        .actions
        .iter()
        .any(|a| a.outcome == Outcome::Verified));
    let mut export = Vec::new();
    env.journal.export(&mut export).expect("export");
    let export = String::from_utf8(export).expect("utf-8");
    assert!(!export.contains(LOOKS_LIKE_A_TOKEN));
    assert!(export.contains("[redacted: looked like an Okta API token]"));
    assert!(env.journal.verify().expect("verify").is_ok());
}

/// A saved plan edited to skip disabling provisioning again is refused, not carried out.
#[tokio::test]
async fn an_edited_removal_that_would_leave_provisioning_enabled_is_refused() {
    let env = Env::start(scenario("orphaned-push-mappings")).await;
    let mut plan = env.observe_only().await;
    let action = &mut plan.actions[0];
    action
        .steps
        .retain(|s| !matches!(s, remediator::plan::Step::DisableProvisioning { .. }));
    let report = env
        .pass_at(Utc::now(), PlanSource::Saved(Box::new(plan)), false)
        .await;
    let done = &report.executed.actions[0];
    assert_eq!(done.outcome, Outcome::Skipped, "{}", done.reason);
    assert!(
        done.reason.contains("(steps): it was edited"),
        "{}",
        done.reason
    );
    assert!(!env.provisioning_enabled(ORG2ORG));
    assert_eq!(env.mapping_ids(ORG2ORG).len(), 2, "nothing was removed");
}

/// Okta sends `null` for a profile attribute without a value. A Force Sync planned from an Okta
/// profile that holds `null` checks its precondition and its verification against "no value",
/// not against a JSON `null`: it is carried out and verifies (it was skipped forever as
/// "changed since planning" when the executor read Okta's `null` as a value).
#[tokio::test]
async fn okta_s_null_is_no_value_for_a_force_sync_s_precondition_and_verification() {
    let mut scenario = scenario("force-sync");
    let alice = scenario
        .users
        .iter_mut()
        .find(|u| u.id == "00ufsync000000000001")
        .expect("Alice is in the scenario");
    alice
        .profile
        .insert("department".into(), serde_json::Value::Null);
    let env = Env::start(scenario).await;
    let plan = env.observe_only().await;
    let sync = plan
        .actions
        .iter()
        .find(|a| a.kind == ActionKind::ForceSync)
        .expect("a Force Sync is planned");
    assert!(
        sync.preconditions.iter().any(|p| matches!(
            p,
            remediator::plan::Precondition::AttributeDiffers { okta_attribute, expected: None, .. }
                if okta_attribute == "department"
        )),
        "planned from no value: {:#?}",
        sync.preconditions
    );
    let report = env.apply().await;
    let synced: Vec<_> = report
        .executed
        .actions
        .iter()
        .filter(|a| a.kind == ActionKind::ForceSync)
        .collect();
    assert_eq!(synced.len(), 1, "{:#?}", report.executed.actions);
    assert_eq!(synced[0].outcome, Outcome::Verified, "{}", synced[0].reason);
}
