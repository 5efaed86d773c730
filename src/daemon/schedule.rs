//! One org's reconciler loop: a start-up reconcile, then full reconciles on the policy's cron
//! schedule and System Log polls every `log_poll_interval` in between, a relevant event
//! triggering a reconcile at once, and the follow-up passes runs ask for when candidates they
//! held must wait (requeue-after). Everything runs in one task, so two reconciles of an org
//! never overlap: a run that overruns the next tick delays that tick (it runs right after),
//! and several missed ticks run once.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::requeue::{due_at, Requeue};
use super::{Health, LogPoll, Metrics, PollError, Reconcile, Trigger};
use crate::error_chain::error_chain;
use crate::policy::Policy;

/// The wall clock the cron schedule is read against.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A wall clock that advances with tokio's clock from a fixed reading: under
/// `tokio::time::pause()` the cron schedule then follows the paused (auto-advancing) time.
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    wall: DateTime<Utc>,
    base: Instant,
}

impl TokioClock {
    /// A clock reading `wall` now.
    pub fn starting_at(wall: DateTime<Utc>) -> Self {
        TokioClock {
            wall,
            base: Instant::now(),
        }
    }
}

impl Clock for TokioClock {
    fn now(&self) -> DateTime<Utc> {
        let elapsed = Instant::now().duration_since(self.base);
        self.wall + chrono::Duration::from_std(elapsed).unwrap_or(chrono::Duration::MAX)
    }
}

/// The first tick of `schedule` strictly after `after`, if it has one.
pub(crate) fn next_full_run(
    schedule: &cron::Schedule,
    after: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    schedule.after(&after).next()
}

/// One org's loop and what it reports to.
pub struct OrgLoop<R, P, C> {
    pub org: String,
    pub reconciler: R,
    pub poller: P,
    /// The current policy (replaced on SIGHUP): its `[schedule]` is re-read every iteration.
    pub policy: watch::Receiver<Arc<Policy>>,
    pub observe_only: bool,
    pub clock: C,
    pub metrics: Arc<Metrics>,
    pub health: Arc<Health>,
    /// With leader election: true while this replica holds the org's lease.
    pub leading: Option<watch::Receiver<bool>>,
    /// With leader election: true while this loop serves the org (from the start-up run until
    /// its last run has returned), so the lease is released only once nothing runs.
    pub serving: Option<watch::Sender<bool>>,
}

impl<R: Reconcile, P: LogPoll, C: Clock> OrgLoop<R, P, C> {
    /// Runs until `shutdown` is cancelled; a reconcile in progress then finishes its current
    /// step (the token is passed down) before the loop returns. With leader election, the org
    /// is served only while this replica holds its lease.
    pub async fn run(self, shutdown: CancellationToken) {
        while self.wait_until_leading(&shutdown).await {
            // Serving is announced before leadership is checked again: an election that
            // withdraws the lease meanwhile either sees this loop serving and waits for it, or
            // has withdrawn it already and the check below sees that.
            self.set_serving(true);
            if self.is_leading() && !shutdown.is_cancelled() {
                self.health.standby(&self.org, false);
                self.lead(&shutdown).await;
            }
            self.set_serving(false);
            if shutdown.is_cancelled() || self.leading.is_none() {
                break;
            }
            tracing::warn!(org = %self.org, "lost the org's lease: standing by");
        }
        tracing::info!(org = %self.org, "reconciler stopped");
    }

    fn set_serving(&self, serving: bool) {
        if let Some(tx) = &self.serving {
            tx.send_replace(serving);
        }
    }

    /// Whether this replica serves the org now (always, without leader election).
    fn is_leading(&self) -> bool {
        self.leading.as_ref().is_none_or(|rx| *rx.borrow())
    }

    /// Waits until this replica leads the org; false when shutting down first.
    async fn wait_until_leading(&self, shutdown: &CancellationToken) -> bool {
        let Some(mut rx) = self.leading.clone() else {
            return !shutdown.is_cancelled();
        };
        loop {
            if shutdown.is_cancelled() {
                return false;
            }
            if *rx.borrow_and_update() {
                return true;
            }
            self.health.standby(&self.org, true);
            self.metrics
                .set_ready(&self.org, self.health.org_ready(&self.org));
            tokio::select! {
                () = shutdown.cancelled() => return false,
                changed = rx.changed() => if changed.is_err() {
                    tracing::error!(org = %self.org, "leader election stopped: not serving the org");
                    return false;
                },
            }
        }
    }

