//! okta-sim against Okta's published OpenAPI description: every endpoint the simulator serves is
//! called over real HTTP and each response (success and error) must conform to the spec, use only
//! the spec's enum values, carry `X-Okta-Request-Id` and the `X-Rate-Limit-*` headers, and page
//! with `<url>; rel="next"` links whose `after` cursor is opaque.

use std::path::PathBuf;

use crate::openapi::{
    assert_conforms, operation_id, response_examples, schema_enum, validate_schema,
    ERROR_REQUIRED_FIELDS,
};
use okta_sim::{Scenario, Sim, SimHandle};
use reqwest::header::HeaderMap;
use reqwest::{Client, Method};
use serde_json::{json, Value};

/// The API token of `all-situations.toml`.
const TOKEN: &str = "test-token-all";
/// The OAuth service app of `all-situations.toml`.
const SERVICE_APP: &str = "0oaremediatorsvc0001";

// Ids from `tests/scenarios/all-situations.toml`.
const SLACK: &str = "0oahealthyslack00001";
const SLACK_USER: &str = "00uhealthy0000000001";
const SLACK_MAPPING: &str = "gPmhealthy0000000001";
const SCIM: &str = "0oaretryscim00000001";
const SCIM_USER_IN_ERROR: &str = "00uretry000000000001";
const ORG2ORG: &str = "0oaorphorg2org000001";
const ORG2ORG_VALID_TOKEN: &str = "org2org-fresh-token";
const ORG2ORG_MAPPINGS: [&str; 2] = ["gPmorph0000000000001", "gPmorph0000000000002"];
const ZOOM: &str = "0oacredszoom00000001";
const AD: &str = "0oafsyncad0000000001";
const UNKNOWN_APP: &str = "0oadoesnotexist00001";
const UNKNOWN_USER: &str = "00udoesnotexist00001";

fn repo_path(relative: &str) -> PathBuf {
    crate::repo_root().join(relative)
}

async fn start() -> SimHandle {
    let scenario = Scenario::from_toml_file(repo_path("tests/scenarios/all-situations.toml"))
        .expect("the shipped all-situations scenario loads");
    Sim::start(scenario, "127.0.0.1:0")
        .await
        .expect("the sim starts on loopback")
}

/// One answered request.
struct Reply {
    status: u16,
    headers: HeaderMap,
    body: Value,
}

impl Reply {
    /// The Okta `errorCode` of an error body.
    fn error_code(&self) -> &str {
        self.body["errorCode"].as_str().unwrap_or("<none>")
    }

    /// The `rel="next"` URL, if any.
    fn next_link(&self) -> Option<String> {
        links(&self.headers)
            .into_iter()
            .find(|(_, rel)| rel == "next")
            .map(|(url, _)| url)
    }
}

/// A client for one sim, with an optional `Authorization` value.
struct Api {
    http: Client,
    base: String,
    auth: Option<String>,
}

impl Api {
    fn new(sim: &SimHandle, auth: Option<&str>) -> Self {
        Api {
            http: Client::new(),
            base: sim.base_url().to_owned(),
            auth: auth.map(str::to_owned),
        }
    }

    fn ssws(sim: &SimHandle) -> Self {
        Self::new(sim, Some(&format!("SSWS {TOKEN}")))
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        }
    }

    /// Sends a request and checks what every response must satisfy: spec conformance of the
    /// body for its status, the common headers, the `Link` format and the enum values.
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let (url, reply) = self.send(method.clone(), path, body).await;
        let context = format!("{method} {url} -> {}", reply.status);
        assert_conforms(method.as_str(), &url, reply.status, &reply.body);
        if !reply.body.is_null() {
            let content_type = header_str(&reply.headers, "content-type").unwrap_or("");
            assert!(
                content_type.starts_with("application/json"),
                "{context}: JSON body sent as {content_type:?}"
            );
        }
        assert_common_headers(&context, &reply.headers);
        assert_links(&context, &self.base, &url, &reply.headers, &reply.body);
        assert_enums(&context, &url, &reply.body);
        reply
    }

    /// A call to a route the spec does not describe (okta-sim's models of Okta's non-public
    /// endpoints, unknown paths): the common headers, and an Okta `Error` body for an error.
    async fn call_outside_spec(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let (url, reply) = self.send(method.clone(), path, body).await;
        let context = format!("{method} {url} -> {}", reply.status);
        assert_eq!(
            operation_id(method.as_str(), &url),
            None,
            "{context}: the spec describes this route; use call"
        );
        assert_common_headers(&context, &reply.headers);
        if reply.status >= 400 {
            assert_okta_error(&context, &reply.body);
        }
        reply
    }

    /// Sends a request; the body is parsed as JSON (`Null` when empty).
    async fn send(&self, method: Method, path: &str, body: Option<Value>) -> (String, Reply) {
        let url = self.url(path);
        let mut request = self.http.request(method.clone(), &url);
        if let Some(auth) = &self.auth {
            request = request.header("Authorization", auth);
        }
        if let Some(b) = body {
            request = request.json(&b);
        }
        let response = request.send().await.expect("the sim answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("a readable body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| {
                panic!("{method} {url} -> {status}: body is not JSON ({e}): {text}")
            })
        };
        let reply = Reply {
            status,
            headers,
            body,
        };
        (url, reply)
    }

    /// A call that must answer `status`.
    async fn expect(&self, method: Method, path: &str, body: Option<Value>, status: u16) -> Reply {
        let reply = self.call(method.clone(), path, body).await;
        assert_eq!(
            reply.status, status,
            "{method} {path}: unexpected status, body {}",
            reply.body
        );
        reply
    }

    async fn get(&self, path: &str) -> Value {
        self.expect(Method::GET, path, None, 200).await.body
    }

    /// An error call: the status and Okta error code must match; apart from 400 (whose code
    /// depends on the cause, e.g. E0000003 or E0000053), the code must also be one the spec's
    /// examples for that status use, when it gives any.
    async fn error(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        status: u16,
        code: &str,
    ) -> Value {
        let reply = self.expect(method.clone(), path, body, status).await;
        assert_eq!(reply.error_code(), code, "{method} {path}: {}", reply.body);
        let examples = response_examples(method.as_str(), &self.url(path), status);
        let codes: Vec<&str> = examples
            .iter()
            .filter_map(|(_, v)| v["errorCode"].as_str())
            .collect();
        if status != 400 && !codes.is_empty() {
            assert!(
                codes.contains(&code),
                "{method} {path}: {code} is not among the spec's {status} examples {codes:?}"
            );
        }
        reply.body
    }

    /// Follows `rel="next"` from `first`, checking every page; returns all items.
    async fn all_pages(&self, first: &str) -> Vec<Value> {
        let mut items = Vec::new();
        let mut next = Some(self.url(first));
        while let Some(url) = next.take() {
            let reply = self.expect(Method::GET, &url, None, 200).await;
            items.extend(reply.body.as_array().expect("a list").iter().cloned());
            next = reply.next_link();
        }
        items
    }
}

