//! The app-kind classifier against every app object in the recorded Okta traffic
//! (tests/fixtures/okta-recorded/): each is decoded with the client's `Application` and
//! classified; only Active Directory integrations are directories there (the recordings hold
//! no LDAP directory), and the apps that share their `signOnMode: null` (CSV directories, custom
//! identity sources, HR sources) or a directory-like name (`ldap_interface`, Okta's LDAP
//! Interface, an OpenID Connect app) are not. An AD integration's id is its agent pool's id, as
//! the recorded agent-pool updates show.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};

use remediator::observe::{AppKind, DirectoryKind};
use remediator::okta::Application;
use serde_json::Value;

const RECORDINGS: &str = "tests/fixtures/okta-recorded/interactions.jsonl.gz";

/// Every recorded exchange.
fn interactions() -> Vec<Value> {
    let file = std::fs::File::open(RECORDINGS).expect("the recordings");
    BufReader::new(flate2::read::GzDecoder::new(file))
        .lines()
        .map(|line| serde_json::from_str(&line.expect("a line")).expect("a JSON line"))
        .collect()
}

/// The path of a recorded URL, without its query.
fn path(interaction: &Value) -> String {
    let url = interaction["url"].as_str().expect("a URL");
    url::Url::parse(url).expect("a URL").path().to_owned()
}

/// Every app object in the answers of `/api/v1/apps` and `/api/v1/apps/{id}`.
fn recorded_apps(interactions: &[Value]) -> Vec<Value> {
    let mut apps = Vec::new();
    for interaction in interactions {
        let path = path(interaction);
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let is_apps = matches!(
            segments.as_slice(),
            ["api", "v1", "apps"] | ["api", "v1", "apps", _]
        );
        if !is_apps || interaction["status"] != 200 {
            continue;
        }
        let body = interaction["body"].as_str().unwrap_or("");
        let Ok(value) = serde_json::from_str::<Value>(body) else {
            continue;
        };
        match value {
            Value::Array(items) => apps.extend(items),
            Value::Object(_) => apps.push(value),
            _ => {}
        }
    }
    apps
}

#[test]
fn every_recorded_app_object_is_classified_from_its_name() {
    let interactions = interactions();
    let apps = recorded_apps(&interactions);
    assert!(apps.len() > 2000, "{} app objects", apps.len());
    let mut kinds: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut directories = BTreeSet::new();
    for object in &apps {
        let app: Application =
            serde_json::from_value(object.clone()).expect("a recorded app decodes");
        let kind = AppKind::of(&app.name);
        kinds
            .entry(format!("{kind:?}"))
            .or_default()
            .insert(app.name.clone());
        if kind.is_directory() {
            assert_eq!(kind, AppKind::Directory(DirectoryKind::Ad), "{}", app.name);
            assert_eq!(app.name, "active_directory");
            assert!(
                object["signOnMode"].is_null(),
                "a directory has no sign-on mode"
            );
            directories.insert(app.id.to_string());
        }
    }
    let other = &kinds["Other"];
    for name in [
        "ldap_interface",
        "csv_directory_v2",
        "custom_identity_source",
        "deelhr",
        "okta_org2org",
        "oidc_client",
    ] {
        assert!(
            other.contains(name),
            "{name} is recorded and not a directory: {kinds:?}"
        );
    }
    assert_eq!(
        kinds
            .get("Directory(Ad)")
            .map(|n| n.iter().map(String::as_str).collect::<Vec<_>>()),
        Some(vec!["active_directory"]),
        "{kinds:?}"
    );
    assert_eq!(directories.len(), 2, "the two recorded AD integrations");

    // Every recorded agent belongs to a pool whose id is an AD integration's.
    let mut pools = BTreeSet::new();
    for interaction in &interactions {
        if !path(interaction).contains("/agentPools/") {
            continue;
        }
        let body = interaction["body"].as_str().unwrap_or("");
        let Ok(value) = serde_json::from_str::<Value>(body) else {
            continue;
        };
        let objects = match value {
            Value::Array(items) => items,
            other => vec![other],
        };
        for object in objects {
            let agents = object["agents"].as_array().cloned().unwrap_or_default();
            pools.extend(
                agents
                    .iter()
                    .filter_map(|a| a["poolId"].as_str().map(str::to_owned)),
            );
        }
    }
    assert!(
        !pools.is_empty(),
        "the recorded agent-pool updates name pools"
    );
    assert!(
        pools.is_subset(&directories),
        "{pools:?} vs {directories:?}"
    );
}
