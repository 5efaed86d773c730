//! Rule 5 (diagnosis): the KPASSWD pattern. For one user, an AD agent LDAP write succeeds, the
//! provisioning sync then fails with no reason within `kpasswd.max_gap` (Windows gives up on the
//! password set after ~30 s when TCP/UDP 464 is blocked), and a directory invoke succeeds after.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Duration;

use crate::observe::EventInfo;
use crate::okta::{AppId, EventType, UserId};

use super::super::candidate::Outcome;
use super::super::model::{Evidence, Finding, FindingKind, Target};
use super::super::planner::Context;
use super::{event_evidence, RETRY_TASKS_MANUALLY};

/// One user caught in the pattern: the three events.
struct Match<'a> {
    user_id: UserId,
    directory_id: Option<AppId>,
    events: [&'a EventInfo; 3],
}

/// The users caught in the pattern and whether they may be retried.
#[derive(Debug, Default)]
pub(crate) struct KpasswdUsers {
    pub caught: BTreeSet<UserId>,
    /// Policy probes the domain controllers, every probe passed, and policy asks for the retry.
    pub cleared: bool,
}

/// Reports a finding per directory and returns the users caught in the pattern.
pub(super) fn plan(ctx: &Context<'_>, out: &mut Outcome) -> KpasswdUsers {
    let policy = &ctx.policy.kpasswd;
    let Ok(max_gap) = Duration::from_std(policy.max_gap) else {
        return KpasswdUsers::default();
    };
    let matches = find_matches(&ctx.snapshot.events.value, max_gap);
    let mut by_directory: BTreeMap<Option<AppId>, Vec<Match<'_>>> = BTreeMap::new();
    for m in matches {
        let label = m
            .directory_id
            .as_deref()
            .map(|d| super::app_label(ctx, d))
            .unwrap_or_default();
        let selected = match &m.directory_id {
            Some(dir) => policy.directories.matches(dir, label),
            None => policy.directories.matches("", ""),
        };
        if selected {
            by_directory
                .entry(m.directory_id.clone())
                .or_default()
                .push(m);
        }
    }
    let cleared = probes_cleared(ctx);
    let mut caught = BTreeSet::new();
    for (directory_id, matches) in by_directory {
        caught.extend(matches.iter().map(|m| m.user_id.clone()));
        out.findings
            .push(finding(ctx, directory_id, &matches, cleared));
    }
    KpasswdUsers { caught, cleared }
}

/// Whether policy probes the domain controllers, every probe passed, and policy retries then.
fn probes_cleared(ctx: &Context<'_>) -> bool {
    let policy = &ctx.policy.kpasswd;
    let probes = &ctx.snapshot.kpasswd_probes;
    policy.retry_after_probe_passes
        && !policy.domain_controllers.is_empty()
        && !probes.is_empty()
        && probes.iter().all(|p| p.reachable)
}

/// Every (write, failed sync, invoke) triple per user, events taken in time order.
fn find_matches(events: &[EventInfo], max_gap: Duration) -> Vec<Match<'_>> {
    let mut by_user: BTreeMap<&str, Vec<&EventInfo>> = BTreeMap::new();
    for event in events {
        if let Some(user) = event.user_id() {
            by_user.entry(user).or_default().push(event);
        }
    }
    let mut matches = Vec::new();
    for (user, mut events) in by_user {
        events.sort_by(|a, b| (a.published, &a.uuid).cmp(&(b.published, &b.uuid)));
        for write in events.iter().filter(|e| is_write(e)) {
            let Some(sync) = events.iter().find(|e| {
                let gap = e.published - write.published;
                is_silent_sync_failure(e) && gap > Duration::zero() && gap <= max_gap
            }) else {
                continue;
            };
            let Some(invoke) = events
                .iter()
                .find(|e| is_invoke(e) && e.published > sync.published)
            else {
                continue;
            };
            let directory_id = [write, sync, invoke]
                .iter()
                .find_map(|e| e.target_id("AppInstance"))
                .map(AppId::from);
            matches.push(Match {
                user_id: user.into(),
                directory_id,
                events: [write, sync, invoke],
            });
        }
    }
    matches
}

fn is_write(e: &EventInfo) -> bool {
    EventType::AdWriteLdap.is(&e.event_type) && e.succeeded()
}

fn is_silent_sync_failure(e: &EventInfo) -> bool {
    EventType::UserSync.is(&e.event_type)
        && e.failed()
        && e.reason.as_deref().unwrap_or("").trim().is_empty()
}

fn is_invoke(e: &EventInfo) -> bool {
    EventType::AdInvokeDir.is(&e.event_type) && e.succeeded()
}

