//! The remediation rules: each reads the snapshot and policy and proposes candidate actions,
//! findings and its own skips. The order they run in matters only for what they share: the
//! KPASSWD users and the drift-explained failures, which the retry rule must not retry blindly.

mod credentials;
mod features;
mod force_sync;
mod kpasswd;
mod push_mappings;
mod retry;

use crate::observe::{EventInfo, FailedAssignment, PartId};
use crate::okta::UserId;

use super::candidate::Outcome;
use super::model::Evidence;
use super::planner::Context;

/// Runs every rule.
pub(crate) fn run(ctx: &Context<'_>) -> Outcome {
    let mut out = Outcome::default();
    let kpasswd_users = kpasswd::plan(ctx, &mut out);
    let explained = features::plan(ctx, &mut out);
    credentials::plan(ctx, &mut out);
    retry::plan(ctx, &explained, &kpasswd_users, &mut out);
    force_sync::plan(ctx, &mut out);
    push_mappings::plan(ctx, &mut out);
    out
}

/// The label of an app, or its id when the snapshot does not know it.
fn app_label<'a>(ctx: &'a Context<'_>, app_id: &'a str) -> &'a str {
    ctx.app_labels.get(app_id).copied().unwrap_or(app_id)
}

/// Evidence of a System Log event.
fn event_evidence(event: &EventInfo) -> Evidence {
    Evidence::LogEvent {
        uuid: event.uuid.clone(),
        published: event.published,
        event_type: event.event_type.clone(),
        outcome: event.outcome.clone(),
        reason: event.reason.clone(),
        display_message: event.display_message.clone(),
        user_id: event.user_id().map(UserId::from),
    }
}

/// Evidence of a failed assignment: the app user, then its failure event when known.
fn assignment_evidence(fa: &FailedAssignment) -> Vec<Evidence> {
    let mut evidence = vec![Evidence::AppUser {
        app_id: fa.app_id.clone(),
        user_id: fa.user_id.clone(),
        status: fa.status.clone(),
        sync_state: fa.sync_state.clone(),
        error_text: fa.error_text().map(str::to_string),
    }];
    evidence.extend(fa.error.as_ref().map(event_evidence));
    evidence
}

/// Failed assignments sorted by app and user.
fn sorted_failures<'c, 'a>(ctx: &'c Context<'a>) -> &'c [&'a FailedAssignment] {
    &ctx.failures
}

/// The failed assignments of one app, sorted by user.
fn failures_of<'c, 'a>(ctx: &'c Context<'a>, app_id: &str) -> &'c [&'a FailedAssignment] {
    let start = ctx
        .failures
        .partition_point(|fa| fa.app_id.as_str() < app_id);
    let end = ctx
        .failures
        .partition_point(|fa| fa.app_id.as_str() <= app_id);
    &ctx.failures[start..end]
}

/// A diagnosis reports what was read; these notes say which of the `parts` it read were not
/// read completely (more may be affected than it shows).
fn unread_notes(ctx: &Context<'_>, parts: &[PartId]) -> Vec<Evidence> {
    parts
        .iter()
        .filter_map(|part| ctx.snapshot.unread(part))
        .map(|unread| Evidence::Note {
            text: format!(
                "{} was not read completely: {}",
                unread.part, unread.failure
            ),
        })
        .collect()
}

/// The manual step that retries failed tasks in the Admin Console.
const RETRY_TASKS_MANUALLY: &str = "Dashboard > Tasks > select the listed users > Retry Selected";
