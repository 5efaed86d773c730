//! What depends on what: the parts of an observation each rule's decisions (its action kind,
//! and the findings it gives in place of that action) depend on. A decision about a target is
//! withheld, as `skipped` with reason `incomplete-read` naming the part, when one of its parts
//! was not read; nothing else is. The table is documented in docs/executor.md ("What depends
//! on what"); keep both in step.
//!
//! | action kind (and the findings in its place) | parts |
//! |---|---|
//! | `retry-provisioning` (`retry-not-safe`, a retry's `fix-quarantined`) | `system-log`; with wanted features for the app, `connections(app)`, `features(app)` |
//! | `force-sync` (`force-sync-needed`, `force-sync-would-not-help`) | `directory-profiles(dir)` |
//! | `remove-push-mappings` (`push-mappings-orphaned`, `push-mappings-orphaned-no-credential`) | `connections(app)`, `push-mappings(app)` |
//! | `fix-provisioning-features` (`provisioning-features-drift`) | `connections(app)`, `features(app)` |
//!
//! The diagnoses (`kpasswd-blocked`, `provisioning-credentials-invalid`) report what was read:
//! they are not withheld, and say so when the System Log (or, for KPASSWD, the agents) they
//! read was incomplete. `apps` is every decision's part: without it the org is unreadable and
//! there is no plan.

use crate::observe::{Incomplete, PartId};
use crate::vocab::{ActionKind, Target};

use super::planner::Context;

/// The parts a decision of `kind` about `target` depends on.
pub(crate) fn parts(ctx: &Context<'_>, kind: ActionKind, target: &Target) -> Vec<PartId> {
    let app = target.app_id.clone();
    match kind {
        ActionKind::RetryProvisioning => {
            let mut parts = vec![PartId::SystemLog];
            let wants_features = app.as_ref().is_some_and(|app| {
                let label = ctx.app_labels.get(app.as_str()).copied().unwrap_or("");
                ctx.policy.wanted_features(app, label).is_some()
            });
            if let (true, Some(app)) = (wants_features, app) {
                parts.push(PartId::Connections(app.clone()));
                parts.push(PartId::Features(app));
            }
            parts
        }
        ActionKind::ForceSync => target
            .directory_id
            .iter()
            .map(|dir| PartId::DirectoryProfiles(dir.clone()))
            .collect(),
        ActionKind::RemovePushMappings => app
            .into_iter()
            .flat_map(|app| [PartId::Connections(app.clone()), PartId::PushMappings(app)])
            .collect(),
        ActionKind::FixProvisioningFeatures => app
            .into_iter()
            .flat_map(|app| [PartId::Connections(app.clone()), PartId::Features(app)])
            .collect(),
    }
}

/// The first part a decision of `kind` about `target` depends on that was not read.
pub(crate) fn unread<'a>(
    ctx: &Context<'a>,
    kind: ActionKind,
    target: &Target,
) -> Option<&'a Incomplete> {
    parts(ctx, kind, target)
        .iter()
        .find_map(|part| ctx.snapshot.unread(part))
}