// ----- checks every response must pass ------------------------------------------------------

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn assert_common_headers(context: &str, headers: &HeaderMap) {
    let request_id = header_str(headers, "x-okta-request-id").unwrap_or("");
    assert!(!request_id.is_empty(), "{context}: no X-Okta-Request-Id");
    // Okta's SDKs compute the 429 backoff as X-Rate-Limit-Reset minus Date.
    let date = header_str(headers, "date").unwrap_or_else(|| panic!("{context}: no Date"));
    assert!(
        httpdate::parse_http_date(date).is_ok(),
        "{context}: Date is not an HTTP date: {date}"
    );
    for name in [
        "x-rate-limit-limit",
        "x-rate-limit-remaining",
        "x-rate-limit-reset",
    ] {
        let value =
            header_str(headers, name).unwrap_or_else(|| panic!("{context}: no {name} header"));
        assert!(
            value.parse::<u64>().is_ok(),
            "{context}: {name} is not a non-negative integer: {value}"
        );
    }
}

/// An error body is the spec's `Error` object with Okta's always-present fields.
fn assert_okta_error(context: &str, body: &Value) {
    validate_schema("Error", body)
        .unwrap_or_else(|e| panic!("{context}: not an Okta error: {e:?}; body {body}"));
    for field in ERROR_REQUIRED_FIELDS {
        assert!(body[field].is_string(), "{context}: no {field} in {body}");
    }
}

/// The `(url, rel)` pairs of every `Link` header; panics on anything not `<url>; rel="x"`.
fn links(headers: &HeaderMap) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for value in headers.get_all("link") {
        let value = value.to_str().expect("Link is ASCII");
        for part in value.split(',') {
            let part = part.trim();
            let (url, rest) = part
                .strip_prefix('<')
                .and_then(|p| p.split_once('>'))
                .unwrap_or_else(|| panic!("Link part is not <url>; rel=\"...\": {part}"));
            let rel = rest
                .trim()
                .strip_prefix(';')
                .map(str::trim)
                .and_then(|r| r.strip_prefix("rel=\""))
                .and_then(|r| r.strip_suffix('"'))
                .unwrap_or_else(|| panic!("Link part is not <url>; rel=\"...\": {part}"));
            out.push((url.to_owned(), rel.to_owned()));
        }
    }
    out
}

/// `Link` headers in Okta's form: one link value per header line, `self` first, then `next` when
/// there is a further page, both on the same endpoint of this sim. A `next` query starts with
/// `after=<cursor>&limit=N`; the cursor is the last id of the page (Okta's `after=0oa...`), except
/// for the System Log, whose cursor is opaque (not an event id).
fn assert_links(context: &str, base: &str, request_url: &str, headers: &HeaderMap, body: &Value) {
    let request_path = url::Url::parse(request_url)
        .expect("request URL parses")
        .path()
        .to_owned();
    let ids: Vec<&str> = body
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i["id"].as_str().or(i["uuid"].as_str()))
                .collect()
        })
        .unwrap_or_default();
    for value in headers.get_all("link") {
        let value = value.to_str().expect("Link is ASCII");
        assert_eq!(
            value.matches("; rel=").count(),
            1,
            "{context}: one link value per Link line, got {value}"
        );
    }
    let all = links(headers);
    let rels: Vec<&str> = all.iter().map(|(_, rel)| rel.as_str()).collect();
    assert!(
        rels.is_empty() || rels == ["self"] || rels == ["self", "next"],
        "{context}: Link rels {rels:?}, expected none, or self then an optional next"
    );
    for (link, rel) in &all {
        assert!(
            link.starts_with(base),
            "{context}: {rel} link {link} is not on {base}"
        );
        let parsed = url::Url::parse(link).expect("Link URL parses");
        assert_eq!(parsed.path(), request_path, "{context}: {rel} link path");
        if rel != "next" {
            continue;
        }
        let pairs: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
        let keys: Vec<&str> = pairs.iter().take(2).map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["after", "limit"], "{context}: next link {link}");
        let after = pairs[0].1.as_str();
        assert!(!after.is_empty(), "{context}: empty after in {link}");
        if request_path.ends_with("/logs") {
            assert!(
                !ids.contains(&after) && after.parse::<i64>().is_err(),
                "{context}: log cursor {after} is not opaque"
            );
        } else {
            assert_eq!(
                Some(&after),
                ids.last(),
                "{context}: after is not the last id of the page"
            );
        }
    }
}

