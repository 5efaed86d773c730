//! okta-sim against recorded real Okta traffic (`tests/fixtures/okta-recorded/`), endpoint by
//! endpoint, for every recorded endpoint the remediator uses.
//!
//! The sim serves `tests/scenarios/recorded-org.toml` (an org shaped like the recorded ones) and
//! is called as the recordings called Okta: the reads, then the recorded write sequence, then
//! error answers. For each endpoint the answers are compared with every recorded answer of that
//! endpoint: status codes, empty bodies, `Content-Type` and `Content-Length`, the set of header
//! names, the `Link` form (one link value per line, the rels, the `self` query form), and the
//! shape of every JSON object (field names, JSON types, `null` versus absent, timestamp
//! precision). JSON member order carries no meaning and is not compared (values are parsed).
//!
//! Any difference fails the test unless it is on [`ALLOWED`], each entry with its reason; an
//! entry that no longer matches a difference fails the test too, so the list stays short and
//! true.

use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead as _;

use okta_sim::{FaultKind, FaultRule, Scenario, SimHandle};
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::support::{start_scenario, Answer, Api};

const TOKEN: &str = "test-token-recorded";
const OIDC: &str = "0oarecoidc0000000001";
const AD: &str = "0oarecad000000000001";
const ORG2ORG: &str = "0oarecorg2org0000001";
const DEEL: &str = "0oarecdeelhr00000001";
const ACTIVE_MAPPING: &str = "gPmrecactive00000001";
const INACTIVE_MAPPING: &str = "gPmrecinactive000001";
const GROUPS: [&str; 2] = ["00grecpushsource0001", "00grecpushtarget0001"];
const USERS: [&str; 4] = [
    "00urecprovisioned001",
    "00urecstaged00000001",
    "00urecactive00000001",
    "00urecdeprovisioned1",
];

// ----- the allow-list -------------------------------------------------------------------------

/// What kind of difference an entry allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Class {
    /// A field or header Okta always sends that the sim does not.
    Missing,
    /// A field or header the sim sends that no recording has.
    Extra,
    /// A field whose JSON type (or timestamp form, or null-ness) differs.
    Type,
    /// Status, body, Content-Type, Content-Length or Link form.
    Form,
}

/// One allowed difference: where (an object kind or an endpoint), which path or header
/// (a trailing `*` matches any suffix), of which class, and why it is harmless.
struct Allowed {
    scope: &'static str,
    path: &'static str,
    class: Class,
    reason: &'static str,
}

const fn allow(
    scope: &'static str,
    path: &'static str,
    class: Class,
    reason: &'static str,
) -> Allowed {
    Allowed {
        scope,
        path,
        class,
        reason,
    }
}

/// Differences from recorded Okta that do not matter, each with its reason.
const ALLOWED: &[Allowed] = &[
    allow(
        "*",
        "header:x-okta-request-id",
        Class::Extra,
        "the recorder stripped request ids; Okta sends one on every answer",
    ),
    allow(
        "*",
        "header:x-rate-limit-*",
        Class::Extra,
        "the recorder stripped rate-limit headers; Okta sends them on every answer",
    ),
    allow(
        "*",
        "header:content-length",
        Class::Extra,
        "recorded bodies were chunked (the recorder kept Content-Length only when Okta sent one); \
         a sized body is the same body",
    ),
    allow(
        "*",
        "header:accept-ch",
        Class::Missing,
        "a browser client-hints header; API clients ignore it",
    ),
    allow(
        "*",
        "header:referrer-policy",
        Class::Missing,
        "a browser header; API clients ignore it",
    ),
    allow(
        "GET /api/v1/users/{id}",
        "header:etag",
        Class::Missing,
        "remediator sends no conditional requests",
    ),
    allow(
        "Application",
        "settings.*",
        Class::Missing,
        "app-type specific settings (SAML, OIDC, directory); remediator reads none",
    ),
    allow(
        "Application",
        "credentials.*",
        Class::Missing,
        "signing keys and sign-on credentials of the app type; remediator reads none",
    ),
    allow(
        "Application",
        "_links.*",
        Class::Missing,
        "rels of the org's policies and the app type (accessPolicy, profileEnrollment, policies, \
         help, metadata, clientCredentials); remediator follows none",
    ),
    allow(
        "Application",
        "visibility.autoLaunch",
        Class::Missing,
        "absent on directory apps and on 77 recorded objects; unused",
    ),
    allow(
        "Application",
        "visibility.appLinks.*",
        Class::Missing,
        "per-app link names; unused",
    ),
    allow(
        "User",
        "_links.*",
        Class::Missing,
        "lifecycle operation rels (suspend, reset_password, ...), schema and type; remediator \
         follows none",
    ),
];

