//! System Log polling between full reconciles: read from the journal's cursor (Okta's `next`
//! link, followed as given) with the relevant-events filter, store the new cursor, and say which
//! events call for a reconcile now: a new provisioning failure, an import failure, rejected app
//! credentials, or the end of the KPASSWD pattern.

use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Duration, Utc};
use tokio_util::sync::CancellationToken;

use super::cache::SnapshotCache;
use super::sweep::SweepOutcome;
use super::{LogPoll, PollError, PollOutcome};
use crate::error_chain::error_chain;
use crate::journal::{Cursor, JournalStore};
use crate::okta::{
    relevant_events_filter, EventFamily, EventType, LogEvent, LogsRequest, NextPage, OrgApi,
    LOGS_PAGE_LIMIT,
};
use crate::vocab::RunId;

/// Most System Log pages read in one poll; the rest is read by the next poll.
pub const MAX_POLL_PAGES: usize = 20;
/// How long after a failed user sync a directory invoke completes the KPASSWD pattern (the
/// pattern's own gap is ~30 s; this is generous so a slow agent is still caught).
pub const KPASSWD_FOLLOW_UP_WINDOW: Duration = Duration::minutes(10);

fn failed(event: &LogEvent) -> bool {
    event
        .outcome
        .as_ref()
        .and_then(|o| o.result.as_deref())
        .is_some_and(|r| r == "FAILURE")
}

/// Whether `event` calls for a reconcile now. `last_sync_failure` is the time of the latest
/// failed user sync seen, for the KPASSWD pattern, whose last event is a successful directory
/// invoke after the failure.
pub(crate) fn is_trigger(event: &LogEvent, last_sync_failure: Option<DateTime<Utc>>) -> bool {
    let kind = event.event_type.as_str();
    if failed(event)
        && (EventFamily::Provisioning.contains(kind) || EventFamily::Import.contains(kind))
    {
        return true;
    }
    if EventType::AuthenticationFailure.is(kind) {
        return true;
    }
    EventType::AdInvokeDir.is(kind)
        && !failed(event)
        && last_sync_failure.is_some_and(|t| {
            event.published >= t && event.published - t <= KPASSWD_FOLLOW_UP_WINDOW
        })
}

/// Polls one org's System Log from the cursor stored in its journal.
pub struct SystemLogPoller<O, J: ?Sized> {
    org: String,
    org_url: url::Url,
    api: Arc<O>,
    journal: Arc<J>,
    /// Where polling starts when the journal holds no usable cursor.
    start: DateTime<Utc>,
    /// The run id of the `CursorAdvanced` entries this poller writes.
    run_id: RunId,
    last_sync_failure: Mutex<Option<DateTime<Utc>>>,
    /// The org's cached snapshot: each event is taken once (an Event Hook may have brought it
    /// first) and a triggering event's targets are queued for their targeted read.
    cache: Option<Arc<SnapshotCache>>,
}

impl<O, J: ?Sized> SystemLogPoller<O, J> {
    /// A poller for `org` at `org_url`; without a stored cursor it starts at `start` (the
    /// daemon's start: the start-up reconcile has read the lookback window before it).
    pub fn new(
        org: &str,
        org_url: url::Url,
        api: Arc<O>,
        journal: Arc<J>,
        start: DateTime<Utc>,
    ) -> Self {
        SystemLogPoller {
            org: org.to_owned(),
            org_url,
            api,
            journal,
            start,
            run_id: RunId::new(format!("poll-{}", uuid::Uuid::new_v4())),
            last_sync_failure: Mutex::new(None),
            cache: None,
        }
    }

    /// Feeds the events read to `cache` (and takes those an Event Hook brought from it).
    pub fn with_cache(mut self, cache: Arc<SnapshotCache>) -> Self {
        self.cache = Some(cache);
        self
    }
}