/// The KPASSWD finding of one directory.
fn finding(
    ctx: &Context<'_>,
    directory_id: Option<AppId>,
    matches: &[Match<'_>],
    cleared: bool,
) -> Finding {
    let mut events: Vec<&EventInfo> = matches.iter().flat_map(|m| m.events).collect();
    events.sort_by(|a, b| (a.published, &a.uuid).cmp(&(b.published, &b.uuid)));
    events.dedup_by(|a, b| a.uuid == b.uuid);
    let mut evidence: Vec<Evidence> = events.into_iter().map(event_evidence).collect();
    let mut agents: Vec<_> = ctx.snapshot.agents.value.iter().collect();
    agents.sort_by(|a, b| a.id.cmp(&b.id));
    evidence.extend(agents.into_iter().map(|a| Evidence::Agent {
        agent_id: a.id.clone(),
        name: a.name.clone(),
        operational_status: a.operational_status.clone(),
    }));
    evidence.extend(super::unread_notes(
        ctx,
        &[
            crate::observe::PartId::SystemLog,
            crate::observe::PartId::Agents,
        ],
    ));
    evidence.extend(ctx.snapshot.kpasswd_probes.iter().map(|p| Evidence::Note {
        text: match &p.error {
            Some(err) => format!("probe {}:{} unreachable: {err}", p.host, p.port),
            None if p.reachable => format!("probe {}:{} reachable", p.host, p.port),
            None => format!("probe {}:{} unreachable", p.host, p.port),
        },
    }));
    let users: BTreeSet<&str> = matches.iter().map(|m| m.user_id.as_str()).collect();
    let users = users.into_iter().collect::<Vec<_>>().join(", ");
    let retry_note = if cleared {
        "every KPASSWD probe passed, so the users are retried"
    } else {
        "the users are not retried until KPASSWD is reachable"
    };
    Finding::new(
        FindingKind::KpasswdBlocked,
        Target {
            directory_id,
            ..Target::default()
        },
        format!(
            "AD agent LDAP write succeeded, then provisioning sync failed without a reason within \
             {}s, then a directory invoke succeeded, for users {users}: KPASSWD (TCP/UDP 464) \
             looks blocked between the AD agents and the domain controllers; {retry_note}",
            ctx.policy.kpasswd.max_gap.as_secs()
        ),
        evidence,
        vec![
            "Allow TCP and UDP port 464 (KPASSWD) from every AD agent host to the domain controllers"
                .to_string(),
            format!("Re-enable the AD accounts that were left disabled: {users}"),
            RETRY_TASKS_MANUALLY.to_string(),
        ],
    )
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;
    use crate::observe::EventTarget;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).expect("valid timestamp")
    }

    fn ev(
        uuid: &str,
        event_type: &str,
        outcome: &str,
        reason: Option<&str>,
        secs: i64,
    ) -> EventInfo {
        EventInfo {
            uuid: uuid.into(),
            published: at(secs),
            event_type: event_type.into(),
            display_message: String::new(),
            outcome: outcome.into(),
            reason: reason.map(str::to_string),
            targets: vec![EventTarget {
                kind: "User".into(),
                id: "00u1".into(),
                alternate_id: None,
                display_name: None,
            }],
            transaction_id: None,
        }
    }

    fn count(events: &[EventInfo]) -> usize {
        find_matches(events, Duration::seconds(45)).len()
    }

    #[test]
    fn the_three_events_in_order_within_the_gap_match() {
        let events = [
            ev("w", EventType::AdWriteLdap.as_str(), "SUCCESS", None, 0),
            ev("s", EventType::UserSync.as_str(), "FAILURE", Some(""), 30),
            ev("i", EventType::AdInvokeDir.as_str(), "SUCCESS", None, 31),
        ];
        assert_eq!(count(&events), 1);
    }

    #[test]
    fn a_sync_failure_with_a_reason_or_an_invoke_before_it_does_not_match() {
        let with_reason = [
            ev("w", EventType::AdWriteLdap.as_str(), "SUCCESS", None, 0),
            ev(
                "s",
                EventType::UserSync.as_str(),
                "FAILURE",
                Some("Invalid Credentials"),
                30,
            ),
            ev("i", EventType::AdInvokeDir.as_str(), "SUCCESS", None, 31),
        ];
        assert_eq!(count(&with_reason), 0);
        let invoke_first = [
            ev("w", EventType::AdWriteLdap.as_str(), "SUCCESS", None, 0),
            ev("i", EventType::AdInvokeDir.as_str(), "SUCCESS", None, 10),
            ev("s", EventType::UserSync.as_str(), "FAILURE", None, 30),
        ];
        assert_eq!(count(&invoke_first), 0);
        let same_time = [
            ev("w", EventType::AdWriteLdap.as_str(), "SUCCESS", None, 0),
            ev("s", EventType::UserSync.as_str(), "FAILURE", None, 0),
            ev("i", EventType::AdInvokeDir.as_str(), "SUCCESS", None, 5),
        ];
        assert_eq!(count(&same_time), 0, "the gap must be positive");
        let failed_write = [
            ev("w", EventType::AdWriteLdap.as_str(), "FAILURE", None, 0),
            ev("s", EventType::UserSync.as_str(), "FAILURE", None, 30),
            ev("i", EventType::AdInvokeDir.as_str(), "SUCCESS", None, 31),
        ];
        assert_eq!(count(&failed_write), 0);
    }
}
