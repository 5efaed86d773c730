//! `GET /api/v1/logs`: the System Log query (time bounds, cursors, polling, SCIM filters).

use axum::extract::{RawQuery, State};
use axum::response::Response;
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use super::errors::ApiError;
use super::model::Event;
use super::paging::{decode_cursor, encode_cursor, links, list_response, LinkForm, Params};
use super::state::Shared;

/// Default and maximum `limit`.
const LOGS_DEFAULT_LIMIT: usize = 100;
const LOGS_MAX_LIMIT: usize = 1000;
/// Okta keeps 90 days of log; queries may reach back at most 180 days.
const MAX_SINCE_DAYS: i64 = 180;
/// Default window when `since` is absent.
const DEFAULT_SINCE_DAYS: i64 = 7;
/// Nesting bound for filter parentheses.
const MAX_FILTER_DEPTH: usize = 16;

fn search_error(cause: &str) -> ApiError {
    ApiError::InvalidSearch(cause.to_owned())
}

fn parse_time(params: &Params, key: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
    let Some(raw) = params.get(key) else {
        return Ok(None);
    };
    DateTime::parse_from_rfc3339(raw)
        .map(|t| Some(t.with_timezone(&Utc)))
        .map_err(|_| search_error(&format!("{key}: must be an ISO 8601 timestamp")))
}

/// The position of an event in the log, as carried by cursors.
type Key = (i64, i64);

fn key_of(e: &Event) -> Key {
    (e.published.timestamp_millis(), e.seq as i64)
}

fn encode_key(k: Key) -> String {
    encode_cursor(&format!("l:{}:{}", k.0, k.1))
}

fn decode_key(cursor: &str) -> Result<Key, ApiError> {
    let raw = decode_cursor(cursor).ok_or_else(|| search_error("after: invalid cursor"))?;
    let mut parts = raw.strip_prefix("l:").unwrap_or("").splitn(2, ':');
    let (Some(Ok(t)), Some(Ok(s))) = (parts.next().map(str::parse), parts.next().map(str::parse))
    else {
        return Err(search_error("after: invalid cursor"));
    };
    Ok((t, s))
}

pub(crate) async fn list_logs(
    State(state): State<Shared>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let params = Params::parse(q.as_deref());
    let now = Utc::now();
    let limit = match params.get("limit") {
        None => LOGS_DEFAULT_LIMIT,
        Some(raw) => raw
            .parse::<usize>()
            .map_err(|_| search_error("limit: must be a positive integer"))?
            .clamp(1, LOGS_MAX_LIMIT),
    };
    let since = parse_time(&params, "since")?.unwrap_or(now - Duration::days(DEFAULT_SINCE_DAYS));
    if since < now - Duration::days(MAX_SINCE_DAYS) {
        return Err(search_error("since: must be within the last 180 days"));
    }
    let until = parse_time(&params, "until")?;
    let ascending = match params.get("sortOrder") {
        None | Some("ASCENDING") => true,
        Some("DESCENDING") => false,
        Some(_) => return Err(search_error("sortOrder: must be ASCENDING or DESCENDING")),
    };
    let filter = params.get("filter").map(parse_filter).transpose()?;
    let after = params.after().map(decode_key).transpose()?;
    let polling = until.is_none() && ascending;

    let org = state.org();
    let matches = |e: &&Event| {
        e.published >= since
            && until.is_none_or(|u| e.published < u)
            && filter.as_ref().is_none_or(|f| f.eval(&e.body))
    };
    let (page, more): (Vec<&Event>, bool) = if ascending {
        let mut it = org
            .events
            .iter()
            .filter(|e| after.is_none_or(|k| key_of(e) > k))
            .filter(matches);
        let page: Vec<&Event> = it.by_ref().take(limit).collect();
        (page, it.next().is_some())
    } else {
        let mut it = org
            .events
            .iter()
            .rev()
            .filter(|e| after.is_none_or(|k| key_of(e) < k))
            .filter(matches);
        let page: Vec<&Event> = it.by_ref().take(limit).collect();
        (page, it.next().is_some())
    };
    let last = page.last().map(|e| key_of(e));
    let next = match (polling, last) {
        (_, Some(k)) if polling || more => Some(encode_key(k)),
        (true, None) => Some(encode_key(
            after.unwrap_or((since.timestamp_millis() - 1, i64::MAX)),
        )),
        _ => None,
    };
    let items: Vec<Value> = page.iter().map(|e| e.body.clone()).collect();
    // Log links keep every query parameter (since, until, filter, sortOrder): a poller follows
    // `next` verbatim.
    let links = links(
        &state.base_url,
        "/api/v1/logs",
        &params,
        limit,
        LinkForm::echoing_all(),
        next.as_deref(),
    );
    Ok(list_response(items, links))
}