impl<O: OrgApi, J: JournalStore + ?Sized> SystemLogPoller<O, J> {
    fn journal_error(&self) -> impl FnOnce(crate::journal::JournalError) -> PollError + '_ {
        |source| PollError::Journal {
            org: self.org.clone(),
            source,
        }
    }

    /// The first request: the stored cursor when it is a URL of this org, else `since` start.
    fn first_request(&self, cursor: Option<&Cursor>) -> LogsRequest {
        let stored = cursor.and_then(|c| url::Url::parse(&c.next_url).ok());
        match stored {
            Some(url) if url.origin() == self.org_url.origin() => {
                LogsRequest::Next(NextPage::from_url(url))
            }
            other => {
                if other.is_some() {
                    tracing::warn!(org = %self.org, "stored System Log cursor is for another org URL; polling from the daemon's start");
                }
                LogsRequest::Since {
                    since: self.start,
                    filter: Some(relevant_events_filter()),
                }
            }
        }
    }

    fn note_event(&self, event: &LogEvent, outcome: &mut PollOutcome) {
        let taken = match &self.cache {
            Some(cache) => match cache.take_event(event) {
                Some(info) => Some((cache, info)),
                // Taken already (an Event Hook delivered it): once is enough.
                None => return,
            },
            None => None,
        };
        let mut last = self
            .last_sync_failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if EventType::UserSync.is(&event.event_type) && failed(event) {
            *last = Some(last.map_or(event.published, |t| t.max(event.published)));
        }
        if is_trigger(event, *last) {
            if let Some((cache, info)) = &taken {
                cache.queue_event_targets(info);
            }
            outcome
                .triggers
                .push((event.event_type.clone(), event.uuid.clone()));
        }
    }
}

/// The newest position read: the `next` link, and the last event's time and uuid.
type Newest = (NextPage, DateTime<Utc>, String);

impl<O: OrgApi, J: JournalStore + ?Sized> LogPoll for SystemLogPoller<O, J> {
    async fn poll(&self) -> Result<PollOutcome, PollError> {
        let cursor = self.journal.cursor().map_err(self.journal_error())?;
        let request = self.first_request(cursor.as_ref());
        let from_cursor = matches!(request, LogsRequest::Next(_));
        let read = match self.read(request, cursor.as_ref()).await {
            // Okta refuses a cursor it no longer knows (400): start again from the time of the
            // last event the cursor had reached, rather than failing every poll from now on.
            Err(e) if from_cursor && e.status() == Some(400) => {
                tracing::warn!(org = %self.org, error = %error_chain(&e), "the stored System Log cursor was refused; polling from its last event's time");
                let since = cursor
                    .as_ref()
                    .and_then(|c| c.last_published)
                    .unwrap_or(self.start);
                let request = LogsRequest::Since {
                    since,
                    filter: Some(relevant_events_filter()),
                };
                self.read(request, None).await
            }
            other => other,
        };
        let (outcome, newest) = read.map_err(|source| PollError::Api {
            org: self.org.clone(),
            source: Box::new(source),
        })?;
        self.store_cursor(cursor.as_ref(), newest)?;
        let mut outcome = outcome;
        if let Some(cache) = &self.cache {
            outcome.triggers.extend(cache.take_hook_triggers());
        }
        Ok(outcome)
    }

    async fn woken(&self) {
        match &self.cache {
            Some(cache) => cache.woken().await,
            None => std::future::pending().await,
        }
    }

    /// Asks the Group Push sweep's questions due since the last step, when the cache spreads
    /// the sweep; the apps it queues call for a pass.
    async fn sweep(&self, shutdown: &CancellationToken) -> Option<SweepOutcome> {
        let cache = self.cache.as_ref()?;
        let batch = cache.sweep_batch(Utc::now());
        if batch.is_empty() {
            return None;
        }
        let answers = super::sweep::ask(&self.org, self.api.as_ref(), batch, shutdown).await;
        let outcome = cache.record_sweep(answers);
        for app in &outcome.queued {
            tracing::info!(org = %self.org, app = %app, "Group Push sweep: an app whose mappings the snapshot does not hold has an ACTIVE mapping, or its question failed; reading the app");
        }
        Some(outcome)
    }
}