// ----- the recordings -------------------------------------------------------------------------

/// One recorded exchange (the README next to the recordings describes the format).
#[derive(Debug, Deserialize)]
struct Record {
    method: String,
    url: String,
    status: u16,
    headers: BTreeMap<String, Vec<String>>,
    body: String,
}

fn recordings() -> Vec<Record> {
    let path = crate::repo_root().join("tests/fixtures/okta-recorded/interactions.jsonl.gz");
    let file = std::fs::File::open(&path)
        .unwrap_or_else(|e| panic!("the recordings must be readable at {}: {e}", path.display()));
    let reader = std::io::BufReader::new(flate2::read::GzDecoder::new(file));
    reader
        .lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let line = line.unwrap_or_else(|e| panic!("recordings line {}: {e}", i + 1));
            (!line.trim().is_empty()).then(|| {
                serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("recordings line {} is not a record: {e}", i + 1))
            })
        })
        .collect()
}

/// `GET /api/v1/apps/0oa1/users` -> `GET /api/v1/apps/{appId}/users`.
fn endpoint(method: &str, path: &str) -> String {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    let named: Vec<String> = segments
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let previous = i.checked_sub(1).map(|p| segments[p]);
            match previous {
                Some("apps") => "{appId}".to_owned(),
                Some("users") if segments.get(1) == Some(&"v1") && i == 3 => "{id}".to_owned(),
                Some("users") => "{userId}".to_owned(),
                Some("groups") if *s != "rules" => "{id}".to_owned(),
                Some("mappings") => "{mappingId}".to_owned(),
                Some("features") => "{name}".to_owned(),
                _ => (*s).to_owned(),
            }
        })
        .collect();
    format!("{method} /{}", named.join("/"))
}

// ----- shapes ---------------------------------------------------------------------------------

/// The JSON type of a value; strings that are RFC 3339 timestamps by their fraction.
fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_i64() || n.is_u64() => "int",
        Value::Number(_) => "float",
        Value::String(s) => timestamp_form(s).unwrap_or("string"),
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn timestamp_form(s: &str) -> Option<&'static str> {
    chrono::DateTime::parse_from_rfc3339(s).ok()?;
    let fraction = s.split_once('.').map(|(_, f)| f.trim_end_matches('Z'));
    Some(match fraction {
        None => "timestamp(whole seconds, no fraction)",
        Some("000") => "timestamp(.000)",
        Some(_) => "timestamp(sub-second)",
    })
}

/// Subtrees whose keys are data, not field names: compared as one `*` level.
const DATA_KEYED: &[&str] = &["visibility.appLinks", "settings.app"];

/// Per field path: the JSON types seen, in how many objects it was present, and how many
/// objects of its parent path there were.
#[derive(Debug, Default)]
struct Shape {
    types: BTreeMap<String, BTreeSet<&'static str>>,
    present: BTreeMap<String, usize>,
    parents: BTreeMap<String, usize>,
}

impl Shape {
    fn of<'a>(objects: impl IntoIterator<Item = &'a Value>) -> Shape {
        let mut shape = Shape::default();
        for object in objects {
            shape.add(object, "");
        }
        shape
    }

    fn add(&mut self, value: &Value, path: &str) {
        match value {
            Value::Object(map) => {
                *self.parents.entry(path.to_owned()).or_default() += 1;
                let data_keyed = DATA_KEYED.contains(&path);
                for (key, child) in map {
                    let name = if data_keyed { "*" } else { key.as_str() };
                    let child_path = if path.is_empty() {
                        name.to_owned()
                    } else {
                        format!("{path}.{name}")
                    };
                    self.types
                        .entry(child_path.clone())
                        .or_default()
                        .insert(json_type(child));
                    *self.present.entry(child_path.clone()).or_default() += 1;
                    self.add(child, &child_path);
                }
            }
            Value::Array(items) => {
                let item_path = format!("{path}[]");
                for item in items {
                    self.types
                        .entry(item_path.clone())
                        .or_default()
                        .insert(json_type(item));
                    self.add(item, &item_path);
                }
            }
            _ => {}
        }
    }

    fn parent_of(path: &str) -> &str {
        path.rsplit_once('.').map_or("", |(parent, _)| parent)
    }

    /// Whether the path is present in every object of its parent path.
    fn always(&self, path: &str) -> bool {
        let parents = self
            .parents
            .get(Self::parent_of(path))
            .copied()
            .unwrap_or(0);
        path.ends_with("[]") || (parents > 0 && self.present.get(path) == Some(&parents))
    }
}

