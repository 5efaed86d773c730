//! Delivery: one bounded queue per sink, drained by its own tokio task, so a reconcile only
//! hands events over and never waits for a receiver. Each delivery is retried with exponential
//! backoff (the `backoff` crate) for at most the sink's `retry_for`; one that still fails is
//! counted and journaled (`notification_failed`, naming the sink and the event, never the URL).
//! Events are de-duplicated by (finding or action id, event) before they are queued.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::events::{events_of_run, Before, Event, EventKind, Subject};
use super::sink::{Sink, SinkError};
use crate::error_chain::error_chain;
use crate::journal::{EntryDraft, EntryKind, JournalStore};
use crate::vocab::RunId;

/// Events one sink's queue holds; one more is dropped (counted `dropped`).
pub const QUEUE_CAPACITY: usize = 1000;
/// Subjects de-duplication remembers (the oldest is forgotten first).
pub const DEDUP_CAPACITY: usize = 10_000;
/// How long the daemon's queues may take to drain when it stops.
pub const SHUTDOWN_DRAIN: Duration = Duration::from_secs(10);
/// How long `apply` waits for its run's notifications before it exits.
pub const APPLY_DRAIN: Duration = Duration::from_secs(30);
/// The first wait between two attempts.
const FIRST_RETRY: Duration = Duration::from_millis(500);
/// The longest wait between two attempts.
const MAX_RETRY_INTERVAL: Duration = Duration::from_secs(10);

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct NotificationLabels {
    sink: String,
    event: String,
    result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SinkLabels {
    sink: String,
}

/// `remediator_notifications_total{sink,event,result}` (`delivered`, `failed`, `dropped`) and
/// `remediator_notification_failures_total{sink}` (deliveries that failed after their retries).
#[derive(Clone, Debug, Default)]
pub struct NotifyMetrics {
    notifications: Family<NotificationLabels, Counter>,
    failures: Family<SinkLabels, Counter>,
}

impl NotifyMetrics {
    /// Registers both families in `registry` (prefixed `remediator_` by it).
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "notifications",
            "Notifications by sink, event and result (delivered, failed after retries, dropped \
             on a full queue)",
            self.notifications.clone(),
        );
        registry.register(
            "notification_failures",
            "Notifications that could not be delivered after all their retries, by sink",
            self.failures.clone(),
        );
    }

    fn count(&self, sink: &str, event: EventKind, result: &str) {
        let labels = NotificationLabels {
            sink: sink.to_owned(),
            event: event.as_str().to_owned(),
            result: result.to_owned(),
        };
        self.notifications.get_or_create(&labels).inc();
    }

    fn failure(&self, sink: &str) -> &Self {
        self.failures
            .get_or_create(&SinkLabels {
                sink: sink.to_owned(),
            })
            .inc();
        self
    }

    fn init(&self, sink: &str) {
        self.failures
            .get_or_create(&SinkLabels {
                sink: sink.to_owned(),
            })
            .inc_by(0);
    }
}

/// How the queues ended: delivered, failed after their retries, dropped or left undelivered
/// when the drain's time ran out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delivered {
    pub delivered: u64,
    pub failed: u64,
    pub dropped: u64,
    pub undelivered: u64,
}

impl Delivered {
    /// Notifications that did not reach their sink.
    pub fn missed(&self) -> u64 {
        self.failed + self.dropped + self.undelivered
    }
}

#[derive(Default)]
struct Counts {
    queued: AtomicU64,
    delivered: AtomicU64,
    failed: AtomicU64,
    dropped: AtomicU64,
}

/// One queued notification: the event and the run it comes from.
struct Job {
    run_id: RunId,
    event: Event,
}

/// What every sink's task shares.
struct Shared {
    metrics: NotifyMetrics,
    counts: Counts,
    /// Each org's journal, where a delivery that keeps failing is recorded.
    journals: BTreeMap<String, Arc<dyn JournalStore>>,
    /// The status page's URL.
    link: Option<String>,
}

/// The subjects already notified, and the last event of each.
#[derive(Default)]
struct Dedup {
    last: HashMap<String, EventKind>,
    order: VecDeque<String>,
}

impl Dedup {
    /// Whether `event` is new. A finding or action notified the same event last time is a
    /// duplicate (a fix failing again on each pass); `finding_changed` always carries new
    /// evidence, `approval_needed` is journaled once per request (asked again only when the last
    /// one expired or the action changed), and the org's events are changes of state already.
    fn fresh(&mut self, event: &Event) -> bool {
        if matches!(event.subject, Subject::Org)
            || matches!(
                event.event,
                EventKind::FindingChanged | EventKind::ApprovalNeeded
            )
        {
            return true;
        }
        let key = event.dedup_subject();
        match self.last.insert(key.clone(), event.event) {
            Some(previous) if previous == event.event => false,
            Some(_) => true,
            None => {
                self.order.push_back(key);
                if self.order.len() > DEDUP_CAPACITY {
                    if let Some(oldest) = self.order.pop_front() {
                        self.last.remove(&oldest);
                    }
                }
                true
            }
        }
    }
}

