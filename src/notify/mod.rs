//! Notifications: what a run did that a person should hear about (a finding opened, changed or
//! resolved; an action failed, compensated or quarantined; an approval needed; the circuit
//! breaker open; the org unreadable and readable again), sent to the sinks of the daemon's
//! configuration (a generic JSON webhook, a Slack incoming webhook).
//!
//! The events of a run are read from the journal entries it wrote ([`events`]), so a daemon
//! run and `apply` notify the same things. Delivery ([`queue`]) is off the reconcile's path: one
//! bounded queue per sink, drained by its own task, with retries bounded in time,
//! de-duplication, and a delivery that keeps failing journaled (`notification_failed`) and
//! counted. Webhook URLs are secrets: read from a variable or a file, never shown; a sink is
//! named by its configured name.

mod config;
mod events;
mod queue;
mod sink;

pub use config::{
    parse_sinks, NotifyConfig, RawNotify, RawSink, SinkConfig, SinkKind, Sinks, SlackFormat,
    DEFAULT_RETRY_FOR, MAX_RETRY_FOR, MAX_SINKS,
};
pub use events::{approval_needed, events_of_run, Before, Event, EventKind, Subject};
pub use queue::{
    Delivered, Notifier, NotifyMetrics, OrgNotifier, APPLY_DRAIN, DEDUP_CAPACITY, QUEUE_CAPACITY,
    SHUTDOWN_DRAIN,
};
pub use sink::{HttpSink, Sink, SinkError, REQUEST_TIMEOUT};