/// Which enum component each field of each resource uses, by request path.
fn enum_fields(path: &str) -> &'static [(&'static str, &'static str)] {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(3).collect();
    match segments.as_slice() {
        ["apps"] | ["apps", _] => &[
            ("/status", "ApplicationLifecycleStatus"),
            ("/signOnMode", "ApplicationSignOnMode"),
        ],
        ["apps", _, "users", ..] => &[
            ("/status", "AppUserStatus"),
            ("/syncState", "AppUserSyncState"),
            ("/_embedded/user/status", "UserStatus"),
        ],
        ["apps", _, "features", ..] => &[
            ("/name", "ApplicationFeatureType"),
            ("/status", "EnabledStatus"),
            (
                "/capabilities/create/lifecycleCreate/status",
                "EnabledStatus",
            ),
            ("/capabilities/update/profile/status", "EnabledStatus"),
            (
                "/capabilities/update/lifecycleDeactivate/status",
                "EnabledStatus",
            ),
            ("/capabilities/update/password/status", "EnabledStatus"),
        ],
        ["apps", _, "connections", ..] => &[
            ("/status", "ProvisioningConnectionStatus"),
            ("/authScheme", "ProvisioningConnectionAuthScheme"),
            ("/profile/authScheme", "ProvisioningConnectionAuthScheme"),
        ],
        ["apps", _, "group-push", ..] => &[("/status", "GroupPushMappingStatus")],
        ["users", ..] => &[("/status", "UserStatus")],
        ["groups", ..] => &[("/type", "GroupType")],
        ["agentPools", ..] => &[
            ("/type", "AgentType"),
            ("/operationalStatus", "OperationalStatus"),
        ],
        ["logs"] => &[("/severity", "LogSeverity")],
        _ => &[],
    }
}

/// Every enum-valued field present in a success body uses a value the spec's enum lists.
fn assert_enums(context: &str, url: &str, body: &Value) {
    if body.get("errorCode").is_some() {
        return;
    }
    let path = url::Url::parse(url)
        .expect("request URL parses")
        .path()
        .to_owned();
    let items: Vec<&Value> = match body {
        Value::Array(items) => items.iter().collect(),
        Value::Object(_) => vec![body],
        _ => Vec::new(),
    };
    for item in items {
        for (pointer, schema) in enum_fields(&path) {
            assert_enum_value(context, item.pointer(pointer), pointer, schema);
        }
        for (i, agent) in item["agents"].as_array().into_iter().flatten().enumerate() {
            for (pointer, schema) in [
                ("/type", "AgentType"),
                ("/operationalStatus", "OperationalStatus"),
                ("/updateStatus", "AgentUpdateInstanceStatus"),
            ] {
                let field = format!("/agents/{i}{pointer}");
                assert_enum_value(context, agent.pointer(pointer), &field, schema);
            }
        }
    }
}

fn assert_enum_value(context: &str, value: Option<&Value>, field: &str, schema: &str) {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return;
    };
    let allowed = schema_enum(schema);
    let value = value
        .as_str()
        .unwrap_or_else(|| panic!("{context}: {field} is not a string"));
    assert!(
        allowed.iter().any(|a| a == value),
        "{context}: {field} = {value:?} is not in {schema} {allowed:?}"
    );
}

// ----- apps -----------------------------------------------------------------------------------

#[tokio::test]
async fn apps_list_filter_and_get_conform() {
    let sim = start().await;
    let api = Api::ssws(&sim);

    let apps = api.get("/api/v1/apps").await;
    let count = apps.as_array().expect("a list").len();
    assert!(count >= 6, "all-situations has at least six apps");
    let paged = api.all_pages("/api/v1/apps?limit=2").await;
    assert_eq!(paged.len(), count, "paging returns every app once");

    let slack = api.get("/api/v1/apps?filter=name%20eq%20%22slack%22").await;
    let names: Vec<&str> = slack
        .as_array()
        .expect("a list")
        .iter()
        .map(|a| a["name"].as_str().unwrap_or(""))
        .collect();
    assert!(!names.is_empty() && names.iter().all(|n| *n == "slack"));
    let active = api
        .get("/api/v1/apps?filter=status%20eq%20%22ACTIVE%22%20and%20id%20eq%20%220oahealthyslack00001%22")
        .await;
    assert_eq!(active.as_array().map(Vec::len), Some(1));
    api.error(
        Method::GET,
        "/api/v1/apps?filter=nonsense",
        None,
        400,
        "E0000001",
    )
    .await;
    api.error(Method::GET, "/api/v1/apps?limit=ten", None, 400, "E0000001")
        .await;
    api.error(
        Method::GET,
        "/api/v1/apps?after=not%20a%20cursor",
        None,
        400,
        "E0000001",
    )
    .await;

    for id in [SLACK, SCIM, ORG2ORG, ZOOM, AD] {
        let app = api.get(&format!("/api/v1/apps/{id}")).await;
        assert_eq!(app["id"], id);
    }
    api.error(
        Method::GET,
        &format!("/api/v1/apps/{UNKNOWN_APP}"),
        None,
        404,
        "E0000007",
    )
    .await;
}

// ----- app users ------------------------------------------------------------------------------

