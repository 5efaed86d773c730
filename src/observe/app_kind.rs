//! What kind of app an app object is, from its integration `name` (never its label, which is
//! free text and repeats, nor its `signOnMode` alone: CSV directories, custom identity sources
//! and HR sources share the `null` of directories but have no agents and no Force Sync).
//!
//! From the recorded Okta objects: an Active Directory integration is `active_directory` (its
//! agent pool has the app's id); an LDAP directory integration is `ldap_sun_one` (Okta's name
//! for it; no LDAP directory is in the recordings). `ldap_interface` is Okta's LDAP Interface, an
//! OpenID Connect app that lets LDAP clients authenticate against Okta: not a directory.

/// A directory integration's flavour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DirectoryKind {
    /// Active Directory (`active_directory`), through AD agents.
    Ad,
    /// An LDAP directory (`ldap_sun_one`), through LDAP agents.
    Ldap,
}

/// The kind of an app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AppKind {
    /// A directory integration: its users are imported through agents, its app-user profiles
    /// are compared for Force Sync, it has no provisioning connection of its own.
    Directory(DirectoryKind),
    /// Any other app.
    Other,
}

/// Integration names of directory integrations.
const DIRECTORY_NAMES: &[(&str, DirectoryKind)] = &[
    ("active_directory", DirectoryKind::Ad),
    ("ldap_sun_one", DirectoryKind::Ldap),
];

/// Integration names Okta gives no provisioning, so no Group Push mappings: Bookmark apps,
/// the Basic Auth, Secure Password Store and Template Plugin (SWA) templates, and custom OpenID
/// Connect apps (`oidc_client`: Okta adds SCIM provisioning only to custom SAML and SWA app
/// integrations). Custom SAML/SWA integrations carry an org-specific name and stay candidates;
/// so does every catalog app, whose `features` is `[]` whenever provisioning is off (recorded
/// Deel HR apps hold ACTIVE mappings with `features: []`), so `features` cannot rule one out.
const NO_PROVISIONING_NAMES: &[&str] = &[
    "bookmark",
    "oidc_client",
    "template_basic_auth",
    "template_sps",
    "template_swa",
    "template_swa3field",
];

/// Whether an app of integration `name` can hold Group Push mappings at all.
pub fn can_hold_push_mappings(name: &str) -> bool {
    !NO_PROVISIONING_NAMES.contains(&name) && !AppKind::of(name).is_directory()
}

impl AppKind {
    /// The kind of the app whose integration name is `name`.
    pub fn of(name: &str) -> AppKind {
        DIRECTORY_NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(AppKind::Other, |(_, kind)| AppKind::Directory(*kind))
    }

    pub fn is_directory(self) -> bool {
        matches!(self, AppKind::Directory(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apps_without_provisioning_and_directories_hold_no_push_mappings() {
        for none in [
            "bookmark",
            "oidc_client",
            "template_swa",
            "active_directory",
        ] {
            assert!(!can_hold_push_mappings(none), "{none}");
        }
        for some in [
            "deelhr",
            "okta_org2org",
            "slack",
            "acme_saml_1",
            "okta_flow_sso",
        ] {
            assert!(can_hold_push_mappings(some), "{some}");
        }
    }

    #[test]
    fn only_ad_and_ldap_integrations_are_directories() {
        assert_eq!(
            AppKind::of("active_directory"),
            AppKind::Directory(DirectoryKind::Ad)
        );
        assert_eq!(
            AppKind::of("ldap_sun_one"),
            AppKind::Directory(DirectoryKind::Ldap)
        );
        for other in [
            "ldap_interface",
            "csv_directory_v2",
            "custom_identity_source",
            "deelhr",
            "okta_org2org",
            "Active_Directory",
            "",
        ] {
            assert_eq!(AppKind::of(other), AppKind::Other, "{other}");
        }
    }
}
