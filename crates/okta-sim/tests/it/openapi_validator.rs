//! Proves the OpenAPI response validator accepts Okta's documented bodies and rejects wrong ones.

use crate::openapi::{
    assert_conforms, compile_all_components, operation_id, response_examples, schema_enum,
    validate, validate_schema, ERROR_REQUIRED_FIELDS,
};
use serde_json::{json, Value};

const APPS: &str = "/api/v1/apps";
const APP_USER: &str = "/api/v1/apps/0oa1b2c3d4e5f6g7h8i9/users/00u1b2c3d4e5f6g7h8i9";
const APP_USERS: &str = "/api/v1/apps/0oa1b2c3d4e5f6g7h8i9/users";
const PUSH_MAPPINGS: &str = "/api/v1/apps/0oa1b2c3d4e5f6g7h8i9/group-push/mappings";
const PUSH_MAPPING: &str =
    "/api/v1/apps/0oa1b2c3d4e5f6g7h8i9/group-push/mappings/gPm00000000000000000";
const FEATURES: &str = "/api/v1/apps/0oa1b2c3d4e5f6g7h8i9/features";
const FEATURE: &str = "/api/v1/apps/0oa1b2c3d4e5f6g7h8i9/features/USER_PROVISIONING";
const CONNECTION: &str = "/api/v1/apps/0oa1b2c3d4e5f6g7h8i9/connections/default";
const LOGS: &str = "/api/v1/logs?since=2026-11-23T00:00:00.000Z&limit=100";
const AGENT_POOLS: &str = "/api/v1/agentPools";
const USER: &str = "/api/v1/users/00u1b2c3d4e5f6g7h8i9";

/// (method, concrete path, operation id) for every operation under test.
const OPERATIONS: &[(&str, &str, &str)] = &[
    ("GET", APP_USERS, "listApplicationUsers"),
    ("GET", APP_USER, "getApplicationUser"),
    ("POST", APP_USER, "updateApplicationUser"),
    ("GET", APPS, "listApplications"),
    ("GET", PUSH_MAPPINGS, "listGroupPushMappings"),
    ("PATCH", PUSH_MAPPING, "updateGroupPushMapping"),
    ("GET", FEATURES, "listFeaturesForApplication"),
    ("PUT", FEATURE, "updateFeatureForApplication"),
    (
        "GET",
        CONNECTION,
        "getDefaultProvisioningConnectionForApplication",
    ),
    ("GET", LOGS, "listLogEvents"),
    ("GET", AGENT_POOLS, "listAgentPools"),
    ("GET", USER, "getUser"),
];

/// Statuses whose documented examples are checked.
const EXAMPLE_STATUSES: &[u16] = &[200, 400, 401, 403, 404, 429];

/// A documented example that contradicts the spec's own schemas.
struct KnownDefect {
    path: &'static str,
    status: u16,
    example: &'static str,
    /// Every JSON pointer at which it fails.
    pointers: &'static [&'static str],
    why: &'static str,
}

const SAML_SIGN_ON: &str =
    "a SAML app's settings.signOn lacks fields SamlApplicationSettingsSignOn requires";

/// Each entry must still fail exactly there, so the list cannot go stale.
const KNOWN_EXAMPLE_DEFECTS: &[KnownDefect] = &[
    KnownDefect {
        path: APP_USER,
        status: 400,
        example: "AppUserUpdateCredEx",
        pointers: &["/errorCauses"],
        why: "errorCauses is an object, not an array",
    },
    KnownDefect {
        path: APPS,
        status: 200,
        example: "ResponseExample1",
        pointers: &["/0/settings/signOn"],
        why: SAML_SIGN_ON,
    },
    KnownDefect {
        path: APPS,
        status: 200,
        example: "ResponseExample2",
        pointers: &["/0/settings/signOn", "/1/settings/signOn"],
        why: SAML_SIGN_ON,
    },
    KnownDefect {
        path: APPS,
        status: 200,
        example: "ResponseExample3",
        pointers: &["/0/settings/signOn"],
        why: SAML_SIGN_ON,
    },
    KnownDefect {
        path: APPS,
        status: 200,
        example: "ResponseExample4",
        pointers: &["/0/settings/signOn", "/1/settings/signOn"],
        why: SAML_SIGN_ON,
    },
    KnownDefect {
        path: FEATURE,
        status: 200,
        example: "UpdateInboundProvisioningFeatureEx",
        pointers: &["/capabilities/importSettings/username"],
        why: "importSettings.username lacks the required usernameFormat",
    },
    KnownDefect {
        path: LOGS,
        status: 200,
        example: "ListLogs",
        pointers: &[
            "/0/version",
            "/0/client/geographicalContext/postalCode",
            "/0/request/ipChain/0/geographicalContext/postalCode",
        ],
        why: "version and postalCode are numbers, the schema says string",
    },
    KnownDefect {
        path: LOGS,
        status: 200,
        example: "ListLogsWithAdditionalSecurityContext",
        pointers: &[""],
        why: "a single LogEvent where the response is an array",
    },
    KnownDefect {
        path: LOGS,
        status: 200,
        example: "LogTargetChangeDetails",
        pointers: &[""],
        why: "a change-details fragment, not a LogEvent array",
    },
    KnownDefect {
        path: AGENT_POOLS,
        status: 200,
        example: "ListAllAgentPoolsResponse",
        pointers: &["/0/agents"],
        why: "agents is an object, the schema says array",
    },
];