#[tokio::test]
async fn app_users_list_get_and_update_conform() {
    let sim = start().await;
    let api = Api::ssws(&sim);

    for app in [SLACK, SCIM, AD, ZOOM] {
        let plain = api
            .all_pages(&format!("/api/v1/apps/{app}/users?limit=1"))
            .await;
        assert!(!plain.is_empty(), "{app} has app users");
        let expanded = api
            .get(&format!("/api/v1/apps/{app}/users?expand=user"))
            .await;
        for au in expanded.as_array().expect("a list") {
            let user = &au["_embedded"]["user"];
            assert_eq!(user["id"], au["id"], "expand=user embeds the Okta user");
            validate_schema("User", user)
                .unwrap_or_else(|e| panic!("embedded user does not conform: {e:?}"));
        }
    }

    let au = api
        .get(&format!("/api/v1/apps/{SLACK}/users/{SLACK_USER}"))
        .await;
    assert_eq!(au["id"], SLACK_USER);
    assert!(au.get("_embedded").is_none_or(|e| e.get("user").is_none()));
    let au = api
        .get(&format!(
            "/api/v1/apps/{SLACK}/users/{SLACK_USER}?expand=user"
        ))
        .await;
    assert_eq!(au["_embedded"]["user"]["id"], SLACK_USER);

    let updated = api
        .expect(
            Method::POST,
            &format!("/api/v1/apps/{SLACK}/users/{SLACK_USER}"),
            Some(json!({ "profile": { "email": "ada.lovelace@example.com" } })),
            200,
        )
        .await;
    assert_eq!(updated.body["profile"]["email"], "ada.lovelace@example.com");
    // A re-push of a user in ERROR whose cause is transient succeeds.
    let repushed = api
        .expect(
            Method::POST,
            &format!("/api/v1/apps/{SCIM}/users/{SCIM_USER_IN_ERROR}"),
            Some(json!({})),
            200,
        )
        .await;
    assert_eq!(repushed.body["syncState"], "SYNCHRONIZED");

    let path = format!("/api/v1/apps/{SLACK}/users/{SLACK_USER}");
    api.error(
        Method::POST,
        &path,
        Some(json!({ "profile": 3 })),
        400,
        "E0000001",
    )
    .await;
    let raw = api
        .http
        .post(api.url(&path))
        .header("Authorization", format!("SSWS {TOKEN}"))
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("the sim answers");
    let status = raw.status().as_u16();
    let headers = raw.headers().clone();
    let body: Value = raw.json().await.expect("an error body");
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (400, Some("E0000003"))
    );
    assert_conforms("POST", &path, status, &body);
    assert_common_headers("POST malformed app user", &headers);

    for (method, path) in [
        (Method::GET, format!("/api/v1/apps/{UNKNOWN_APP}/users")),
        (
            Method::GET,
            format!("/api/v1/apps/{SLACK}/users/{UNKNOWN_USER}"),
        ),
        (
            Method::GET,
            format!("/api/v1/apps/{UNKNOWN_APP}/users/{SLACK_USER}"),
        ),
    ] {
        api.error(method, &path, None, 404, "E0000007").await;
    }
    api.error(
        Method::POST,
        &format!("/api/v1/apps/{SLACK}/users/{UNKNOWN_USER}"),
        Some(json!({ "profile": {} })),
        404,
        "E0000007",
    )
    .await;
}

// ----- features -------------------------------------------------------------------------------

#[tokio::test]
async fn features_conform_including_their_errors() {
    let sim = start().await;
    let api = Api::ssws(&sim);

    let features = api.get(&format!("/api/v1/apps/{SLACK}/features")).await;
    assert_eq!(features[0]["name"], "USER_PROVISIONING");
    let feature = api
        .get(&format!("/api/v1/apps/{SLACK}/features/USER_PROVISIONING"))
        .await;
    assert_eq!(feature["name"], "USER_PROVISIONING");
    let put = api
        .expect(
            Method::PUT,
            &format!("/api/v1/apps/{SLACK}/features/USER_PROVISIONING"),
            Some(json!({ "update": { "lifecycleDeactivate": { "status": "ENABLED" } } })),
            200,
        )
        .await;
    assert_eq!(
        put.body["capabilities"]["update"]["lifecycleDeactivate"]["status"],
        "ENABLED"
    );

    // Provisioning disabled: the spec's own example, word for word (errorId aside).
    let path = format!("/api/v1/apps/{ORG2ORG}/features");
    let disabled = api.error(Method::GET, &path, None, 400, "E0000001").await;
    let examples = response_examples("GET", &path, 400);
    let (_, example) = examples.first().expect("the spec gives a 400 example");
    for field in ["errorCode", "errorSummary", "errorLink", "errorCauses"] {
        assert_eq!(disabled[field], example[field], "{field} of {disabled}");
    }
    // An app outside the Features API (custom SCIM).
    api.error(
        Method::GET,
        &format!("/api/v1/apps/{SCIM}/features"),
        None,
        400,
        "E0000001",
    )
    .await;
    api.error(
        Method::PUT,
        &format!("/api/v1/apps/{SLACK}/features/USER_PROVISIONING"),
        Some(json!({ "create": { "lifecycleCreate": { "status": "MAYBE" } } })),
        400,
        "E0000001",
    )
    .await;
    api.error(
        Method::GET,
        &format!("/api/v1/apps/{SLACK}/features/NO_SUCH_FEATURE"),
        None,
        404,
        "E0000007",
    )
    .await;
    api.error(
        Method::GET,
        &format!("/api/v1/apps/{UNKNOWN_APP}/features"),
        None,
        404,
        "E0000007",
    )
    .await;
}

// ----- provisioning connections ---------------------------------------------------------------

#[tokio::test]
async fn connections_conform_including_lifecycle() {
    let sim = start().await;
    let api = Api::ssws(&sim);
    let base = format!("/api/v1/apps/{ZOOM}/connections/default");

    let conn = api.get(&base).await;
    assert_eq!(conn["status"], "ENABLED");
    let deactivate = api
        .expect(
            Method::POST,
            &format!("{base}/lifecycle/deactivate"),
            None,
            204,
        )
        .await;
    assert!(deactivate.body.is_null(), "204 has no body");
    // The stale token cannot be activated.
    api.error(
        Method::POST,
        &format!("{base}/lifecycle/activate"),
        None,
        400,
        "E0000001",
    )
    .await;
    api.error(
        Method::POST,
        &format!("{base}?activate=true"),
        Some(json!({ "profile": { "authScheme": "TOKEN", "token": "wrong" } })),
        400,
        "E0000001",
    )
    .await;
    api.error(
        Method::POST,
        &base,
        Some(json!({ "profile": {} })),
        400,
        "E0000001",
    )
    .await;
    let posted = api
        .expect(
            Method::POST,
            &format!("{base}?activate=false"),
            Some(json!({ "profile": { "authScheme": "TOKEN", "token": "zoom-fresh-token" } })),
            200,
        )
        .await;
    assert_eq!(posted.body["status"], "DISABLED");
    let activate = api
        .expect(
            Method::POST,
            &format!("{base}/lifecycle/activate"),
            None,
            204,
        )
        .await;
    assert!(activate.body.is_null(), "204 has no body");
    assert_eq!(api.get(&base).await["status"], "ENABLED");

    let unknown = format!("/api/v1/apps/{UNKNOWN_APP}/connections/default");
    api.error(Method::GET, &unknown, None, 404, "E0000007")
        .await;
    api.error(
        Method::POST,
        &format!("{unknown}/lifecycle/activate"),
        None,
        404,
        "E0000007",
    )
    .await;
}

