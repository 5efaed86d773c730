//! Property: any valid budget numbers written to a policy file come back unchanged, and any
//! out-of-range one (or a rule's budget above the run's) is an error naming its field.

use proptest::prelude::*;
use remediator::policy::{defaults, Policy, RuleKind};

fn budget_file(run: u32, hour: u32, kind: u32, window: u32, min: u32, ratio: f64) -> String {
    format!(
        "[safety]\nmax_actions_per_run = {run}\nmax_actions_per_hour = {hour}\n\
         [safety.max_actions_per_kind_per_run]\nforce_sync = {kind}\n\
         [safety.circuit_breaker]\nwindow = {window}\nmin_actions = {min}\nfailure_ratio = {ratio:?}\n"
    )
}

proptest! {
    #[test]
    fn valid_budgets_round_trip(
        run in 0..=defaults::MAX_ACTIONS_LIMIT,
        hour in 0..=defaults::MAX_ACTIONS_LIMIT,
        kind_frac in 0.0f64..=1.0,
        window in 1..=defaults::MAX_BREAKER_WINDOW,
        min_frac in 0.0f64..=1.0,
        ratio in 0.001f64..=1.0,
    ) {
        let kind = ((f64::from(run) * kind_frac) as u32).min(run);
        let min = ((f64::from(window) * min_frac) as u32).clamp(1, window);
        let text = budget_file(run, hour, kind, window, min, ratio);
        let p = Policy::load_sources(&[("safety.toml", text.as_str())])
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(p.safety.max_actions_per_run, run);
        prop_assert_eq!(p.safety.max_actions_per_hour, hour);
        prop_assert_eq!(p.safety.max_actions_per_kind_per_run.get(&RuleKind::ForceSync), Some(&kind));
        prop_assert_eq!(p.safety.max_actions_for_kind(RuleKind::ForceSync), kind);
        prop_assert_eq!(p.safety.circuit_breaker.window, window);
        prop_assert_eq!(p.safety.circuit_breaker.min_actions, min);
        prop_assert_eq!(p.safety.circuit_breaker.failure_ratio, ratio);
    }

    #[test]
    fn a_rule_budget_above_the_run_budget_names_its_field(
        run in 0..defaults::MAX_ACTIONS_LIMIT,
        above in 1..=defaults::MAX_ACTIONS_LIMIT,
    ) {
        let kind = run.saturating_add(above).min(defaults::MAX_ACTIONS_LIMIT);
        prop_assume!(kind > run);
        let text = budget_file(run, 1, kind, 10, 1, 0.5);
        let errs = Policy::load_sources(&[("safety.toml", text.as_str())]).unwrap_err();
        prop_assert_eq!(errs.errors().len(), 1);
        let e = &errs.errors()[0];
        prop_assert_eq!(e.field.as_str(), "safety.max_actions_per_kind_per_run.force_sync");
        prop_assert_eq!(e.position.map(|p| p.line), Some(5));
        let expected = format!("expected at most safety.max_actions_per_run ({run}), found {kind}");
        prop_assert_eq!(e.problem.as_str(), expected.as_str());
    }

    #[test]
    fn out_of_range_budget_names_its_field(run in (defaults::MAX_ACTIONS_LIMIT + 1)..u32::MAX) {
        let text = budget_file(run, 1, 1, 10, 1, 0.5);
        let errs = Policy::load_sources(&[("safety.toml", text.as_str())]).unwrap_err();
        prop_assert_eq!(errs.errors().len(), 1);
        let e = &errs.errors()[0];
        prop_assert_eq!(e.field.as_str(), "safety.max_actions_per_run");
        prop_assert_eq!(e.position.map(|p| p.line), Some(2));
        prop_assert!(e.problem.ends_with(&format!("found {run}")), "{}", e.problem);
    }
}
