//! Policy validation errors: each names the file, the line and column, the dotted field path,
//! and what was expected.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// A line and column in a policy file, both counted from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// Line number, from 1.
    pub line: usize,
    /// Column number in characters, from 1.
    pub column: usize,
}

impl Position {
    /// The position of byte `offset` in `source` (clamped to the end of the text).
    pub(crate) fn of_offset(source: &str, offset: usize) -> Self {
        let mut offset = offset.min(source.len());
        while !source.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &source[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        Position { line, column }
    }
}

/// One problem found in the policy files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    /// The file the problem is in (as named when loading).
    pub file: PathBuf,
    /// Where in the file, when known.
    pub position: Option<Position>,
    /// The dotted field path, e.g. `retry_provisioning.max_attempts` (empty when not applicable).
    pub field: String,
    /// What was found and what was expected. Never contains a credential value.
    pub problem: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(p) = self.position {
            write!(f, ":{}:{}", p.line, p.column)?;
        }
        if !self.field.is_empty() {
            write!(f, ": {}", self.field)?;
        }
        write!(f, ": {}", self.problem)
    }
}

impl std::error::Error for PolicyError {}

/// Every problem found while loading a policy set (never empty).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PolicyErrors(pub Vec<PolicyError>);

impl PolicyErrors {
    /// The individual errors, in file then position order.
    pub fn errors(&self) -> &[PolicyError] {
        &self.0
    }
}

impl fmt::Display for PolicyErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for e in &self.0 {
            if !first {
                writeln!(f)?;
            }
            first = false;
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// Collects errors for one file, turning byte spans into positions.
pub(crate) struct FileErrors<'a> {
    pub(crate) file: &'a Path,
    pub(crate) source: &'a str,
    pub(crate) errors: &'a mut Vec<PolicyError>,
}

impl FileErrors<'_> {
    /// Records a problem at the start of `span`.
    pub(crate) fn at(&mut self, span: Range<usize>, field: &str, problem: impl Into<String>) {
        self.errors.push(PolicyError {
            file: self.file.to_path_buf(),
            position: Some(Position::of_offset(self.source, span.start)),
            field: field.to_string(),
            problem: problem.into(),
        });
    }
}

/// Converts a `toml` parse or deserialize error into a [`PolicyError`], recovering the dotted
/// field path from the source around the span. Only the message is kept: toml's own `Display`
/// quotes the source line, which could hold a secret.
pub(crate) fn from_toml(file: &Path, source: &str, err: &toml::de::Error) -> PolicyError {
    let offset = err.span().map_or(0, |s| s.start);
    PolicyError {
        file: file.to_path_buf(),
        position: err.span().map(|s| Position::of_offset(source, s.start)),
        field: field_path_at(source, offset),
        problem: plain_message(err.message()),
    }
}

/// toml's message on one line, with serde's Rust type names in words.
fn plain_message(message: &str) -> String {
    const WORDS: [(&str, &str); 5] = [
        ("expected i64", "expected an integer"),
        ("expected f64", "expected a number"),
        ("expected a sequence", "expected an array"),
        ("expected struct ", "expected a table "),
        ("expected a map", "expected a table"),
    ];
    let mut text = message
        .trim()
        .lines()
        .map(str::trim)
        .collect::<Vec<_>>()
        .join("; ");
    for (from, to) in WORDS {
        text = text.replace(from, to);
    }
    text
}

/// Best-effort dotted path of the key at `offset`: the nearest table header above it, plus the
/// nearest `key = ...` line at or above the offset's line (so an element of a multi-line array
/// names its array).
pub(crate) fn field_path_at(source: &str, offset: usize) -> String {
    let Position { line, .. } = Position::of_offset(source, offset);
    let lines: Vec<&str> = source.lines().take(line).collect();
    let mut key = None;
    for l in lines.iter().rev() {
        if let Some(header) = header_name(l) {
            return match key {
                Some(k) => format!("{header}.{k}"),
                None => header,
            };
        }
        if key.is_none() {
            key = key_of_line(l);
        }
    }
    key.unwrap_or_default()
}

/// The key of a `key = value` line (bare, dotted or quoted key), if `line` is one.
fn key_of_line(line: &str) -> Option<String> {
    let (k, _) = line.split_once('=')?;
    let k = k.trim();
    let quoted = k.starts_with('"') || k.starts_with('\'');
    let bare = k
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ' '));
    (!k.is_empty() && (quoted || bare)).then(|| normalize_key(k))
}

/// The dotted name of a `[table]` or `[[array]]` header line, if `line` is one.
fn header_name(line: &str) -> Option<String> {
    let t = line.trim();
    let inner = t.strip_prefix('[')?;
    let inner = inner.trim_start_matches('[');
    let end = inner.find(']')?;
    Some(normalize_key(&inner[..end]))
}

/// Removes blanks around dots and the quotes of quoted keys.
fn normalize_key(key: &str) -> String {
    key.split('.')
        .map(|p| p.trim().trim_matches('"').trim_matches('\''))
        .collect::<Vec<_>>()
        .join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_and_chars_from_one() {
        let src = "a = 1\nbé = 2\n";
        assert_eq!(Position::of_offset(src, 0), Position { line: 1, column: 1 });
        let off = src.find('=').unwrap();
        assert_eq!(
            Position::of_offset(src, off),
            Position { line: 1, column: 3 }
        );
        let off = src.rfind('=').unwrap();
        assert_eq!(
            Position::of_offset(src, off),
            Position { line: 2, column: 4 }
        );
    }

    #[test]
    fn field_path_joins_header_and_key() {
        let src = "[safety]\nx = 1\n[retry_provisioning.backoff]\n  initial = \"5m\"\n";
        let off = src.find("initial").unwrap();
        assert_eq!(
            field_path_at(src, off),
            "retry_provisioning.backoff.initial"
        );
        let off = src.find("x =").unwrap();
        assert_eq!(field_path_at(src, off), "safety.x");
        let src = "[remove_push_mappings.apps.\"Acme SCIM\"]\ncredential = 3\n";
        let off = src.find("3").unwrap();
        assert_eq!(
            field_path_at(src, off),
            "remove_push_mappings.apps.Acme SCIM.credential"
        );
    }
}
