//! Configuration errors located in their file, shared by the policy files, the daemon's
//! configuration and okta.yaml: each renders as `file:line:column: field: problem`. A problem
//! never holds a secret value, and what is shown is bounded.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// Longest problem text shown, in characters (longer ones end with `…`).
pub const MAX_PROBLEM_CHARS: usize = 500;
/// Most problems shown of one set; the rest are counted.
pub const MAX_SHOWN: usize = 100;

/// A line and column in a file, both counted from 1.
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

/// One problem found in a configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file the problem is in (as named when loading).
    pub file: PathBuf,
    /// Where in the file, when known.
    pub position: Option<Position>,
    /// The dotted field path, e.g. `retry_provisioning.max_attempts` or `orgs[1].url` (empty
    /// when the problem is the whole file).
    pub field: String,
    /// What was found and what was expected. Never contains a credential value.
    pub problem: String,
}

impl Diagnostic {
    /// A problem with the whole of `file` (unreadable, empty, ...).
    pub(crate) fn whole_file(file: &Path, field: &str, problem: impl Into<String>) -> Self {
        Diagnostic {
            file: file.to_path_buf(),
            position: None,
            field: field.to_owned(),
            problem: problem.into(),
        }
    }

    /// A problem at byte `offset` of `source`, the text of `file`.
    pub(crate) fn at(
        file: &Path,
        source: &str,
        offset: usize,
        field: &str,
        problem: impl Into<String>,
    ) -> Self {
        Diagnostic {
            file: file.to_path_buf(),
            position: Some(Position::of_offset(source, offset)),
            field: field.to_owned(),
            problem: problem.into(),
        }
    }

    /// A `toml` parse or deserialize error, with the dotted field path recovered from the
    /// source around its span. Only the message is kept: toml's own `Display` quotes the
    /// source line, which could hold a secret.
    pub(crate) fn from_toml(file: &Path, source: &str, err: &toml::de::Error) -> Self {
        let offset = err.span().map_or(0, |s| s.start);
        Diagnostic {
            file: file.to_path_buf(),
            position: err.span().map(|s| Position::of_offset(source, s.start)),
            field: field_path_at(source, offset),
            problem: plain_message(err.message()),
        }
    }

    /// The same problem with every double-quoted value serde quoted (`invalid type: string
    /// "..."`) replaced by `"…"`: for files where any value could be a misplaced secret.
    pub(crate) fn without_quoted_values(mut self) -> Self {
        self.problem = without_quoted_values(&self.problem);
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(p) = self.position {
            write!(f, ":{}:{}", p.line, p.column)?;
        }
        if !self.field.is_empty() {
            write!(f, ": {}", self.field)?;
        }
        f.write_str(": ")?;
        let mut chars = self.problem.chars();
        let shown: String = chars.by_ref().take(MAX_PROBLEM_CHARS).collect();
        f.write_str(&shown)?;
        if chars.next().is_some() {
            f.write_str("…")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostic {}

/// Every problem found while loading a set of files (never empty), in file then position
/// order. Shows at most [`MAX_SHOWN`] of them, one a line, and counts the rest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// The individual problems.
    pub fn errors(&self) -> &[Diagnostic] {
        &self.0
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().take(MAX_SHOWN).enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        if self.0.len() > MAX_SHOWN {
            write!(f, "\n… and {} more problems", self.0.len() - MAX_SHOWN)?;
        }
        Ok(())
    }
}

/// Collects the problems of one file, turning byte spans into positions.
pub(crate) struct FileErrors<'a> {
    pub(crate) file: &'a Path,
    pub(crate) source: &'a str,
    pub(crate) errors: &'a mut Vec<Diagnostic>,
}

impl FileErrors<'_> {
    /// Records a problem at the start of `span`.
    pub(crate) fn at(&mut self, span: Range<usize>, field: &str, problem: impl Into<String>) {
        let d = Diagnostic::at(self.file, self.source, span.start, field, problem);
        self.errors.push(d);
    }
}