/// A sink and the sending end of its queue.
type Queue = (Arc<dyn Sink>, mpsc::Sender<Job>);

/// The sinks' queues and tasks.
pub struct Notifier {
    senders: Mutex<Vec<Queue>>,
    tasks: tokio::sync::Mutex<JoinSet<()>>,
    dedup: Mutex<Dedup>,
    shared: Arc<Shared>,
}

impl Notifier {
    /// Starts one task per sink (on the current tokio runtime). `journals` are the orgs'
    /// journals; `public_url` the daemon's, for the status page link.
    pub fn start(
        sinks: Vec<Arc<dyn Sink>>,
        journals: BTreeMap<String, Arc<dyn JournalStore>>,
        public_url: Option<&url::Url>,
        metrics: NotifyMetrics,
    ) -> Arc<Notifier> {
        let shared = Arc::new(Shared {
            metrics,
            counts: Counts::default(),
            journals,
            link: public_url.map(|u| u.as_str().to_owned()),
        });
        let mut tasks = JoinSet::new();
        let mut senders = Vec::with_capacity(sinks.len());
        for sink in sinks {
            shared.metrics.init(sink.name());
            let (tx, rx) = mpsc::channel(QUEUE_CAPACITY);
            tasks.spawn(drain(sink.clone(), rx, shared.clone()));
            senders.push((sink, tx));
        }
        Arc::new(Notifier {
            senders: Mutex::new(senders),
            tasks: tokio::sync::Mutex::new(tasks),
            dedup: Mutex::new(Dedup::default()),
            shared,
        })
    }

    /// Whether any sink is configured.
    pub fn is_empty(&self) -> bool {
        self.senders
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_empty()
    }

    /// Queues `events` of run `run_id` for every sink that wants them, without waiting: a
    /// full queue drops the event (counted `dropped`, logged).
    pub fn notify(&self, run_id: &RunId, events: Vec<Event>) {
        let senders = self.senders.lock().unwrap_or_else(PoisonError::into_inner);
        let mut dedup = self.dedup.lock().unwrap_or_else(PoisonError::into_inner);
        for event in events {
            if !dedup.fresh(&event) {
                tracing::debug!(event = %event.event, subject = %event.dedup_subject(), "notification already sent");
                continue;
            }
            for (sink, tx) in senders.iter().filter(|(s, _)| s.wants(&event)) {
                let job = Job {
                    run_id: run_id.clone(),
                    event: event.clone(),
                };
                self.shared.counts.queued.fetch_add(1, Ordering::Relaxed);
                if tx.try_send(job).is_err() {
                    self.shared.counts.queued.fetch_sub(1, Ordering::Relaxed);
                    self.shared.counts.dropped.fetch_add(1, Ordering::Relaxed);
                    self.shared
                        .metrics
                        .count(sink.name(), event.event, "dropped");
                    tracing::warn!(sink = sink.name(), event = %event.event, org = %event.org, "notification dropped: the sink's queue is full");
                }
            }
        }
    }

    /// Closes the queues and waits at most `within` for them to drain; what is left is
    /// abandoned and counted `undelivered`.
    pub async fn close(&self, within: Duration) -> Delivered {
        self.senders
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        let mut tasks = self.tasks.lock().await;
        let drained =
            tokio::time::timeout(within, async { while tasks.join_next().await.is_some() {} })
                .await;
        if drained.is_err() {
            tasks.abort_all();
        }
        let counts = &self.shared.counts;
        let delivered = counts.delivered.load(Ordering::Relaxed);
        let failed = counts.failed.load(Ordering::Relaxed);
        let queued = counts.queued.load(Ordering::Relaxed);
        Delivered {
            delivered,
            failed,
            dropped: counts.dropped.load(Ordering::Relaxed),
            undelivered: queued.saturating_sub(delivered + failed),
        }
    }
}