    /// Serves the org: the start-up reconcile, then the schedule, the follow-up passes runs
    /// ask for (requeue-after) and the polls, until shutdown or until the lease is lost.
    async fn lead(&self, shutdown: &CancellationToken) {
        let mut policy = self.policy.borrow().clone();
        // Ticks are counted from the start-up run's start: one it overruns runs right after.
        let mut next_full = next_full_run(&policy.schedule.full_reconcile, self.clock.now());
        let mut requeue_at = None;
        // The start-up run (so readiness does not wait for the schedule) counts as a timer run.
        // A run that could not observe the org is run again after the next good poll, not
        // only at the next tick (hours away, with readiness down meanwhile).
        let ran = self.reconcile(Trigger::Timer, shutdown).await;
        let mut retry = self.after_run(ran, next_full, &mut requeue_at);
        let mut next_poll = Instant::now() + policy.schedule.log_poll_interval;
        while !shutdown.is_cancelled() && self.is_leading() {
            let current = self.policy.borrow().clone();
            if current.schedule.full_reconcile_expr != policy.schedule.full_reconcile_expr {
                next_full = next_full_run(&current.schedule.full_reconcile, self.clock.now());
                tracing::info!(org = %self.org, schedule = %current.schedule.full_reconcile_expr, next = ?next_full, "schedule changed");
            }
            policy = current;
            let now = self.clock.now();
            if next_full.is_some_and(|t| now >= t) {
                let ran = self.reconcile(Trigger::Timer, shutdown).await;
                // The first tick after this run's start: if the run overran it, it is due now.
                next_full = next_full_run(&policy.schedule.full_reconcile, now);
                retry = self.after_run(ran, next_full, &mut requeue_at);
                continue;
            }
            if requeue_at.is_some_and(|t| now >= t) {
                requeue_at = None;
                let ran = self.reconcile(Trigger::Requeue, shutdown).await;
                retry = self.after_run(ran, next_full, &mut requeue_at);
                continue;
            }
            if Instant::now() >= next_poll {
                let polled = self.poll().await;
                let ran = match polled {
                    Polled::Trigger => Some(self.reconcile(Trigger::SystemLog, shutdown).await),
                    Polled::Quiet if retry => {
                        tracing::info!(org = %self.org, "the org answers again: running the failed reconcile again");
                        Some(self.reconcile(Trigger::Timer, shutdown).await)
                    }
                    Polled::Quiet | Polled::Failed => None,
                };
                if let Some(ran) = ran {
                    retry = self.after_run(ran, next_full, &mut requeue_at);
                }
                // The sweep's step comes after the poll's own pass (an event is not kept
                // waiting for it), and not while the org does not answer.
                if polled != Polled::Failed && !shutdown.is_cancelled() {
                    if let Some(ran) = self.sweep(shutdown).await {
                        retry = self.after_run(ran, next_full, &mut requeue_at);
                    }
                }
                next_poll = Instant::now() + policy.schedule.log_poll_interval;
                continue;
            }
            let until = |t: DateTime<Utc>| (t - now).to_std().unwrap_or(Duration::ZERO);
            let wait = [next_full.map(until), requeue_at.map(until)]
                .into_iter()
                .flatten()
                .fold(
                    next_poll.saturating_duration_since(Instant::now()),
                    Duration::min,
                );
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = lease_lost(self.leading.clone()) => break,
                () = tokio::time::sleep(wait) => {}
                // An Event Hook's event: poll now (the poll takes it and reads the log too).
                () = self.poller.woken() => next_poll = Instant::now(),
            }
        }
    }

    /// After a run: the follow-up pass its plan asks for replaces any earlier one (the newest
    /// plan is the whole truth; a failed run keeps the earlier one). True when the run must
    /// be run again because it could not observe the org.
    fn after_run(
        &self,
        ran: Ran,
        next_full: Option<DateTime<Utc>>,
        requeue_at: &mut Option<DateTime<Utc>>,
    ) -> bool {
        let Some(requeue) = ran.requeue else {
            return !ran.observed;
        };
        *requeue_at = requeue
            .as_ref()
            .and_then(|r| due_at(r, self.clock.now(), next_full));
        let scheduled = requeue.as_ref().filter(|_| requeue_at.is_some());
        self.metrics.record_requeue(&self.org, scheduled);
        match (scheduled, &requeue) {
            (Some(r), _) => tracing::info!(
                org = %self.org,
                retry_at = %r.at.to_rfc3339(),
                runs_at = ?requeue_at.map(|t| t.to_rfc3339()),
                waiting = ?r.waiting.iter().map(|(k, n)| (k.as_str(), *n)).collect::<Vec<_>>(),
                "follow-up pass scheduled for candidates that must wait"
            ),
            (None, Some(r)) => tracing::info!(
                org = %self.org,
                retry_at = %r.at.to_rfc3339(),
                "candidates wait past the next full run: no follow-up pass before it"
            ),
            (None, None) => {}
        }
        !ran.observed
    }

    /// One step of the Group Push sweep, recorded; a pass when it queued apps to read.
    async fn sweep(&self, shutdown: &CancellationToken) -> Option<Ran> {
        let step = self.poller.sweep(shutdown).await?;
        self.metrics.record_sweep(&self.org, &step);
        if step.queued.is_empty() {
            return None;
        }
        tracing::info!(org = %self.org, apps = step.queued.len(), "the Group Push sweep calls for a reconcile");
        Some(self.reconcile(Trigger::SystemLog, shutdown).await)
    }

    /// Runs one reconcile and records it.
    async fn reconcile(&self, trigger: Trigger, shutdown: &CancellationToken) -> Ran {
        let span = tracing::info_span!(
            "reconcile",
            org = %self.org,
            trigger = trigger.as_str(),
            // The logs' (and the journal's) older name of observe-only.
            dry_run = self.observe_only
        );
        let started = Instant::now();
        // Losing the lease mid-run stops the run between steps, as a shutdown does: another
        // replica may take the org over once the lease expires.
        let stop = shutdown.child_token();
        let run = self
            .reconciler
            .reconcile(trigger, self.observe_only, &stop)
            .instrument(span.clone());
        tokio::pin!(run);
        let outcome = loop {
            tokio::select! {
                outcome = &mut run => break outcome,
                () = lease_lost(self.leading.clone()), if !stop.is_cancelled() => {
                    tracing::warn!(org = %self.org, "lost the org's lease during a run: stopping after the current step");
                    stop.cancel();
                }
            }
        };
        let elapsed = started.elapsed();
        self.metrics
            .record_run(&self.org, trigger, &outcome, elapsed, self.clock.now());
        let _entered = span.enter();
        let observed = match &outcome {
            Ok(summary) => {
                if summary.observed {
                    self.health.observed(&self.org);
                }
                tracing::info!(
                    run_id = %summary.run_id,
                    result = summary.result().as_str(),
                    planned = summary.planned.values().sum::<u32>(),
                    findings = summary.findings.values().sum::<u32>(),
                    actions = summary.actions.len(),
                    elapsed_ms = elapsed.as_millis() as u64,
                    "reconcile finished"
                );
                for unread in &summary.incomplete {
                    tracing::warn!(
                        part = %unread.part,
                        kind = unread.failure.kind.as_str(),
                        request = %unread.failure.request,
                        reason = %unread.failure.reason,
                        "part of the org not read: what depends on it was withheld"
                    );
                }
                summary.observed
            }
            Err(error) => {
                match error.unreadable() {
                    Some(unreadable) => {
                        self.health.unreadable(&self.org, unreadable);
                        tracing::error!(
                            kind = unreadable.kind().as_str(),
                            request = %unreadable.failure.request,
                            reason = %unreadable.failure.reason,
                            "could not read the org: {}",
                            super::health::describe(&unreadable.failure)
                        );
                    }
                    None => {
                        self.health
                            .failed(&self.org, format!("run failed: {}", error_chain(error)));
                        tracing::error!(error = %error_chain(error), "reconcile failed");
                    }
                }
                false
            }
        };
        self.metrics
            .set_ready(&self.org, self.health.org_ready(&self.org));
        Ran {
            observed,
            requeue: outcome.ok().map(|summary| summary.requeue),
        }
    }

    /// Polls the System Log.
    async fn poll(&self) -> Polled {
        let outcome = self.poller.poll().await;
        self.metrics.record_poll(&self.org, &outcome);
        let failure = outcome.as_ref().err().and_then(PollError::read_failure);
        match (&outcome, &failure) {
            (Err(_), Some(failure)) => self.health.polled(&self.org, Err(failure)),
            (Err(error), None) => self.health.failed(
                &self.org,
                format!("System Log poll failed: {}", error_chain(error)),
            ),
            (Ok(_), _) => self.health.polled(&self.org, Ok(())),
        }
        self.metrics
            .set_ready(&self.org, self.health.org_ready(&self.org));
        match outcome {
            Ok(poll) if !poll.triggers.is_empty() => {
                let kinds: Vec<&str> = poll.triggers.iter().map(|(k, _)| k.as_str()).collect();
                tracing::info!(org = %self.org, events = poll.events, triggers = ?kinds, "System Log events call for a reconcile");
                Polled::Trigger
            }
            Ok(_) => Polled::Quiet,
            Err(error) => {
                tracing::warn!(org = %self.org, error = %error_chain(&error), "System Log poll failed");
                Polled::Failed
            }
        }
    }
}

