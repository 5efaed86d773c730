//! The Okta error answers of the simulated API (`ApiError`) and request-body parsing.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::stats::new_request_id;

/// An API error answered as an Okta error object.
#[derive(Debug)]
pub(crate) enum ApiError {
    NotFound(String),
    Validation {
        summary: String,
        causes: Vec<String>,
    },
    BadJson,
    InvalidToken,
    Forbidden,
    InvalidSearch(String),
    Method,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::NotFound(what) => okta_error(
                StatusCode::NOT_FOUND,
                "E0000007",
                &format!("Not found: Resource not found: {what}"),
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
            ApiError::Forbidden => okta_error(
                StatusCode::FORBIDDEN,
                "E0000006",
                "You do not have permission to perform the requested action",
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

/// An Okta error object (`errorCode`, `errorSummary`, `errorLink`, `errorId`, `errorCauses`).
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
    let body = serde_json::json!({
        "errorCode": code,
        "errorSummary": summary,
        "errorLink": code,
        "errorId": format!("oae{}", &new_request_id()[..19]),
        "errorCauses": causes,
    });
    (status, axum::Json(body)).into_response()
}