fn known_defect(path: &str, status: u16, example: &str) -> Option<&'static KnownDefect> {
    KNOWN_EXAMPLE_DEFECTS
        .iter()
        .find(|d| d.path == path && d.status == status && d.example == example)
}

/// The JSON pointer an error message names.
fn pointer_of(error: &str) -> &str {
    error
        .strip_prefix("at '")
        .and_then(|rest| rest.split_once('\''))
        .map_or("", |(p, _)| p)
}

/// Every documented example of the operations under test: (method, path, status, name, body).
fn all_examples() -> Vec<(&'static str, &'static str, u16, String, Value)> {
    let mut all = Vec::new();
    for &(method, path, _) in OPERATIONS {
        for &status in EXAMPLE_STATUSES {
            for (name, body) in response_examples(method, path, status) {
                all.push((method, path, status, name, body));
            }
        }
    }
    all
}

fn errors_of(method: &str, path: &str, status: u16, body: &Value) -> Vec<String> {
    validate(method, path, status, body).expect_err("the body must be rejected")
}

fn assert_error_at(errors: &[String], pointer: &str) {
    let needle = format!("at '{pointer}'");
    assert!(
        errors.iter().any(|e| e.starts_with(&needle)),
        "expected an error {needle}, got {errors:#?}"
    );
}

#[test]
fn paths_resolve_to_the_documented_operation_ids() {
    for &(method, path, id) in OPERATIONS {
        assert_eq!(
            operation_id(method, path).as_deref(),
            Some(id),
            "{method} {path}"
        );
    }
}

#[test]
fn literal_segments_win_over_parameters() {
    assert_eq!(
        operation_id("GET", "/api/v1/groups/rules").as_deref(),
        Some("listGroupRules")
    );
    assert_eq!(
        operation_id("GET", "/api/v1/groups/00g1").as_deref(),
        Some("getGroup")
    );
    assert_eq!(
        operation_id("DELETE", "/api/v1/api-tokens/current").as_deref(),
        Some("revokeCurrentApiToken")
    );
    assert_eq!(
        operation_id("DELETE", "/api/v1/api-tokens/00T1").as_deref(),
        Some("revokeApiToken")
    );
    assert_eq!(
        operation_id("GET", "http://127.0.0.1:8080/api/v1/groups/rules?limit=2").as_deref(),
        Some("listGroupRules")
    );
    assert_eq!(operation_id("GET", "/api/v1/nothing/here"), None);
    assert_eq!(operation_id("DELETE", "/api/v1/logs"), None);
}

#[test]
fn spec_examples_conform_except_known_spec_defects() {
    let examples = all_examples();
    assert!(
        examples.len() >= 30,
        "expected the spec's examples, found {}",
        examples.len()
    );
    let mut unexpected = Vec::new();
    for (method, path, status, name, body) in &examples {
        if known_defect(path, *status, name).is_some() {
            continue;
        }
        if let Err(errors) = validate(method, path, *status, body) {
            unexpected.push(format!("{method} {path} {status} {name}: {errors:#?}"));
        }
    }
    assert!(
        unexpected.is_empty(),
        "examples failed validation:\n{}",
        unexpected.join("\n")
    );
}

#[test]
fn known_spec_example_defects_fail_exactly_where_listed() {
    let examples = all_examples();
    for defect in KNOWN_EXAMPLE_DEFECTS {
        let found = examples.iter().find(|(_, path, status, name, _)| {
            (*path, *status, name.as_str()) == (defect.path, defect.status, defect.example)
        });
        let Some((method, path, status, _, body)) = found else {
            panic!("example {} is no longer in the spec", defect.example);
        };
        let errors = errors_of(method, path, *status, body);
        let mut pointers: Vec<&str> = errors.iter().map(|e| pointer_of(e)).collect();
        pointers.sort_unstable();
        pointers.dedup();
        let mut expected = defect.pointers.to_vec();
        expected.sort_unstable();
        assert_eq!(
            pointers, expected,
            "{} ({}): {errors:#?}",
            defect.example, defect.why
        );
    }
}

