//! The daemon's cached snapshot of one org, the watch-fed cache of a controller: the full scan
//! (at start-up and on the cron schedule) fills it; System Log events, polled or delivered by
//! an Okta Event Hook, name the targets a later pass re-reads with targeted reads
//! (`observe::patch`), coalesced (one read per target per pass); the planner plans over the
//! whole patched snapshot. Events are taken once, by `uuid`, whichever source brought them.
//!
//! Kept in memory only: a restarted daemon rebuilds it with its start-up full scan (the
//! journal is not a cache, and an org image from before a downtime is worse than one scan).

use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::{watch, Notify};

use super::sweep::{SweepOutcome, SweepState};
use crate::journal::Outcome;
use crate::observe::{
    event_of, sweep_candidates, EventInfo, ReadTarget, Snapshot, SweepAnswer, SweepScope,
};
use crate::okta::AppId;
use crate::okta::LogEvent;
use crate::plan::Plan;
use crate::policy::Policy;
use crate::vocab::{ActionKind, Target};

/// An action a pass took: its kind, its outcome, its target.
pub(crate) type Acted = (ActionKind, Outcome, Target);

/// Most targets waiting for their targeted read; past it the next pass is a full scan (a storm
/// that names more targets than this is cheaper to read whole).
pub const MAX_PENDING_TARGETS: usize = 1_000;
/// Most System Log events waiting to be added to the snapshot; past it the next pass is a full
/// scan.
pub const MAX_BUFFERED_EVENTS: usize = 10_000;
/// Event uuids remembered to take each event once (polling and Event Hooks both bring them);
/// the oldest are forgotten first. Far more than a poll interval of a busy org's relevant events.
pub const MAX_SEEN_EVENTS: usize = 50_000;

/// The uuids of the events taken, bounded, oldest forgotten first.
#[derive(Debug, Default)]
struct Seen {
    set: HashSet<String>,
    order: VecDeque<String>,
}

impl Seen {
    /// False when `uuid` was taken already.
    fn insert(&mut self, uuid: &str) -> bool {
        if self.set.contains(uuid) {
            return false;
        }
        self.set.insert(uuid.to_owned());
        self.order.push_back(uuid.to_owned());
        while self.order.len() > MAX_SEEN_EVENTS {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
        true
    }
}

#[derive(Debug, Default)]
struct Inner {
    snapshot: Option<Snapshot>,
    /// Targets to re-read at the next pass.
    pending: BTreeSet<ReadTarget>,
    /// Targets the last plan holds waiting (requeue-after), with the time each wait ends:
    /// re-read by the follow-up pass once their wait is over.
    requeue: BTreeMap<ReadTarget, DateTime<Utc>>,
    /// Events taken since the snapshot was last planned.
    events: Vec<EventInfo>,
    /// Too many targets or events waited: the next pass reads the org whole.
    overflow: bool,
    seen: Seen,
    /// Events delivered by an Event Hook that call for a pass: `eventType` and uuid.
    hook_triggers: Vec<(String, String)>,
    /// The Group Push sweep spread between full scans.
    sweep: SweepState,
}

/// What an incremental pass works from.
#[derive(Debug)]
pub struct Work {
    pub snapshot: Snapshot,
    pub targets: BTreeSet<ReadTarget>,
    pub events: Vec<EventInfo>,
}

/// One org's cached snapshot, shared by its reconciler, its System Log poller and its Event
/// Hook route.
#[derive(Debug, Default)]
pub struct SnapshotCache {
    inner: Mutex<Inner>,
    wake: Notify,
    /// With the Group Push sweep spread between full scans (`daemon::sweep`): the policy whose
    /// `schedule.mapping_sweep_per_minute` paces it.
    sweep_policy: Option<watch::Receiver<Arc<Policy>>>,
}

impl SnapshotCache {
    pub fn new() -> Self {
        SnapshotCache::default()
    }

    /// Spreads the Group Push sweep between full scans, paced by `policy`'s
    /// `schedule.mapping_sweep_per_minute` (0: every full scan asks every candidate).
    pub fn with_spread_sweep(mut self, policy: watch::Receiver<Arc<Policy>>) -> Self {
        self.sweep_policy = Some(policy);
        self
    }

