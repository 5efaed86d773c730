//! System Log event bodies: the LogEvent fields okta-sim fills in, actors, transactions and
//! the display messages of provisioning events.

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use super::model::{event_ts, Actor};

/// The `displayMessage` Okta gives a provisioning event type.
pub(crate) fn display_message_of(event_type: &str) -> &'static str {
    match event_type {
        "application.provision.user.push" => "Push new user to external application",
        "application.provision.user.push_profile" => "Push user's profile to external application",
        "application.provision.user.sync" => "Sync user in external application",
        "application.provision.user.deactivate" => "Deactivate user in external application",
        _ => "Provision user in external application",
    }
}

/// Whether the scenario's own events already describe this app user (both ids among the targets).
pub(crate) fn has_own_event(events: &[Value], app_id: &str, user_id: &str) -> bool {
    events.iter().any(|e| {
        let ids: Vec<&str> = e
            .get("target")
            .and_then(Value::as_array)
            .map(|ts| ts.iter().filter_map(|t| t.get("id")?.as_str()).collect())
            .unwrap_or_default();
        ids.contains(&app_id) && ids.contains(&user_id)
    })
}

pub(crate) fn actor_json(a: &Actor) -> Value {
    json!({ "id": a.id, "type": a.kind, "alternateId": a.alternate_id, "displayName": a.display_name })
}

pub(crate) fn transaction_json(a: &Actor, kind: &str) -> Value {
    let mut detail = Map::new();
    if let Some(t) = &a.api_token_id {
        detail.insert("requestApiTokenId".into(), json!(t));
    }
    let id = match (&a.request_id, kind) {
        (Some(r), "WEB") => r.clone(),
        _ => uuid::Uuid::new_v4().simple().to_string(),
    };
    json!({ "type": kind, "id": id, "detail": detail })
}

/// Fills the LogEvent fields a scenario or a write may leave out.
pub(crate) fn complete_event(body: &mut Value, published: DateTime<Utc>) {
    let Some(obj) = body.as_object_mut() else {
        return;
    };
    obj.insert("published".into(), json!(event_ts(published)));
    obj.entry("uuid")
        .or_insert_with(|| json!(uuid::Uuid::new_v4().to_string()));
    obj.entry("version").or_insert_with(|| json!("0"));
    obj.entry("severity").or_insert_with(|| json!("INFO"));
    obj.entry("outcome")
        .or_insert_with(|| json!({ "result": "SUCCESS" }));
    obj.entry("actor")
        .or_insert_with(|| actor_json(&Actor::system()));
    obj.entry("target").or_insert_with(|| json!([]));
    obj.entry("client").or_insert_with(
        || json!({ "device": "Unknown", "ipAddress": "127.0.0.1", "zone": "null" }),
    );
    obj.entry("request")
        .or_insert_with(|| json!({ "ipChain": [] }));
    obj.entry("authenticationContext")
        .or_insert_with(|| json!({ "authenticationStep": 0, "externalSessionId": "unknown" }));
    obj.entry("securityContext").or_insert_with(|| json!({}));
    obj.entry("debugContext")
        .or_insert_with(|| json!({ "debugData": {} }));
    obj.entry("transaction").or_insert_with(
        || json!({ "type": "JOB", "id": uuid::Uuid::new_v4().simple().to_string(), "detail": {} }),
    );
    // Okta sends `outcome.reason: null` when there is no reason (as on the KPASSWD pattern's
    // `application.provision.user.sync` failure); it is never left out.
    if let Some(outcome) = obj.get_mut("outcome").and_then(Value::as_object_mut) {
        outcome.entry("reason").or_insert(Value::Null);
    }
}
