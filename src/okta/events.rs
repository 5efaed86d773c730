//! The System Log event types remediator reads, each spelled once: the exact types its rules
//! and the daemon's trigger test match, and the families (prefixes) they select by. The System
//! Log filter of the observation and of the daemon's polling is built from this table, so what
//! is read and what is matched cannot drift apart.

use strum::{EnumIter, IntoStaticStr};

/// An exact System Log `eventType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, IntoStaticStr)]
pub enum EventType {
    /// Okta synced a user to an app; a silent failure is the middle of the KPASSWD pattern.
    #[strum(serialize = "application.provision.user.sync")]
    UserSync,
    /// An AD agent wrote to the directory (the start of the KPASSWD pattern).
    #[strum(serialize = "system.agent.ad.write_ldap")]
    AdWriteLdap,
    /// An AD agent ran a directory command (the end of the KPASSWD pattern).
    #[strum(serialize = "system.agent.ad.invoke_dir")]
    AdInvokeDir,
    /// An app rejected the credentials of its provisioning connection.
    #[strum(serialize = "application.integration.authentication_failure")]
    AuthenticationFailure,
}

impl EventType {
    /// The `eventType` as Okta spells it.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Whether `event_type` is this type.
    pub fn is(self, event_type: &str) -> bool {
        event_type == self.as_str()
    }
}

/// A family of System Log event types: every `eventType` beginning with its prefix (the
/// filter's `sw`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, IntoStaticStr)]
pub enum EventFamily {
    /// Every provisioning event: user pushes and syncs, connections, Group Push.
    #[strum(serialize = "application.provision")]
    Provisioning,
    /// Provisioning of one user to an app (push, push_profile, sync, deactivate, ...).
    #[strum(serialize = "application.provision.user")]
    UserProvisioning,
    /// Group Push: mapping changes and their failures.
    #[strum(serialize = "application.provision.group_push")]
    GroupPush,
    /// What the AD agents do.
    #[strum(serialize = "system.agent.ad")]
    AdAgent,
    /// Directory and app imports.
    #[strum(serialize = "system.import")]
    Import,
    /// Force Sync (provisioning sync) jobs of an app instance.
    #[strum(serialize = "app.app_instance.provision_sync_job")]
    SyncJob,
}

impl EventFamily {
    /// The prefix every `eventType` of the family begins with.
    pub fn prefix(self) -> &'static str {
        self.into()
    }

    /// Whether `event_type` belongs to the family.
    pub fn contains(self, event_type: &str) -> bool {
        event_type.starts_with(self.prefix())
    }
}

/// What the System Log filter selects: a family or one type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selector {
    Family(EventFamily),
    Type(EventType),
}

impl Selector {
    /// The selector as a clause of Okta's filter expression.
    fn clause(self) -> String {
        match self {
            Selector::Family(family) => format!("eventType sw \"{}\"", family.prefix()),
            Selector::Type(kind) => format!("eventType eq \"{}\"", kind.as_str()),
        }
    }

    fn selects(self, event_type: &str) -> bool {
        match self {
            Selector::Family(family) => family.contains(event_type),
            Selector::Type(kind) => kind.is(event_type),
        }
    }
}

/// The events the rules read: provisioning pushes and syncs, AD agent operations, app
/// credential failures, Group Push failures, imports and Force Sync jobs.
pub const RELEVANT_EVENTS: &[Selector] = &[
    Selector::Family(EventFamily::Provisioning),
    Selector::Family(EventFamily::AdAgent),
    Selector::Type(EventType::AuthenticationFailure),
    Selector::Family(EventFamily::Import),
    Selector::Family(EventFamily::SyncJob),
];

/// The System Log filter expression selecting [`RELEVANT_EVENTS`].
pub fn relevant_events_filter() -> String {
    let clauses: Vec<String> = RELEVANT_EVENTS.iter().map(|s| s.clause()).collect();
    clauses.join(" or ")
}

/// Whether the System Log filter selects `event_type`.
pub fn is_relevant(event_type: &str) -> bool {
    RELEVANT_EVENTS.iter().any(|s| s.selects(event_type))
}

#[cfg(test)]
mod tests {
    use strum::IntoEnumIterator;

    use super::*;

    #[test]
    fn the_filter_reads_every_type_and_family_that_is_matched() {
        assert_eq!(
            relevant_events_filter(),
            "eventType sw \"application.provision\" or eventType sw \"system.agent.ad\" or \
             eventType eq \"application.integration.authentication_failure\" or eventType sw \
             \"system.import\" or eventType sw \"app.app_instance.provision_sync_job\""
        );
        for kind in EventType::iter() {
            assert!(
                is_relevant(kind.as_str()),
                "{kind:?} is matched but never read"
            );
        }
        for family in EventFamily::iter() {
            let member = format!("{}.something", family.prefix());
            assert!(is_relevant(&member), "{family:?} is matched but never read");
        }
        assert!(!is_relevant("user.session.start"));
    }

    #[test]
    fn families_select_by_prefix() {
        assert!(EventFamily::UserProvisioning.contains("application.provision.user.push"));
        assert!(EventFamily::Provisioning.contains(EventType::UserSync.as_str()));
        assert!(!EventFamily::GroupPush.contains("application.provision.user.push"));
        assert!(EventType::AdInvokeDir.is("system.agent.ad.invoke_dir"));
    }
}
