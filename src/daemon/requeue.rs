//! Requeue-after: a run whose plan held candidates that must wait (an error too recent to
//! retry, a retry backing off, a target cooling down, a budget or the circuit breaker) asks
//! for a follow-up pass when the earliest of those waits ends, as kube-runtime's
//! `Action::requeue` does. Reconciles stay level-triggered: the follow-up pass observes and
//! plans the org afresh, and its own plan says whether another one is needed.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::plan::Plan;
use crate::vocab::SkipReason;

/// The least time between a run and the follow-up pass it asks for: a wait that ends at once
/// (a budget per run, a clock a little behind Okta's) never turns into back-to-back passes.
pub const MIN_REQUEUE_DELAY: Duration = Duration::from_secs(1);

/// The skip reasons whose candidates wait for a time (the `reason` label values of
/// `remediator_requeues_total`).
pub const WAITING_REASONS: [SkipReason; 5] = [
    SkipReason::TooRecent,
    SkipReason::Backoff,
    SkipReason::Cooldown,
    SkipReason::Budget,
    SkipReason::CircuitBreakerOpen,
];

/// A follow-up pass a run asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requeue {
    /// When the earliest wait ends.
    pub at: DateTime<Utc>,
    /// The waiting candidates, per skip reason.
    pub waiting: BTreeMap<SkipReason, u32>,
}

impl Requeue {
    /// How many candidates wait.
    pub fn pending(&self) -> u32 {
        self.waiting.values().sum()
    }
}

/// The follow-up pass `plan` asks for: at the earliest `retry_at` of its skipped entries, or
/// none when no skipped candidate waits for a time.
pub fn requeue_of(plan: &Plan) -> Option<Requeue> {
    let mut at: Option<DateTime<Utc>> = None;
    let mut waiting = BTreeMap::new();
    for skipped in &plan.skipped {
        let Some(retry_at) = skipped.retry_at else {
            continue;
        };
        at = Some(at.map_or(retry_at, |t| t.min(retry_at)));
        *waiting.entry(skipped.why).or_insert(0) += 1;
    }
    at.map(|at| Requeue { at, waiting })
}

/// When to run the follow-up pass, seen at `now`: not before [`MIN_REQUEUE_DELAY`] from now;
/// none when the next full run (`next_full`) comes first and covers it.
pub fn due_at(
    requeue: &Requeue,
    now: DateTime<Utc>,
    next_full: Option<DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    let earliest = now + chrono::Duration::from_std(MIN_REQUEUE_DELAY).unwrap_or_default();
    let at = requeue.at.max(earliest);
    match next_full {
        Some(full) if full <= at => None,
        _ => Some(at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{ActionKind, Skipped, Target};

    fn skipped(why: SkipReason, retry_at: Option<DateTime<Utc>>) -> Skipped {
        Skipped {
            kind: ActionKind::RetryProvisioning,
            target: Target::app_user("0oa1", "00u1"),
            why,
            detail: String::new(),
            part: None,
            evidence: Vec::new(),
            retry_at,
        }
    }

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).expect("valid timestamp")
    }

    #[test]
    fn the_earliest_wait_sets_the_follow_up_and_waits_without_a_time_do_not_count() {
        let mut plan = Plan {
            org: "https://example.okta.com".to_owned(),
            generated_at: at(0),
            complete: true,
            incomplete: Vec::new(),
            actions: Vec::new(),
            findings: Vec::new(),
            skipped: Vec::new(),
            warnings: Vec::new(),
            labels: Default::default(),
            digests: crate::plan::PlanDigests::default(),
        };
        assert_eq!(requeue_of(&plan), None);
        plan.skipped = vec![
            skipped(SkipReason::Cooldown, Some(at(600))),
            skipped(SkipReason::TooRecent, Some(at(30))),
            skipped(SkipReason::TooRecent, Some(at(45))),
            skipped(SkipReason::Mode, None),
        ];
        let requeue = requeue_of(&plan).expect("candidates wait");
        assert_eq!(requeue.at, at(30));
        assert_eq!(requeue.pending(), 3);
        assert_eq!(requeue.waiting[&SkipReason::TooRecent], 2);
        assert_eq!(requeue.waiting[&SkipReason::Cooldown], 1);
        assert!(!requeue.waiting.contains_key(&SkipReason::Mode));
    }

    #[test]
    fn a_follow_up_waits_at_least_the_minimum_and_yields_to_a_full_run_before_it() {
        let requeue = Requeue {
            at: at(30),
            waiting: BTreeMap::new(),
        };
        assert_eq!(due_at(&requeue, at(0), None), Some(at(30)));
        assert_eq!(due_at(&requeue, at(0), Some(at(3600))), Some(at(30)));
        assert_eq!(due_at(&requeue, at(0), Some(at(20))), None);
        assert_eq!(due_at(&requeue, at(40), None), Some(at(41)));
    }
}