    /// The sweep's pace, questions a minute, and the most due at one step (one poll
    /// interval's worth); none when the sweep is not spread.
    fn sweep_pace(&self) -> Option<(u32, f64)> {
        let schedule = self.sweep_policy.as_ref()?.borrow().schedule.clone();
        let per_minute = schedule.mapping_sweep_per_minute;
        let cap = f64::from(per_minute) * schedule.log_poll_interval.as_secs_f64() / 60.0;
        (per_minute > 0).then_some((per_minute, cap))
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes `event` (from a poll or a hook) unless it was taken already: it is kept for the
    /// snapshot's events and returned; `None` when seen before.
    pub fn take_event(&self, event: &LogEvent) -> Option<EventInfo> {
        let mut inner = self.lock();
        if !inner.seen.insert(&event.uuid) {
            return None;
        }
        let info = event_of(event.clone());
        if inner.events.len() >= MAX_BUFFERED_EVENTS {
            inner.overflow = true;
        } else {
            inner.events.push(info.clone());
        }
        Some(info)
    }

    /// The event calls for a pass: its targets are re-read at the next one.
    pub fn queue_event_targets(&self, event: &EventInfo) {
        self.queue(ReadTarget::of_event(event));
    }

    /// `targets` are re-read at the next pass.
    pub fn queue(&self, targets: impl IntoIterator<Item = ReadTarget>) {
        let mut inner = self.lock();
        for target in targets {
            if inner.pending.len() >= MAX_PENDING_TARGETS {
                inner.overflow = true;
                break;
            }
            inner.pending.insert(target);
        }
    }

    /// An Event Hook delivered an event that calls for a pass: the org's loop is woken.
    pub(crate) fn hook_trigger(&self, event_type: &str, uuid: &str) {
        self.lock()
            .hook_triggers
            .push((event_type.to_owned(), uuid.to_owned()));
        self.wake.notify_one();
    }

    /// The hook-delivered events that call for a pass since the last call.
    pub(crate) fn take_hook_triggers(&self) -> Vec<(String, String)> {
        std::mem::take(&mut self.lock().hook_triggers)
    }

    /// Completes when an Event Hook delivered an event that calls for a pass.
    pub(crate) async fn woken(&self) {
        self.wake.notified().await;
    }

    /// A full scan starts: what waits now is read by it.
    pub(crate) fn begin_scan(&self) {
        let mut inner = self.lock();
        inner.pending.clear();
        inner.requeue.clear();
        inner.events.clear();
        inner.overflow = false;
    }

    /// The work of an incremental pass at `now` (a `requeue` pass re-reads the targets the last
    /// plan holds waiting whose wait is over, too); `None` when it must be a full scan: nothing
    /// cached yet, or more waited than the bounds allow.
    pub(crate) fn take_work(&self, requeue: bool, now: DateTime<Utc>) -> Option<Work> {
        let mut inner = self.lock();
        if inner.overflow {
            return None;
        }
        let snapshot = inner.snapshot.clone()?;
        let mut targets = std::mem::take(&mut inner.pending);
        if requeue {
            let due: Vec<ReadTarget> = inner
                .requeue
                .iter()
                .filter(|(_, at)| **at <= now)
                .map(|(target, _)| target.clone())
                .collect();
            for target in due {
                inner.requeue.remove(&target);
                targets.insert(target);
            }
        }
        let events = std::mem::take(&mut inner.events);
        Some(Work {
            snapshot,
            targets,
            events,
        })
    }

    /// Keeps the snapshot a pass planned over (filled by a full scan, or patched) and what its
    /// plan and actions name: the targets it holds waiting are re-read by the follow-up pass
    /// once their wait is over; the targets of the actions taken, by the next pass, except a
    /// retry the executor verified (its read-back showed the app user out of `ERROR`: the
    /// snapshot drops the failure, as a re-read would).
    pub(crate) fn store(&self, mut snapshot: Snapshot, plan: &Plan, acted: &[Acted]) {
        let mut reread = Vec::new();
        for (kind, outcome, target) in acted {
            match (kind, outcome, read_target(target)) {
                (
                    ActionKind::RetryProvisioning,
                    Outcome::Verified,
                    Some(ReadTarget::AppUser { app, user }),
                ) => {
                    snapshot
                        .failed_assignments
                        .value
                        .retain(|f| !(f.app_id == app && f.user_id == user));
                }
                (_, _, Some(target)) => reread.push(target),
                (_, _, None) => {}
            }
        }
        let mut inner = self.lock();
        inner.snapshot = Some(snapshot);
        inner.requeue = BTreeMap::new();
        for skipped in &plan.skipped {
            let (Some(at), Some(target)) = (skipped.retry_at, read_target(&skipped.target)) else {
                continue;
            };
            let due = inner.requeue.entry(target).or_insert(at);
            *due = (*due).min(at);
        }
        drop(inner);
        self.queue(reread);
    }

    /// Whether the sweep is spread between full scans (full scans then ask only some apps).
    pub(crate) fn sweep_spread(&self) -> bool {
        self.sweep_pace().is_some()
    }

    /// Which apps a full scan's Group Push sweep asks: the apps last known to have an ACTIVE
    /// mapping (or whose question failed), but not those the snapshot shows with provisioning
    /// enabled (a healthy Group Push; the sweep asks them again if it is turned off), and
    /// `also` (those with an open orphaned-mapping finding); every candidate when the sweep is
    /// not spread.
    pub(crate) fn scan_sweep(&self, also: BTreeSet<AppId>) -> SweepScope {
        if !self.sweep_spread() {
            return SweepScope::All;
        }
        let inner = self.lock();
        let enabled = |app: &AppId| {
            inner
                .snapshot
                .as_ref()
                .and_then(|s| s.app(app))
                .and_then(|a| a.provisioning_enabled())
                == Some(true)
        };
        let mut apps: BTreeSet<AppId> = inner
            .sweep
            .known_active()
            .into_iter()
            .filter(|app| !enabled(app))
            .collect();
        apps.extend(also);
        SweepScope::Only(apps)
    }

    /// Keeps what a full scan's sweep answered.
    pub(crate) fn record_scan_sweep(
        &self,
        swept: &BTreeMap<AppId, SweepAnswer>,
        snapshot: &Snapshot,
    ) {
        let apps = snapshot.apps.value.iter().map(|a| &a.id).collect();
        self.lock().sweep.record_scan(swept, &apps);
    }

    /// The apps the sweep asks at `now`, at its pace since the last step; none before a full
    /// scan filled the cache, or when the sweep is not spread.
    pub(crate) fn sweep_batch(&self, now: DateTime<Utc>) -> Vec<AppId> {
        let Some((per_minute, cap)) = self.sweep_pace() else {
            return Vec::new();
        };
        let mut inner = self.lock();
        let inner = &mut *inner;
        let Some(snapshot) = &inner.snapshot else {
            return Vec::new();
        };
        let due = inner.sweep.due(per_minute, cap, now);
        if due == 0 {
            return Vec::new();
        }
        let candidates: Vec<AppId> = sweep_candidates(snapshot).cloned().collect();
        inner.sweep.next_batch(&candidates, due)
    }

    /// Keeps the sweep's answers. An app found with an ACTIVE mapping, or whose question
    /// failed, is queued for its targeted read (its connection and mappings: a read that fails
    /// there marks them stale, so the plan names them).
    pub(crate) fn record_sweep(&self, answers: Vec<(AppId, SweepAnswer)>) -> SweepOutcome {
        let mut found = Vec::new();
        let progress = {
            let mut inner = self.lock();
            for (app, answer) in &answers {
                inner.sweep.record(app, *answer);
                if *answer != SweepAnswer::NoActive {
                    found.push(app.clone());
                }
            }
            let candidates: Vec<AppId> = inner
                .snapshot
                .as_ref()
                .map(|s| sweep_candidates(s).cloned().collect())
                .unwrap_or_default();
            inner.sweep.progress(&candidates)
        };
        self.queue(found.iter().cloned().map(ReadTarget::App));
        SweepOutcome {
            answers,
            queued: found,
            progress,
        }
    }

    /// The snapshot as last planned over, if one was.
    pub fn snapshot(&self) -> Option<Snapshot> {
        self.lock().snapshot.clone()
    }

    /// The targets waiting for their re-read.
    pub fn pending(&self) -> BTreeSet<ReadTarget> {
        self.lock().pending.clone()
    }
}

/// The targeted read that re-reads what an action or a held candidate is about.
fn read_target(target: &Target) -> Option<ReadTarget> {
    match (&target.app_id, &target.user_id, &target.directory_id) {
        (Some(app), Some(user), _) => Some(ReadTarget::AppUser {
            app: app.clone(),
            user: user.clone(),
        }),
        (None, Some(user), Some(directory)) => Some(ReadTarget::DirectoryUser {
            directory: directory.clone(),
            user: user.clone(),
        }),
        (Some(app), None, _) => Some(ReadTarget::App(app.clone())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(uuid: &str) -> LogEvent {
        serde_json::from_value(serde_json::json!({
            "uuid": uuid,
            "published": "2026-12-02T00:00:00.000Z",
            "eventType": "application.provision.user.push",
            "outcome": { "result": "FAILURE" },
            "target": [
                { "id": "0oa1", "type": "AppInstance" },
                { "id": "00u1", "type": "User" }
            ],
        }))
        .expect("a valid event")
    }

    #[test]
    fn an_event_is_taken_once_and_its_targets_coalesce() {
        let cache = SnapshotCache::new();
        let first = cache.take_event(&event("e1")).expect("new");
        assert!(cache.take_event(&event("e1")).is_none(), "seen already");
        cache.queue_event_targets(&first);
        let second = cache.take_event(&event("e2")).expect("new");
        cache.queue_event_targets(&second);
        assert_eq!(cache.pending().len(), 1, "one read per target");
        assert!(
            cache.take_work(false, chrono::Utc::now()).is_none(),
            "nothing cached yet"
        );
        cache.store(Snapshot::default(), &empty_plan(), &[]);
        let work = cache
            .take_work(false, chrono::Utc::now())
            .expect("incremental");
        assert_eq!(work.targets.len(), 1);
        assert_eq!(work.events.len(), 2);
        assert!(cache.pending().is_empty());
    }

    #[test]
    fn the_seen_set_is_bounded() {
        let mut seen = Seen::default();
        for i in 0..MAX_SEEN_EVENTS + 10 {
            assert!(seen.insert(&i.to_string()));
        }
        assert_eq!(seen.set.len(), MAX_SEEN_EVENTS);
        assert!(seen.insert("0"), "the oldest was forgotten");
        assert!(!seen.insert(&(MAX_SEEN_EVENTS + 9).to_string()));
    }

    #[test]
    fn too_many_targets_make_the_next_pass_a_full_scan() {
        let cache = SnapshotCache::new();
        cache.store(Snapshot::default(), &empty_plan(), &[]);
        cache.queue((0..=MAX_PENDING_TARGETS).map(|i| ReadTarget::App(i.to_string().into())));
        assert!(cache.take_work(false, chrono::Utc::now()).is_none());
        cache.begin_scan();
        assert!(cache.take_work(false, chrono::Utc::now()).is_some());
    }

    #[test]
    fn a_follow_up_re_reads_only_the_targets_whose_wait_is_over() {
        let cache = SnapshotCache::new();
        let at = chrono::Utc::now() + chrono::Duration::minutes(10);
        let mut plan = empty_plan();
        plan.skipped.push(crate::plan::Skipped {
            kind: ActionKind::RetryProvisioning,
            target: Target::app_user("0oa1", "00u1"),
            why: crate::vocab::SkipReason::TooRecent,
            detail: String::new(),
            part: None,
            evidence: Vec::new(),
            retry_at: Some(at),
        });
        cache.store(Snapshot::default(), &plan, &[]);
        let early = cache
            .take_work(true, at - chrono::Duration::seconds(1))
            .expect("incremental");
        assert!(early.targets.is_empty(), "still waiting: not re-read");
        let due = cache.take_work(true, at).expect("incremental");
        assert_eq!(due.targets.len(), 1);
        assert!(cache
            .take_work(true, at)
            .expect("incremental")
            .targets
            .is_empty());
    }

    fn app(id: &str, connection: Option<&str>) -> crate::observe::AppInfo {
        crate::observe::AppInfo {
            id: AppId::new(id),
            name: "zoomus".to_owned(),
            label: id.to_owned(),
            status: "ACTIVE".to_owned(),
            features: BTreeSet::new(),
            connection: connection.map(|status| crate::observe::ConnectionInfo {
                status: status.to_owned(),
                auth_scheme: None,
            }),
            user_provisioning: None,
            no_connection: None,
        }
    }

    #[test]
    fn a_full_scan_asks_the_sweeps_finds_again_but_not_a_healthy_group_push() {
        let (_tx, rx) = watch::channel(Arc::new(Policy::default()));
        let cache = SnapshotCache::new().with_spread_sweep(rx);
        let mut snapshot = Snapshot::default();
        snapshot.apps.value = vec![
            app("0oaenabled", Some("ENABLED")),
            app("0oadisabled", Some("DISABLED")),
            app("0oafailed", None),
            app("0oaclean", None),
        ];
        cache.store(snapshot, &empty_plan(), &[]);
        let answers = vec![
            (AppId::new("0oaenabled"), SweepAnswer::Active),
            (AppId::new("0oadisabled"), SweepAnswer::Active),
            (AppId::new("0oafailed"), SweepAnswer::Failed),
            (AppId::new("0oaclean"), SweepAnswer::NoActive),
        ];
        let step = cache.record_sweep(answers);
        assert_eq!(step.queued.len(), 3, "found or failed: read next");
        let finding = AppId::new("0oafinding");
        let SweepScope::Only(apps) = cache.scan_sweep(BTreeSet::from([finding.clone()])) else {
            panic!("the sweep is spread");
        };
        let expected = ["0oadisabled", "0oafailed", "0oafinding"].map(AppId::new);
        assert_eq!(apps, BTreeSet::from(expected));
        assert_eq!(
            SnapshotCache::new().scan_sweep(BTreeSet::new()),
            SweepScope::All,
            "not spread: every candidate"
        );
    }

    fn empty_plan() -> Plan {
        Plan {
            org: String::new(),
            generated_at: chrono::Utc::now(),
            complete: true,
            incomplete: Vec::new(),
            actions: Vec::new(),
            findings: Vec::new(),
            skipped: Vec::new(),
            warnings: Vec::new(),
            labels: Default::default(),
            digests: crate::plan::PlanDigests::default(),
        }
    }
}