// ----- group push -----------------------------------------------------------------------------

#[tokio::test]
async fn group_push_mappings_conform_including_their_errors() {
    let sim = start().await;
    let api = Api::ssws(&sim);
    let mappings = format!("/api/v1/apps/{ORG2ORG}/group-push/mappings");
    let one = |id: &str| format!("{mappings}/{id}");

    // Provisioning disabled: reads conform (okta-sim's default), writes fail.
    api.expect(Method::GET, &mappings, None, 200).await;
    api.expect(Method::GET, &one(ORG2ORG_MAPPINGS[0]), None, 200)
        .await;
    api.error(
        Method::PATCH,
        &one(ORG2ORG_MAPPINGS[0]),
        Some(json!({ "status": "INACTIVE" })),
        400,
        "E0000001",
    )
    .await;
    api.error(
        Method::DELETE,
        &format!("{}?deleteTargetGroup=false", one(ORG2ORG_MAPPINGS[0])),
        None,
        400,
        "E0000001",
    )
    .await;

    api.expect(
        Method::POST,
        &format!("/api/v1/apps/{ORG2ORG}/connections/default"),
        Some(json!({ "profile": { "authScheme": "TOKEN", "token": ORG2ORG_VALID_TOKEN } })),
        200,
    )
    .await;
    api.expect(
        Method::POST,
        &format!("/api/v1/apps/{ORG2ORG}/connections/default/lifecycle/activate"),
        None,
        204,
    )
    .await;

    let all = api.all_pages(&format!("{mappings}?limit=1")).await;
    assert_eq!(all.len(), 2);
    let active = api.get(&format!("{mappings}?status=ACTIVE")).await;
    assert_eq!(active.as_array().map(Vec::len), Some(2));
    let by_source = api
        .get(&format!("{mappings}?sourceGroupId=00gorphsales00000001"))
        .await;
    assert_eq!(by_source.as_array().map(Vec::len), Some(1));
    let recent = api
        .get(&format!("{mappings}?lastUpdated=2000-01-01T00:00:00Z"))
        .await;
    assert_eq!(recent.as_array().map(Vec::len), Some(2));
    api.error(
        Method::GET,
        &format!("{mappings}?status=BOGUS"),
        None,
        400,
        "E0000001",
    )
    .await;
    api.error(
        Method::GET,
        &format!("{mappings}?lastUpdated=yesterday"),
        None,
        400,
        "E0000001",
    )
    .await;

    let got = api.get(&one(ORG2ORG_MAPPINGS[0])).await;
    assert_eq!(got["id"], ORG2ORG_MAPPINGS[0]);
    api.error(
        Method::DELETE,
        &format!("{}?deleteTargetGroup=false", one(ORG2ORG_MAPPINGS[0])),
        None,
        400,
        "E0000001",
    )
    .await;
    api.error(
        Method::PATCH,
        &one(ORG2ORG_MAPPINGS[0]),
        Some(json!({ "status": "ERROR" })),
        400,
        "E0000001",
    )
    .await;
    let patched = api
        .expect(
            Method::PATCH,
            &one(ORG2ORG_MAPPINGS[0]),
            Some(json!({ "status": "INACTIVE" })),
            200,
        )
        .await;
    assert_eq!(patched.body["status"], "INACTIVE");
    api.error(
        Method::DELETE,
        &one(ORG2ORG_MAPPINGS[0]),
        None,
        400,
        "E0000001",
    )
    .await;
    let deleted = api
        .expect(
            Method::DELETE,
            &format!("{}?deleteTargetGroup=true", one(ORG2ORG_MAPPINGS[0])),
            None,
            200,
        )
        .await;
    assert!(deleted.body.is_null(), "the recorded 200 has no body");
    api.error(
        Method::GET,
        &one(ORG2ORG_MAPPINGS[0]),
        None,
        404,
        "E0000007",
    )
    .await;
    api.error(
        Method::PATCH,
        &one("gPmdoesnotexist00001"),
        Some(json!({ "status": "INACTIVE" })),
        404,
        "E0000007",
    )
    .await;
    api.error(
        Method::GET,
        &format!("/api/v1/apps/{UNKNOWN_APP}/group-push/mappings"),
        None,
        404,
        "E0000007",
    )
    .await;

    // A healthy app answers directly.
    let slack = api
        .get(&format!(
            "/api/v1/apps/{SLACK}/group-push/mappings/{SLACK_MAPPING}"
        ))
        .await;
    assert_eq!(slack["status"], "ACTIVE");
}

// ----- users, groups, agent pools -------------------------------------------------------------

#[tokio::test]
async fn users_groups_and_agent_pools_conform() {
    let sim = start().await;
    let api = Api::ssws(&sim);

    let users = api.all_pages("/api/v1/users?limit=5").await;
    assert!(users.len() > 5, "more than one page of users");
    let by_id = api.get(&format!("/api/v1/users/{SLACK_USER}")).await;
    assert_eq!(by_id["id"], SLACK_USER);
    let by_login = api.get("/api/v1/users/ada@example.com").await;
    assert_eq!(by_login["id"], SLACK_USER);
    api.error(
        Method::GET,
        &format!("/api/v1/users/{UNKNOWN_USER}"),
        None,
        404,
        "E0000007",
    )
    .await;

    let groups = api.all_pages("/api/v1/groups?limit=1").await;
    assert!(groups.len() >= 3);

    let pools = api.get("/api/v1/agentPools?poolType=AD").await;
    let pools = pools.as_array().expect("a list");
    assert_eq!(pools.len(), 1);
    assert!(pools[0]["agents"][0]["lastConnection"].is_i64());
}

