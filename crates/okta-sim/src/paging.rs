//! Query parameters and paging: `limit`, opaque `after` cursors and `Link` headers.

use std::collections::HashMap;

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;

use super::errors::{validation, ApiError, ApiResult};
use super::state::SimState;

/// Decoded query parameters (first value wins).
#[derive(Debug, Default)]
pub(crate) struct Params(pub HashMap<String, String>);

impl Params {
    pub fn parse(raw: Option<&str>) -> Self {
        let mut map = HashMap::new();
        for (k, v) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            map.entry(k.into_owned()).or_insert_with(|| v.into_owned());
        }
        Params(map)
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// `limit`, defaulted and clamped to `max`; non-numbers are a validation error.
    pub fn limit(&self, default: usize, max: usize) -> Result<usize, ApiError> {
        let Some(raw) = self.get("limit") else {
            return Ok(default);
        };
        let n: usize = raw.parse().map_err(|_| {
            validation(
                "Api validation failed: limit",
                "limit: must be a positive integer",
            )
        })?;
        Ok(n.clamp(1, max))
    }
}

/// Encodes an opaque cursor.
pub(crate) fn encode_cursor(raw: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

/// Decodes an opaque cursor; anything we did not issue is a 400.
pub(crate) fn decode_cursor(cursor: &str) -> Result<String, ApiError> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| invalid_cursor())?;
    String::from_utf8(bytes).map_err(|_| invalid_cursor())
}

fn invalid_cursor() -> ApiError {
    validation("Api validation failed: after", "after: invalid cursor")
}

/// An offset cursor (`o:N`).
pub(crate) fn offset_from(params: &Params) -> Result<usize, ApiError> {
    let Some(after) = params.get("after") else {
        return Ok(0);
    };
    let raw = decode_cursor(after)?;
    raw.strip_prefix("o:")
        .and_then(|n| n.parse().ok())
        .ok_or_else(invalid_cursor)
}

/// Builds the `Link` header: `self` and, when given, `next` with `after=cursor`.
pub(crate) fn link_header(
    base: &str,
    path: &str,
    params: &Params,
    limit: usize,
    next: Option<&str>,
) -> String {
    let mut keep: Vec<(&String, &String)> = params
        .0
        .iter()
        .filter(|(k, _)| k.as_str() != "after" && k.as_str() != "limit")
        .collect();
    keep.sort();
    let query_with = |after: Option<&str>| {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("limit", &limit.to_string());
        for (k, v) in &keep {
            q.append_pair(k, v);
        }
        if let Some(a) = after {
            q.append_pair("after", a);
        }
        q.finish()
    };
    let mut out = format!(
        "<{base}{path}?{}>; rel=\"self\"",
        query_with(params.get("after"))
    );
    if let Some(cursor) = next {
        out.push_str(&format!(
            ", <{base}{path}?{}>; rel=\"next\"",
            query_with(Some(cursor))
        ));
    }
    out
}

/// A JSON list response with its `Link` header.
pub(crate) fn list_response(items: Vec<serde_json::Value>, link: String) -> Response {
    let mut response = axum::Json(serde_json::Value::Array(items)).into_response();
    if let Ok(v) = HeaderValue::from_str(&link) {
        response.headers_mut().insert(header::LINK, v);
    }
    response
}

/// Pages `items` by offset and answers with `Link` headers.
pub(crate) fn paged<T>(
    state: &SimState,
    path: &str,
    params: &Params,
    items: &[T],
    default_limit: usize,
    max_limit: usize,
    render: impl Fn(&T) -> serde_json::Value,
) -> ApiResult {
    let limit = params.limit(default_limit, max_limit)?;
    let offset = offset_from(params)?;
    let start = offset.min(items.len());
    let end = (start + limit).min(items.len());
    let page: Vec<serde_json::Value> = items[start..end].iter().map(render).collect();
    let next = (end < items.len()).then(|| encode_cursor(&format!("o:{end}")));
    let link = link_header(&state.base_url, path, params, limit, next.as_deref());
    Ok(list_response(page, link))
}