/// Delivers one sink's queue, one notification at a time, until the queue is closed.
async fn drain(sink: Arc<dyn Sink>, mut rx: mpsc::Receiver<Job>, shared: Arc<Shared>) {
    while let Some(job) = rx.recv().await {
        let event = job.event.event;
        match deliver(sink.as_ref(), &job.event, shared.link.as_deref()).await {
            Ok(attempts) => {
                shared.counts.delivered.fetch_add(1, Ordering::Relaxed);
                shared.metrics.count(sink.name(), event, "delivered");
                tracing::info!(sink = sink.name(), %event, org = %job.event.org, attempts, "notification delivered");
            }
            Err((error, attempts)) => {
                shared.counts.failed.fetch_add(1, Ordering::Relaxed);
                shared
                    .metrics
                    .failure(sink.name())
                    .count(sink.name(), event, "failed");
                record_failure(&shared, sink.name(), &job, attempts, &error);
            }
        }
    }
}

/// Attempts until one succeeds, a failure is not worth retrying, or the sink's `retry_for` has
/// passed; the attempts made.
async fn deliver(
    sink: &dyn Sink,
    event: &Event,
    link: Option<&str>,
) -> Result<u32, (SinkError, u32)> {
    let attempts = AtomicU64::new(0);
    let policy = backoff::ExponentialBackoff {
        initial_interval: FIRST_RETRY,
        max_interval: MAX_RETRY_INTERVAL,
        max_elapsed_time: Some(sink.retry_for()),
        ..backoff::ExponentialBackoff::default()
    };
    let result = backoff::future::retry(policy, || async {
        attempts.fetch_add(1, Ordering::Relaxed);
        sink.send(event, link).await.map_err(|e| {
            if e.transient() {
                backoff::Error::transient(e)
            } else {
                backoff::Error::permanent(e)
            }
        })
    })
    .await;
    let attempts = u32::try_from(attempts.load(Ordering::Relaxed)).unwrap_or(u32::MAX);
    result.map(|()| attempts).map_err(|e| (e, attempts))
}

/// Logs and journals a delivery that failed for good, in the event's org's journal.
fn record_failure(shared: &Shared, sink: &str, job: &Job, attempts: u32, error: &SinkError) {
    let event = &job.event;
    let subject = match &event.subject {
        Subject::Finding(id) => Some(id.to_string()),
        Subject::Action(id) => Some(id.to_string()),
        Subject::Org => None,
    };
    let error = error_chain(error);
    tracing::warn!(sink, event = %event.event, org = %event.org, attempts, error = %error, "notification could not be delivered");
    let Some(journal) = shared.journals.get(&event.org) else {
        return;
    };
    let kind = EntryKind::NotificationFailed {
        sink: sink.to_owned(),
        event: event.event.as_str().to_owned(),
        subject,
        attempts,
        error,
    };
    let draft = EntryDraft::new(job.run_id.clone(), kind);
    if let Err(e) = journal.append(Utc::now(), draft, &[]) {
        tracing::warn!(sink, org = %event.org, error = %error_chain(&e), "could not journal a failed notification");
    }
}

/// One org's side of the notifier: reads what a run did from the org's journal and queues it.
#[derive(Clone)]
pub struct OrgNotifier {
    org: String,
    notifier: Arc<Notifier>,
}

impl OrgNotifier {
    pub fn new(org: &str, notifier: Arc<Notifier>) -> Self {
        OrgNotifier {
            org: org.to_owned(),
            notifier,
        }
    }

    /// What the journal says before a run (read failures are logged: notifications never stop
    /// a run).
    pub fn before<J: JournalStore + ?Sized>(&self, journal: &J, now: DateTime<Utc>) -> Before {
        if self.notifier.is_empty() {
            return Before::default();
        }
        Before::read(journal, now).unwrap_or_else(|e| {
            tracing::warn!(org = %self.org, error = %error_chain(&e), "notifications: could not read the journal before the run");
            Before::default()
        })
    }