#[test]
fn error_examples_for_all_error_statuses_conform() {
    let mut checked = 0;
    for &(method, path, _) in OPERATIONS {
        for status in [400, 401, 403, 404, 429] {
            for (name, body) in response_examples(method, path, status) {
                if known_defect(path, status, &name).is_some() {
                    continue;
                }
                assert_conforms(method, path, status, &body);
                checked += 1;
            }
        }
    }
    assert!(checked >= 10, "expected error examples, found {checked}");
}

fn app_user(sync_state: &str) -> Value {
    json!({
        "id": "00u1b2c3d4e5f6g7h8i9",
        "externalId": "70c14cc17d3745e8a9f98d599a68329c",
        "created": "2026-11-20T09:00:00.000Z",
        "lastUpdated": "2026-11-23T10:00:00.000Z",
        "scope": "USER",
        "status": "PROVISIONED",
        "statusChanged": "2026-11-20T09:00:05.000Z",
        "passwordChanged": null,
        "syncState": sync_state,
        "lastSync": "2026-11-23T10:00:00.000Z",
        "credentials": { "userName": "ada@example.com" },
        "profile": { "email": "ada@example.com", "firstName": "Ada" },
        "_links": {
            "app": { "href": "https://example.okta.com/api/v1/apps/0oa1b2c3d4e5f6g7h8i9" },
            "user": { "href": "https://example.okta.com/api/v1/users/00u1b2c3d4e5f6g7h8i9" }
        }
    })
}

#[test]
fn hand_written_app_users_conform_for_every_sync_state() {
    let states = schema_enum("AppUserSyncState");
    assert!(states.contains(&"SYNCHRONIZED".to_owned()) && states.contains(&"ERROR".to_owned()));
    for state in &states {
        assert_conforms("GET", APP_USER, 200, &app_user(state));
        assert_conforms("POST", APP_USER, 200, &app_user(state));
        assert_conforms("GET", APP_USERS, 200, &json!([app_user(state)]));
    }
}

#[test]
fn bad_sync_state_fails_with_its_pointer() {
    let errors = errors_of(
        "GET",
        APP_USERS,
        200,
        &json!([app_user("SYNCHRONIZED"), app_user("BROKEN")]),
    );
    assert_error_at(&errors, "/1/syncState");
    assert_eq!(errors.len(), 1, "{errors:#?}");
}

#[test]
fn wrong_types_fail() {
    let mut user = app_user("SYNCHRONIZED");
    user["id"] = json!(42);
    user["credentials"] = json!("ada");
    let errors = errors_of("GET", APP_USER, 200, &user);
    assert_error_at(&errors, "/id");
    assert_error_at(&errors, "/credentials");
    let errors = errors_of("GET", APP_USERS, 200, &app_user("SYNCHRONIZED"));
    assert_error_at(&errors, "");
}

#[test]
fn date_times_are_checked() {
    let mut user = app_user("SYNCHRONIZED");
    user["lastUpdated"] = json!("yesterday at noon");
    assert_error_at(&errors_of("GET", APP_USER, 200, &user), "/lastUpdated");
}

fn bookmark_app() -> Value {
    json!({
        "id": "0oa1b2c3d4e5f6g7h8i9",
        "name": "bookmark",
        "label": "Wiki",
        "status": "ACTIVE",
        "signOnMode": "BOOKMARK",
        "created": "2026-01-01T00:00:00.000Z",
        "lastUpdated": "2026-11-23T10:00:00.000Z",
        "features": [],
        "settings": { "app": { "url": "https://wiki.example.com", "requestIntegration": false } },
        "visibility": { "autoSubmitToolbar": false, "hide": { "iOS": false, "web": false } }
    })
}

#[test]
fn applications_dispatch_on_sign_on_mode() {
    assert_conforms("GET", APPS, 200, &json!([bookmark_app()]));
    let mut no_url = bookmark_app();
    no_url["settings"]["app"] = json!({ "requestIntegration": false });
    assert_error_at(
        &errors_of("GET", APPS, 200, &json!([no_url])),
        "/0/settings/app",
    );
    let mut no_label = bookmark_app();
    no_label
        .as_object_mut()
        .expect("the app is an object")
        .remove("label");
    assert_error_at(&errors_of("GET", APPS, 200, &json!([no_label])), "/0");
    let mut bad_mode = bookmark_app();
    bad_mode["signOnMode"] = json!("TELEPATHY");
    assert_error_at(
        &errors_of("GET", APPS, 200, &json!([bad_mode])),
        "/0/signOnMode",
    );
}

