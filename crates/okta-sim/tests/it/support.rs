//! Shared set-up of the newer test modules: a sim from a shipped scenario, a raw HTTP client that
//! keeps every header line, and OAuth access tokens for the test-only service-app key.

use okta_sim::{Scenario, Sim, SimHandle};
use reqwest::header::HeaderMap;
use reqwest::{Client, Method};
use serde_json::{json, Value};

/// Starts a sim on loopback from `tests/scenarios/<name>`.
pub async fn start(name: &str) -> SimHandle {
    let path = crate::repo_root().join("tests/scenarios").join(name);
    let scenario = Scenario::from_toml_file(&path)
        .unwrap_or_else(|e| panic!("shipped scenario {name} loads: {e}"));
    start_scenario(scenario).await
}

/// Starts a sim on loopback from a scenario built in the test.
pub async fn start_scenario(scenario: Scenario) -> SimHandle {
    Sim::start(scenario, "127.0.0.1:0")
        .await
        .expect("sim starts on loopback")
}

/// One answer, with its raw body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub bytes: Vec<u8>,
}

impl Answer {
    /// The body as JSON (`Null` when empty); panics on anything else.
    pub fn json(&self) -> Value {
        if self.bytes.is_empty() {
            return Value::Null;
        }
        serde_json::from_slice(&self.bytes).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.bytes)
            )
        })
    }

    /// Every value of one header, one per header line.
    pub fn header_lines(&self, name: &str) -> Vec<String> {
        self.headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().expect("ASCII header").to_owned())
            .collect()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.header_lines(name).into_iter().next()
    }

    /// The `(url, rel)` of every `Link` line (each line holds one link value).
    pub fn links(&self) -> Vec<(String, String)> {
        self.header_lines("link")
            .iter()
            .map(|line| {
                let (url, rest) = line
                    .strip_prefix('<')
                    .and_then(|l| l.split_once('>'))
                    .unwrap_or_else(|| panic!("Link line is not <url>; rel=...: {line}"));
                let rel = rest
                    .trim()
                    .strip_prefix("; rel=\"")
                    .and_then(|r| r.strip_suffix('"'))
                    .unwrap_or_else(|| panic!("Link line is not <url>; rel=\"x\": {line}"));
                (url.to_owned(), rel.to_owned())
            })
            .collect()
    }

    pub fn link(&self, rel: &str) -> Option<String> {
        self.links()
            .into_iter()
            .find(|(_, r)| r == rel)
            .map(|(url, _)| url)
    }

    /// The query of one link, as `(key, value)` pairs in order.
    pub fn link_query(&self, rel: &str) -> Option<Vec<(String, String)>> {
        let url = url::Url::parse(&self.link(rel)?).expect("link URL parses");
        Some(url.query_pairs().into_owned().collect())
    }
}

/// A client for one sim with one `Authorization` value.
pub struct Api {
    pub http: Client,
    pub base: String,
    pub auth: Option<String>,
}

impl Api {
    pub fn ssws(sim: &SimHandle, token: &str) -> Self {
        Api {
            http: Client::new(),
            base: sim.base_url().to_owned(),
            auth: Some(format!("SSWS {token}")),
        }
    }

    pub fn bearer(sim: &SimHandle, access_token: &str) -> Self {
        Api {
            http: Client::new(),
            base: sim.base_url().to_owned(),
            auth: Some(format!("Bearer {access_token}")),
        }
    }

    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        }
    }

    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        let mut request = self.http.request(method, self.url(path));
        if let Some(auth) = &self.auth {
            request = request.header("Authorization", auth);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request reaches the sim");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("body").to_vec();
        Answer {
            status,
            headers,
            bytes,
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, None).await
    }

    /// GET that must answer 200; the JSON body.
    pub async fn json(&self, path: &str) -> Value {
        let answer = self.get(path).await;
        assert_eq!(
            answer.status,
            200,
            "GET {path}: {}",
            String::from_utf8_lossy(&answer.bytes)
        );
        answer.json()
    }
}

/// A signed `private_key_jwt` client assertion for the test-only key pair.
pub fn client_assertion(base: &str, client_id: &str) -> String {
    let pem = std::fs::read(
        crate::repo_root().join("tests/fixtures/TEST-ONLY-oauth-client-private-key.pem"),
    )
    .expect("fixture key");
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(&pem).expect("fixture key is RSA PEM");
    let now = chrono::Utc::now().timestamp();
    let claims = json!({ "iss": client_id, "sub": client_id, "aud": format!("{base}/oauth2/v1/token"),
                         "exp": now + 300, "iat": now, "jti": uuid::Uuid::new_v4().to_string() });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
        &claims,
        &key,
    )
    .expect("sign")
}

/// An access token for `client_id` with exactly `scope` (space-separated).
pub async fn access_token(sim: &SimHandle, client_id: &str, scope: &str) -> String {
    let assertion = client_assertion(sim.base_url(), client_id);
    let response = Client::new()
        .post(format!("{}/oauth2/v1/token", sim.base_url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", scope),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", assertion.as_str()),
        ])
        .send()
        .await
        .expect("token request");
    assert_eq!(response.status(), 200, "token request for {scope}");
    let body: Value = response.json().await.expect("token JSON");
    body["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

/// Whether `text` is `YYYY-MM-DDTHH:MM:SS.000Z`.
pub fn is_whole_second_millis(text: &str) -> bool {
    text.len() == 24
        && text.ends_with(".000Z")
        && chrono::DateTime::parse_from_rfc3339(text).is_ok()
}

/// Whether `text` is `YYYY-MM-DDTHH:MM:SSZ` (no fraction).
pub fn is_whole_second_no_fraction(text: &str) -> bool {
    text.len() == 20 && text.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(text).is_ok()
}