    /// Queues the events of run `run_id`.
    pub fn after<J: JournalStore + ?Sized>(
        &self,
        journal: &J,
        run_id: &RunId,
        before: &Before,
        now: DateTime<Utc>,
    ) {
        if self.notifier.is_empty() {
            return;
        }
        match events_of_run(journal, &self.org, run_id, before, now) {
            Ok(events) => self.notifier.notify(run_id, events),
            Err(e) => {
                tracing::warn!(org = %self.org, run = %run_id, error = %error_chain(&e), "notifications: could not read the run's journal entries")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{EntryFilter, EntryKindTag, SledJournal};
    use crate::vocab::{ActionId, FindingId};
    use std::sync::atomic::AtomicU32;

    /// A sink that fails its first `failures` attempts (transiently, or for good).
    struct Fake {
        failures: u32,
        transient: bool,
        attempts: AtomicU32,
        seen: Mutex<Vec<EventKind>>,
    }

    impl Sink for Fake {
        fn name(&self) -> &str {
            "fake"
        }
        fn retry_for(&self) -> Duration {
            Duration::from_secs(2)
        }
        fn wants(&self, _: &Event) -> bool {
            true
        }
        fn send<'a>(
            &'a self,
            event: &'a Event,
            _: Option<&'a str>,
        ) -> futures::future::BoxFuture<'a, Result<(), SinkError>> {
            Box::pin(async move {
                let n = self.attempts.fetch_add(1, Ordering::Relaxed);
                if n < self.failures {
                    return Err(SinkError::Status {
                        status: 503,
                        transient: self.transient,
                    });
                }
                self.seen.lock().expect("lock").push(event.event);
                Ok(())
            })
        }
    }

    fn fake(failures: u32, transient: bool) -> Arc<Fake> {
        Arc::new(Fake {
            failures,
            transient,
            attempts: AtomicU32::new(0),
            seen: Mutex::new(Vec::new()),
        })
    }

    fn event(event: EventKind, subject: Subject) -> Event {
        Event {
            event,
            org: "prod".into(),
            subject,
            kind: None,
            target: None,
            summary: String::new(),
            time: Utc::now(),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_transient_failure_is_retried_and_a_repeat_is_not_sent() {
        let sink = fake(2, true);
        let notifier = Notifier::start(
            vec![sink.clone()],
            BTreeMap::new(),
            None,
            NotifyMetrics::default(),
        );
        let failed = |id: &str| event(EventKind::ActionFailed, Subject::Action(ActionId::new(id)));
        let run = RunId::new("run-1");
        notifier.notify(
            &run,
            vec![failed("act-1"), failed("act-1"), failed("act-2")],
        );
        notifier.notify(&run, vec![failed("act-1")]);
        let done = notifier.close(Duration::from_secs(60)).await;
        assert_eq!(
            done,
            Delivered {
                delivered: 2,
                ..Delivered::default()
            }
        );
        assert_eq!(sink.attempts.load(Ordering::Relaxed), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn a_finding_reopened_after_it_resolved_is_sent_again() {
        let sink = fake(0, true);
        let notifier = Notifier::start(
            vec![sink.clone()],
            BTreeMap::new(),
            None,
            NotifyMetrics::default(),
        );
        let f = |e| event(e, Subject::Finding(FindingId::new("fnd-1")));
        let run = RunId::new("run-1");
        notifier.notify(
            &run,
            vec![
                f(EventKind::FindingOpened),
                f(EventKind::FindingOpened),
                f(EventKind::FindingChanged),
                f(EventKind::FindingChanged),
                f(EventKind::FindingResolved),
                f(EventKind::FindingOpened),
            ],
        );
        notifier.close(Duration::from_secs(60)).await;
        assert_eq!(sink.seen.lock().expect("lock").len(), 5);
    }

    /// Real time: the backoff crate measures `retry_for` on the system clock.
    #[tokio::test]
    async fn a_delivery_that_keeps_failing_is_journaled_and_counted() {
        let dir = tempfile::tempdir().expect("dir");
        let journal: Arc<dyn JournalStore> =
            Arc::new(SledJournal::open(dir.path()).expect("journal"));
        let metrics = NotifyMetrics::default();
        for (sink, attempts) in [
            (fake(u32::MAX, true), 2..100),
            (fake(u32::MAX, false), 1..2),
        ] {
            let notifier = Notifier::start(
                vec![sink.clone()],
                [("prod".to_owned(), journal.clone())].into(),
                None,
                metrics.clone(),
            );
            notifier.notify(
                &RunId::new("run-1"),
                vec![event(EventKind::OrgUnreadable, Subject::Org)],
            );
            let done = notifier.close(Duration::from_secs(600)).await;
            assert_eq!(done.failed, 1);
            assert!(attempts.contains(&sink.attempts.load(Ordering::Relaxed)));
        }
        let failed = journal
            .list(&EntryFilter {
                kind: Some(EntryKindTag::NotificationFailed),
                ..EntryFilter::default()
            })
            .expect("list");
        assert_eq!(failed.len(), 2);
        let EntryKind::NotificationFailed { sink, event, .. } = &failed[0].kind else {
            panic!("a notification_failed entry");
        };
        assert_eq!((sink.as_str(), event.as_str()), ("fake", "org_unreadable"));
        let mut registry = Registry::with_prefix("remediator");
        metrics.register(&mut registry);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).expect("encode");
        assert!(
            text.contains("remediator_notification_failures_total{sink=\"fake\"} 2"),
            "{text}"
        );
        assert!(text.contains("remediator_notifications_total{sink=\"fake\",event=\"org_unreadable\",result=\"failed\"} 2"), "{text}");
    }
}
