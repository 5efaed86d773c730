//! Credentials on the wire: SSWS API tokens and OAuth 2.0 service-app access tokens obtained
//! with a `private_key_jwt` client assertion, cached until shortly before expiry.

use super::body::{idle_timeout, read_body, MAX_TOKEN_BODY_BYTES};
use super::config::AuthConfig;
use super::error::{ApiError, Endpoint, OktaError};
use super::model::OktaErrorBody;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::Mutex;
use tokio::time::Instant;
use url::Url;

/// Lifetime of a client assertion (Okta accepts at most one hour; the SDKs use minutes).
pub const ASSERTION_LIFETIME: Duration = Duration::from_secs(5 * 60);
/// An access token is refreshed this long before it expires.
pub const TOKEN_REFRESH_MARGIN: Duration = Duration::from_secs(60);
/// Path of the org authorization server's token endpoint.
pub const TOKEN_PATH: &str = "/oauth2/v1/token";

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
    jti: String,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
}

struct CachedToken {
    header_value: SecretString,
    valid_until: Instant,
}

/// Produces the `Authorization` header value of each request.
pub(crate) struct Authenticator {
    config: AuthConfig,
    token_url: Url,
    /// Timeout of a token request (the client's request timeout).
    request_timeout: Duration,
    cache: Mutex<Option<CachedToken>>,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator")
            .field("config", &self.config)
            .field("token_url", &self.token_url.as_str())
            .finish_non_exhaustive()
    }
}

impl Authenticator {
    pub(crate) fn new(
        config: AuthConfig,
        org_url: &Url,
        request_timeout: Duration,
    ) -> Result<Self, ApiError> {
        let token_url = org_url.join(TOKEN_PATH).map_err(|e| ApiError::InvalidUrl {
            path: TOKEN_PATH.to_owned(),
            message: e.to_string(),
        })?;
        Ok(Self {
            config,
            token_url,
            request_timeout,
            cache: Mutex::new(None),
        })
    }

    /// Whether a 401 may be cured by fetching a new token.
    pub(crate) fn can_refresh(&self) -> bool {
        matches!(self.config, AuthConfig::PrivateKey { .. })
    }

    /// Forgets the cached access token (after a 401).
    pub(crate) async fn invalidate(&self) {
        *self.cache.lock().await = None;
    }

    /// The `Authorization` header value.
    pub(crate) async fn header(&self, http: &reqwest::Client) -> Result<SecretString, ApiError> {
        let (client_id, scopes, key, kid) = match &self.config {
            AuthConfig::Ssws { token } => {
                return Ok(SecretString::from(format!(
                    "SSWS {}",
                    token.expose_secret()
                )))
            }
            AuthConfig::PrivateKey {
                client_id,
                scopes,
                private_key,
                key_id,
            } => (client_id, scopes, private_key, key_id),
        };
        let mut cache = self.cache.lock().await;
        if let Some(c) = cache.as_ref() {
            if Instant::now() < c.valid_until {
                return Ok(c.header_value.clone());
            }
        }
        let fresh = self
            .fetch_token(http, client_id, scopes, key, kid.as_deref())
            .await?;
        let value = fresh.header_value.clone();
        *cache = Some(fresh);
        Ok(value)
    }

    async fn fetch_token(
        &self,
        http: &reqwest::Client,
        client_id: &str,
        scopes: &[String],
        key: &SecretString,
        kid: Option<&str>,
    ) -> Result<CachedToken, ApiError> {
        let assertion = self.assertion(client_id, key, kid)?;
        let scope = scopes.join(" ");
        let form = [
            ("grant_type", "client_credentials"),
            ("scope", scope.as_str()),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", assertion.expose_secret()),
        ];
        let endpoint = Endpoint::new(&reqwest::Method::POST, &self.token_url);
        let deadline = Instant::now() + self.request_timeout;
        let mut resp = http
            .post(self.token_url.clone())
            .timeout(self.request_timeout)
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&form)
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    ApiError::Timeout {
                        endpoint: endpoint.clone(),
                    }
                } else {
                    ApiError::Transport {
                        endpoint: endpoint.clone(),
                        message: e.without_url().to_string(),
                    }
                }
            })?;
        let status = resp.status();
        let idle = idle_timeout(self.request_timeout);
        let body = read_body(&mut resp, MAX_TOKEN_BODY_BYTES, idle, deadline)
            .await
            .map_err(|e| e.into_api_error(&endpoint, MAX_TOKEN_BODY_BYTES))?;
        if !status.is_success() {
            let error = token_error(&body);
            return Err(ApiError::from_token_endpoint(
                endpoint,
                status.as_u16(),
                error,
            ));
        }
        let parsed: TokenResponse =
            serde_json::from_slice(&body).map_err(|e| ApiError::malformed_secret(endpoint, &e))?;
        let kind = parsed.token_type.unwrap_or_else(|| "Bearer".into());
        let lifetime = Duration::from_secs(parsed.expires_in.unwrap_or(3600));
        let valid_for = lifetime.saturating_sub(TOKEN_REFRESH_MARGIN);
        Ok(CachedToken {
            header_value: SecretString::from(format!("{kind} {}", parsed.access_token)),
            valid_until: Instant::now() + valid_for,
        })
    }

    fn assertion(
        &self,
        client_id: &str,
        key: &SecretString,
        kid: Option<&str>,
    ) -> Result<SecretString, ApiError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|_| ApiError::Credential {
                problem: "no client assertion can be dated: the system clock is before 1970".into(),
            })?
            .as_secs();
        let claims = Claims {
            iss: client_id,
            sub: client_id,
            aud: self.token_url.as_str(),
            iat: now,
            exp: now + ASSERTION_LIFETIME.as_secs(),
            jti: uuid::Uuid::new_v4().to_string(),
        };
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = kid.map(str::to_owned);
        let enc = jsonwebtoken::EncodingKey::from_rsa_pem(key.expose_secret().as_bytes()).map_err(
            |e| ApiError::Credential {
                problem: format!("the private key is not a valid RSA PEM key: {e}"),
            },
        )?;
        let jwt =
            jsonwebtoken::encode(&header, &claims, &enc).map_err(|e| ApiError::Credential {
                problem: format!("cannot sign the client assertion: {e}"),
            })?;
        Ok(SecretString::from(jwt))
    }
}

/// A token endpoint error from its OAuth 2.0 body (`error` as the code, `error_description`
/// as the summary), else from an Okta error object, else empty. Never echoes the request.
fn token_error(body: &[u8]) -> OktaError {
    #[derive(Deserialize)]
    struct OAuthError {
        error: Option<String>,
        error_description: Option<String>,
    }
    match serde_json::from_slice::<OAuthError>(body) {
        Ok(OAuthError {
            error: Some(code),
            error_description,
        }) => OktaError {
            code: Some(code),
            summary: error_description,
            ..OktaError::default()
        },
        _ => serde_json::from_slice::<OktaErrorBody>(body)
            .map(OktaError::from)
            .unwrap_or_default(),
    }
}