fn push_mapping(status: &str) -> Value {
    json!({
        "id": "gPm00000000000000000",
        "sourceGroupId": "00g00000000000000000",
        "targetGroupId": "00g11111111111111111",
        "status": status,
        "created": "2026-11-20T09:00:00.000Z",
        "lastUpdated": "2026-11-23T10:00:00.000Z",
        "lastPush": "2026-11-23T10:00:00.000Z",
        "errorSummary": null
    })
}

#[test]
fn group_push_mappings_check_status() {
    assert_conforms(
        "GET",
        PUSH_MAPPINGS,
        200,
        &json!([push_mapping("ACTIVE"), push_mapping("ERROR")]),
    );
    assert_conforms("PATCH", PUSH_MAPPING, 200, &push_mapping("INACTIVE"));
    assert_error_at(
        &errors_of("PATCH", PUSH_MAPPING, 200, &push_mapping("PAUSED")),
        "/status",
    );
}

fn provisioning_feature(create_status: &str) -> Value {
    json!({
        "name": "USER_PROVISIONING",
        "status": "ENABLED",
        "description": "User provisioning settings from Okta to a downstream app",
        "capabilities": {
            "create": { "lifecycleCreate": { "status": create_status } },
            "update": {
                "lifecycleDeactivate": { "status": "ENABLED" },
                "profile": { "status": "ENABLED" },
                "password": { "status": "DISABLED", "seed": "RANDOM", "change": "KEEP_EXISTING" }
            }
        }
    })
}

#[test]
fn features_dispatch_on_name() {
    assert_conforms(
        "GET",
        FEATURES,
        200,
        &json!([provisioning_feature("ENABLED")]),
    );
    assert_conforms("PUT", FEATURE, 200, &provisioning_feature("DISABLED"));
    let errors = errors_of("PUT", FEATURE, 200, &provisioning_feature("MAYBE"));
    assert_error_at(&errors, "/capabilities/create/lifecycleCreate/status");
}

#[test]
fn provisioning_connection_requires_profile_and_status() {
    let connection = json!({
        "authScheme": "TOKEN",
        "baseUrl": "https://scim.example.com/v2",
        "profile": { "authScheme": "TOKEN" },
        "status": "ENABLED"
    });
    assert_conforms("GET", CONNECTION, 200, &connection);
    let mut missing = connection.clone();
    missing
        .as_object_mut()
        .expect("the connection is an object")
        .remove("status");
    let errors = errors_of("GET", CONNECTION, 200, &missing);
    assert!(
        errors
            .iter()
            .any(|e| e.contains("\"status\" is a required property")),
        "{errors:#?}"
    );
}

fn log_event(published: &str) -> Value {
    json!({
        "uuid": "dc9fd3c0-598c-11ef-8478-2b7584bf8d5a",
        "published": published,
        "eventType": "application.provision.user.sync",
        "version": "0",
        "severity": "ERROR",
        "displayMessage": "Sync user to app failed",
        "actor": { "id": "0oa1b2c3d4e5f6g7h8i9", "type": "PublicClientApp", "alternateId": "SCIM app", "displayName": "SCIM app", "detailEntry": null },
        "outcome": { "result": "FAILURE", "reason": "Remote service returned 503" },
        "target": [{ "id": "00u1b2c3d4e5f6g7h8i9", "type": "User", "alternateId": "ada@example.com", "displayName": "Ada" }],
        "transaction": { "type": "JOB", "id": "tx1", "detail": {} }
    })
}

#[test]
fn log_events_check_enums_and_timestamps() {
    assert_conforms(
        "GET",
        LOGS,
        200,
        &json!([log_event("2026-11-23T10:00:00.000Z")]),
    );
    assert_error_at(
        &errors_of("GET", LOGS, 200, &json!([log_event("23/11/2026")])),
        "/0/published",
    );
    let mut bad = log_event("2026-11-23T10:00:00.000Z");
    bad["severity"] = json!("CATASTROPHIC");
    assert_error_at(&errors_of("GET", LOGS, 200, &json!([bad])), "/0/severity");
}

