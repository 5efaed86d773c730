//! The terminal table shows actions with steps, findings with manual steps, and skips with why.

use crate::support::plan as plan_support;

use plan_support::*;
use remediator::observe::PartId;
use remediator::plan::render_table;

#[test]
fn table_shows_actions_findings_and_skips_with_their_details() {
    let mut s = snapshot();
    s.apps = complete(vec![app("0oaS", "slack", "Slack", Some("ENABLED"))]);
    s.failed_assignments = complete(vec![
        failure("0oaS", "00u1", "connection timed out", minutes_ago(60)),
        failure("0oaS", "00u2", "connection timed out", minutes_ago(2)),
        failure("0oaS", "00u3", "User account is inactive", minutes_ago(60)),
    ]);
    let plan = run(&policy(), &s, &journal());
    let table = render_table(&plan);

    assert!(table.starts_with("Plan for https://acme.okta.com at 2026-11-23T10:00:00+00:00\n"));
    assert!(table.contains("ACTIONS (1)"));
    assert!(table.contains(&plan.actions[0].id.to_string()));
    assert!(table.contains("retry-provisioning  app=0oaS;user=00u1"));
    assert!(table.contains("1. re-push app user 0oaS/00u1"));
    assert!(table.contains("2. verify: app user 0oaS/00u1 left syncState ERROR"));
    assert!(table.contains("FINDINGS (1)"));
    assert!(table.contains("retry-not-safe"));
    assert!(
        table.contains("manual 2. Dashboard > Tasks > select the listed users > Retry Selected")
    );
    assert!(table.contains("SKIPPED (1)"));
    assert!(table.contains("too-recent"));
    assert!(table.contains("younger than min_error_age 600s"));
}

#[test]
fn empty_sections_say_none_and_incomplete_plans_say_so() {
    let mut s = snapshot();
    s.events.mark(
        PartId::SystemLog,
        server_error("GET /api/v1/logs", "System Log read failed"),
    );
    let table = render_table(&run(&policy(), &s, &journal()));
    assert!(table
        .lines()
        .next()
        .is_some_and(|l| l.contains("INCOMPLETE")));
    assert_eq!(table.matches("(none)").count(), 3);
}
