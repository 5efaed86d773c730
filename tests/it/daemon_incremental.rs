//! The daemon's cached snapshot over real HTTP against okta-sim: the full scan fills it, an
//! event-triggered pass re-reads only the target its event names and a follow-up pass only the
//! targets it waits for (okta-sim's request counters), an event taken during a full scan is
//! patched onto the scan's snapshot, and a targeted read that fails marks its part stale and
//! withholds what depends on it.

use std::sync::Arc;

use chrono::Utc;
use okta_sim::{FaultKind, SimHandle};
use remediator::config::MapEnv;
use remediator::daemon::{
    LogPoll, OrgReconciler, Reconcile, SnapshotCache, SystemLogPoller, Trigger,
};
use remediator::journal::{Outcome, SledJournal};
use remediator::observe::{Freshness, PartId, ReadTarget, STALE_PREFIX};
use remediator::okta::{ClientTuning, OktaClient};
use remediator::plan::ActionKind;
use remediator::policy::Policy;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::support::act::{scenario, PARTNER_TOKEN, PARTNER_TOKEN_VAR};
use crate::support::sim::{client, fault, serve};

const SLACK: &str = "0oahealthyslack00001";
const ADA: &str = "00uhealthy0000000001";
const PARTNER_ORG: &str = "0oaorphorg2org000001";
/// okta-sim's counter of the targeted app-user read.
const APP_USER_READ: &str = "GET /api/v1/apps/{id}/users/{id}";

/// One org's reconciler and poller sharing a cache, as the daemon wires them.
struct Daemon {
    reconciler: OrgReconciler<OktaClient, SledJournal>,
    poller: SystemLogPoller<OktaClient, SledJournal>,
    cache: Arc<SnapshotCache>,
    _policy: watch::Sender<Arc<Policy>>,
}

fn daemon(sim: &SimHandle, token: &str) -> Daemon {
    let mut policy = Policy::load_dir(std::path::Path::new("policies")).expect("shipped policies");
    // Long enough for the triggered pass to find the failure too recent, short enough to wait.
    policy.retry_provisioning.min_error_age = std::time::Duration::from_secs(10);
    let (tx, rx) = watch::channel(Arc::new(policy));
    let api = Arc::new(client(sim, token, ClientTuning::default()));
    let journal = Arc::new(SledJournal::temporary().expect("journal"));
    let url = url::Url::parse(sim.base_url()).expect("url");
    let cache = Arc::new(SnapshotCache::new());
    let env = MapEnv::new().with(PARTNER_TOKEN_VAR, PARTNER_TOKEN);
    let reconciler = OrgReconciler::new("test", &url, api.clone(), journal.clone(), rx)
        .with_env(Arc::new(env))
        .with_cache(cache.clone());
    let start = Utc::now() - chrono::Duration::seconds(1);
    let poller = SystemLogPoller::new("test", url, api, journal, start).with_cache(cache.clone());
    Daemon {
        reconciler,
        poller,
        cache,
        _policy: tx,
    }
}

async fn reset_stats(sim: &SimHandle) {
    let response = reqwest::Client::new()
        .post(format!("{}/__sim/stats/reset", sim.base_url()))
        .send()
        .await
        .expect("control call");
    assert!(response.status().is_success());
}

async fn fail_app_user(sim: &SimHandle, app: &str, user: &str) {
    let response = reqwest::Client::new()
        .post(format!(
            "{}/__sim/app-users/{app}/{user}/fail",
            sim.base_url()
        ))
        .json(&serde_json::json!({ "reason": "Error while creating user: connection timed out" }))
        .send()
        .await
        .expect("control call");
    assert!(response.status().is_success(), "{}", response.status());
}

async fn run(
    daemon: &Daemon,
    trigger: Trigger,
    observe_only: bool,
) -> remediator::daemon::ReconcileSummary {
    daemon
        .reconciler
        .reconcile(trigger, observe_only, &CancellationToken::new())
        .await
        .expect("the pass runs")
}