/// How a run ended, for the loop.
struct Ran {
    /// The run observed the org.
    observed: bool,
    /// The run finished: the follow-up pass its plan asks for (none: no candidate waits).
    requeue: Option<Option<Requeue>>,
}

/// What a System Log poll said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Polled {
    /// An event calls for a reconcile now.
    Trigger,
    /// The org answered; nothing relevant happened.
    Quiet,
    /// The poll failed.
    Failed,
}

/// Completes when `leading` turns false (or its sender goes); never without leader election.
async fn lease_lost(leading: Option<watch::Receiver<bool>>) {
    let Some(mut rx) = leading else {
        return std::future::pending().await;
    };
    while *rx.borrow_and_update() {
        if rx.changed().await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;

    use super::*;
    use crate::daemon::{PollError, PollOutcome, ReconcileError, ReconcileSummary};

    /// Records each run's trigger and (start, end) on tokio's clock; never runs two at once.
    #[derive(Default)]
    struct SlowReconciler {
        runtime: Duration,
        /// The first runs that find the org unreachable.
        unreachable_runs: AtomicUsize,
        in_flight: AtomicUsize,
        max_in_flight: AtomicUsize,
        runs: Mutex<Vec<(Trigger, Instant, Instant)>>,
        /// The follow-up pass each successive run asks for (none once the script is over).
        requeues: Mutex<Vec<Option<DateTime<Utc>>>>,
    }

    impl Reconcile for Arc<SlowReconciler> {
        async fn reconcile(
            &self,
            trigger: Trigger,
            _observe_only: bool,
            _shutdown: &CancellationToken,
        ) -> Result<ReconcileSummary, ReconcileError> {
            let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            self.max_in_flight.fetch_max(now, Ordering::SeqCst);
            let start = Instant::now();
            tokio::time::sleep(self.runtime).await;
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            self.runs
                .lock()
                .expect("test lock")
                .push((trigger, start, Instant::now()));
            let unreachable = self
                .unreachable_runs
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            if unreachable {
                return Err(unreadable_error());
            }
            let mut requeues = self.requeues.lock().expect("test lock");
            let requeue = if requeues.is_empty() {
                None
            } else {
                requeues.remove(0)
            };
            Ok(ReconcileSummary {
                observed: true,
                complete: true,
                requeue: requeue.map(|at| Requeue {
                    at,
                    waiting: [(crate::vocab::SkipReason::TooRecent, 2)]
                        .into_iter()
                        .collect(),
                }),
                ..ReconcileSummary::default()
            })
        }
    }

    /// A run that could not read the org: no connection.
    fn unreadable_error() -> ReconcileError {
        let failure = crate::observe::ReadFailure::new(
            "GET /api/v1/apps",
            crate::observe::FailureKind::Unreachable,
            "no connection: Connection refused",
        );
        ReconcileError::Pass {
            org: "test".into(),
            source: crate::reconcile::ReconcileError::Unreadable {
                run_id: "run-test".into(),
                source: crate::observe::OrgUnreadable {
                    org: "https://test.okta.com".into(),
                    failure,
                    requests: 1,
                },
            },
        }
    }

    /// Answers each poll from a script: `true` means a relevant event arrived.
    #[derive(Default)]
    struct ScriptedPoller {
        script: Mutex<Vec<bool>>,
        polls: AtomicUsize,
    }

    impl LogPoll for Arc<ScriptedPoller> {
        async fn poll(&self) -> Result<PollOutcome, PollError> {
            self.polls.fetch_add(1, Ordering::SeqCst);
            let mut script = self.script.lock().expect("test lock");
            let relevant = if script.is_empty() {
                false
            } else {
                script.remove(0)
            };
            Ok(PollOutcome {
                events: u64::from(relevant),
                triggers: if relevant {
                    vec![("application.provision.user.push".into(), "e1".into())]
                } else {
                    Vec::new()
                },
            })
        }
    }

    fn policy(cron: &str, poll: &str) -> Arc<Policy> {
        let text =
            format!("[schedule]\nfull_reconcile = \"{cron}\"\nlog_poll_interval = \"{poll}\"\n");
        let policy =
            Policy::load_sources(&[("schedule.toml", text.as_str())]).expect("valid test policy");
        Arc::new(policy)
    }

    struct Harness {
        reconciler: Arc<SlowReconciler>,
        poller: Arc<ScriptedPoller>,
        metrics: Arc<Metrics>,
        shutdown: CancellationToken,
        task: tokio::task::JoinHandle<()>,
    }

    fn start(policy: Arc<Policy>, runtime: Duration, script: Vec<bool>) -> Harness {
        start_with(policy, runtime, script, None)
    }

    fn start_with(
        policy: Arc<Policy>,
        runtime: Duration,
        script: Vec<bool>,
        leading: Option<watch::Receiver<bool>>,
    ) -> Harness {
        let reconciler = Arc::new(SlowReconciler {
            runtime,
            ..SlowReconciler::default()
        });
        let poller = Arc::new(ScriptedPoller {
            script: Mutex::new(script),
            ..ScriptedPoller::default()
        });
        let metrics = Arc::new(Metrics::new());
        let (_tx, rx) = watch::channel(policy);
        // The sender may go: the loop keeps the last policy it was given.
        let org_loop = OrgLoop {
            org: "test".to_owned(),
            reconciler: reconciler.clone(),
            poller: poller.clone(),
            policy: rx,
            observe_only: true,
            // 00:00:00 on a whole minute, so cron ticks fall at known offsets.
            clock: TokioClock::starting_at(
                DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
                    .expect("valid time")
                    .with_timezone(&Utc),
            ),
            metrics: metrics.clone(),
            health: Arc::new(Health::new(["test"])),
            leading,
            serving: None,
        };
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(org_loop.run(shutdown.clone()));
        Harness {
            reconciler,
            poller,
            metrics,
            shutdown,
            task,
        }
    }

    async fn stop(h: Harness) -> Vec<(Trigger, Instant, Instant)> {
        h.shutdown.cancel();
        h.task.await.expect("loop ends cleanly");
        let runs = h.reconciler.runs.lock().expect("test lock").clone();
        runs
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("valid time")
            .with_timezone(&Utc)
    }

    #[tokio::test(start_paused = true)]
    async fn a_run_that_asks_for_a_follow_up_gets_one_when_the_wait_ends_and_only_one() {
        let h = start(
            policy("0 0 0 1 1 * 2099", "10m"),
            Duration::from_secs(1),
            Vec::new(),
        );
        // The start-up run asks for a follow-up at 00:00:30; the follow-up asks for none.
        *h.reconciler.requeues.lock().expect("test lock") = vec![Some(at("2026-01-01T00:00:30Z"))];
        tokio::time::sleep(Duration::from_secs(5)).await;
        let scrape = h.metrics.encode();
        assert!(
            scrape.contains(r#"remediator_requeues_pending{org="test"} 2"#),
            "{scrape}"
        );
        assert!(
            scrape.contains(r#"remediator_requeues_total{org="test",reason="too-recent"} 2"#),
            "{scrape}"
        );
        tokio::time::sleep(Duration::from_secs(3600)).await;
        let scrape = h.metrics.encode();
        assert!(
            scrape.contains(r#"remediator_requeues_pending{org="test"} 0"#),
            "{scrape}"
        );
        let base = h.reconciler.runs.lock().expect("test lock")[0].1;
        let runs = stop(h).await;
        let triggers: Vec<Trigger> = runs.iter().map(|r| r.0).collect();
        assert_eq!(triggers, vec![Trigger::Timer, Trigger::Requeue]);
        let follow_up = runs[1].1.duration_since(base);
        assert_eq!(follow_up, Duration::from_secs(30), "{follow_up:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_follow_up_after_the_next_full_run_is_left_to_it() {
        // A full run every minute; the start-up run asks for a follow-up in 5 minutes.
        let h = start(
            policy("0 * * * * *", "10m"),
            Duration::from_secs(1),
            Vec::new(),
        );
        *h.reconciler.requeues.lock().expect("test lock") = vec![Some(at("2026-01-01T00:05:00Z"))];
        tokio::time::sleep(Duration::from_secs(150)).await;
        let runs = stop(h).await;
        assert!(
            runs.iter().all(|r| r.0 == Trigger::Timer),
            "{:?}",
            runs.iter().map(|r| r.0).collect::<Vec<_>>()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn overrunning_runs_delay_the_next_tick_and_never_overlap() {
        // A tick every 30 s; each run takes 45 s.
        let h = start(
            policy("*/30 * * * * *", "1h"),
            Duration::from_secs(45),
            vec![],
        );
        tokio::time::sleep(Duration::from_secs(300)).await;
        let max_in_flight = h.reconciler.max_in_flight.load(Ordering::SeqCst);
        let runs = stop(h).await;
        assert_eq!(max_in_flight, 1, "two runs of one org overlapped");
        for pair in runs.windows(2) {
            assert!(
                pair[1].1 >= pair[0].2,
                "a run started before the previous ended"
            );
        }
        // Start-up at 0 s, then the delayed ticks run back to back: 45, 90, 135, ...
        let starts: Vec<u64> = runs
            .iter()
            .map(|(_, s, _)| s.duration_since(runs[0].1).as_secs())
            .collect();
        assert_eq!(&starts[..5], &[0, 45, 90, 135, 180], "{starts:?}");
        assert!(runs.iter().all(|(t, _, _)| *t == Trigger::Timer));
    }

    #[tokio::test(start_paused = true)]
    async fn ticks_run_on_schedule_when_runs_are_short() {
        let h = start(policy("0 * * * * *", "1h"), Duration::from_secs(5), vec![]);
        tokio::time::sleep(Duration::from_secs(185)).await;
        let runs = stop(h).await;
        let starts: Vec<u64> = runs
            .iter()
            .map(|(_, s, _)| s.duration_since(runs[0].1).as_secs())
            .collect();
        assert_eq!(starts, [0, 60, 120, 180]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_relevant_event_triggers_a_reconcile_at_the_next_poll() {
        // Hourly schedule; polls every 10 s; the third poll sees a relevant event.
        let h = start(
            policy("0 0 * * * *", "10s"),
            Duration::from_secs(2),
            vec![false, false, true],
        );
        tokio::time::sleep(Duration::from_secs(45)).await;
        let polls = h.poller.polls.load(Ordering::SeqCst);
        let text = h.metrics.encode();
        let runs = stop(h).await;
        let triggers: Vec<Trigger> = runs.iter().map(|(t, _, _)| *t).collect();
        assert_eq!(triggers, [Trigger::Timer, Trigger::SystemLog]);
        // Start-up 0..2 s; polls at 12, 22, 32 s; the triggered run starts at the third.
        assert_eq!(runs[1].1.duration_since(runs[0].1).as_secs(), 32);
        assert!(polls >= 3, "{polls} polls");
        assert!(
            text.contains(
                r#"remediator_reconcile_runs_total{org="test",trigger="system_log",result="ok"} 1"#
            ),
            "{text}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_during_a_run_lets_it_finish_and_starts_no_other() {
        let h = start(
            policy("*/10 * * * * *", "1h"),
            Duration::from_secs(30),
            vec![],
        );
        tokio::time::sleep(Duration::from_secs(5)).await;
        let runs = stop(h).await;
        assert_eq!(
            runs.len(),
            1,
            "the start-up run finishes, no timer run starts"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn only_the_lease_holder_reconciles_and_a_lost_lease_stops_the_run() {
        let (lease, leading) = watch::channel(false);
        let h = start_with(
            policy("0 * * * * *", "1h"),
            Duration::from_secs(20),
            vec![],
            Some(leading),
        );
        tokio::time::sleep(Duration::from_secs(130)).await;
        assert!(
            h.reconciler.runs.lock().expect("test lock").is_empty(),
            "a standby replica reconciled"
        );
        lease.send_replace(true);
        tokio::time::sleep(Duration::from_secs(30)).await;
        assert_eq!(h.reconciler.runs.lock().expect("test lock").len(), 1);
        lease.send_replace(false);
        tokio::time::sleep(Duration::from_secs(300)).await;
        let runs = stop(h).await;
        let triggers: Vec<Trigger> = runs.iter().map(|(t, _, _)| *t).collect();
        assert_eq!(triggers, [Trigger::Timer], "ran after losing the lease");
    }

    #[tokio::test(start_paused = true)]
    async fn a_run_that_could_not_observe_is_repeated_after_the_next_good_poll() {
        let reconciler = Arc::new(SlowReconciler {
            runtime: Duration::from_secs(1),
            unreachable_runs: AtomicUsize::new(1),
            ..SlowReconciler::default()
        });
        let (_tx, rx) = watch::channel(policy("0 0 * * * *", "10s"));
        let health = Arc::new(Health::new(["test"]));
        let org_loop = OrgLoop {
            org: "test".to_owned(),
            reconciler: reconciler.clone(),
            poller: Arc::new(ScriptedPoller::default()),
            policy: rx,
            observe_only: true,
            clock: TokioClock::starting_at(
                DateTime::parse_from_rfc3339("2026-01-01T00:00:01Z")
                    .expect("valid time")
                    .with_timezone(&Utc),
            ),
            metrics: Arc::new(Metrics::new()),
            health: health.clone(),
            leading: None,
            serving: None,
        };
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(org_loop.run(shutdown.clone()));
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert!(!health.org_ready("test"), "the first run could not observe");
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert!(health.org_ready("test"), "ready after the repeated run");
        shutdown.cancel();
        task.await.expect("loop ends");
        let runs = reconciler.runs.lock().expect("test lock").clone();
        // The failed start-up run, then one more after the first poll; none after that.
        assert_eq!(runs.len(), 2, "{runs:?}");
        assert_eq!(runs[1].1.duration_since(runs[0].1).as_secs(), 11);
    }

    #[tokio::test(start_paused = true)]
    async fn serving_stays_set_until_the_run_in_progress_has_returned() {
        let reconciler = Arc::new(SlowReconciler {
            runtime: Duration::from_secs(20),
            ..SlowReconciler::default()
        });
        let (_tx, rx) = watch::channel(policy("0 0 * * * *", "1h"));
        let (lease, leading) = watch::channel(true);
        let (serving_tx, serving) = watch::channel(false);
        let org_loop = OrgLoop {
            org: "test".to_owned(),
            reconciler: reconciler.clone(),
            poller: Arc::new(ScriptedPoller::default()),
            policy: rx,
            observe_only: true,
            clock: TokioClock::starting_at(
                DateTime::parse_from_rfc3339("2026-01-01T00:00:01Z")
                    .expect("valid time")
                    .with_timezone(&Utc),
            ),
            metrics: Arc::new(Metrics::new()),
            health: Arc::new(Health::new(["test"])),
            leading: Some(leading),
            serving: Some(serving_tx),
        };
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(org_loop.run(shutdown.clone()));
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert!(*serving.borrow(), "serving during the start-up run");
        lease.send_replace(false);
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert!(*serving.borrow(), "still serving: the run has not returned");
        tokio::time::sleep(Duration::from_secs(15)).await;
        assert!(!*serving.borrow(), "not serving once the run returned");
        shutdown.cancel();
        task.await.expect("loop ends");
        assert_eq!(reconciler.runs.lock().expect("test lock").len(), 1);
    }
}
