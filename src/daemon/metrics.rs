//! The daemon's Prometheus metrics (`prometheus-client`): reconcile runs and durations, actions,
//! planned actions and findings, Okta API requests, rate-limit waits, journal size,
//! circuit-breaker state, readiness, whether the org can be read and why reads of it failed,
//! the last successful run, System Log polls and the build. Every label value comes from a
//! small fixed set (org names from the configuration, kinds, outcomes, endpoint templates,
//! failure reasons).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric, MetricEncoder};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use super::requeue::{Requeue, WAITING_REASONS};
use super::sweep::SweepOutcome;
use super::{PollError, PollOutcome, ReconcileError, ReconcileSummary, RunResult, Trigger};
use strum::IntoEnumIterator;

use chrono::{DateTime, Utc};

use crate::journal::Outcome;
use crate::observe::{FailureKind, SweepAnswer};
use crate::okta::{Endpoint, RequestObserver};
use crate::vocab::{ActionKind, FindingKind, Named};

/// Prefix of every metric name.
pub const NAMESPACE: &str = "remediator";
/// Smallest bucket of the reconcile-duration histogram, seconds.
const DURATION_BUCKET_START_SECS: f64 = 0.05;
/// Growth factor between duration buckets.
const DURATION_BUCKET_FACTOR: f64 = 2.0;
/// Number of duration buckets (0.05 s to about 27 minutes).
const DURATION_BUCKETS: u16 = 16;

/// Path segments of the Okta API kept as they are in an endpoint label; any other segment is
/// an id and becomes `{id}`, so label values stay few whatever ids the org holds.
const PATH_LITERALS: &[&str] = &[
    "api",
    "v1",
    "apps",
    "users",
    "features",
    "USER_PROVISIONING",
    "connections",
    "default",
    "lifecycle",
    "activate",
    "deactivate",
    "group-push",
    "mappings",
    "logs",
    "agentPools",
    "groups",
    "oauth2",
    "token",
    "internal",
    "directories",
    "force-sync",
    "tasks",
    "retry",
];