impl<O: OrgApi, J: JournalStore + ?Sized> SystemLogPoller<O, J> {
    /// Reads up to [`MAX_POLL_PAGES`] pages from `request`, following `next` as given.
    async fn read(
        &self,
        mut request: LogsRequest,
        cursor: Option<&Cursor>,
    ) -> Result<(PollOutcome, Option<Newest>), crate::okta::ApiError> {
        let mut outcome = PollOutcome::default();
        let mut newest: Option<Newest> = None;
        for _ in 0..MAX_POLL_PAGES {
            let page = self.api.list_logs(request).await?;
            let full = page.items.len() >= LOGS_PAGE_LIMIT as usize;
            outcome.events += page.items.len() as u64;
            for event in &page.items {
                self.note_event(event, &mut outcome);
            }
            let Some(next) = page.next else { break };
            let last = page.items.last().map(|e| (e.published, e.uuid.clone()));
            let (published, uuid) = match (last, &newest, cursor) {
                (Some(l), _, _) => l,
                (None, Some((_, p, u)), _) => (*p, u.clone()),
                (None, None, Some(c)) => (
                    c.last_published.unwrap_or(self.start),
                    c.last_uuid.clone().unwrap_or_default(),
                ),
                (None, None, None) => (self.start, String::new()),
            };
            newest = Some((next.clone(), published, uuid));
            if !full {
                break;
            }
            request = LogsRequest::Next(next);
        }
        Ok((outcome, newest))
    }
}

impl<O: OrgApi, J: JournalStore + ?Sized> SystemLogPoller<O, J> {
    /// Journals the new cursor, only when it moved (an idle org writes nothing).
    fn store_cursor(&self, old: Option<&Cursor>, newest: Option<Newest>) -> Result<(), PollError> {
        let Some((next, published, uuid)) = newest else {
            return Ok(());
        };
        let next_url = next.url().to_string();
        if old.is_some_and(|c| c.next_url == next_url) {
            return Ok(());
        }
        let cursor = Cursor {
            next_url,
            last_published: Some(published),
            last_uuid: (!uuid.is_empty()).then_some(uuid),
        };
        self.journal
            .set_cursor(Utc::now(), &self.run_id, cursor)
            .map_err(self.journal_error())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &str, result: &str, at: DateTime<Utc>) -> LogEvent {
        serde_json::from_value(serde_json::json!({
            "uuid": "u1",
            "published": at,
            "eventType": kind,
            "outcome": { "result": result },
        }))
        .expect("a valid event")
    }

    #[test]
    fn failures_trigger_successes_do_not() {
        let now = Utc::now();
        assert!(is_trigger(
            &event(EventType::UserSync.as_str(), "FAILURE", now),
            None
        ));
        assert!(is_trigger(
            &event("application.provision.user.push", "FAILURE", now),
            None
        ));
        assert!(is_trigger(
            &event("system.import.user_matching.complete", "FAILURE", now),
            None
        ));
        assert!(is_trigger(
            &event(EventType::AuthenticationFailure.as_str(), "SUCCESS", now),
            None
        ));
        assert!(!is_trigger(
            &event("application.provision.user.push", "SUCCESS", now),
            None
        ));
        assert!(!is_trigger(
            &event("system.agent.ad.write_ldap", "SUCCESS", now),
            None
        ));
    }

    #[test]
    fn directory_invoke_triggers_only_after_a_recent_sync_failure() {
        let now = Utc::now();
        let invoke = event(EventType::AdInvokeDir.as_str(), "SUCCESS", now);
        assert!(!is_trigger(&invoke, None));
        assert!(is_trigger(&invoke, Some(now - Duration::seconds(40))));
        assert!(!is_trigger(&invoke, Some(now - Duration::hours(1))));
    }
}
