//! Planning over a large generated org (ignored: run with `cargo test --release --test it plan_bench
//! -- --ignored --nocapture`). Prints the time taken; asserts only what the plan must contain.

use crate::support::plan as plan_support;

use std::time::Instant;

use plan_support::*;

/// Apps in the generated org.
const APPS: usize = 5_000;
/// Failed assignments per app.
const FAILURES_PER_APP: usize = 4;

#[test]
#[ignore = "benchmark"]
fn plans_a_large_org() {
    let mut s = snapshot();
    s.apps = complete(
        (0..APPS)
            .map(|i| {
                app(
                    &format!("0oa{i:05}"),
                    "acme_scim",
                    &format!("App {i}"),
                    Some("ENABLED"),
                )
            })
            .collect(),
    );
    s.failed_assignments = complete(
        (0..APPS * FAILURES_PER_APP)
            .map(|i| {
                failure(
                    &format!("0oa{:05}", i % APPS),
                    &format!("00u{i:06}"),
                    "connection timed out",
                    minutes_ago(60),
                )
            })
            .collect(),
    );
    let mut p = policy();
    p.safety.max_actions_per_run = 10_000;
    p.safety.max_actions_per_hour = 10_000;
    let started = Instant::now();
    let plan = run(&p, &s, &journal());
    println!(
        "planned {} actions and {} skips over {} failures in {:?}",
        plan.actions.len(),
        plan.skipped.len(),
        APPS * FAILURES_PER_APP,
        started.elapsed()
    );
    assert_eq!(plan.actions.len(), 10_000);
    assert_eq!(plan.skipped.len(), APPS * FAILURES_PER_APP - 10_000);
}
