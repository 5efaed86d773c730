//! okta-sim scenarios: every shipped file loads and serves, errors name the line and field,
//! and the generator builds what was asked.

use std::path::{Path, PathBuf};

use okta_sim::{generate, GenerateSpec, Scenario, ScenarioError, Sim};

fn scenarios_dir() -> PathBuf {
    crate::repo_root().join("tests/scenarios")
}

#[tokio::test]
async fn every_shipped_scenario_loads_and_serves() {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(scenarios_dir()).expect("scenarios dir") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let scenario =
            Scenario::from_toml_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let token = scenario
            .org
            .api_tokens
            .first()
            .cloned()
            .expect("each scenario has an API token");
        let apps = scenario.apps.len();
        let sim = Sim::start(scenario, "127.0.0.1:0").await.expect("start");
        let listed: Vec<serde_json::Value> = reqwest::Client::new()
            .get(format!("{}/api/v1/apps?limit=200", sim.base_url()))
            .header("Authorization", format!("SSWS {token}"))
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("json");
        assert_eq!(listed.len(), apps, "{}", path.display());
        names.push(
            path.file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned(),
        );
    }
    names.sort();
    assert_eq!(
        names,
        [
            "all-situations.toml",
            "credentials-invalid.toml",
            "duplicate-labels.toml",
            "features-disabled.toml",
            "force-sync.toml",
            "healthy.toml",
            "kpasswd-blocked.toml",
            "orphaned-push-mappings-quiet.toml",
            "orphaned-push-mappings.toml",
            "recorded-org.toml",
            "retry-transient.toml",
        ]
    );
}

#[test]
fn all_situations_holds_every_situation() {
    let s = Scenario::from_toml_file(scenarios_dir().join("all-situations.toml")).expect("loads");
    let causes: Vec<&str> = s
        .apps
        .iter()
        .flat_map(|a| a.users.iter().filter_map(|u| u.cause.as_deref()))
        .collect();
    for c in [
        "transient",
        "credentials-invalid",
        "kpasswd-blocked",
        "feature-disabled:PUSH_USER_DEACTIVATION",
    ] {
        assert!(causes.contains(&c), "{c} missing");
    }
    assert!(s
        .apps
        .iter()
        .any(|a| a.group_push.iter().any(|m| m.status == "ACTIVE")
            && a.provisioning
                .as_ref()
                .is_some_and(|p| p.status == "DISABLED")));
    assert!(s
        .apps
        .iter()
        .any(|a| a.directory.as_ref().is_some_and(|d| !d.mappings.is_empty())));
}

fn parse(text: &str) -> Result<Scenario, ScenarioError> {
    Scenario::from_toml_str(text, Path::new("inline.toml"))
}

#[test]
fn unknown_key_names_file_line_and_key() {
    let text = "[org]\napi_tokens = [\"t\"]\n\n[[users]]\nid = \"00u00000000000000001\"\nprofile = { login = \"a@b\" }\nnickname = \"x\"\n";
    let err = parse(text).expect_err("unknown key").to_string();
    assert!(err.contains("inline.toml"), "{err}");
    assert!(err.contains("line 7"), "{err}");
    assert!(err.contains("nickname"), "{err}");
}