// ----- differences ----------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Difference {
    scope: String,
    path: String,
    class: Class,
    detail: String,
}

#[derive(Default)]
struct Report {
    differences: Vec<Difference>,
}

impl Report {
    fn add(&mut self, scope: &str, path: &str, class: Class, detail: String) {
        self.differences.push(Difference {
            scope: scope.to_owned(),
            path: path.to_owned(),
            class,
            detail,
        });
    }

    /// Field names, JSON types and null versus absent of one object kind.
    fn shapes(&mut self, scope: &str, recorded: &[&Value], sim: &[&Value]) {
        assert!(!recorded.is_empty(), "{scope}: no recorded objects");
        assert!(!sim.is_empty(), "{scope}: no sim objects to compare");
        let real = Shape::of(recorded.iter().copied());
        let ours = Shape::of(sim.iter().copied());
        for (path, types) in &real.types {
            let parent = Shape::parent_of(path);
            let parent_in_sim = parent.is_empty() || ours.parents.contains_key(parent);
            if real.always(path) && parent_in_sim && !ours.always(path) {
                self.add(
                    scope,
                    path,
                    Class::Missing,
                    format!(
                        "Okta always sends it ({types:?}); the sim in {} of {} objects",
                        ours.present.get(path).copied().unwrap_or(0),
                        ours.parents.get(parent).copied().unwrap_or(0)
                    ),
                );
            }
        }
        for (path, types) in &ours.types {
            let Some(real_types) = real.types.get(path) else {
                let parent = Shape::parent_of(path);
                if parent.is_empty() || real.types.contains_key(parent) {
                    self.add(
                        scope,
                        path,
                        Class::Extra,
                        format!("the sim sends {types:?}; no recorded object has it"),
                    );
                }
                continue;
            };
            let unseen: Vec<&&str> = types.difference(real_types).collect();
            if !unseen.is_empty() {
                self.add(
                    scope,
                    path,
                    Class::Type,
                    format!("sim {unseen:?}; Okta {real_types:?}"),
                );
            }
        }
    }

    /// Status, body presence, Content-Type, Content-Length and header names of one endpoint.
    fn forms(&mut self, scope: &str, recorded: &[&Record], sim: &[&Answer]) {
        assert!(!recorded.is_empty(), "{scope}: no recorded answers");
        assert!(!sim.is_empty(), "{scope}: no sim answers to compare");
        let statuses: BTreeSet<u16> = recorded.iter().map(|r| r.status).collect();
        for answer in sim {
            if !statuses.contains(&answer.status) {
                self.add(
                    scope,
                    "status",
                    Class::Form,
                    format!("sim {}; Okta {statuses:?}", answer.status),
                );
                continue;
            }
            let same: Vec<&&Record> = recorded
                .iter()
                .filter(|r| r.status == answer.status)
                .collect();
            self.body_form(scope, &same, answer);
            self.header_names(scope, &same, answer);
        }
    }

