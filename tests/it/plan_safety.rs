//! The safety gate: modes, breaker, unfinished fixes, cooldowns and budgets.

use crate::support::plan as plan_support;

use chrono::Duration;
use plan_support::*;
use remediator::journal::{FixState, JournalView};
use remediator::observe::{PartId, Snapshot};
use remediator::plan::{render_table, ActionKind, ActionMode, SkipReason, Target};
use remediator::policy::{Mode, RuleKind};

const TRANSIENT: &str = "connection timed out";

/// `n` failed assignments on Slack, users 00u0..00u{n-1}.
fn failures(n: usize) -> Snapshot {
    let mut s = snapshot();
    s.apps = complete(vec![app("0oaS", "slack", "Slack", Some("ENABLED"))]);
    s.failed_assignments = complete(
        (0..n)
            .map(|i| failure("0oaS", &format!("00u{i}"), TRANSIENT, minutes_ago(60)))
            .collect(),
    );
    s
}

fn skip_reasons(plan: &remediator::plan::Plan) -> Vec<SkipReason> {
    plan.skipped.iter().map(|s| s.why).collect()
}

#[test]
fn report_mode_lists_candidates_as_skipped() {
    let mut p = policy();
    p.global
        .modes
        .insert(RuleKind::RetryProvisioning, Mode::Report);
    let plan = run(&p, &failures(2), &journal());
    assert!(plan.actions.is_empty());
    assert_eq!(
        skip_reasons(&plan),
        vec![SkipReason::Mode, SkipReason::Mode]
    );
    assert!(plan.skipped[0].detail.contains("report"));
}

#[test]
fn a_dry_run_rule_plans_its_action_as_a_preview_and_the_table_says_so() {
    let mut p = policy();
    p.global.default_mode = Mode::DryRun;
    let plan = run(&p, &failures(1), &journal());
    assert_eq!(plan.actions.len(), 1);
    assert_eq!(plan.actions[0].mode, ActionMode::Preview);
    let json = serde_json::to_value(&plan).expect("plan serializes");
    assert_eq!(json["actions"][0]["mode"], "preview");
    assert!(render_table(&plan).contains("dry-run: previewed only, not carried out"));
    assert!(
        !plan.actions[0].reason.contains("dry-run"),
        "the mode is a field"
    );
    let plan = run(&policy(), &failures(1), &journal());
    assert_eq!(plan.actions[0].mode, ActionMode::Enforce);
    assert!(!render_table(&plan).contains("previewed only"));
}

#[test]
fn open_breaker_skips_every_action() {
    let mut j = journal();
    j.breaker.open_until = Some(now() + Duration::minutes(10));
    let plan = run(&policy(), &failures(3), &j);
    assert!(plan.actions.is_empty());
    assert_eq!(skip_reasons(&plan), vec![SkipReason::CircuitBreakerOpen; 3]);

    j.breaker.open_until = Some(now() - Duration::minutes(1));
    assert_eq!(run(&policy(), &failures(3), &j).actions.len(), 3);
}

#[test]
fn running_cooldown_skips_the_target() {
    let mut j = journal();
    j.cooldowns.insert(
        Target::app_user("0oaS", "00u1").key(),
        now() + Duration::minutes(5),
    );
    let plan = run(&policy(), &failures(2), &j);
    assert_eq!(plan.actions.len(), 1);
    assert_eq!(plan.actions[0].target, Target::app_user("0oaS", "00u0"));
    assert_eq!(skip_reasons(&plan), vec![SkipReason::Cooldown]);
}

fn busy(target: Target) -> JournalView {
    let mut j = journal();
    j.unfinished_fixes.push(FixState {
        action_id: "act-0000000000000000".into(),
        action_kind: ActionKind::RemovePushMappings,
        target,
        steps_done: vec![],
        compensation_needed: true,
        started_at: minutes_ago(3),
    });
    j
}

#[test]
fn unfinished_fix_makes_its_target_busy() {
    let plan = run(
        &policy(),
        &failures(2),
        &busy(Target::app_user("0oaS", "00u0")),
    );
    assert_eq!(plan.actions.len(), 1);
    assert_eq!(skip_reasons(&plan), vec![SkipReason::TargetBusy]);
    assert!(plan.skipped[0].detail.contains("unfinished"));

    let plan = run(&policy(), &failures(2), &busy(Target::app("0oaS")));
    assert!(plan.actions.is_empty(), "an app-wide fix blocks its users");
}

#[test]
fn per_kind_budget_then_run_budget_then_hour_budget() {
    let mut p = policy();
    p.safety
        .max_actions_per_kind_per_run
        .insert(RuleKind::RetryProvisioning, 2);
    let plan = run(&p, &failures(4), &journal());
    assert_eq!(plan.actions.len(), 2);
    assert_eq!(skip_reasons(&plan), vec![SkipReason::Budget; 2]);
    assert!(plan.skipped[0]
        .detail
        .contains("max_actions_per_kind_per_run.retry_provisioning"));
    let taken: Vec<_> = plan.actions.iter().map(|a| a.target.key()).collect();
    assert_eq!(
        taken,
        vec!["app=0oaS;user=00u0", "app=0oaS;user=00u1"],
        "deterministic order"
    );

    let mut p = policy();
    p.safety.max_actions_per_run = 3;
    let plan = run(&p, &failures(4), &journal());
    assert_eq!(plan.actions.len(), 3);

    let mut p = policy();
    p.safety.max_actions_per_hour = 10;
    let mut j = journal();
    j.budget_last_hour.total = 9;
    let plan = run(&p, &failures(4), &j);
    assert_eq!(plan.actions.len(), 1);
    assert!(plan.skipped[0].detail.contains("max_actions_per_hour = 10"));
    j.budget_last_hour.total = 12;
    assert!(run(&p, &failures(4), &j).actions.is_empty());
}

#[test]
fn plan_is_complete_only_when_the_snapshot_is() {
    let mut s = failures(1);
    assert!(run(&policy(), &s, &journal()).complete);
    s.events.mark(
        PartId::SystemLog,
        server_error("GET /api/v1/logs", "System Log page failed"),
    );
    let plan = run(&policy(), &s, &journal());
    assert!(!plan.complete);
    assert_eq!(plan.incomplete.len(), 1);
    assert_eq!(plan.incomplete[0].part, PartId::SystemLog);
}

#[test]
fn plans_are_identical_for_identical_inputs_and_ids_are_stable() {
    let a = run(&policy(), &failures(3), &journal());
    let mut shuffled = failures(3);
    shuffled.failed_assignments.value.reverse();
    let b = run(&policy(), &shuffled, &journal());
    assert_eq!(
        serde_json::to_string(&a).expect("serializes"),
        serde_json::to_string(&b).expect("serializes")
    );
    assert!(a
        .actions
        .iter()
        .all(|x| x.kind == ActionKind::RetryProvisioning));
}
