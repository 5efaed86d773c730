//! System Log polling against okta-sim over loopback HTTP: the cursor is kept in the journal
//! and written only when it moves, the `next` link is followed, and only relevant events call
//! for a reconcile.

use std::sync::Arc;

use chrono::Utc;
use okta_sim::Scenario;
use remediator::daemon::{LogPoll, SystemLogPoller};
use remediator::journal::{Cursor, EntryFilter, EntryKindTag, JournalStore, SledJournal};
use remediator::okta::ClientTuning;
use serde_json::json;

use crate::support::sim::{client_at, serve};

async fn inject(base: &str, event: serde_json::Value) {
    let response = reqwest::Client::new()
        .post(format!("{base}/__sim/events"))
        .json(&event)
        .send()
        .await
        .expect("inject");
    assert_eq!(response.status().as_u16(), 201);
}

fn cursor_entries(journal: &SledJournal) -> usize {
    let filter = EntryFilter {
        kind: Some(EntryKindTag::CursorAdvanced),
        ..EntryFilter::default()
    };
    journal.list(&filter).expect("list").len()
}

#[tokio::test]
async fn polls_from_the_journal_cursor_and_reports_only_relevant_events() {
    let scenario =
        Scenario::from_toml_file("tests/scenarios/healthy.toml").expect("scenario loads");
    let token = scenario.org.api_tokens[0].clone();
    let sim = serve(scenario).await;
    let base = sim.base_url().to_owned();
    let url = url::Url::parse(&base).expect("url");
    let client = client_at(url.as_str(), &token, ClientTuning::default());
    let journal = Arc::new(SledJournal::temporary().expect("journal"));
    let client = Arc::new(client);
    let poller = SystemLogPoller::new(
        "test",
        url.clone(),
        client.clone(),
        journal.clone(),
        Utc::now() - chrono::Duration::seconds(1),
    );

    let first = poller.poll().await.expect("poll");
    assert!(first.triggers.is_empty(), "{first:?}");
    assert_eq!(cursor_entries(&journal), 1, "the first cursor is stored");
    let idle = poller.poll().await.expect("poll");
    assert_eq!(idle.events, 0);
    assert_eq!(cursor_entries(&journal), 1, "an idle poll writes nothing");

    // A success is read but does not trigger; a failure does.
    inject(
        &base,
        json!({ "eventType": "application.provision.user.push", "outcome": { "result": "SUCCESS" } }),
    )
    .await;
    let quiet = poller.poll().await.expect("poll");
    assert_eq!(quiet.events, 1);
    assert!(quiet.triggers.is_empty());
    assert_eq!(
        cursor_entries(&journal),
        2,
        "the cursor moved past the event"
    );
    inject(
        &base,
        json!({ "eventType": "application.provision.user.sync", "outcome": { "result": "FAILURE" } }),
    )
    .await;
    inject(
        &base,
        json!({ "eventType": "system.agent.ad.invoke_dir", "outcome": { "result": "SUCCESS" } }),
    )
    .await;
    let loud = poller.poll().await.expect("poll");
    let kinds: Vec<&str> = loud.triggers.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "application.provision.user.sync",
            "system.agent.ad.invoke_dir"
        ],
        "the failure, then the directory invoke that completes the KPASSWD pattern"
    );
    // Each event is seen once: the cursor resumes after them.
    let again = poller.poll().await.expect("poll");
    assert_eq!(again.events, 0);
    assert!(again.triggers.is_empty());

    // A new poller over the same journal (a restarted daemon) resumes from the stored cursor,
    // not from its own start time.
    drop(poller);
    let restarted = SystemLogPoller::new(
        "test",
        url,
        client,
        journal.clone(),
        Utc::now() + chrono::Duration::hours(1),
    );
    inject(
        &base,
        json!({ "eventType": "system.import.user_matching.complete", "outcome": { "result": "FAILURE" } }),
    )
    .await;
    let resumed = restarted.poll().await.expect("poll");
    assert_eq!(resumed.events, 1, "{resumed:?}");
    assert_eq!(resumed.triggers.len(), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_refused_cursor_is_replaced_instead_of_failing_every_poll() {
    let scenario =
        Scenario::from_toml_file("tests/scenarios/healthy.toml").expect("scenario loads");
    let token = scenario.org.api_tokens[0].clone();
    let sim = serve(scenario).await;
    let base = sim.base_url().to_owned();
    let url = url::Url::parse(&base).expect("url");
    let client = client_at(url.as_str(), &token, ClientTuning::default());
    let journal = Arc::new(SledJournal::temporary().expect("journal"));
    let stale = Cursor {
        next_url: format!("{base}/api/v1/logs?limit=1000&after=not-a-cursor"),
        last_published: Some(Utc::now() - chrono::Duration::minutes(5)),
        last_uuid: None,
    };
    journal
        .set_cursor(Utc::now(), &"test".into(), stale.clone())
        .expect("store a stale cursor");
    let poller = SystemLogPoller::new("test", url, Arc::new(client), journal.clone(), Utc::now());
    poller
        .poll()
        .await
        .expect("the poll recovers from the refused cursor");
    let stored = journal.cursor().expect("cursor").expect("a cursor");
    assert_ne!(stored, stale, "the refused cursor was replaced");
    poller
        .poll()
        .await
        .expect("and later polls use the new one");
    sim.shutdown().await;
}