#[test]
fn agent_pools_check_enums() {
    let pool = json!({
        "id": "poolId1",
        "name": "AD pool",
        "type": "AD",
        "operationalStatus": "DISRUPTED",
        "disruptedAgents": 1,
        "inactiveAgents": 0,
        "agents": []
    });
    assert_conforms("GET", AGENT_POOLS, 200, &json!([pool]));
    let mut bad = pool.clone();
    bad["operationalStatus"] = json!("ON_FIRE");
    bad["disruptedAgents"] = json!("one");
    let errors = errors_of("GET", AGENT_POOLS, 200, &json!([bad]));
    assert_error_at(&errors, "/0/operationalStatus");
    assert_error_at(&errors, "/0/disruptedAgents");
}

#[test]
fn users_check_status() {
    let user = json!({
        "id": "00u1b2c3d4e5f6g7h8i9",
        "status": "ACTIVE",
        "created": "2026-01-01T00:00:00.000Z",
        "activated": "2026-01-01T00:00:01.000Z",
        "statusChanged": "2026-01-01T00:00:01.000Z",
        "lastLogin": null,
        "lastUpdated": "2026-11-23T10:00:00.000Z",
        "passwordChanged": null,
        "type": { "id": "oty1" },
        "profile": { "login": "ada@example.com", "email": "ada@example.com", "firstName": "Ada", "lastName": "Lovelace" },
        "credentials": { "provider": { "type": "OKTA", "name": "OKTA" } }
    });
    assert_conforms("GET", USER, 200, &user);
    let mut bad = user.clone();
    bad["status"] = json!("HAPPY");
    assert_error_at(&errors_of("GET", USER, 200, &bad), "/status");
}

fn okta_error(code: &str, summary: &str) -> Value {
    json!({
        "errorCode": code,
        "errorSummary": summary,
        "errorLink": code,
        "errorId": "oaeHfmOAx1iRLa0H10DeMz5fQ",
        "errorCauses": []
    })
}

#[test]
fn error_bodies_conform_and_require_error_code() {
    let cases = [
        (400, "E0000001", "Api validation failed: syncState"),
        (401, "E0000011", "Invalid token provided"),
        (
            404,
            "E0000007",
            "Not found: Resource not found: 0oa1 (AppInstance)",
        ),
        (
            429,
            "E0000047",
            "API call exceeded rate limit due to too many requests.",
        ),
    ];
    assert!(ERROR_REQUIRED_FIELDS.contains(&"errorCode"));
    for (status, code, summary) in cases {
        for (method, path) in [
            ("GET", APP_USER),
            ("POST", APP_USER),
            ("GET", LOGS),
            ("GET", CONNECTION),
        ] {
            let body = okta_error(code, summary);
            assert_conforms(method, path, status, &body);
            let mut missing = body.clone();
            missing
                .as_object_mut()
                .expect("the error is an object")
                .remove("errorCode");
            let errors = errors_of(method, path, status, &missing);
            assert!(
                errors
                    .iter()
                    .any(|e| e.contains("\"errorCode\" is a required property")),
                "{errors:#?}"
            );
            let mut wrong = body;
            wrong["errorCauses"] = json!("none");
            assert_error_at(&errors_of(method, path, status, &wrong), "/errorCauses");
        }
    }
}

#[test]
fn undocumented_success_status_and_unknown_path_fail() {
    assert!(validate("GET", APP_USER, 299, &json!({})).is_err());
    assert!(validate("GET", "/api/v1/nothing", 200, &json!({})).is_err());
}

#[test]
#[should_panic(expected = "getApplicationUser")]
fn assert_conforms_names_the_operation() {
    assert_conforms("GET", APP_USER, 200, &app_user("BROKEN"));
}

#[test]
fn every_component_schema_converts_to_a_compilable_json_schema() {
    assert_eq!(compile_all_components(), Ok(()));
}

#[test]
fn discriminated_one_of_validates_against_the_mapped_schema() {
    let ec_key = json!({ "kty": "EC", "kid": "k1", "status": "ACTIVE", "x": "abc", "y": "def" });
    assert_eq!(
        validate_schema("OAuth2ClientJsonSigningKeyResponse", &ec_key),
        Ok(())
    );
    let mut bad = ec_key;
    bad["x"] = json!(5);
    let errors = validate_schema("OAuth2ClientJsonSigningKeyResponse", &bad)
        .expect_err("x must be a string");
    assert_error_at(&errors, "/x");
    assert!(validate_schema("NoSuchSchema", &json!({})).is_err());
}

#[test]
fn undocumented_error_status_falls_back_to_the_error_schema() {
    let body = okta_error("E0000009", "Internal Server Error");
    assert_conforms("GET", APP_USER, 500, &body);
    let errors = errors_of("GET", APP_USER, 500, &json!({ "message": "oops" }));
    assert!(
        errors
            .iter()
            .any(|e| e.contains("\"errorCode\" is a required property")),
        "{errors:#?}"
    );
}