// ----- SCIM filter subset ---------------------------------------------------------------------

/// A parsed filter expression.
#[derive(Debug)]
pub(crate) enum Filter {
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Cmp { attr: String, op: Op, value: String },
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Op {
    Eq,
    Sw,
    Co,
}

/// Attributes a filter may name.
const FILTER_ATTRS: &[&str] = &[
    "eventType",
    "outcome.result",
    "outcome.reason",
    "target.id",
    "target.type",
    "actor.id",
    "actor.alternateId",
    "severity",
    "uuid",
    "transaction.id",
];

impl Filter {
    fn eval(&self, event: &Value) -> bool {
        match self {
            Filter::And(a, b) => a.eval(event) && b.eval(event),
            Filter::Or(a, b) => a.eval(event) || b.eval(event),
            Filter::Cmp { attr, op, value } => {
                values_of(event, attr).iter().any(|v| op.test(v, value))
            }
        }
    }
}

impl Op {
    fn test(self, have: &str, want: &str) -> bool {
        match self {
            Op::Eq => have == want,
            Op::Sw => have.starts_with(want),
            Op::Co => have.contains(want),
        }
    }
}

/// The string values of `attr` in an event; `target.*` looks at every target.
fn values_of(event: &Value, attr: &str) -> Vec<String> {
    if let Some(field) = attr.strip_prefix("target.") {
        return event
            .get("target")
            .and_then(Value::as_array)
            .map(|ts| {
                ts.iter()
                    .filter_map(|t| t.get(field)?.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
    }
    let mut v = event;
    for part in attr.split('.') {
        let Some(next) = v.get(part) else {
            return Vec::new();
        };
        v = next;
    }
    v.as_str().map(|s| vec![s.to_owned()]).unwrap_or_default()
}

#[derive(Debug, PartialEq)]
enum Tok {
    Open,
    Close,
    Word(String),
    Str(String),
}

fn tokenize(input: &str) -> Result<Vec<Tok>, ApiError> {
    let mut out = Vec::new();
    let mut chars = input.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            ' ' | '\t' => {
                chars.next();
            }
            '(' => {
                chars.next();
                out.push(Tok::Open);
            }
            ')' => {
                chars.next();
                out.push(Tok::Close);
            }
            '"' => {
                chars.next();
                let mut s = String::new();
                loop {
                    match chars.next() {
                        None => return Err(search_error("filter: unterminated string")),
                        Some('\\') => s.extend(chars.next()),
                        Some('"') => break,
                        Some(c) => s.push(c),
                    }
                }
                out.push(Tok::Str(s));
            }
            _ => {
                let mut w = String::new();
                while let Some(&c) = chars.peek() {
                    if c == ' ' || c == '(' || c == ')' || c == '"' {
                        break;
                    }
                    w.push(c);
                    chars.next();
                }
                out.push(Tok::Word(w));
            }
        }
    }
    Ok(out)
}

/// Parses a filter like `eventType eq "x" and (target.id eq "y" or outcome.result eq "FAILURE")`.
pub(crate) fn parse_filter(input: &str) -> Result<Filter, ApiError> {
    let toks = tokenize(input)?;
    let mut p = Parser {
        toks: &toks,
        pos: 0,
    };
    let f = p.or(0)?;
    if p.pos != toks.len() {
        return Err(search_error("filter: unexpected trailing input"));
    }
    Ok(f)
}

struct Parser<'a> {
    toks: &'a [Tok],
    pos: usize,
}

impl Parser<'_> {
    fn keyword(&mut self, kw: &str) -> bool {
        if matches!(self.toks.get(self.pos), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw)) {
            self.pos += 1;
            return true;
        }
        false
    }

    fn or(&mut self, depth: usize) -> Result<Filter, ApiError> {
        let mut left = self.and(depth)?;
        while self.keyword("or") {
            left = Filter::Or(Box::new(left), Box::new(self.and(depth)?));
        }
        Ok(left)
    }

    fn and(&mut self, depth: usize) -> Result<Filter, ApiError> {
        let mut left = self.atom(depth)?;
        while self.keyword("and") {
            left = Filter::And(Box::new(left), Box::new(self.atom(depth)?));
        }
        Ok(left)
    }

    fn atom(&mut self, depth: usize) -> Result<Filter, ApiError> {
        if depth > MAX_FILTER_DEPTH {
            return Err(search_error("filter: nested too deeply"));
        }
        if self.toks.get(self.pos) == Some(&Tok::Open) {
            self.pos += 1;
            let inner = self.or(depth + 1)?;
            if self.toks.get(self.pos) != Some(&Tok::Close) {
                return Err(search_error("filter: missing )"));
            }
            self.pos += 1;
            return Ok(inner);
        }
        let (Some(Tok::Word(attr)), Some(Tok::Word(op)), Some(Tok::Str(value))) = (
            self.toks.get(self.pos),
            self.toks.get(self.pos + 1),
            self.toks.get(self.pos + 2),
        ) else {
            return Err(search_error(
                "filter: expected attribute operator \"value\"",
            ));
        };
        if !FILTER_ATTRS.contains(&attr.as_str()) {
            return Err(search_error(&format!(
                "filter: unsupported attribute {attr}"
            )));
        }
        let op = match op.to_ascii_lowercase().as_str() {
            "eq" => Op::Eq,
            "sw" => Op::Sw,
            "co" => Op::Co,
            other => {
                return Err(search_error(&format!(
                    "filter: unsupported operator {other}"
                )))
            }
        };
        self.pos += 3;
        Ok(Filter::Cmp {
            attr: attr.clone(),
            op,
            value: value.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event() -> Value {
        json!({ "eventType": "application.provision.user.push", "outcome": { "result": "FAILURE" },
                "target": [{ "id": "00u1", "type": "User" }, { "id": "0oa1", "type": "AppInstance" }],
                "actor": { "id": "sys" } })
    }

    #[test]
    fn filters_combine_with_precedence() {
        let f = parse_filter(
            r#"eventType sw "application.provision" and (target.id eq "0oa1" or actor.id eq "x")"#,
        )
        .expect("valid filter");
        assert!(f.eval(&event()));
        let f = parse_filter(r#"outcome.result eq "SUCCESS" or target.id eq "nope""#)
            .expect("valid filter");
        assert!(!f.eval(&event()));
        let f = parse_filter(r#"eventType co "user.push""#).expect("valid filter");
        assert!(f.eval(&event()));
    }

    #[test]
    fn malformed_filters_are_rejected() {
        for bad in [
            r#"eventType eq"#,
            r#"(eventType eq "x""#,
            r#"foo eq "x""#,
            r#"eventType gt "x""#,
            r#"eventType eq "x" extra"#,
        ] {
            assert!(parse_filter(bad).is_err(), "{bad} should be rejected");
        }
    }
}