/// `/api/v1/apps/0oa1/users/00u2` becomes `/api/v1/apps/{id}/users/{id}`.
pub(crate) fn endpoint_template(path: &str) -> String {
    let segments: Vec<&str> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            if PATH_LITERALS.contains(&s) {
                s
            } else {
                "{id}"
            }
        })
        .collect();
    format!("/{}", segments.join("/"))
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RunLabels {
    org: String,
    trigger: String,
    result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActionLabels {
    org: String,
    kind: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    org: String,
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    org: String,
    method: String,
    endpoint: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OrgLabels {
    org: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PollLabels {
    org: String,
    result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SweepLabels {
    org: String,
    answer: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SweepStateLabels {
    org: String,
    state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReadFailureLabels {
    org: String,
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: String,
    commit: String,
}

/// The build's version (Cargo's) and commit (`git rev-parse --short HEAD` at build time, or
/// `unknown` outside a git checkout; see build.rs).
pub const BUILD_VERSION: &str = env!("CARGO_PKG_VERSION");
pub const BUILD_COMMIT: &str = env!("REMEDIATOR_COMMIT");

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WaitLabels {
    org: String,
    reason: String,
}

fn duration_histogram() -> Histogram {
    Histogram::new(exponential_buckets(
        DURATION_BUCKET_START_SECS,
        DURATION_BUCKET_FACTOR,
        DURATION_BUCKETS,
    ))
}

/// Figures read from an org's client and journal at scrape time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrgSample {
    /// Waits taken to keep each rate-limit bucket's headroom free.
    pub headroom_waits: u64,
    /// 429 responses (each a wait for the bucket's reset).
    pub rate_limited_waits: u64,
    /// Bytes of the org's journal on disk (`None` when it could not be measured).
    pub journal_bytes: Option<u64>,
    /// Open findings per kind: how many, and when the oldest was opened (`None` when the
    /// journal's open findings could not be read).
    pub findings_open: Option<BTreeMap<FindingKind, (u32, DateTime<Utc>)>>,
    /// Actions waiting for a person's approval (asked, not decided, not expired; `None` when
    /// the journal's approvals could not be read).
    pub approvals_pending: Option<u32>,
}

/// A source of [`OrgSample`]s (the org's client and journal).
pub trait SampleOrg: Send + Sync + Debug {
    fn sample(&self) -> OrgSample;
}

#[derive(Debug, Default)]
struct Samplers {
    orgs: Mutex<Vec<(String, Arc<dyn SampleOrg>)>>,
}

impl Samplers {
    fn samples(&self) -> Vec<(String, OrgSample)> {
        let orgs = self.orgs.lock().unwrap_or_else(PoisonError::into_inner);
        orgs.iter()
            .map(|(org, s)| (org.clone(), s.sample()))
            .collect()
    }
}

fn encode_family<M: EncodeMetric>(
    encoder: &mut MetricEncoder<'_>,
    labels: &impl EncodeLabelSet,
    metric: M,
) -> Result<(), std::fmt::Error> {
    metric.encode(encoder.encode_family(labels)?)
}

impl Collector for Samplers {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let samples = self.samples();
        let mut waits = encoder.encode_descriptor(
            "okta_rate_limit_waits",
            "Waits of the Okta client's rate-limit governor (headroom: keeping a share of a \
             bucket free; rate_limited: a 429 answer)",
            None,
            MetricType::Counter,
        )?;
        for (org, s) in &samples {
            for (reason, value) in [
                ("headroom", s.headroom_waits),
                ("rate_limited", s.rate_limited_waits),
            ] {
                let labels = WaitLabels {
                    org: org.clone(),
                    reason: reason.to_owned(),
                };
                encode_family(&mut waits, &labels, ConstCounter::new(value))?;
            }
        }
        let mut size = encoder.encode_descriptor(
            "journal_size_bytes",
            "Size of the org's journal on disk",
            None,
            MetricType::Gauge,
        )?;
        for (org, s) in &samples {
            let Some(bytes) = s.journal_bytes else {
                continue;
            };
            let labels = OrgLabels { org: org.clone() };
            let bytes = i64::try_from(bytes).unwrap_or(i64::MAX);
            encode_family(&mut size, &labels, ConstGauge::new(bytes))?;
        }
        let mut pending = encoder.encode_descriptor(
            "approvals_pending",
            "Actions waiting for a person's approval (asked, not yet approved or rejected, not \
             expired)",
            None,
            MetricType::Gauge,
        )?;
        for (org, s) in &samples {
            let Some(count) = s.approvals_pending else {
                continue;
            };
            let labels = OrgLabels { org: org.clone() };
            encode_family(&mut pending, &labels, ConstGauge::new(i64::from(count)))?;
        }
        encode_findings_open(&mut encoder, &samples)
    }
}

/// `findings_open{org,kind}` (every kind, 0 when none is open) and
/// `findings_open_oldest_timestamp_seconds{org,kind}` (the kinds with open findings).
fn encode_findings_open(
    encoder: &mut DescriptorEncoder,
    samples: &[(String, OrgSample)],
) -> Result<(), std::fmt::Error> {
    let mut open = encoder.encode_descriptor(
        "findings_open",
        "Findings open in the org's journal (opened, not yet resolved), acknowledged or not",
        None,
        MetricType::Gauge,
    )?;
    for (org, s) in samples {
        let Some(findings) = &s.findings_open else {
            continue;
        };
        for kind in FindingKind::iter() {
            let labels = KindLabels {
                org: org.clone(),
                kind: kind.as_str().to_owned(),
            };
            let count = findings.get(&kind).map_or(0, |(count, _)| *count);
            encode_family(&mut open, &labels, ConstGauge::new(i64::from(count)))?;
        }
    }
    let mut oldest = encoder.encode_descriptor(
        "findings_open_oldest_timestamp_seconds",
        "When the oldest open finding of the kind was opened (Unix seconds)",
        None,
        MetricType::Gauge,
    )?;
    for (org, s) in samples {
        for (kind, (_, opened)) in s.findings_open.iter().flatten() {
            let labels = KindLabels {
                org: org.clone(),
                kind: kind.as_str().to_owned(),
            };
            encode_family(&mut oldest, &labels, ConstGauge::new(opened.timestamp()))?;
        }
    }
    Ok(())
}

/// Every metric of the daemon, registered in one registry.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    runs: Family<RunLabels, Counter>,
    durations: Family<RunLabels, Histogram, fn() -> Histogram>,
    actions: Family<ActionLabels, Counter>,
    planned: Family<KindLabels, Gauge>,
    findings: Family<KindLabels, Gauge>,
    requests: Family<RequestLabels, Counter>,
    breaker_open: Family<OrgLabels, Gauge>,
    ready: Family<OrgLabels, Gauge>,
    read_failures: Family<ReadFailureLabels, Counter>,
    readable: Family<OrgLabels, Gauge>,
    last_success: Family<OrgLabels, Gauge>,
    polls: Family<PollLabels, Counter>,
    trigger_events: Family<OrgLabels, Counter>,
    requeues_pending: Family<OrgLabels, Gauge>,
    requeues: Family<WaitLabels, Counter>,
    sweep_questions: Family<SweepLabels, Counter>,
    sweep_apps: Family<SweepStateLabels, Gauge>,
    sweep_cycles: Family<OrgLabels, Counter>,
    /// `notifications_total` and `notification_failures_total`, counted by the notifier.
    notifications: crate::notify::NotifyMetrics,
    samplers: Arc<Samplers>,
    /// Kinds set per org and gauge, so a kind that disappears is set back to 0.
    kinds_seen: Mutex<BTreeMap<(String, &'static str), BTreeSet<String>>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix(NAMESPACE);
        let runs = Family::<RunLabels, Counter>::default();
        let durations = Family::<RunLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            duration_histogram,
        );
        let actions = Family::<ActionLabels, Counter>::default();
        let planned = Family::<KindLabels, Gauge>::default();
        let findings = Family::<KindLabels, Gauge>::default();
        let requests = Family::<RequestLabels, Counter>::default();
        let breaker_open = Family::<OrgLabels, Gauge>::default();
        let ready = Family::<OrgLabels, Gauge>::default();
        let read_failures = Family::<ReadFailureLabels, Counter>::default();
        let readable = Family::<OrgLabels, Gauge>::default();
        let last_success = Family::<OrgLabels, Gauge>::default();
        let build_info = Family::<BuildLabels, Gauge>::default();
        let polls = Family::<PollLabels, Counter>::default();
        let trigger_events = Family::<OrgLabels, Counter>::default();
        let requeues_pending = Family::<OrgLabels, Gauge>::default();
        let requeues = Family::<WaitLabels, Counter>::default();
        let samplers = Arc::new(Samplers::default());
        registry.register(
            "reconcile_runs",
            "Reconcile runs by org, trigger and result",
            runs.clone(),
        );
        registry.register(
            "reconcile_duration_seconds",
            "Duration of reconcile runs",
            durations.clone(),
        );
        registry.register(
            "actions",
            "Actions carried out, by kind and outcome",
            actions.clone(),
        );
        registry.register(
            "planned_actions",
            "Actions in the org's latest plan, by kind",
            planned.clone(),
        );
        registry.register(
            "findings",
            "Findings in the org's latest plan, by kind",
            findings.clone(),
        );
        registry.register(
            "okta_requests",
            "Okta API requests (retries included) by endpoint and HTTP status (error: no response)",
            requests.clone(),
        );
        registry.register(
            "circuit_breaker_open",
            "1 while the org's circuit breaker is open",
            breaker_open.clone(),
        );
        registry.register(
            "org_ready",
            "1 when the org has been observed and is reachable",
            ready.clone(),
        );
        registry.register(
            "org_read_failures",
            "Reads of the org that failed (an observation that could not read the org, each part \
             of an observation left unread, a failed System Log poll), by reason",
            read_failures.clone(),
        );
        registry.register(
            "org_readable",
            "1 when the org's latest observation could read it, 0 when it could not read it at all",
            readable.clone(),
        );
        registry.register(
            "last_successful_run_timestamp_seconds",
            "Unix time of the last run that observed the org and finished without error (0: none)",
            last_success.clone(),
        );
        build_info
            .get_or_create(&BuildLabels {
                version: BUILD_VERSION.to_owned(),
                commit: BUILD_COMMIT.to_owned(),
            })
            .set(1);
        registry.register(
            "build_info",
            "The build: version and commit (always 1)",
            build_info,
        );
        registry.register(
            "system_log_polls",
            "System Log polls by result",
            polls.clone(),
        );
        registry.register(
            "system_log_trigger_events",
            "System Log events that triggered a reconcile",
            trigger_events.clone(),
        );
        registry.register(
            "requeues_pending",
            "Candidates of the org's latest plan that wait for the follow-up pass scheduled \
             for them (0: no follow-up pass before the next full run)",
            requeues_pending.clone(),
        );
        registry.register(
            "requeues",
            "Candidates a run held because they must wait and scheduled a follow-up pass for, \
             by skip reason (too-recent, backoff, cooldown, budget, circuit-breaker-open)",
            requeues.clone(),
        );
        let sweep_questions = Family::<SweepLabels, Counter>::default();
        registry.register(
            "mapping_sweep_questions",
            "Group Push sweep questions asked between full scans (does the app have an ACTIVE \
             mapping?), by answer (active, none, failed)",
            sweep_questions.clone(),
        );
        let sweep_apps = Family::<SweepStateLabels, Gauge>::default();
        registry.register(
            "mapping_sweep_apps",
            "Candidate apps of the Group Push sweep's current cycle, asked and left",
            sweep_apps.clone(),
        );
        let sweep_cycles = Family::<OrgLabels, Counter>::default();
        registry.register(
            "mapping_sweep_cycles",
            "Group Push sweep cycles completed (every candidate app asked) since the daemon \
             started",
            sweep_cycles.clone(),
        );
        let notifications = crate::notify::NotifyMetrics::default();
        notifications.register(&mut registry);
        registry.register_collector(Box::new(samplers.clone()));
        Metrics {
            notifications,
            registry,
            runs,
            durations,
            actions,
            planned,
            findings,
            requests,
            breaker_open,
            ready,
            read_failures,
            readable,
            last_success,
            polls,
            trigger_events,
            requeues_pending,
            requeues,
            sweep_questions,
            sweep_apps,
            sweep_cycles,
            samplers,
            kinds_seen: Mutex::new(BTreeMap::new()),
        }
    }

    /// The notifier's counters (registered here).
    pub fn notifications(&self) -> crate::notify::NotifyMetrics {
        self.notifications.clone()
    }

    /// The registry in the text exposition format (OpenMetrics, ending in `# EOF`).
    pub fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }

    /// Creates `org`'s series at zero (actions, planned actions and findings of every kind, the
    /// breaker, readiness), so every family is scraped from the start.
    /// The kinds and outcomes are every variant of [`ActionKind`], [`FindingKind`] and
    /// [`Outcome`]: the label values come from the definitions, never from a list of their own.
    pub fn init_org(&self, org: &str) {
        for kind in ActionKind::iter() {
            for outcome in Outcome::iter() {
                let labels = ActionLabels {
                    org: org.to_owned(),
                    kind: kind.as_str().to_owned(),
                    outcome: outcome.as_str().to_owned(),
                };
                self.actions.get_or_create(&labels).inc_by(0);
            }
        }
        self.set_kinds(org, "planned", &self.planned, &zeros::<ActionKind>());
        self.set_kinds(org, "findings", &self.findings, &zeros::<FindingKind>());
        let labels = OrgLabels {
            org: org.to_owned(),
        };
        self.breaker_open.get_or_create(&labels).set(0);
        self.ready.get_or_create(&labels).set(0);
        self.last_success.get_or_create(&labels).set(0);
        self.requeues_pending.get_or_create(&labels).set(0);
        for reason in WAITING_REASONS {
            let labels = WaitLabels {
                org: org.to_owned(),
                reason: reason.as_str().to_owned(),
            };
            self.requeues.get_or_create(&labels).inc_by(0);
        }
        for reason in FailureKind::METRIC_REASONS {
            let labels = ReadFailureLabels {
                org: org.to_owned(),
                reason: reason.to_owned(),
            };
            self.read_failures.get_or_create(&labels).inc_by(0);
        }
        self.record_sweep(org, &SweepOutcome::default());
        for answer in SweepAnswer::iter() {
            let labels = SweepLabels {
                org: org.to_owned(),
                answer: answer.name().to_owned(),
            };
            self.sweep_questions.get_or_create(&labels).inc_by(0);
        }
    }

    fn read_failed(&self, org: &str, kind: FailureKind) {
        let labels = ReadFailureLabels {
            org: org.to_owned(),
            reason: kind.metric_reason().to_owned(),
        };
        self.read_failures.get_or_create(&labels).inc();
    }

    fn set_readable(&self, org: &str, readable: bool) {
        let labels = OrgLabels {
            org: org.to_owned(),
        };
        self.readable
            .get_or_create(&labels)
            .set(i64::from(readable));
    }

    /// Records the follow-up pass a run scheduled (none: no candidate waits for one before
    /// the next full run).
    pub(crate) fn record_requeue(&self, org: &str, scheduled: Option<&Requeue>) {
        let labels = OrgLabels {
            org: org.to_owned(),
        };
        let pending = scheduled.map_or(0, Requeue::pending);
        self.requeues_pending
            .get_or_create(&labels)
            .set(i64::from(pending));
        for (reason, count) in scheduled.iter().flat_map(|r| &r.waiting) {
            let labels = WaitLabels {
                org: org.to_owned(),
                reason: reason.as_str().to_owned(),
            };
            self.requeues
                .get_or_create(&labels)
                .inc_by(u64::from(*count));
        }
    }

    /// Reads `sampler` at every scrape for `org`'s rate-limit waits and journal size.
    pub fn add_sampler(&self, org: &str, sampler: Arc<dyn SampleOrg>) {
        let mut orgs = self
            .samplers
            .orgs
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        orgs.push((org.to_owned(), sampler));
    }

    /// An observer to install on `org`'s Okta client.
    pub fn request_observer(self: &Arc<Self>, org: &str) -> Arc<dyn RequestObserver> {
        Arc::new(OrgRequests {
            org: org.to_owned(),
            metrics: Arc::clone(self),
        })
    }

    /// Records one reconcile run, finished at `finished_at`: its result and duration, whether
    /// it could read the org and which reads failed, and what it planned and did.
    pub fn record_run(
        &self,
        org: &str,
        trigger: Trigger,
        outcome: &Result<ReconcileSummary, ReconcileError>,
        duration: Duration,
        finished_at: DateTime<Utc>,
    ) {
        let result = match outcome {
            Ok(summary) => summary.result(),
            Err(_) => RunResult::Error,
        };
        let labels = RunLabels {
            org: org.to_owned(),
            trigger: trigger.as_str().to_owned(),
            result: result.as_str().to_owned(),
        };
        self.runs.get_or_create(&labels).inc();
        self.durations
            .get_or_create(&labels)
            .observe(duration.as_secs_f64());
        let summary = match outcome {
            Ok(summary) => summary,
            Err(error) => {
                if let Some(unreadable) = error.unreadable() {
                    self.read_failed(org, unreadable.kind());
                    self.set_readable(org, false);
                }
                return;
            }
        };
        if summary.observed {
            self.set_readable(org, true);
            for unread in &summary.incomplete {
                self.read_failed(org, unread.failure.kind);
            }
            let labels = OrgLabels {
                org: org.to_owned(),
            };
            self.last_success
                .get_or_create(&labels)
                .set(finished_at.timestamp());
        }
        for (kind, outcome) in &summary.actions {
            let labels = ActionLabels {
                org: org.to_owned(),
                kind: kind.as_str().to_owned(),
                outcome: outcome.as_str().to_owned(),
            };
            self.actions.get_or_create(&labels).inc();
        }
        self.set_kinds(org, "planned", &self.planned, &by_name(&summary.planned));
        self.set_kinds(org, "findings", &self.findings, &by_name(&summary.findings));
        let org_labels = OrgLabels {
            org: org.to_owned(),
        };
        self.breaker_open
            .get_or_create(&org_labels)
            .set(i64::from(summary.breaker_open));
    }

    fn set_kinds(
        &self,
        org: &str,
        gauge: &'static str,
        family: &Family<KindLabels, Gauge>,
        counts: &BTreeMap<String, u32>,
    ) {
        let mut seen = self
            .kinds_seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let kinds = seen.entry((org.to_owned(), gauge)).or_default();
        kinds.extend(counts.keys().cloned());
        for kind in kinds.iter() {
            let labels = KindLabels {
                org: org.to_owned(),
                kind: kind.clone(),
            };
            let value = counts.get(kind).copied().unwrap_or(0);
            family.get_or_create(&labels).set(i64::from(value));
        }
    }

    /// Records one System Log poll.
    pub fn record_poll(&self, org: &str, outcome: &Result<PollOutcome, PollError>) {
        let result = if outcome.is_ok() { "ok" } else { "error" };
        let labels = PollLabels {
            org: org.to_owned(),
            result: result.to_owned(),
        };
        self.polls.get_or_create(&labels).inc();
        if let Some(failure) = outcome.as_ref().err().and_then(PollError::read_failure) {
            self.read_failed(org, failure.kind);
        }
        if let Ok(poll) = outcome {
            let labels = OrgLabels {
                org: org.to_owned(),
            };
            let count = u64::try_from(poll.triggers.len()).unwrap_or(u64::MAX);
            self.trigger_events.get_or_create(&labels).inc_by(count);
        }
    }

    /// Records one step of the Group Push sweep: its questions and where its cycle stands.
    pub fn record_sweep(&self, org: &str, step: &SweepOutcome) {
        for (_, answer) in &step.answers {
            let labels = SweepLabels {
                org: org.to_owned(),
                answer: answer.name().to_owned(),
            };
            self.sweep_questions.get_or_create(&labels).inc();
        }
        let progress = step.progress;
        for (state, n) in [("asked", progress.asked), ("left", progress.left)] {
            let labels = SweepStateLabels {
                org: org.to_owned(),
                state: state.to_owned(),
            };
            let n = i64::try_from(n).unwrap_or(i64::MAX);
            self.sweep_apps.get_or_create(&labels).set(n);
        }
        let labels = OrgLabels {
            org: org.to_owned(),
        };
        let cycles = self.sweep_cycles.get_or_create(&labels);
        cycles.inc_by(progress.cycles.saturating_sub(cycles.get()));
    }

    /// Records `org`'s readiness.
    pub fn set_ready(&self, org: &str, ready: bool) {
        let labels = OrgLabels {
            org: org.to_owned(),
        };
        self.ready.get_or_create(&labels).set(i64::from(ready));
    }

    fn record_request(&self, org: &str, endpoint: &Endpoint, status: Option<u16>) {
        let labels = RequestLabels {
            org: org.to_owned(),
            method: endpoint.method.clone(),
            endpoint: endpoint_template(&endpoint.path),
            status: status.map_or_else(|| "error".to_owned(), |s| s.to_string()),
        };
        self.requests.get_or_create(&labels).inc();
    }
}

/// Every name of kind `K`, counted 0.
fn zeros<K: Named>() -> BTreeMap<String, u32> {
    K::names().into_iter().map(|k| (k.to_owned(), 0)).collect()
}

/// Counts per kind, by the kind's name.
fn by_name<K: Named>(counts: &BTreeMap<K, u32>) -> BTreeMap<String, u32> {
    counts
        .iter()
        .map(|(k, n)| (k.name().to_owned(), *n))
        .collect()
}

/// Counts one org's Okta requests.
struct OrgRequests {
    org: String,
    metrics: Arc<Metrics>,
}

impl RequestObserver for OrgRequests {
    fn on_response(&self, endpoint: &Endpoint, status: Option<u16>) {
        self.metrics.record_request(&self.org, endpoint, status);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_and_outcome_has_a_series_from_the_start() {
        let metrics = Metrics::new();
        metrics.init_org("prod");
        let text = metrics.encode();
        for kind in FindingKind::iter() {
            let line = format!(r#"remediator_findings{{org="prod",kind="{kind}"}} 0"#);
            assert!(text.contains(&line), "missing {line}");
        }
        for kind in ActionKind::iter() {
            let line = format!(r#"remediator_planned_actions{{org="prod",kind="{kind}"}} 0"#);
            assert!(text.contains(&line), "missing {line}");
            for outcome in Outcome::iter() {
                let line = format!(
                    r#"remediator_actions_total{{org="prod",kind="{kind}",outcome="{outcome}"}} 0"#
                );
                assert!(text.contains(&line), "missing {line}");
            }
        }
    }

    #[test]
    fn ids_become_placeholders_and_literals_stay() {
        assert_eq!(
            endpoint_template("/api/v1/apps/0oa1xyz/users/00u2abc"),
            "/api/v1/apps/{id}/users/{id}"
        );
        assert_eq!(
            endpoint_template("/api/v1/apps/0oa1/connections/default/lifecycle/activate"),
            "/api/v1/apps/{id}/connections/default/lifecycle/activate"
        );
        assert_eq!(endpoint_template("/api/v1/logs"), "/api/v1/logs");
    }

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).expect("valid timestamp")
    }

    #[derive(Debug)]
    struct Fixed;
    impl SampleOrg for Fixed {
        fn sample(&self) -> OrgSample {
            OrgSample {
                headroom_waits: 3,
                rate_limited_waits: 1,
                journal_bytes: Some(4096),
                findings_open: Some([(FindingKind::KpasswdBlocked, (2, at(50)))].into()),
                approvals_pending: Some(2),
            }
        }
    }

    #[test]
    fn runs_findings_and_samples_are_exposed() {
        let metrics = Arc::new(Metrics::new());
        metrics.add_sampler("prod", Arc::new(Fixed));
        let summary = ReconcileSummary {
            complete: true,
            observed: true,
            findings: [(FindingKind::KpasswdBlocked, 2)].into(),
            actions: vec![(ActionKind::RetryProvisioning, Outcome::Verified)],
            ..ReconcileSummary::default()
        };
        metrics.record_run(
            "prod",
            Trigger::Timer,
            &Ok(summary),
            Duration::from_secs(2),
            at(100),
        );
        let endpoint = Endpoint {
            method: "GET".into(),
            path: "/api/v1/apps/0oa9".into(),
        };
        metrics
            .request_observer("prod")
            .on_response(&endpoint, Some(429));
        let text = metrics.encode();
        for line in [
            r#"remediator_reconcile_runs_total{org="prod",trigger="timer",result="ok"} 1"#,
            r#"remediator_findings{org="prod",kind="kpasswd-blocked"} 2"#,
            r#"remediator_actions_total{org="prod",kind="retry-provisioning",outcome="verified"} 1"#,
            r#"remediator_okta_requests_total{org="prod",method="GET",endpoint="/api/v1/apps/{id}",status="429"} 1"#,
            r#"remediator_okta_rate_limit_waits_total{org="prod",reason="headroom"} 3"#,
            r#"remediator_journal_size_bytes{org="prod"} 4096"#,
            r#"remediator_findings_open{org="prod",kind="kpasswd-blocked"} 2"#,
            r#"remediator_approvals_pending{org="prod"} 2"#,
            r#"remediator_findings_open{org="prod",kind="retry-not-safe"} 0"#,
            format!(
                r#"remediator_findings_open_oldest_timestamp_seconds{{org="prod",kind="kpasswd-blocked"}} {}"#,
                at(50).timestamp()
            )
            .as_str(),
        ] {
            assert!(text.contains(line), "missing {line} in\n{text}");
        }
        // A kind that disappears from the plan goes back to 0.
        let empty = ReconcileSummary {
            complete: true,
            ..ReconcileSummary::default()
        };
        metrics.record_run(
            "prod",
            Trigger::Timer,
            &Ok(empty),
            Duration::from_secs(1),
            at(200),
        );
        assert!(metrics
            .encode()
            .contains(r#"remediator_findings{org="prod",kind="kpasswd-blocked"} 0"#));
    }
}