/// serde quotes the values it rejects (`invalid type: string "..."`); drop them.
fn without_quoted_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut in_quotes = false;
    for c in message.chars() {
        match (c, in_quotes) {
            ('"', false) => {
                in_quotes = true;
                out.push_str("\"…");
            }
            ('"', true) => {
                in_quotes = false;
                out.push('"');
            }
            (_, true) => {}
            (c, false) => out.push(c),
        }
    }
    out
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

/// Best-effort dotted path of the key at `offset`: the nearest table header above it (with the
/// index of each array of tables it is in, `orgs[1].credentials`), plus the nearest
/// `key = ...` line at or above the offset's line (so an element of a multi-line array names
/// its array).
pub(crate) fn field_path_at(source: &str, offset: usize) -> String {
    let Position { line, .. } = Position::of_offset(source, offset);
    let lines: Vec<&str> = source.lines().take(line).collect();
    let mut key = None;
    for (i, l) in lines.iter().enumerate().rev() {
        if let Some(header) = header_name(l) {
            let header = with_array_indices(&header, &lines[..=i]);
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

/// `header` with the index of each array of tables it is in, counting the `[[...]]` headers of
/// `above` (the lines up to and including the header's): the `[orgs.credentials]` under the
/// second `[[orgs]]` is `orgs[1].credentials`.
fn with_array_indices(header: &str, above: &[&str]) -> String {
    let parts: Vec<&str> = header.split('.').collect();
    let mut out = String::new();
    for (n, part) in parts.iter().enumerate() {
        if n > 0 {
            out.push('.');
        }
        out.push_str(part);
        let prefix = parts[..=n].join(".");
        let count = above
            .iter()
            .filter(|l| array_header_name(l).as_deref() == Some(prefix.as_str()))
            .count();
        if let Some(index) = count.checked_sub(1) {
            out.push_str(&format!("[{index}]"));
        }
    }
    out
}

/// The dotted name of an `[[array]]` header line, if `line` is one.
fn array_header_name(line: &str) -> Option<String> {
    let inner = line.trim().strip_prefix("[[")?;
    let end = inner.find("]]")?;
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

    #[test]
    fn field_path_numbers_arrays_of_tables() {
        let src = "[[orgs]]\nname = \"a\"\n[[orgs]]\nname = \"b\"\n[orgs.credentials]\nx = 1\n";
        assert_eq!(
            field_path_at(src, src.rfind("name").unwrap()),
            "orgs[1].name"
        );
        assert_eq!(
            field_path_at(src, src.find("name").unwrap()),
            "orgs[0].name"
        );
        assert_eq!(
            field_path_at(src, src.find("x =").unwrap()),
            "orgs[1].credentials.x"
        );
    }

    #[test]
    fn display_is_located_and_bounded() {
        let d = Diagnostic::at(
            Path::new("a.toml"),
            "x = 1\ny = 2\n",
            6,
            "y",
            "p".repeat(900),
        );
        let shown = d.to_string();
        assert!(shown.starts_with("a.toml:2:1: y: ppp"), "{shown}");
        assert_eq!(
            shown.chars().count(),
            "a.toml:2:1: y: ".len() + MAX_PROBLEM_CHARS + 1
        );
        let many = Diagnostics(vec![d; MAX_SHOWN + 3]);
        let text = many.to_string();
        assert_eq!(text.lines().count(), MAX_SHOWN + 1);
        assert!(text.ends_with("… and 3 more problems"), "{text}");
    }

    #[test]
    fn quoted_values_can_be_dropped() {
        let d = Diagnostic::whole_file(
            Path::new("c.toml"),
            "",
            "invalid type: string \"00SECRET\", expected a table",
        );
        let shown = d.without_quoted_values().to_string();
        assert_eq!(
            shown,
            "c.toml: invalid type: string \"…\", expected a table"
        );
    }
}