    fn body_form(&mut self, scope: &str, recorded: &[&&Record], answer: &Answer) {
        let forms: BTreeSet<(bool, Option<String>, Option<String>)> = recorded
            .iter()
            .map(|r| {
                let header = |name: &str| {
                    r.headers
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(name))
                        .and_then(|(_, v)| v.first().cloned())
                };
                let length = header("content-length").filter(|_| r.body.is_empty());
                (r.body.is_empty(), header("content-type"), length)
            })
            .collect();
        let empty = answer.bytes.is_empty();
        let length = answer.header("content-length").filter(|_| empty);
        let form = (empty, answer.header("content-type"), length);
        if !forms.contains(&form) {
            self.add(
                scope,
                "body",
                Class::Form,
                format!(
                    "sim (empty body, Content-Type, Content-Length of an empty body) {form:?}; \
                     Okta {forms:?}"
                ),
            );
        }
    }

    fn header_names(&mut self, scope: &str, recorded: &[&&Record], answer: &Answer) {
        let sim: BTreeSet<String> = answer
            .headers
            .keys()
            .map(|k| k.as_str().to_ascii_lowercase())
            .collect();
        let mut always: Option<BTreeSet<String>> = None;
        let mut ever = BTreeSet::new();
        for r in recorded {
            let names: BTreeSet<String> =
                r.headers.keys().map(|k| k.to_ascii_lowercase()).collect();
            ever.extend(names.iter().cloned());
            always = Some(match always {
                None => names,
                Some(a) => a.intersection(&names).cloned().collect(),
            });
        }
        for name in always.unwrap_or_default().difference(&sim) {
            self.add(
                scope,
                &format!("header:{name}"),
                Class::Missing,
                "Okta always sends it".into(),
            );
        }
        for name in sim.difference(&ever) {
            let empty_body_length = name == "content-length" && answer.bytes.is_empty();
            if !empty_body_length {
                self.add(
                    scope,
                    &format!("header:{name}"),
                    Class::Extra,
                    "no recorded answer has it".into(),
                );
            }
        }
    }

    /// One link value per `Link` line, the same rels, and a `self` query of the same form
    /// (keys in order, same `limit`) as recorded requests with the same query keys.
    fn link_form(&mut self, scope: &str, recorded: &[&&Record], answer: &Answer) {
        let Some(request) = answer_request(answer) else {
            return;
        };
        let request_keys = sorted_query_keys(&request);
        let same_query: Vec<&&&Record> = recorded
            .iter()
            .filter(|r| sorted_query_keys(&r.url) == request_keys)
            .collect();
        let Some(exemplar) = same_query.first() else {
            return;
        };
        let recorded_links: Vec<&String> = exemplar
            .headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("link"))
            .flat_map(|(_, v)| v)
            .collect();
        let sim_lines = answer.header_lines("link");
        let recorded_rels: Vec<String> = recorded_links.iter().map(|l| rel_of(l)).collect();
        let sim_rels: Vec<String> = sim_lines.iter().map(|l| rel_of(l)).collect();
        if recorded_rels != sim_rels {
            self.add(
                scope,
                "header:link",
                Class::Form,
                format!("rels per line: sim {sim_rels:?}; Okta {recorded_rels:?}"),
            );
        }
        if sim_lines.iter().any(|l| l.matches("; rel=").count() != 1) {
            self.add(
                scope,
                "header:link",
                Class::Form,
                format!("sim joins link values on one line: {sim_lines:?}"),
            );
        }
        let self_form = |link: &str| -> Vec<String> {
            let url = link
                .strip_prefix('<')
                .and_then(|l| l.split_once('>'))
                .map_or("", |(u, _)| u);
            url::Url::parse(url)
                .map(|u| {
                    u.query_pairs()
                        .map(|(k, v)| {
                            if k == "limit" {
                                format!("limit={v}")
                            } else {
                                k.into_owned()
                            }
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        let recorded_self = recorded_links.iter().find(|l| rel_of(l) == "self");
        let sim_self = sim_lines.iter().find(|l| rel_of(l) == "self");
        if let (Some(r), Some(s)) = (recorded_self, sim_self) {
            if self_form(r) != self_form(s) {
                self.add(
                    scope,
                    "header:link self",
                    Class::Form,
                    format!("self query sim {:?}; Okta {:?}", self_form(s), self_form(r)),
                );
            }
        }
    }

    /// Fails on every difference not allowed, and on every allowance that matched nothing.
    fn finish(self) {
        let mut used = vec![false; ALLOWED.len()];
        let mut failures = Vec::new();
        let mut differences = self.differences;
        differences.sort();
        differences.dedup();
        for d in &differences {
            if std::env::var_os("RECORDED_CONFORMANCE_VERBOSE").is_some() {
                eprintln!("{} {:?} {}: {}", d.scope, d.class, d.path, d.detail);
            }
            match ALLOWED.iter().position(|a| allows(a, d)) {
                Some(i) => used[i] = true,
                None => failures.push(format!(
                    "{} {:?} {}: {}",
                    d.scope, d.class, d.path, d.detail
                )),
            }
        }
        for (a, used) in ALLOWED.iter().zip(used) {
            if !used {
                failures.push(format!(
                    "allow-list entry matches no difference any more, remove it: {} {:?} {} ({})",
                    a.scope, a.class, a.path, a.reason
                ));
            }
        }
        assert!(
            failures.is_empty(),
            "okta-sim differs from recorded Okta in {} way(s):\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}

fn allows(a: &Allowed, d: &Difference) -> bool {
    let scope = a.scope == "*" || a.scope == d.scope;
    let path = match a.path.strip_suffix('*') {
        Some(prefix) => d.path.starts_with(prefix),
        None => a.path == d.path,
    };
    scope && path && a.class == d.class
}

fn rel_of(link: &str) -> String {
    link.split("rel=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or("")
        .to_owned()
}

fn sorted_query_keys(url: &str) -> Vec<String> {
    let Ok(parsed) = url::Url::parse(url) else {
        return Vec::new();
    };
    let mut keys: Vec<String> = parsed.query_pairs().map(|(k, _)| k.into_owned()).collect();
    keys.sort();
    keys
}

/// The URL a sim answer was requested with (kept in a private header by [`Calls`]).
fn answer_request(answer: &Answer) -> Option<String> {
    answer.header(REQUEST_URL_HEADER)
}

/// Where [`Calls`] notes each request's URL on its answer (never sent over the wire).
const REQUEST_URL_HEADER: &str = "x-test-request-url";

// ----- calling the sim ------------------------------------------------------------------------

/// The sim's answers, by endpoint.
struct Calls {
    api: Api,
    answers: BTreeMap<String, Vec<Answer>>,
}

impl Calls {
    async fn call(&mut self, method: Method, path: &str, body: Option<Value>) -> Value {
        let mut answer = self.api.call(method.clone(), path, body).await;
        let url = self.api.url(path);
        let key = endpoint(
            method.as_str(),
            url::Url::parse(&url).expect("request URL").path(),
        );
        let json = if answer.bytes.is_empty() {
            Value::Null
        } else {
            answer.json()
        };
        answer.headers.insert(
            REQUEST_URL_HEADER,
            url.parse().expect("URL is a header value"),
        );
        self.answers.entry(key).or_default().push(answer);
        json
    }

    fn answers(&self, endpoint: &str) -> Vec<&Answer> {
        self.answers
            .get(endpoint)
            .map(|a| a.iter().collect())
            .unwrap_or_default()
    }
}

/// Removes the test's own bookkeeping header before header names are compared.
fn without_bookkeeping(answer: &Answer) -> Answer {
    let mut headers = answer.headers.clone();
    headers.remove(REQUEST_URL_HEADER);
    Answer {
        status: answer.status,
        headers,
        bytes: answer.bytes.clone(),
    }
}

async fn sim() -> SimHandle {
    let mut scenario =
        Scenario::from_toml_file(crate::repo_root().join("tests/scenarios/recorded-org.toml"))
            .expect("recorded-org.toml loads");
    // Okta's recorded transient failure, on a path the calls below use only for it.
    scenario.faults.push(FaultRule {
        path_prefix: Some(format!("/api/v1/apps/{AD}/users")),
        method: Some("GET".into()),
        kind: FaultKind::InternalError,
        count: Some(1),
        after: 0,
    });
    start_scenario(scenario).await
}

/// The calls, in the recordings' order: reads, the recorded write sequence, errors.
async fn call_everything(sim: &SimHandle) -> Calls {
    let mut calls = Calls {
        api: Api::ssws(sim, TOKEN),
        answers: BTreeMap::new(),
    };
    calls
        .call(Method::GET, "/api/v1/apps?limit=200", None)
        .await;
    calls
        .call(
            Method::GET,
            "/api/v1/apps?filter=status+eq+%22ACTIVE%22&limit=1&q=testAcc_oidc",
            None,
        )
        .await;
    for app in [OIDC, AD, ORG2ORG, DEEL] {
        calls
            .call(Method::GET, &format!("/api/v1/apps/{app}"), None)
            .await;
    }
    calls
        .call(Method::GET, &format!("/api/v1/apps/{OIDC}/users"), None)
        .await;
    calls
        .call(
            Method::GET,
            &format!("/api/v1/apps/{OIDC}/users/{}", USERS[0]),
            None,
        )
        .await;
    for user in USERS {
        calls
            .call(Method::GET, &format!("/api/v1/users/{user}"), None)
            .await;
    }
    for group in GROUPS {
        calls
            .call(Method::GET, &format!("/api/v1/groups/{group}"), None)
            .await;
    }
    let mappings = format!("/api/v1/apps/{DEEL}/group-push/mappings");
    calls
        .call(
            Method::GET,
            &format!("{mappings}?sourceGroupId={}", GROUPS[0]),
            None,
        )
        .await;
    calls
        .call(Method::GET, &format!("{mappings}?after="), None)
        .await;
    calls
        .call(Method::GET, &format!("{mappings}/{ACTIVE_MAPPING}"), None)
        .await;

    // The recorded Org2Org set-up: POST (baseUrl, token, no activate), activate, read back,
    // then the provisioning feature.
    let connection = format!("/api/v1/apps/{ORG2ORG}/connections/default");
    calls
        .call(
            Method::POST,
            &connection,
            Some(json!({
                "baseUrl": "https://integrator-1-admin.okta.example",
                "profile": { "authScheme": "TOKEN", "token": "recorded-org2org-token" },
            })),
        )
        .await;
    calls
        .call(
            Method::POST,
            &format!("{connection}/lifecycle/activate"),
            None,
        )
        .await;
    calls.call(Method::GET, &connection, None).await;
    let feature = format!("/api/v1/apps/{ORG2ORG}/features/USER_PROVISIONING");
    calls.call(Method::GET, &feature, None).await;
    calls
        .call(
            Method::PUT,
            &feature,
            Some(json!({
                "create": { "lifecycleCreate": { "status": "ENABLED" } },
                "update": {
                    "lifecycleDeactivate": { "status": "ENABLED" },
                    "password": { "change": "KEEP_EXISTING", "seed": "RANDOM", "status": "ENABLED" },
                    "profile": { "status": "DISABLED" },
                },
            })),
        )
        .await;

    // The recorded mapping removal: PATCH INACTIVE, then DELETE.
    let one = format!("{mappings}/{ACTIVE_MAPPING}");
    calls
        .call(Method::PATCH, &one, Some(json!({ "status": "INACTIVE" })))
        .await;
    calls
        .call(
            Method::DELETE,
            &format!("{one}?deleteTargetGroup=true"),
            None,
        )
        .await;
    calls
        .call(
            Method::DELETE,
            &format!("{mappings}/{INACTIVE_MAPPING}?deleteTargetGroup=false"),
            None,
        )
        .await;

    // Errors: unknown ids, and the recorded transient 500 (the fault above).
    for path in [
        "/api/v1/apps/0oanosuchapp00000001".to_owned(),
        "/api/v1/users/00unosuchuser0000001".to_owned(),
        "/api/v1/groups/00gnosuchgroup000001".to_owned(),
        format!("/api/v1/apps/{OIDC}/users/{}", USERS[1]),
        format!("{mappings}/gPmnosuchmapping0001"),
        format!("/api/v1/apps/{AD}/users"),
    ] {
        calls.call(Method::GET, &path, None).await;
    }
    calls
}

// ----- the comparison -------------------------------------------------------------------------

/// The recorded objects of one endpoint (list items one by one).
fn recorded_objects(records: &[&Record]) -> Vec<Value> {
    records
        .iter()
        .filter(|r| r.status < 400)
        .filter_map(|r| serde_json::from_str::<Value>(&r.body).ok())
        .flat_map(|v| match v {
            Value::Array(items) => items,
            other => vec![other],
        })
        .collect()
}

fn sim_objects(answers: &[&Answer]) -> Vec<Value> {
    answers
        .iter()
        .filter(|a| a.status < 400 && !a.bytes.is_empty())
        .flat_map(|a| match a.json() {
            Value::Array(items) => items,
            other => vec![other],
        })
        .collect()
}

/// The success endpoints compared, and the object kind each answers with.
const ENDPOINTS: &[(&str, Option<&str>)] = &[
    ("GET /api/v1/apps", Some("Application")),
    ("GET /api/v1/apps/{appId}", Some("Application")),
    ("GET /api/v1/apps/{appId}/users", Some("AppUser")),
    ("GET /api/v1/apps/{appId}/users/{userId}", Some("AppUser")),
    (
        "GET /api/v1/apps/{appId}/features/{name}",
        Some("ApplicationFeature"),
    ),
    (
        "PUT /api/v1/apps/{appId}/features/{name}",
        Some("ApplicationFeature"),
    ),
    (
        "GET /api/v1/apps/{appId}/connections/default",
        Some("ProvisioningConnection"),
    ),
    (
        "POST /api/v1/apps/{appId}/connections/default",
        Some("ProvisioningConnection"),
    ),
    (
        "POST /api/v1/apps/{appId}/connections/default/lifecycle/activate",
        None,
    ),
    (
        "GET /api/v1/apps/{appId}/group-push/mappings",
        Some("GroupPushMapping"),
    ),
    (
        "GET /api/v1/apps/{appId}/group-push/mappings/{mappingId}",
        Some("GroupPushMapping"),
    ),
    (
        "PATCH /api/v1/apps/{appId}/group-push/mappings/{mappingId}",
        Some("GroupPushMapping"),
    ),
    (
        "DELETE /api/v1/apps/{appId}/group-push/mappings/{mappingId}",
        None,
    ),
    ("GET /api/v1/users/{id}", Some("User")),
    ("GET /api/v1/groups/{id}", Some("Group")),
];

#[tokio::test]
async fn okta_sim_answers_as_the_recorded_okta_traffic() {
    let records = recordings();
    assert!(records.len() > 3000, "{} recordings", records.len());
    let mut by_endpoint: BTreeMap<String, Vec<&Record>> = BTreeMap::new();
    for r in &records {
        let path = url::Url::parse(&r.url)
            .expect("recorded URL")
            .path()
            .to_owned();
        // Only USER_PROVISIONING of the features is served (INBOUND_PROVISIONING is not read).
        if path.ends_with("/features/INBOUND_PROVISIONING") {
            continue;
        }
        by_endpoint
            .entry(endpoint(&r.method, &path))
            .or_default()
            .push(r);
    }
    let sim = sim().await;
    let calls = call_everything(&sim).await;
    let mut report = Report::default();
    let mut by_kind: BTreeMap<&str, (Vec<Value>, Vec<Value>)> = BTreeMap::new();
    for (endpoint, kind) in ENDPOINTS {
        let recorded = by_endpoint
            .get(*endpoint)
            .unwrap_or_else(|| panic!("{endpoint} is not in the recordings"));
        let answers: Vec<Answer> = calls
            .answers(endpoint)
            .into_iter()
            .filter(|a| a.status < 400)
            .map(without_bookkeeping)
            .collect();
        let answers_with_urls: Vec<&Answer> = calls
            .answers(endpoint)
            .into_iter()
            .filter(|a| a.status < 400)
            .collect();
        let successes: Vec<&Record> = recorded
            .iter()
            .copied()
            .filter(|r| r.status < 400)
            .collect();
        let answer_refs: Vec<&Answer> = answers.iter().collect();
        report.forms(endpoint, &successes, &answer_refs);
        // Link forms need the request URL, which the bookkeeping header carries.
        for answer in &answers_with_urls {
            let same: Vec<&&Record> = successes
                .iter()
                .filter(|r| r.status == answer.status)
                .collect();
            report.link_form(endpoint, &same, answer);
        }
        if let Some(kind) = kind {
            let entry = by_kind.entry(kind).or_default();
            entry.0.extend(recorded_objects(recorded));
            entry.1.extend(sim_objects(&answer_refs));
        }
    }
    for (kind, (recorded, sim)) in &by_kind {
        if *kind == "Application" {
            // App objects differ by app type: compare each sim app with recorded apps of its name.
            let names: BTreeSet<&str> = sim.iter().filter_map(|a| a["name"].as_str()).collect();
            for name in names {
                let real: Vec<&Value> = recorded.iter().filter(|a| a["name"] == name).collect();
                let ours: Vec<&Value> = sim.iter().filter(|a| a["name"] == name).collect();
                report.shapes(kind, &real, &ours);
            }
            continue;
        }
        report.shapes(
            kind,
            &recorded.iter().collect::<Vec<_>>(),
            &sim.iter().collect::<Vec<_>>(),
        );
    }
    compare_errors(&records, &calls, &mut report);
    report.finish();
}

/// Every sim error answer against the recorded error answers: the same object shape and form;
/// the injected 500 as Okta's recorded 500.
fn compare_errors(records: &[Record], calls: &Calls, report: &mut Report) {
    let recorded: Vec<&Record> = records.iter().filter(|r| r.status >= 400).collect();
    let answers: Vec<Answer> = calls
        .answers
        .values()
        .flatten()
        .filter(|a| a.status >= 400)
        .map(without_bookkeeping)
        .collect();
    let refs: Vec<&Answer> = answers.iter().collect();
    assert!(refs.iter().any(|a| a.status == 404) && refs.iter().any(|a| a.status == 500));
    // Statuses differ by cause (the recordings hold no 404); compare forms across all statuses.
    for answer in &refs {
        let relaxed: Vec<&&Record> = recorded.iter().collect();
        report.body_form("error", &relaxed, answer);
        report.header_names("error", &relaxed, answer);
    }
    let real: Vec<Value> = recorded_objects_any(&recorded);
    let ours: Vec<Value> = answers.iter().map(Answer::json).collect();
    report.shapes(
        "Error",
        &real.iter().collect::<Vec<_>>(),
        &ours.iter().collect::<Vec<_>>(),
    );
    let real_500: Vec<&Value> = real
        .iter()
        .filter(|e| e["errorCode"] == "E0000009")
        .collect();
    let ours_500: Vec<&Answer> = refs.iter().copied().filter(|a| a.status == 500).collect();
    for (ours, real) in ours_500.iter().zip(real_500.iter().cycle()) {
        let ours = ours.json();
        for field in ["errorCode", "errorSummary", "errorLink", "errorCauses"] {
            if ours[field] != real[field] {
                report.add(
                    "error 500",
                    field,
                    Class::Form,
                    format!("sim {}; Okta {}", ours[field], real[field]),
                );
            }
        }
    }
    for ours in &ours {
        let id = ours["errorId"].as_str().unwrap_or("");
        let recorded_form = id.len() == 25
            && id.starts_with("oae")
            && id[3..]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !recorded_form || ours["errorLink"] != ours["errorCode"] {
            report.add("Error", "errorId", Class::Form, format!("{ours}"));
        }
    }
}

fn recorded_objects_any(records: &[&Record]) -> Vec<Value> {
    records
        .iter()
        .filter_map(|r| serde_json::from_str::<Value>(&r.body).ok())
        .collect()
}

#[test]
fn endpoint_templates_name_the_recorded_endpoints() {
    assert_eq!(endpoint("GET", "/api/v1/apps"), "GET /api/v1/apps");
    assert_eq!(
        endpoint("GET", "/api/v1/apps/0oa1/users/00u1"),
        "GET /api/v1/apps/{appId}/users/{userId}"
    );
    assert_eq!(
        endpoint("GET", "/api/v1/users/00u1"),
        "GET /api/v1/users/{id}"
    );
    assert_eq!(
        endpoint("GET", "/api/v1/groups/00g1"),
        "GET /api/v1/groups/{id}"
    );
    assert_eq!(
        endpoint("POST", "/api/v1/groups/rules"),
        "POST /api/v1/groups/rules"
    );
    assert_eq!(
        endpoint("DELETE", "/api/v1/apps/0oa1/group-push/mappings/gPm1"),
        "DELETE /api/v1/apps/{appId}/group-push/mappings/{mappingId}"
    );
    assert_eq!(
        endpoint(
            "POST",
            "/api/v1/apps/0oa1/connections/default/lifecycle/activate"
        ),
        "POST /api/v1/apps/{appId}/connections/default/lifecycle/activate"
    );
    assert_eq!(
        endpoint("PUT", "/api/v1/apps/0oa1/features/USER_PROVISIONING"),
        "PUT /api/v1/apps/{appId}/features/{name}"
    );
}

#[test]
fn shapes_tell_null_from_absent_and_timestamp_forms() {
    let real = [json!({ "a": null, "t": "2026-03-25T13:45:47Z" })];
    let ours = [json!({ "t": "2026-03-25T13:45:47.000Z" })];
    let mut report = Report::default();
    report.shapes(
        "X",
        &real.iter().collect::<Vec<_>>(),
        &ours.iter().collect::<Vec<_>>(),
    );
    let found: Vec<(String, Class)> = report
        .differences
        .iter()
        .map(|d| (d.path.clone(), d.class))
        .collect();
    assert_eq!(
        found,
        [
            ("a".to_owned(), Class::Missing),
            ("t".to_owned(), Class::Type)
        ]
    );
}
