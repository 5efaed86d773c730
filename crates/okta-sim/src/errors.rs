//! The Okta error answers of the simulated API (`ApiError`), the Okta error object itself and
//! request-body parsing.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use rand::Rng as _;

/// The kind of resource a 404 names, as Okta puts it in parentheses after the id
/// (`Not found: Resource not found: 0oa1 (AppInstance)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resource {
    App,
    AppUser,
    User,
    Group,
    GroupPushMapping,
    Feature,
}

impl Resource {
    /// Okta's name of the resource type. `AppInstance`, `User` and `UserGroup` are the forms
    /// Okta is known to send; the others are modelled on them.
    fn okta_name(self) -> &'static str {
        match self {
            Resource::App => "AppInstance",
            Resource::AppUser => "AppUser",
            Resource::User => "User",
            Resource::Group => "UserGroup",
            Resource::GroupPushMapping => "GroupPushMapping",
            Resource::Feature => "ApplicationFeature",
        }
    }
}

/// An API error answered as an Okta error object.
#[derive(Debug)]
pub(crate) enum ApiError {
    /// 404 `E0000007` for an unknown id of a known kind.
    NotFound {
        id: String,
        kind: Resource,
    },
    /// 404 `E0000007` for a path the org does not serve.
    NoRoute(String),
    Validation {
        summary: String,
        causes: Vec<String>,
    },
    BadJson,
    /// 401 `E0000011`: no, an unknown or an expired token.
    InvalidToken,
    /// 403 `E0000006`: the access token lacks a scope the endpoint needs.
    MissingScope(&'static str),
    /// 401 `E0000015`: the feature behind the endpoint is not enabled for the org.
    FeatureNotEnabled,
    InvalidSearch(String),
    Method,
}

impl ApiError {
    pub(crate) fn not_found(id: &str, kind: Resource) -> ApiError {
        ApiError::NotFound {
            id: id.to_owned(),
            kind,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::NotFound { id, kind } => okta_error(
                StatusCode::NOT_FOUND,
                "E0000007",
                &format!("Not found: Resource not found: {id} ({})", kind.okta_name()),
                &[],
            ),
            ApiError::NoRoute(path) => okta_error(
                StatusCode::NOT_FOUND,
                "E0000007",
                &format!("Not found: Resource not found: {path}"),
                &[],
            ),
            ApiError::Validation { summary, causes } => {
                let causes: Vec<&str> = causes.iter().map(String::as_str).collect();
                okta_error(StatusCode::BAD_REQUEST, "E0000001", &summary, &causes)
            }
            ApiError::BadJson => okta_error(
                StatusCode::BAD_REQUEST,
                "E0000003",
                "The request body was not well-formed.",
                &[],
            ),
            ApiError::InvalidToken => okta_error(
                StatusCode::UNAUTHORIZED,
                "E0000011",
                "Invalid token provided",
                &[],
            ),
            ApiError::MissingScope(scope) => {
                let mut response = okta_error(
                    StatusCode::FORBIDDEN,
                    "E0000006",
                    "You do not have permission to perform the requested action",
                    &[],
                );
                let challenge = format!(
                    "Bearer error=\"insufficient_scope\", error_description=\"The access token provided does not contain the required scopes.\", scope=\"{scope}\""
                );
                if let Ok(value) = HeaderValue::from_str(&challenge) {
                    response
                        .headers_mut()
                        .insert(header::WWW_AUTHENTICATE, value);
                }
                response
            }
            ApiError::FeatureNotEnabled => okta_error(
                StatusCode::UNAUTHORIZED,
                "E0000015",
                "You do not have permission to access the feature you are requesting",
                &[],
            ),
            ApiError::InvalidSearch(cause) => okta_error(
                StatusCode::BAD_REQUEST,
                "E0000053",
                "Invalid SCIM filter.",
                &[&cause],
            ),
            ApiError::Method => okta_error(
                StatusCode::METHOD_NOT_ALLOWED,
                "E0000022",
                "The endpoint does not support the provided HTTP method",
                &[],
            ),
        }
    }
}

pub(crate) fn validation(summary: &str, cause: &str) -> ApiError {
    ApiError::Validation {
        summary: summary.to_owned(),
        causes: vec![cause.to_owned()],
    }
}

/// The error Okta answers when an app's provisioning connection is disabled.
pub(crate) fn provisioning_not_enabled(field: &str) -> ApiError {
    validation(
        &format!("Api validation failed: {field}"),
        "Provisioning is not enabled for the app instance.",
    )
}

pub(crate) type ApiResult = Result<Response, ApiError>;

/// Parses a JSON request body; malformed JSON is Okta's E0000003.
pub(crate) fn parse_body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|_| ApiError::BadJson)
}

/// Characters of an `errorId` after its `oae` prefix.
const ERROR_ID_LEN: usize = 22;
/// The alphabet of recorded `errorId`s (URL-safe base64).
const ERROR_ID_ALPHABET: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// A fresh `errorId`: `oae` and 22 characters of `[A-Za-z0-9_-]`, as recorded
/// (`oaeZHfK8ED-TWa7SMV5ko-YZA`).
pub(crate) fn new_error_id() -> String {
    let mut rng = rand::thread_rng();
    let tail: String = (0..ERROR_ID_LEN)
        .map(|_| char::from(ERROR_ID_ALPHABET[rng.gen_range(0..ERROR_ID_ALPHABET.len())]))
        .collect();
    format!("oae{tail}")
}

/// An Okta error object, its members in Okta's order (`errorCode`, `errorSummary`, `errorLink`,
/// `errorId`, `errorCauses`), with `Content-Type: application/json`. `errorLink` repeats the
/// code, as Okta's do; each cause carries only an `errorSummary`.
pub(crate) fn okta_error(
    status: StatusCode,
    code: &str,
    summary: &str,
    causes: &[&str],
) -> Response {
    let causes: Vec<serde_json::Value> = causes
        .iter()
        .map(|c| serde_json::json!({ "errorSummary": c }))
        .collect();
    let string = |s: &str| serde_json::Value::from(s).to_string();
    let body = format!(
        "{{\"errorCode\":{code},\"errorSummary\":{summary},\"errorLink\":{code},\"errorId\":{id},\"errorCauses\":{causes}}}",
        code = string(code),
        summary = string(summary),
        id = string(&new_error_id()),
        causes = serde_json::Value::Array(causes),
    );
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_ids_have_the_recorded_form() {
        for _ in 0..200 {
            let id = new_error_id();
            assert_eq!(id.len(), 25, "{id}");
            assert!(id.starts_with("oae"), "{id}");
            assert!(
                id[3..]
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
                "{id}"
            );
        }
    }

    #[tokio::test]
    async fn error_bodies_keep_okta_member_order() {
        let response = okta_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "E0000009",
            "Internal Server Error",
            &[],
        );
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
        let bytes = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .expect("small body");
        let text = std::str::from_utf8(&bytes).expect("utf-8");
        assert!(
            text.starts_with("{\"errorCode\":\"E0000009\",\"errorSummary\":\"Internal Server Error\",\"errorLink\":\"E0000009\",\"errorId\":\"oae"),
            "{text}"
        );
        assert!(text.ends_with("\",\"errorCauses\":[]}"), "{text}");
    }
}