/// The requests okta-sim served, by endpoint, without the System Log polls.
fn served(sim: &SimHandle) -> Vec<(String, u64)> {
    sim.stats()
        .endpoints
        .into_iter()
        .filter(|(endpoint, _)| endpoint != "GET /api/v1/logs")
        .map(|(endpoint, stats)| (endpoint, stats.count))
        .collect()
}

#[tokio::test]
async fn an_event_patches_only_its_target_and_the_follow_up_re_reads_only_what_waits() {
    let scenario = scenario("healthy");
    let token = scenario.org.api_tokens[0].clone();
    let sim = serve(scenario).await;
    let daemon = daemon(&sim, &token);
    let full = run(&daemon, Trigger::Timer, false).await;
    assert!(full.observed && full.complete, "{full:?}");
    assert!(
        sim.stats().count("GET /api/v1/apps") >= 1,
        "the full scan lists the apps"
    );
    daemon.poller.poll().await.expect("poll");

    reset_stats(&sim).await;
    fail_app_user(&sim, SLACK, ADA).await;
    let polled = daemon.poller.poll().await.expect("poll");
    assert_eq!(polled.triggers.len(), 1, "{polled:?}");
    assert_eq!(
        daemon.cache.pending().into_iter().collect::<Vec<_>>(),
        [ReadTarget::AppUser {
            app: SLACK.into(),
            user: ADA.into()
        }]
    );
    let triggered = run(&daemon, Trigger::SystemLog, false).await;
    assert!(triggered.observed, "{triggered:?}");
    assert_eq!(
        served(&sim),
        [(APP_USER_READ.to_owned(), 1)],
        "one targeted read, no whole-org read"
    );
    let snapshot = daemon.cache.snapshot().expect("cached");
    let failed = &snapshot.failed_assignments.value;
    assert!(
        failed
            .iter()
            .any(|f| f.app_id == SLACK && f.user_id == ADA && f.error.is_some()),
        "the patched snapshot holds the failure with its event: {failed:?}"
    );
    assert!(matches!(
        snapshot.freshness(&PartId::AppUsers(SLACK.into())),
        Freshness::Patched { .. }
    ));
    assert!(matches!(
        snapshot.freshness(&PartId::Apps),
        Freshness::Fresh { .. }
    ));
    let requeue = triggered
        .requeue
        .expect("too recent: a follow-up pass is asked for");
    assert_eq!(requeue.pending(), 1);

    // Once the wait is over, the follow-up pass re-reads only the app user it waits for, and
    // carries the retry out; the retry's verified read-back settles the cached failure.
    while Utc::now() <= requeue.at {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    reset_stats(&sim).await;
    let follow_up = run(&daemon, Trigger::Requeue, false).await;
    assert!(follow_up.observed);
    let reads = served(&sim);
    assert!(
        reads
            .iter()
            .all(|(endpoint, _)| endpoint.contains("/users/{id}")),
        "only the app user: {reads:?}"
    );
    assert_eq!(
        follow_up.actions,
        [(ActionKind::RetryProvisioning, Outcome::Verified)]
    );
    assert_ne!(
        sim.app_user_sync_state(SLACK, ADA).as_deref(),
        Some("ERROR")
    );
    let snapshot = daemon.cache.snapshot().expect("cached");
    assert!(
        !snapshot
            .failed_assignments
            .value
            .iter()
            .any(|f| f.app_id == SLACK && f.user_id == ADA),
        "the verified retry settled the cached failure"
    );
    assert!(daemon.cache.pending().is_empty(), "nothing left to re-read");
    // A quiet poll queues nothing, so an idle org costs only its polls.
    reset_stats(&sim).await;
    let quiet = daemon.poller.poll().await.expect("poll");
    assert!(quiet.triggers.is_empty());
    assert!(served(&sim).is_empty(), "{:?}", served(&sim));
    sim.shutdown().await;
}

#[tokio::test]
async fn an_event_taken_during_a_full_scan_is_patched_onto_the_scan() {
    let scenario = scenario("healthy");
    let token = scenario.org.api_tokens[0].clone();
    let sim = serve(scenario).await;
    let daemon = Arc::new(daemon(&sim, &token));
    run(&daemon, Trigger::Timer, true).await;
    daemon.poller.poll().await.expect("poll");
    // The next full scan's app-user listing stalls, so the failure and its poll come while
    // the scan runs.
    fault(
        &sim,
        &format!("/api/v1/apps/{SLACK}/users"),
        FaultKind::Latency { millis: 1_500 },
        1,
        0,
    )
    .await;
    reset_stats(&sim).await;
    let scan = tokio::spawn({
        let daemon = daemon.clone();
        async move { run(&daemon, Trigger::Timer, true).await }
    });
    while sim.stats().count("GET /api/v1/apps") == 0 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    fail_app_user(&sim, SLACK, ADA).await;
    let polled = daemon.poller.poll().await.expect("poll");
    assert_eq!(polled.triggers.len(), 1);
    let scanned = scan.await.expect("the scan");
    assert!(scanned.observed);
    assert_eq!(
        daemon.cache.pending().len(),
        1,
        "the target queued during the scan waits for the next pass"
    );
    reset_stats(&sim).await;
    run(&daemon, Trigger::SystemLog, true).await;
    assert_eq!(served(&sim), [(APP_USER_READ.to_owned(), 1)]);
    let snapshot = daemon.cache.snapshot().expect("cached");
    let matching = snapshot
        .failed_assignments
        .value
        .iter()
        .filter(|f| f.app_id == SLACK && f.user_id == ADA)
        .count();
    assert_eq!(matching, 1, "the failure once, on the scan's snapshot");
    assert!(snapshot.is_complete());
    sim.shutdown().await;
}

#[tokio::test]
async fn a_failed_patch_marks_its_part_stale_and_withholds_the_removal() {
    let scenario = scenario("orphaned-push-mappings");
    let token = scenario.org.api_tokens[0].clone();
    let sim = serve(scenario).await;
    let daemon = daemon(&sim, &token);
    let full = run(&daemon, Trigger::Timer, true).await;
    assert_eq!(
        full.planned.get(&ActionKind::RemovePushMappings),
        Some(&1),
        "{full:?}"
    );
    daemon.poller.poll().await.expect("poll");

    // A Group Push failure names the app; its mappings' re-read fails.
    let event = serde_json::json!({
        "eventType": "application.provision.group_push.push",
        "outcome": { "result": "FAILURE", "reason": "push failed" },
        "target": [{ "id": PARTNER_ORG, "type": "AppInstance", "alternateId": "Partner Org", "displayName": "Partner Org" }],
    });
    let response = reqwest::Client::new()
        .post(format!("{}/__sim/events", sim.base_url()))
        .json(&event)
        .send()
        .await
        .expect("inject");
    assert_eq!(response.status().as_u16(), 201);
    fault(
        &sim,
        &format!("/api/v1/apps/{PARTNER_ORG}/group-push/mappings"),
        FaultKind::Malformed,
        10,
        0,
    )
    .await;
    let polled = daemon.poller.poll().await.expect("poll");
    assert_eq!(polled.triggers.len(), 1, "{polled:?}");
    reset_stats(&sim).await;
    let patched = run(&daemon, Trigger::SystemLog, true).await;
    assert_eq!(
        patched.planned.get(&ActionKind::RemovePushMappings),
        None,
        "withheld: {patched:?}"
    );
    let part = PartId::PushMappings(PARTNER_ORG.into());
    let stale = patched
        .incomplete
        .iter()
        .find(|i| i.part == part)
        .expect("the plan's incomplete names the stale part");
    assert!(stale.failure.reason.starts_with(STALE_PREFIX), "{stale:?}");
    let snapshot = daemon.cache.snapshot().expect("cached");
    assert!(snapshot.freshness(&part).is_stale());
    assert_eq!(
        sim.stats().count("GET /api/v1/apps"),
        0,
        "no whole-org read for the event"
    );
    sim.shutdown().await;
}
