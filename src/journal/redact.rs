//! Defense in depth against secrets in any output: reject strings that look like credentials
//! (the journal's last check), and the one redaction every output of org data goes through
//! (plan JSON and table, journal entries, log lines).

use serde_json::Value;

use super::error::JournalError;

/// Shortest run of token characters after `SSWS ` that counts as an API token.
const MIN_SSWS_TOKEN_LEN: usize = 20;

/// Length of an Okta API token (they start with `00`); Okta object ids are 20 characters.
const OKTA_TOKEN_LEN: usize = 42;

/// Reject `value` if any string in it (keys included) looks like an Okta SSWS API token or a PEM
/// private key. The error names the JSON path, never the string.
pub fn check_no_secrets(value: &Value) -> Result<(), JournalError> {
    walk(value, "$")
}

/// Replaces every string in `value` (keys excepted) that looks like a credential with a marker
/// naming what it looked like; returns how many were replaced. For data that comes from the org
/// (profile values, event messages, API error texts): such a string must neither reach the
/// journal nor make the entry that carries it impossible to write.
pub fn redact_secrets(value: &mut Value) -> usize {
    match value {
        Value::String(text) => match secret_pattern(text) {
            Some(pattern) => {
                *text = format!("[redacted: looked like {pattern}]");
                1
            }
            None => 0,
        },
        Value::Array(items) => items.iter_mut().map(redact_secrets).sum(),
        Value::Object(map) => map.values_mut().map(redact_secrets).sum(),
        Value::Null | Value::Bool(_) | Value::Number(_) => 0,
    }
}

/// `value` with [`redact_secrets`] applied to every string of its JSON form (a plan before it
/// is shown, saved or journaled). A value whose JSON form does not read back is returned as is.
pub fn redacted<T: serde::Serialize + serde::de::DeserializeOwned>(value: T) -> T {
    let Ok(mut json) = serde_json::to_value(&value) else {
        return value;
    };
    if redact_secrets(&mut json) == 0 {
        return value;
    }
    serde_json::from_value(json).unwrap_or(value)
}

/// One text (a log line's detail) with [`redact_secrets`] applied.
pub fn redact_text(text: &str) -> String {
    let mut value = Value::String(text.to_owned());
    redact_secrets(&mut value);
    match value {
        Value::String(text) => text,
        _ => String::new(),
    }
}

/// `draft` with [`redact_secrets`] applied to its kind's data and its payload.
pub fn redact_draft(mut draft: super::EntryDraft) -> super::EntryDraft {
    redact_secrets(&mut draft.payload);
    let Ok(mut kind) = serde_json::to_value(&draft.kind) else {
        return draft;
    };
    if redact_secrets(&mut kind) > 0 {
        if let Ok(redacted) = serde_json::from_value(kind) {
            draft.kind = redacted;
        }
    }
    draft
}

fn walk(value: &Value, path: &str) -> Result<(), JournalError> {
    match value {
        Value::String(text) => check_str(text, path),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, item)| walk(item, &format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().try_for_each(|(key, item)| {
            let path = format!("{path}.{key}");
            check_str(key, &path)?;
            walk(item, &path)
        }),
        Value::Null | Value::Bool(_) | Value::Number(_) => Ok(()),
    }
}

fn check_str(text: &str, path: &str) -> Result<(), JournalError> {
    let pattern = secret_pattern(text);
    match pattern {
        Some(pattern) => Err(JournalError::SecretInEntry {
            path: path.to_owned(),
            pattern,
        }),
        None => Ok(()),
    }
}

/// Which kind of secret `text` seems to contain, if any.
fn secret_pattern(text: &str) -> Option<&'static str> {
    if text.contains("-----BEGIN") && text.contains("PRIVATE KEY") {
        return Some("a PEM private key");
    }
    if has_ssws_token(text) {
        return Some("an SSWS API token");
    }
    if text
        .split(|c: char| !is_token_char(c))
        .any(is_bare_okta_token)
    {
        return Some("an Okta API token");
    }
    None
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

fn has_ssws_token(text: &str) -> bool {
    text.match_indices("SSWS").any(|(at, marker)| {
        let rest = text[at + marker.len()..].trim_start();
        rest.chars().take_while(|c| is_token_char(*c)).count() >= MIN_SSWS_TOKEN_LEN
    })
}

fn is_bare_okta_token(word: &str) -> bool {
    word.len() == OKTA_TOKEN_LEN && word.starts_with("00")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn redaction_replaces_what_the_check_rejects_and_nothing_else() {
        let mut value = json!({
            "title": FAKE_TOKEN,
            "list": ["fine", format!("Bearer SSWS {FAKE_TOKEN}")],
            "n": 3,
        });
        assert!(check_no_secrets(&value).is_err());
        assert_eq!(redact_secrets(&mut value), 2);
        assert!(check_no_secrets(&value).is_ok());
        assert_eq!(value["list"][0], "fine");
        assert!(!value.to_string().contains(FAKE_TOKEN));
        let draft = crate::journal::EntryDraft::new(
            "run",
            crate::journal::EntryKind::Note {
                text: FAKE_TOKEN.to_owned(),
            },
        );
        let redacted = redact_draft(draft);
        let crate::journal::EntryKind::Note { text } = &redacted.kind else {
            panic!("still a note");
        };
        assert!(text.starts_with("[redacted"), "{text}");
    }

    const FAKE_TOKEN: &str = "00abcdefghijABCDEFGHIJ0123456789-_klmnopqr";

    #[test]
    fn ssws_header_is_rejected_with_its_path_and_without_the_token() {
        let value = json!({"request": {"headers": [format!("Authorization: SSWS {FAKE_TOKEN}")]}});
        let err = check_no_secrets(&value).expect_err("token must be rejected");
        let message = err.to_string();
        assert!(message.contains("$.request.headers[0]"), "{message}");
        assert!(message.contains("SSWS API token"), "{message}");
        assert!(!message.contains(FAKE_TOKEN), "{message}");
    }

    #[test]
    fn bare_token_and_pem_key_are_rejected() {
        assert_eq!(FAKE_TOKEN.len(), OKTA_TOKEN_LEN);
        assert!(check_no_secrets(&json!({"t": FAKE_TOKEN})).is_err());
        let pem = "-----BEGIN PRIVATE KEY-----\nMIIEv...\n-----END PRIVATE KEY-----";
        assert!(check_no_secrets(&json!([1, {"key": pem}])).is_err());
        let rsa = "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n";
        assert!(check_no_secrets(&json!(rsa)).is_err());
        assert!(
            check_no_secrets(&json!({ FAKE_TOKEN: 1 })).is_err(),
            "keys are checked too"
        );
    }

    #[test]
    fn ordinary_values_pass() {
        let value = json!({
            "app_id": "0oa1b2c3d4e5f6g7h8i9",
            "user_id": "00u1b2c3d4e5f6g7h8i9",
            "note": "SSWS token rotated by the admin",
            "cert": "-----BEGIN CERTIFICATE-----",
            "n": 3, "ok": true, "none": null
        });
        check_no_secrets(&value).expect("no secrets here");
    }
}