#[test]
fn bad_values_name_line_or_field() {
    let text = "[[apps]]\nid = \"0oa1\"\nname = \"slack\"\nlabel = \"S\"\nprovisioning = { status = \"ENABLED\", token = \"rotten\" }\n";
    let err = parse(text).expect_err("bad enum").to_string();
    assert!(err.contains("line 5") && err.contains("rotten"), "{err}");

    let text = "[[users]]\nid = \"00u1\"\nprofile = { login = \"a@b\" }\n[[apps]]\nid = \"0oa1\"\nname = \"x\"\nlabel = \"X\"\n[[apps.users]]\nid = \"00u1\"\nsync_state = \"ERROR\"\ncause = \"gremlins\"\n";
    let err = parse(text).expect_err("bad cause").to_string();
    assert!(
        err.contains("apps[0].users[0].cause") && err.contains("gremlins"),
        "{err}"
    );

    let text = "[[users]]\nid = \"u1\"\nprofile = { login = \"a@b\" }\n";
    let err = parse(text).expect_err("bad id").to_string();
    assert!(err.contains("users[0].id"), "{err}");

    let text = "[[events]]\neventType = \"x\"\npublished = \"last tuesday\"\n";
    let err = parse(text).expect_err("bad time").to_string();
    assert!(err.contains("events[0].published"), "{err}");
    // A source app has no sign-on mode in Okta (signOnMode null): naming one is refused.
    let text = "[[apps]]\nid = \"0oa1\"\nname = \"active_directory\"\nlabel = \"AD\"\nsign_on_mode = \"BOOKMARK\"\n";
    let err = parse(text).expect_err("sign-on mode on AD").to_string();
    assert!(
        err.contains("apps[0].sign_on_mode") && err.contains("signOnMode null"),
        "{err}"
    );

    let text =
        "[org]\nevent_hooks = [{ url = \"ftp://example.com/hook\", event_types = [\"x\"] }]\n";
    let err = parse(text).expect_err("bad hook URL").to_string();
    assert!(err.contains("org.event_hooks[0].url"), "{err}");
    let text = "[org]\nevent_hooks = [{ url = \"http://127.0.0.1:9/hook\", event_types = [] }]\n";
    let err = parse(text).expect_err("no event types").to_string();
    assert!(err.contains("org.event_hooks[0].event_types"), "{err}");
}

#[test]
fn missing_file_is_named() {
    let err = Scenario::from_toml_file("/nonexistent/okta.toml")
        .expect_err("missing")
        .to_string();
    assert!(err.contains("/nonexistent/okta.toml"), "{err}");
}

#[test]
fn generator_builds_the_requested_org() {
    let spec = GenerateSpec {
        users: 100_000,
        apps: 2_000,
        assignments: 200_000,
        error_ratio: 0.01,
        seed: 42,
    };
    let s = generate(spec.clone());
    assert_eq!(s.users.len(), 100_000);
    assert_eq!(s.apps.len(), 2_000);
    let assigned: usize = s.apps.iter().map(|a| a.users.len()).sum();
    assert_eq!(assigned, 200_000);
    let errors = s
        .apps
        .iter()
        .flat_map(|a| &a.users)
        .filter(|u| u.sync_state == "ERROR")
        .count();
    assert!(
        (1_500..2_500).contains(&errors),
        "about 1% in error, got {errors}"
    );
    assert!(s
        .users
        .iter()
        .all(|u| u.id.len() == 20 && u.id.starts_with("00u")));
    assert!(s
        .apps
        .iter()
        .all(|a| a.id.len() == 20 && a.id.starts_with("0oa")));
    for app in s.apps.iter().take(50) {
        let unique: std::collections::HashSet<&str> =
            app.users.iter().map(|u| u.id.as_str()).collect();
        assert_eq!(
            unique.len(),
            app.users.len(),
            "no duplicate assignment in {}",
            app.id
        );
    }
    let again = generate(spec);
    let first_errors: Vec<&str> = s
        .apps
        .iter()
        .flat_map(|a| &a.users)
        .filter(|u| u.cause.is_some())
        .map(|u| u.id.as_str())
        .take(20)
        .collect();
    let second_errors: Vec<&str> = again
        .apps
        .iter()
        .flat_map(|a| &a.users)
        .filter(|u| u.cause.is_some())
        .map(|u| u.id.as_str())
        .take(20)
        .collect();
    assert_eq!(first_errors, second_errors, "same seed, same org");
}

#[tokio::test]
async fn generated_org_serves_its_failures_through_the_system_log() {
    let s = generate(GenerateSpec {
        users: 500,
        apps: 5,
        assignments: 1_000,
        error_ratio: 0.05,
        seed: 3,
    });
    let errors = s
        .apps
        .iter()
        .flat_map(|a| &a.users)
        .filter(|u| u.sync_state == "ERROR")
        .count();
    let sim = Sim::start(s, "127.0.0.1:0").await.expect("start");
    assert_eq!(
        sim.event_count(),
        errors,
        "one seeded failure event per app user in ERROR"
    );
}

async fn start_inline(text: &str) -> okta_sim::SimHandle {
    let scenario = parse(text).expect("valid inline scenario");
    Sim::start(scenario, "127.0.0.1:0").await.expect("start")
}