// ----- system log -----------------------------------------------------------------------------

#[tokio::test]
async fn logs_conform_in_bounded_and_polling_modes() {
    let sim = start().await;
    let api = Api::ssws(&sim);

    let since = (chrono::Utc::now() - chrono::Duration::days(2))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let until = (chrono::Utc::now() + chrono::Duration::minutes(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let bounded = api
        .all_pages(&format!("/api/v1/logs?since={since}&until={until}&limit=3"))
        .await;
    assert!(bounded.len() > 3, "more than one page of events");
    let descending = api
        .get(&format!(
            "/api/v1/logs?since={since}&until={until}&sortOrder=DESCENDING"
        ))
        .await;
    assert_eq!(descending.as_array().map(Vec::len), Some(bounded.len()));

    // Polling: the next link always exists and, once caught up, answers an empty page.
    let first = api
        .expect(
            Method::GET,
            &format!("/api/v1/logs?since={since}&limit=1000"),
            None,
            200,
        )
        .await;
    let next = first.next_link().expect("polling always has a next link");
    let caught_up = api.expect(Method::GET, &next, None, 200).await;
    assert_eq!(caught_up.body, json!([]));
    assert!(caught_up.next_link().is_some(), "polling keeps a next link");

    let filter = url::form_urlencoded::byte_serialize(
        br#"eventType eq "application.integration.authentication_failure" and (target.id eq "0oacredszoom00000001" or outcome.reason co "Credentials")"#,
    )
    .collect::<String>();
    let filtered = api
        .get(&format!(
            "/api/v1/logs?since={since}&until={until}&filter={filter}"
        ))
        .await;
    let filtered = filtered.as_array().expect("a list");
    assert!(!filtered.is_empty());
    assert!(filtered
        .iter()
        .all(|e| e["eventType"] == "application.integration.authentication_failure"));

    let old = (chrono::Utc::now() - chrono::Duration::days(200))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    for query in [
        "filter=eventType%20gt%20%22x%22".to_owned(),
        "filter=nosuchfield%20eq%20%22x%22".to_owned(),
        format!("since={old}"),
        "since=yesterday".to_owned(),
        "sortOrder=SIDEWAYS".to_owned(),
        "after=garbage".to_owned(),
    ] {
        let body = api
            .error(
                Method::GET,
                &format!("/api/v1/logs?{query}"),
                None,
                400,
                "E0000053",
            )
            .await;
        // Okta's published error-code catalogue names E0000053 so.
        assert_eq!(body["errorSummary"], "Invalid SCIM filter.", "{query}");
    }
}

// ----- authentication, authorization, rate limits, OAuth --------------------------------------

#[tokio::test]
async fn auth_errors_conform() {
    let sim = start().await;
    let paths = [
        "/api/v1/apps".to_owned(),
        format!("/api/v1/apps/{SLACK}"),
        format!("/api/v1/apps/{SLACK}/users"),
        format!("/api/v1/apps/{SLACK}/features"),
        format!("/api/v1/apps/{SLACK}/connections/default"),
        format!("/api/v1/apps/{SLACK}/group-push/mappings"),
        "/api/v1/users".to_owned(),
        format!("/api/v1/users/{SLACK_USER}"),
        "/api/v1/groups".to_owned(),
        "/api/v1/logs".to_owned(),
        "/api/v1/agentPools?poolType=AD".to_owned(),
    ];
    for auth in [
        None,
        Some("SSWS not-a-token"),
        Some("Bearer not-a-token"),
        Some("Basic abc"),
    ] {
        let api = Api::new(&sim, auth);
        for path in &paths {
            api.error(Method::GET, path, None, 401, "E0000011").await;
        }
        api.error(
            Method::POST,
            &format!("/api/v1/apps/{SLACK}/connections/default/lifecycle/activate"),
            None,
            401,
            "E0000011",
        )
        .await;
    }

    // An access token without the endpoint's scope is 403.
    let token = access_token(&sim, "okta.logs.read").await;
    let api = Api::new(&sim, Some(&format!("Bearer {token}")));
    assert_eq!(
        api.get("/api/v1/logs?limit=1")
            .await
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    for path in &paths[..paths.len() - 2] {
        api.error(Method::GET, path, None, 403, "E0000006").await;
    }
    api.error(
        Method::PATCH,
        &format!("/api/v1/apps/{SLACK}/group-push/mappings/{SLACK_MAPPING}"),
        Some(json!({ "status": "INACTIVE" })),
        403,
        "E0000006",
    )
    .await;
}

#[tokio::test]
async fn rate_limited_responses_conform() {
    let sim = start().await;
    let api = Api::ssws(&sim);
    let http = Client::new();
    let limits = json!({ "apps": 1, "app_id": 1, "users": 1, "user_id_get": 1, "groups": 1, "logs": 1, "other": 1 });
    let put = http
        .put(format!("{}/__sim/rate-limits", sim.base_url()))
        .json(&limits)
        .send()
        .await
        .expect("the sim answers");
    assert!(put.status().is_success());
    let paths = [
        "/api/v1/apps".to_owned(),
        format!("/api/v1/apps/{SLACK}"),
        format!("/api/v1/apps/{SLACK}/users"),
        "/api/v1/users".to_owned(),
        format!("/api/v1/users/{SLACK_USER}"),
        "/api/v1/groups".to_owned(),
        "/api/v1/logs".to_owned(),
        "/api/v1/agentPools?poolType=AD".to_owned(),
    ];
    // `/apps/{id}/users` shares the apps bucket, so it is limited already.
    for path in &paths {
        let first = api.call(Method::GET, path, None).await;
        let second = api.call(Method::GET, path, None).await;
        let last = if first.status == 429 { first } else { second };
        assert_eq!(last.status, 429, "GET {path} is limited to one request");
        assert_eq!(last.error_code(), "E0000047");
        assert_eq!(
            header_str(&last.headers, "x-rate-limit-remaining"),
            Some("0")
        );
    }
    api.error(
        Method::PATCH,
        &format!("/api/v1/apps/{SLACK}/group-push/mappings/{SLACK_MAPPING}"),
        Some(json!({ "status": "INACTIVE" })),
        429,
        "E0000047",
    )
    .await;
}

fn client_assertion(base: &str) -> String {
    let pem = std::fs::read(repo_path(
        "tests/fixtures/TEST-ONLY-oauth-client-private-key.pem",
    ))
    .expect("the test-only key is readable");
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(&pem).expect("the test-only key is RSA PEM");
    let now = chrono::Utc::now().timestamp();
    let claims = json!({ "iss": SERVICE_APP, "sub": SERVICE_APP, "aud": format!("{base}/oauth2/v1/token"),
                         "exp": now + 300, "iat": now, "jti": uuid::Uuid::new_v4().to_string() });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
        &claims,
        &key,
    )
    .expect("signing with the test-only key works")
}

/// One form field of a token request.
type Field<'a> = (&'a str, &'a str);

async fn token_request(sim: &SimHandle, form: &[Field<'_>]) -> (u16, HeaderMap, Value) {
    let r = Client::new()
        .post(format!("{}/oauth2/v1/token", sim.base_url()))
        .form(form)
        .send()
        .await
        .expect("the sim answers");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.json().await.expect("a JSON body"))
}

async fn access_token(sim: &SimHandle, scope: &str) -> String {
    let assertion = client_assertion(sim.base_url());
    let (status, _, body) = token_request(
        sim,
        &[
            ("grant_type", "client_credentials"),
            ("scope", scope),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", &assertion),
        ],
    )
    .await;
    assert_eq!(status, 200, "token request: {body}");
    // RFC 6749 section 5.1, as Okta answers a client-credentials grant.
    assert_eq!(body["token_type"], "Bearer", "{body}");
    assert!(body["expires_in"].as_u64().is_some_and(|s| s > 0), "{body}");
    assert_eq!(body["scope"], scope, "{body}");
    body["access_token"]
        .as_str()
        .expect("an access token")
        .to_owned()
}

/// The management spec does not describe `/oauth2/v1/token` (it lives in Okta's OAuth spec), so
/// its errors are checked against RFC 6749 section 5.2 instead, plus the common headers.
#[tokio::test]
async fn oauth_token_errors_follow_rfc6749() {
    let sim = start().await;
    assert_eq!(operation_id("POST", "/oauth2/v1/token"), None);
    let assertion = client_assertion(sim.base_url());
    let jwt_bearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
    let cases: [(&[Field], u16, &str); 4] = [
        (&[("grant_type", "password")], 400, "unsupported_grant_type"),
        (
            &[
                ("grant_type", "client_credentials"),
                ("scope", "okta.apps.read"),
            ],
            401,
            "invalid_client",
        ),
        (
            &[
                ("grant_type", "client_credentials"),
                ("scope", "okta.users.manage"),
                ("client_assertion_type", jwt_bearer),
                ("client_assertion", &assertion),
            ],
            400,
            "invalid_scope",
        ),
        (
            &[
                ("grant_type", "client_credentials"),
                ("scope", "okta.apps.read"),
                ("client_assertion_type", jwt_bearer),
                ("client_assertion", "not.a.jwt"),
            ],
            401,
            "invalid_client",
        ),
    ];
    for (form, status, error) in cases {
        let (got, headers, body) = token_request(&sim, form).await;
        assert_eq!(
            (got, body["error"].as_str()),
            (status, Some(error)),
            "{body}"
        );
        assert!(body["error_description"].is_string(), "{body}");
        assert_common_headers("POST /oauth2/v1/token", &headers);
    }
}

// ----- routes outside the spec, injected faults -----------------------------------------------

#[tokio::test]
async fn routes_outside_the_spec_answer_okta_errors() {
    let sim = start().await;
    let api = Api::ssws(&sim);

    let started = api
        .call_outside_spec(
            Method::POST,
            &format!("/api/v1/internal/directories/{AD}/force-sync"),
            None,
        )
        .await;
    assert_eq!(started.status, 202);
    let retried = api
        .call_outside_spec(
            Method::POST,
            &format!("/api/v1/internal/apps/{SCIM}/tasks/retry"),
            Some(json!({ "userIds": [SCIM_USER_IN_ERROR, UNKNOWN_USER] })),
        )
        .await;
    assert_eq!(retried.status, 202);
    assert_eq!(retried.body["results"][UNKNOWN_USER], "NOT_FOUND");

    for (method, path, body, status, code) in [
        (
            Method::POST,
            format!("/api/v1/internal/directories/{UNKNOWN_APP}/force-sync"),
            None,
            404,
            "E0000007",
        ),
        (
            Method::POST,
            format!("/api/v1/internal/directories/{SLACK}/force-sync"),
            None,
            400,
            "E0000001",
        ),
        (
            Method::POST,
            format!("/api/v1/internal/apps/{SCIM}/tasks/retry"),
            Some(json!({ "users": [] })),
            400,
            "E0000003",
        ),
        (
            Method::GET,
            "/api/v1/nothing-here".to_owned(),
            None,
            404,
            "E0000007",
        ),
    ] {
        let reply = api.call_outside_spec(method.clone(), &path, body).await;
        assert_eq!(
            (reply.status, reply.error_code()),
            (status, code),
            "{method} {path}: {}",
            reply.body
        );
    }

    // A method the spec does not define on a documented path.
    let reply = api
        .call_outside_spec(Method::PUT, "/api/v1/logs", Some(json!({})))
        .await;
    assert_eq!((reply.status, reply.error_code()), (405, "E0000022"));
}

#[tokio::test]
async fn injected_server_errors_and_429s_conform() {
    let sim = start().await;
    let api = Api::ssws(&sim);
    let http = Client::new();
    for kind in [
        json!({ "type": "server-error", "status": 500 }),
        json!({ "type": "server-error", "status": 503 }),
        json!({ "type": "rate-limited" }),
    ] {
        let rule = json!({ "kind": kind, "path_prefix": "/api/v1/apps", "count": 1 });
        let added = http
            .post(format!("{}/__sim/faults", sim.base_url()))
            .json(&rule)
            .send()
            .await
            .expect("the sim answers");
        assert!(added.status().is_success(), "fault {rule} accepted");
        let reply = api
            .call(Method::GET, &format!("/api/v1/apps/{SLACK}"), None)
            .await;
        let expected = match kind["status"].as_u64() {
            Some(500) => (500, "E0000009"),
            Some(_) => (503, "E0000010"),
            None => (429, "E0000047"),
        };
        assert_eq!(
            (reply.status, reply.error_code()),
            expected,
            "{}",
            reply.body
        );
    }
}

// ----- events the simulator writes ------------------------------------------------------------

/// Every event in the log after the simulator's own writes (pushes, features, connections,
/// group push, force sync, task retries, injected events) is a conforming `LogEvent`.
#[tokio::test]
async fn events_written_by_the_sim_conform() {
    let sim = start().await;
    let api = Api::ssws(&sim);
    let before = sim.event_count();

    let writes = [
        (
            Method::POST,
            format!("/api/v1/apps/{SCIM}/users/{SCIM_USER_IN_ERROR}"),
            Some(json!({ "profile": { "email": "grace.hopper@example.com" } })),
            200,
        ),
        (
            Method::POST,
            "/api/v1/apps/0oafeatslack00000001/users/00ufeat0000000000001".to_owned(),
            Some(json!({})),
            200,
        ),
        (
            Method::PUT,
            format!("/api/v1/apps/{SLACK}/features/USER_PROVISIONING"),
            Some(json!({ "create": { "lifecycleCreate": { "status": "DISABLED" } } })),
            200,
        ),
        (
            Method::POST,
            format!("/api/v1/apps/{ORG2ORG}/connections/default"),
            Some(json!({ "profile": { "authScheme": "TOKEN", "token": ORG2ORG_VALID_TOKEN } })),
            200,
        ),
        (
            Method::POST,
            format!("/api/v1/apps/{ORG2ORG}/connections/default/lifecycle/activate"),
            None,
            204,
        ),
        (
            Method::PATCH,
            format!(
                "/api/v1/apps/{ORG2ORG}/group-push/mappings/{}",
                ORG2ORG_MAPPINGS[1]
            ),
            Some(json!({ "status": "INACTIVE" })),
            200,
        ),
        (
            Method::DELETE,
            format!(
                "/api/v1/apps/{ORG2ORG}/group-push/mappings/{}?deleteTargetGroup=true",
                ORG2ORG_MAPPINGS[1]
            ),
            None,
            200,
        ),
        (
            Method::POST,
            format!("/api/v1/apps/{ORG2ORG}/connections/default/lifecycle/deactivate"),
            None,
            204,
        ),
    ];
    for (method, path, body, status) in writes {
        api.expect(method, &path, body, status).await;
    }
    let retried = api
        .call_outside_spec(
            Method::POST,
            "/api/v1/internal/apps/0oacredszoom00000001/tasks/retry",
            Some(json!({ "userIds": ["00ucreds000000000001"] })),
        )
        .await;
    assert_eq!(retried.status, 202);
    let injected = Client::new()
        .post(format!("{}/__sim/events", sim.base_url()))
        .json(&json!({ "eventType": "system.agent.ad.write_ldap", "outcome": { "result": "SUCCESS" } }))
        .send()
        .await
        .expect("the sim answers");
    assert!(injected.status().is_success());
    assert!(sim.event_count() >= before + 10, "the writes logged events");

    let since = (chrono::Utc::now() - chrono::Duration::days(179))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let until = (chrono::Utc::now() + chrono::Duration::minutes(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let events = api
        .all_pages(&format!(
            "/api/v1/logs?since={since}&until={until}&limit=1000"
        ))
        .await;
    assert_eq!(
        events.len(),
        sim.event_count(),
        "every event is listed once"
    );
}

#[tokio::test]
async fn bearer_tokens_reach_every_read_endpoint() {
    let sim = start().await;
    let token = access_token(
        &sim,
        "okta.apps.read okta.users.read okta.groups.read okta.logs.read okta.agentPools.read",
    )
    .await;
    let api = Api::new(&sim, Some(&format!("Bearer {token}")));
    for path in [
        "/api/v1/apps".to_owned(),
        format!("/api/v1/apps/{SLACK}/users/{SLACK_USER}?expand=user"),
        format!("/api/v1/apps/{SLACK}/features/USER_PROVISIONING"),
        format!("/api/v1/apps/{SLACK}/connections/default"),
        format!("/api/v1/apps/{SLACK}/group-push/mappings"),
        format!("/api/v1/users/{SLACK_USER}"),
        "/api/v1/groups".to_owned(),
        "/api/v1/agentPools".to_owned(),
        "/api/v1/logs?limit=5".to_owned(),
    ] {
        api.get(&path).await;
    }
    // Read scopes do not cover writes.
    api.error(
        Method::POST,
        &format!("/api/v1/apps/{SLACK}/users/{SLACK_USER}"),
        Some(json!({ "profile": {} })),
        403,
        "E0000006",
    )
    .await;
}
