//! Reading the directories policy names for Force Sync: each app user with its Okta profile
//! (`expand=user`), compared attribute by attribute. Only values that were read are compared:
//! an app user listed without its Okta user (`_embedded.user`) has unknown Okta attributes, so
//! it gives no difference, and its directory's part is incomplete with the count.

use super::part::{FailureKind, Part, PartId, ReadFailure};
use super::profile::ProfileValue;
use super::read::{requests, MAX_DIFFS_PER_DIRECTORY};
use super::snapshot::{AppInfo, AttributeDiff, DirectoryInfo, Snapshot};
use crate::okta::{AppId, AppUser, OrgApi, PageRequest};
use crate::policy::Policy;

pub(super) async fn read_directories<O: OrgApi>(
    api: &O,
    policy: &Policy,
    snapshot: &mut Snapshot,
    requests: &mut u64,
) {
    let directories: Vec<AppInfo> = snapshot
        .apps
        .value
        .iter()
        .filter(|a| a.is_directory() && policy.force_sync_applies_to(&a.id, &a.label))
        .cloned()
        .collect();
    for dir in directories {
        let attributes = read_directory_diffs(api, policy, &dir.id, requests).await;
        snapshot.directories.push(DirectoryInfo {
            app_id: dir.id,
            label: dir.label,
            name: dir.name,
            attributes,
        });
    }
}

/// What one directory's listing found.
#[derive(Default)]
struct Listing {
    diffs: Vec<AttributeDiff>,
    users: usize,
    /// App users listed without their Okta profile.
    unknown: usize,
}

pub(super) async fn read_directory_diffs<O: OrgApi>(
    api: &O,
    policy: &Policy,
    app: &str,
    requests: &mut u64,
) -> Part<Vec<AttributeDiff>> {
    let app_id = AppId::new(app);
    let part = PartId::DirectoryProfiles(app_id.clone());
    let mut listing = Listing::default();
    let mut page = PageRequest::First;
    loop {
        *requests += 1;
        let result = match api.list_app_users_with_user(&app_id, page).await {
            Ok(result) => result,
            Err(e) => {
                let failure = ReadFailure::from_api(requests::LIST_APP_USERS_WITH_USER, &e);
                return Part::incomplete(listing.diffs, part, failure);
            }
        };
        for user in &result.items {
            listing.users += 1;
            match compare(policy, user) {
                Some(diffs) => listing.diffs.extend(diffs),
                None => listing.unknown += 1,
            }
        }
        if listing.diffs.len() > MAX_DIFFS_PER_DIRECTORY {
            listing.diffs.truncate(MAX_DIFFS_PER_DIRECTORY);
            let reason = format!("more than {MAX_DIFFS_PER_DIRECTORY} attribute differences");
            let failure = ReadFailure::limit(requests::LIST_APP_USERS_WITH_USER, reason);
            return Part::incomplete(listing.diffs, part, failure);
        }
        let Some(next) = result.next else { break };
        page = PageRequest::Next(next);
    }
    if listing.unknown == 0 {
        return Part::complete(listing.diffs);
    }
    let reason = format!(
        "{} of {} app user(s) came without their Okta user (_embedded.user): their Okta \
         attributes are unknown and were not compared",
        listing.unknown, listing.users
    );
    let failure = ReadFailure::new(
        requests::LIST_APP_USERS_WITH_USER,
        FailureKind::Malformed,
        reason,
    );
    Part::incomplete(listing.diffs, part, failure)
}

/// The embedded Okta profile of an app user listed with `expand=user`, if it came.
fn okta_profile(app_user: &AppUser) -> Option<&serde_json::Map<String, serde_json::Value>> {
    app_user
        .embedded
        .as_ref()
        .and_then(|e| e.get("user"))
        .and_then(|u| u.get("profile"))
        .and_then(|p| p.as_object())
}

/// The attributes where the directory app-user profile and the embedded Okta profile disagree
/// (the policy's pairs, or every attribute present under one name on both sides when policy
/// names none), and those where the app-user profile does not hold a value policy's
/// `force_sync.expected` says the directory holds. `None`: the Okta profile did not come, so
/// nothing can be compared.
pub(super) fn compare(policy: &Policy, app_user: &AppUser) -> Option<Vec<AttributeDiff>> {
    let okta_profile = okta_profile(app_user)?;
    let user_id = app_user.id.as_str();
    let login = okta_profile.get("login").and_then(|l| l.as_str());
    let pairs: Vec<(String, String)> = if policy.force_sync.attributes.is_empty() {
        app_user
            .profile
            .keys()
            .filter(|k| okta_profile.contains_key(k.as_str()))
            .map(|k| (k.clone(), k.clone()))
            .collect()
    } else {
        policy
            .force_sync
            .attributes
            .iter()
            .map(|p| (p.app_user.clone(), p.okta.clone()))
            .collect()
    };
    let expected = |attribute: &str| {
        policy
            .force_sync
            .expected
            .iter()
            .find(|x| {
                x.attribute == attribute
                    && (x.user == user_id || login.is_some_and(|l| l.eq_ignore_ascii_case(&x.user)))
            })
            .map(|x| x.value.clone())
    };
    let diffs = pairs
        .into_iter()
        .filter_map(|(app_attr, okta_attr)| {
            let app_value = ProfileValue::of(Some(&app_user.profile), &app_attr);
            let okta_value = ProfileValue::of(Some(okta_profile), &okta_attr);
            let expected = expected(&app_attr);
            let stale_directory = expected
                .as_ref()
                .is_some_and(|x| app_value != ProfileValue::from_json(Some(x)));
            (!app_value.same_as(&okta_value) || stale_directory).then(|| AttributeDiff {
                user_id: user_id.into(),
                app_user_attribute: app_attr,
                app_user_value: app_value,
                okta_attribute: okta_attr,
                okta_value,
                expected_directory_value: expected,
            })
        })
        .collect();
    Some(diffs)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn app_user(embedded: Option<serde_json::Value>) -> AppUser {
        let mut user = json!({
            "id": "00u1",
            "profile": { "title": "IT", "department": null }
        });
        if let Some(embedded) = embedded {
            user["_embedded"] = embedded;
        }
        serde_json::from_value(user).expect("an app user")
    }

    #[test]
    fn an_app_user_without_its_okta_user_compares_nothing() {
        let policy = Policy::default();
        assert_eq!(compare(&policy, &app_user(None)), None);
        assert_eq!(compare(&policy, &app_user(Some(json!({})))), None);
    }

    #[test]
    fn null_on_both_sides_is_the_same_no_value() {
        let policy = Policy::default();
        let embedded = json!({ "user": { "profile": {
            "login": "ada@example.com", "title": "IT", "department": null } } });
        let diffs = compare(&policy, &app_user(Some(embedded))).expect("profile came");
        assert!(diffs.is_empty(), "{diffs:?}");
        let embedded = json!({ "user": { "profile": {
            "login": "ada@example.com", "title": null, "department": null } } });
        let diffs = compare(&policy, &app_user(Some(embedded))).expect("profile came");
        assert_eq!(diffs.len(), 1);
        assert_eq!(diffs[0].app_user_value, ProfileValue::Known(json!("IT")));
        assert_eq!(diffs[0].okta_value, ProfileValue::Null);
    }
}
