//! Hand-built inputs for the planner tests: a fixed clock, an empty journal, a permissive policy
//! and small constructors for snapshot parts.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use remediator::journal::{BreakerState, BudgetUsage, JournalView};
use remediator::observe::{
    AppInfo, Capabilities, ConnectionInfo, EventInfo, EventTarget, FailedAssignment, FailureKind,
    Part, PushMappingInfo, ReadFailure, Snapshot,
};
use remediator::plan::{self, Plan};
use remediator::policy::{Mode, Policy};

/// The planning time of every test.
pub fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-23T10:00:00Z")
        .expect("valid time")
        .with_timezone(&Utc)
}

pub fn minutes_ago(minutes: i64) -> DateTime<Utc> {
    now() - Duration::minutes(minutes)
}

/// A journal with no history.
pub fn journal() -> JournalView {
    JournalView {
        now: now(),
        attempts: BTreeMap::new(),
        cooldowns: BTreeMap::new(),
        budget_last_hour: BudgetUsage::default(),
        breaker: BreakerState::default(),
        unfinished_fixes: Vec::new(),
        approvals: BTreeMap::new(),
    }
}

/// The default policy with every rule in enforce mode.
pub fn policy() -> Policy {
    let mut p = Policy::default();
    p.global.default_mode = Mode::Enforce;
    p
}

/// An empty, complete snapshot.
pub fn snapshot() -> Snapshot {
    Snapshot {
        org: "https://acme.okta.com".into(),
        observed_at: now(),
        ..Snapshot::default()
    }
}

/// An app with its provisioning connection in `connection` (`None`: not read).
pub fn app(id: &str, name: &str, label: &str, connection: Option<&str>) -> AppInfo {
    AppInfo {
        id: id.into(),
        name: name.into(),
        label: label.into(),
        status: "ACTIVE".into(),
        connection: connection.map(|status| ConnectionInfo {
            status: status.into(),
            auth_scheme: Some("TOKEN".into()),
        }),
        ..AppInfo::default()
    }
}

pub fn caps(create: bool, update: bool, deactivate: bool) -> Capabilities {
    Capabilities {
        create_users: create,
        update_attributes: update,
        deactivate_users: deactivate,
    }
}

/// A System Log event about `user` (and `app` when given).
pub fn event(
    uuid: &str,
    event_type: &str,
    outcome: &str,
    reason: Option<&str>,
    at: DateTime<Utc>,
    user: Option<&str>,
    app: Option<&str>,
) -> EventInfo {
    let mut targets = Vec::new();
    if let Some(u) = user {
        targets.push(target("User", u));
    }
    if let Some(a) = app {
        targets.push(target("AppInstance", a));
    }
    EventInfo {
        uuid: uuid.into(),
        published: at,
        event_type: event_type.into(),
        display_message: format!("{event_type} {outcome}"),
        outcome: outcome.into(),
        reason: reason.map(str::to_string),
        targets,
        transaction_id: None,
    }
}

fn target(kind: &str, id: &str) -> EventTarget {
    EventTarget {
        kind: kind.into(),
        id: id.into(),
        alternate_id: None,
        display_name: None,
    }
}

/// A failed assignment whose failure event says `error` at `at`.
pub fn failure(app: &str, user: &str, error: &str, at: DateTime<Utc>) -> FailedAssignment {
    FailedAssignment {
        app_id: app.into(),
        user_id: user.into(),
        status: "PROVISIONED".into(),
        sync_state: "ERROR".into(),
        last_updated: Some(at),
        error: Some(event(
            &format!("evt-{app}-{user}"),
            "application.provision.user.push",
            "FAILURE",
            Some(error),
            at,
            Some(user),
            Some(app),
        )),
    }
}

pub fn mapping(id: &str, status: &str) -> PushMappingInfo {
    PushMappingInfo {
        id: id.into(),
        status: status.into(),
        source_group_id: format!("00g-{id}").into(),
        target_group_id: Some(format!("tg-{id}").into()),
        error_summary: None,
    }
}

pub fn complete<T>(value: T) -> Part<T> {
    Part::complete(value)
}

/// A read of `request` that failed with a 500 (`why`).
pub fn server_error(request: &str, why: &str) -> ReadFailure {
    ReadFailure::new(request, FailureKind::ServerError, format!("HTTP 500 {why}"))
}

/// Plans with the fixed clock.
pub fn run(policy: &Policy, snapshot: &Snapshot, journal: &JournalView) -> Plan {
    plan::plan(policy, snapshot, journal, now())
}

/// The admin paths of a policy file's `[okta.admin]` section.
pub fn admin_paths(toml: &str) -> remediator::policy::AdminPaths {
    Policy::load_sources(&[("admin.toml", format!("[okta.admin]\n{toml}"))])
        .expect("test admin paths are valid")
        .admin
}
