//! The Group Push sweep, spread: `plan` and `apply` ask every candidate app whether it has an
//! ACTIVE mapping at each full observation (one request each: at 2,000 apps, as many requests
//! again as the scan's own pages). The daemon asks them a few at a time instead, after each
//! System Log poll (and the pass it triggered), at `schedule.mapping_sweep_per_minute`, round the
//! org's candidates in app-id order; its full scans ask only the apps last known to have an
//! ACTIVE mapping (or whose last question failed) and those with an open orphaned-mapping
//! finding, so they need only the scan's own pages. An app found with an ACTIVE mapping, or
//! whose question failed, is queued for its targeted read (its connection and mappings), and a
//! pass plans it: a failed read there marks its mappings stale, so the plan names what it could
//! not read.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use crate::observe::{ask_active_mapping, SweepAnswer};
use crate::okta::{AppId, OrgApi};

/// Most questions one step asks, whatever the credit: a step stays short (Okta's default
/// `/api/v1/apps*` bucket allows 100 a minute, half of it kept free).
pub const MAX_SWEEP_STEP: usize = 50;

/// What one step of the sweep asked and found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepOutcome {
    /// The answers, one per app asked.
    pub answers: Vec<(AppId, SweepAnswer)>,
    /// The apps queued for their targeted read: found with an ACTIVE mapping, or whose
    /// question failed.
    pub queued: Vec<AppId>,
    /// Where the cycle stands after the step.
    pub progress: SweepProgress,
}

/// Rounding slack of the question credit.
const CREDIT_EPSILON: f64 = 1e-9;

/// Where the sweep's current cycle stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepProgress {
    /// Candidates asked in this cycle.
    pub asked: usize,
    /// Candidates left to ask in it.
    pub left: usize,
    /// Cycles completed since the daemon started.
    pub cycles: u64,
}

/// The sweep's memory: the last answer per app, the cursor, the credit of questions due.
#[derive(Debug, Default)]
pub(crate) struct SweepState {
    answers: BTreeMap<AppId, SweepAnswer>,
    /// The last app asked in the current cycle.
    cursor: Option<AppId>,
    /// Questions due and not asked yet (fractions carry over).
    credit: f64,
    last_step: Option<DateTime<Utc>>,
    asked_in_cycle: usize,
    cycles: u64,
}

impl SweepState {
    /// The apps a full scan asks again: last known to have an ACTIVE mapping, or whose last
    /// question failed.
    pub(crate) fn known_active(&self) -> BTreeSet<AppId> {
        self.answers
            .iter()
            .filter(|(_, answer)| **answer != SweepAnswer::NoActive)
            .map(|(app, _)| app.clone())
            .collect()
    }

    /// Keeps what a full scan's sweep answered, and forgets the apps no longer in the org.
    pub(crate) fn record_scan(
        &mut self,
        swept: &BTreeMap<AppId, SweepAnswer>,
        apps: &BTreeSet<&AppId>,
    ) {
        self.answers.retain(|app, _| apps.contains(app));
        for (app, answer) in swept {
            self.answers.insert(app.clone(), *answer);
        }
    }

    pub(crate) fn record(&mut self, app: &AppId, answer: SweepAnswer) {
        self.answers.insert(app.clone(), answer);
    }

    /// The questions due at `now` at `per_minute`. What is due carries over from step to step
    /// (a fraction included, so the pace holds when a poll interval's worth is less than one
    /// question), up to `cap` (one poll interval's worth) and one more, so a step after a long
    /// run does not burst; and at most [`MAX_SWEEP_STEP`]. The first step finds none due: it
    /// starts the clock.
    pub(crate) fn due(&mut self, per_minute: u32, cap: f64, now: DateTime<Utc>) -> usize {
        let Some(last) = self.last_step.replace(now) else {
            return 0;
        };
        let minutes = (now - last).num_milliseconds().max(0) as f64 / 60_000.0;
        let ceiling = cap.max(1.0) + 1.0;
        self.credit = (self.credit + minutes * f64::from(per_minute)).min(ceiling);
        // The epsilon keeps sums of fractions (six sixths) from falling short of a whole.
        ((self.credit + CREDIT_EPSILON).floor() as usize).min(MAX_SWEEP_STEP)
    }

    /// The next `n` of `candidates` (in app-id order) after the cursor. A batch that reaches
    /// the last candidate completes the cycle: the next batch starts the next one (a batch
    /// never asks an app twice).
    pub(crate) fn next_batch(&mut self, candidates: &[AppId], n: usize) -> Vec<AppId> {
        let batch: Vec<AppId> = self.after_cursor(candidates).take(n).cloned().collect();
        self.credit -= batch.len() as f64;
        self.asked_in_cycle += batch.len();
        if let Some(last) = batch.last() {
            self.cursor = Some(last.clone());
        }
        if !batch.is_empty() && self.after_cursor(candidates).next().is_none() {
            self.cursor = None;
            self.asked_in_cycle = 0;
            self.cycles += 1;
        }
        batch
    }