#[tokio::test]
async fn scenario_rate_limits_and_faults_reach_the_transport_layer() {
    let sim = start_inline(
        "[org]\napi_tokens = [\"t\"]\n\n[rate_limits]\napps = 2\n\n[[faults]]\npath_prefix = \"/api/v1/users\"\nkind = { type = \"server-error\", status = 503 }\ncount = 1\n",
    )
    .await;
    let http = reqwest::Client::new();
    let get = |path: &str| {
        http.get(format!("{}{path}", sim.base_url()))
            .header("Authorization", "SSWS t")
            .send()
    };
    for _ in 0..2 {
        let r = get("/api/v1/apps").await.expect("request");
        assert_eq!(r.status(), reqwest::StatusCode::OK);
        assert_eq!(r.headers()["x-rate-limit-limit"], "2");
    }
    let r = get("/api/v1/apps").await.expect("request");
    assert_eq!(r.status(), reqwest::StatusCode::TOO_MANY_REQUESTS);
    let body: serde_json::Value = r.json().await.expect("json");
    assert_eq!(body["errorCode"], "E0000047");
    let r = get("/api/v1/users").await.expect("request");
    assert_eq!(r.status(), reqwest::StatusCode::SERVICE_UNAVAILABLE);
    let r = get("/api/v1/users").await.expect("request");
    assert_eq!(
        r.status(),
        reqwest::StatusCode::OK,
        "the fault applied once"
    );
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_okta_errors() {
    let sim = start_inline("[org]\napi_tokens = [\"t\"]\n").await;
    let http = reqwest::Client::new();
    let r = http
        .get(format!("{}/api/v1/nothing-here", sim.base_url()))
        .header("Authorization", "SSWS t")
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), reqwest::StatusCode::NOT_FOUND);
    assert_eq!(
        r.json::<serde_json::Value>().await.expect("json")["errorCode"],
        "E0000007"
    );
    let r = http
        .delete(format!("{}/api/v1/apps", sim.base_url()))
        .header("Authorization", "SSWS t")
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), reqwest::StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        r.json::<serde_json::Value>().await.expect("json")["errorCode"],
        "E0000022"
    );
}

#[test]
fn json_scenarios_load_too() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("org.json");
    let text = r#"{ "org": { "api_tokens": ["t"] },
        "users": [{ "id": "00u00000000000000001", "profile": { "login": "a@example.com" } }],
        "apps": [{ "id": "0oa00000000000000001", "name": "slack", "label": "Slack",
                   "users": [{ "id": "00u00000000000000001", "sync_state": "ERROR", "cause": "transient" }] }] }"#;
    std::fs::write(&path, text).expect("write");
    let s = Scenario::from_file(&path).expect("json loads");
    assert_eq!(s.apps[0].users[0].cause.as_deref(), Some("transient"));
    std::fs::write(&path, r#"{ "org": { "api_tokens": ["t"], "extra": 1 } }"#).expect("write");
    let err = Scenario::from_file(&path)
        .expect_err("unknown key")
        .to_string();
    assert!(
        err.contains("org.json") && err.contains("extra") && err.contains("line 1"),
        "{err}"
    );
}

#[tokio::test]
async fn injected_events_keep_their_published_time() {
    let sim = start_inline("[org]\napi_tokens = [\"t\"]\n").await;
    let http = reqwest::Client::new();
    for (event_type, published) in [("late", "-1m"), ("early", "-10m")] {
        let r = http
            .post(format!("{}/__sim/events", sim.base_url()))
            .json(&serde_json::json!({ "eventType": event_type, "published": published }))
            .send()
            .await
            .expect("inject");
        assert_eq!(r.status(), reqwest::StatusCode::CREATED);
    }
    let events: Vec<serde_json::Value> = http
        .get(format!("{}/api/v1/logs", sim.base_url()))
        .header("Authorization", "SSWS t")
        .send()
        .await
        .expect("logs")
        .json()
        .await
        .expect("json");
    let types: Vec<&str> = events
        .iter()
        .filter_map(|e| e["eventType"].as_str())
        .collect();
    assert_eq!(types, ["early", "late"], "sorted by published");
    assert!(events
        .iter()
        .all(|e| e["uuid"].is_string() && e["published"].is_string()));
}