    fn after_cursor<'a>(&'a self, candidates: &'a [AppId]) -> impl Iterator<Item = &'a AppId> {
        candidates
            .iter()
            .filter(|app| self.cursor.as_ref().is_none_or(|c| *app > c))
    }

    pub(crate) fn progress(&self, candidates: &[AppId]) -> SweepProgress {
        SweepProgress {
            asked: self.asked_in_cycle,
            left: self.after_cursor(candidates).count(),
            cycles: self.cycles,
        }
    }
}

/// Asks each of `apps` whether it has an ACTIVE mapping (through the client, so the
/// rate-limit governor and its headroom pace it), stopping between questions once `shutdown`
/// is cancelled; a failed question is logged (the request and why, never a URL or token).
pub(crate) async fn ask<O: OrgApi>(
    org: &str,
    api: &O,
    apps: Vec<AppId>,
    shutdown: &CancellationToken,
) -> Vec<(AppId, SweepAnswer)> {
    let mut answers = Vec::new();
    for app in apps {
        if shutdown.is_cancelled() {
            break;
        }
        let answer = match ask_active_mapping(api, &app).await {
            Ok(true) => SweepAnswer::Active,
            Ok(false) => SweepAnswer::NoActive,
            Err(failure) => {
                tracing::warn!(org, app = %app, request = %failure.request, reason = %failure.reason, "Group Push sweep: the question failed; the app is read by the next pass");
                SweepAnswer::Failed
            }
        };
        answers.push((app, answer));
    }
    answers
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apps(ids: &[&str]) -> Vec<AppId> {
        ids.iter().map(|id| AppId::new(*id)).collect()
    }

    #[test]
    fn credit_accrues_with_time_and_is_capped() {
        let mut s = SweepState::default();
        let t0 = Utc::now();
        assert_eq!(s.due(4, 4.0, t0), 0, "the first step starts the clock");
        assert_eq!(s.due(4, 4.0, t0 + chrono::Duration::seconds(30)), 2);
        // Nothing asked: the credit stays, capped at one poll interval's worth and one more.
        assert_eq!(s.due(4, 4.0, t0 + chrono::Duration::minutes(10)), 5);
        // Less than one question a poll: the fractions add up (4 a minute, a poll every 10 s).
        let mut s = SweepState::default();
        let mut asked = 0;
        for poll in 0..=60 {
            let due = s.due(4, 4.0 / 6.0, t0 + chrono::Duration::seconds(10 * poll));
            asked += s
                .next_batch(&apps(&["a", "b", "c", "d", "e", "f", "g"]), due)
                .len();
        }
        assert_eq!(asked, 40, "4 a minute for 10 minutes");
        assert_eq!(
            s.due(50, 1e6, t0 + chrono::Duration::minutes(20)),
            MAX_SWEEP_STEP
        );
    }

    fn progress(asked: usize, left: usize, cycles: u64) -> SweepProgress {
        SweepProgress {
            asked,
            left,
            cycles,
        }
    }

    #[test]
    fn batches_go_round_the_candidates_in_order_and_count_cycles() {
        let mut s = SweepState::default();
        let all = apps(&["a", "b", "c", "d", "e"]);
        assert_eq!(s.next_batch(&all, 2), apps(&["a", "b"]));
        assert_eq!(s.progress(&all), progress(2, 3, 0));
        assert_eq!(s.next_batch(&all, 2), apps(&["c", "d"]));
        assert_eq!(s.next_batch(&all, 2), apps(&["e"]), "a batch never wraps");
        assert_eq!(
            s.progress(&all),
            progress(0, 5, 1),
            "the cycle is complete at once"
        );
        assert_eq!(s.next_batch(&all, 2), apps(&["a", "b"]));
        assert_eq!(s.progress(&all), progress(2, 3, 1));
        // An app added behind the cursor waits for the next cycle; one ahead is asked in this.
        let more = apps(&["a", "aa", "b", "c", "ca", "d", "e"]);
        assert_eq!(s.next_batch(&more, 2), apps(&["c", "ca"]));
        assert!(s.next_batch(&[], 2).is_empty());
        assert_eq!(
            s.progress(&more),
            progress(4, 2, 1),
            "no candidate: nothing completes"
        );
    }

    #[test]
    fn a_full_scan_asks_the_apps_known_active_or_failed_again() {
        let mut s = SweepState::default();
        s.record(&AppId::new("a"), SweepAnswer::Active);
        s.record(&AppId::new("b"), SweepAnswer::NoActive);
        s.record(&AppId::new("c"), SweepAnswer::Failed);
        s.record(&AppId::new("gone"), SweepAnswer::Active);
        assert_eq!(s.known_active().len(), 3);
        let (a, b, c) = (AppId::new("a"), AppId::new("b"), AppId::new("c"));
        let present: BTreeSet<&AppId> = [&a, &b, &c].into_iter().collect();
        let swept = BTreeMap::from([(a.clone(), SweepAnswer::NoActive)]);
        s.record_scan(&swept, &present);
        assert_eq!(s.known_active(), BTreeSet::from([c]));
    }
}
