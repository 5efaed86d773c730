//! Configuration errors located in their file, shared by the policy files, the daemon's
//! configuration and okta.yaml: each renders as `file:line:column: field: problem`. A problem
//! never holds a secret value, and what is shown is bounded.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// Longest problem text shown, in characters (longer ones end with `…`).
pub const MAX_PROBLEM_CHARS: usize = 500;
/// Longest dotted field path shown, in characters (longer ones end with `…`).
pub const MAX_FIELD_CHARS: usize = 200;
/// Most parts of a dotted field path recovered from the source (`a.b.c` has 3); a deeper key
/// is cut there and ends with `…`.
pub const MAX_FIELD_PARTS: usize = 16;
/// Most problems shown of one set; the rest are counted.
pub const MAX_SHOWN: usize = 100;
/// Most problems kept for one file; past it one last problem says the file has more. Bounds
/// the work spent locating problems in a hostile file (each needs its line and column).
pub const MAX_PROBLEMS_PER_FILE: usize = 1_000;

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
        LineIndex::new(source).position(source, offset)
    }
}

/// Where each line of a text starts, so that many positions in one text cost one pass over it
/// plus, for each, a search among the lines and a count of its line's characters.
#[derive(Debug, Clone)]
pub(crate) struct LineIndex {
    /// Byte offset of the start of each line; the first is 0.
    starts: Vec<usize>,
}

impl LineIndex {
    pub(crate) fn new(source: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(source.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    /// The position of byte `offset` of `source` (the text this index was built from), clamped
    /// to the end of the text.
    pub(crate) fn position(&self, source: &str, offset: usize) -> Position {
        let mut offset = offset.min(source.len());
        while !source.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|start| *start <= offset);
        let line_start = self.starts[line - 1];
        let column = source[line_start..offset].chars().count() + 1;
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
            problem: plain_message(&with_datetime_named(err.message(), source, err.span())),
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
            f.write_str(": ")?;
            write_bounded(f, &self.field, MAX_FIELD_CHARS)?;
        }
        f.write_str(": ")?;
        write_bounded(f, &self.problem, MAX_PROBLEM_CHARS)
    }
}

/// Writes at most `max` characters of `text`, then `…` if some were left out. Control
/// characters are written escaped (`\n`): a key or value from the file cannot start a line of
/// its own in the output.
fn write_bounded(f: &mut fmt::Formatter<'_>, text: &str, max: usize) -> fmt::Result {
    let shown = match text.char_indices().nth(max) {
        None => text,
        Some((end, _)) => &text[..end],
    };
    for part in shown.split_inclusive(char::is_control) {
        match part.chars().last() {
            Some(c) if c.is_control() => {
                f.write_str(&part[..part.len() - c.len_utf8()])?;
                write!(f, "{}", c.escape_debug())?;
            }
            _ => f.write_str(part)?,
        }
    }
    if shown.len() < text.len() {
        f.write_str("…")?;
    }
    Ok(())
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

/// Collects the problems of one file, turning byte spans into positions; keeps at most
/// [`MAX_PROBLEMS_PER_FILE`] of them.
pub(crate) struct FileErrors<'a> {
    file: &'a Path,
    source: &'a str,
    lines: &'a LineIndex,
    errors: &'a mut Vec<Diagnostic>,
    /// Problems recorded for this file so far (kept or not), shared by every collector of it.
    count: &'a mut usize,
}

impl<'a> FileErrors<'a> {
    /// A collector for `source`, the text of `file`, indexed by `lines`, adding to `errors`;
    /// `count` counts the file's problems across collectors (start it at 0 for each file).
    pub(crate) fn new(
        file: &'a Path,
        source: &'a str,
        lines: &'a LineIndex,
        errors: &'a mut Vec<Diagnostic>,
        count: &'a mut usize,
    ) -> Self {
        FileErrors {
            file,
            source,
            lines,
            errors,
            count,
        }
    }

    /// The file's name, as given.
    pub(crate) fn file(&self) -> &'a Path {
        self.file
    }

    /// The position of byte `offset` of the file.
    pub(crate) fn position(&self, offset: usize) -> Position {
        self.lines.position(self.source, offset)
    }

    /// Records a problem at the start of `span`.
    pub(crate) fn at(&mut self, span: Range<usize>, field: &str, problem: impl Into<String>) {
        *self.count += 1;
        if *self.count > MAX_PROBLEMS_PER_FILE {
            if *self.count == MAX_PROBLEMS_PER_FILE + 1 {
                let problem = format!(
                    "more than {MAX_PROBLEMS_PER_FILE} problems: only the first \
                     {MAX_PROBLEMS_PER_FILE} are kept"
                );
                self.errors
                    .push(Diagnostic::whole_file(self.file, "", problem));
            }
            return;
        }
        self.errors.push(Diagnostic {
            position: Some(self.position(span.start)),
            ..Diagnostic::whole_file(self.file, field, problem)
        });
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

/// serde sees a TOML datetime as a map: a datetime written where a string belongs reads
/// "invalid type: map". Names it a datetime when the source at `span` is one.
fn with_datetime_named(message: &str, source: &str, span: Option<Range<usize>>) -> String {
    const MAP: &str = "invalid type: map";
    let found = span.and_then(|s| source.get(s)).map(str::trim);
    match found {
        Some(text) if message.contains(MAP) && text.parse::<toml::value::Datetime>().is_ok() => {
            message.replacen(MAP, &format!("invalid type: datetime {text}"), 1)
        }
        _ => message.to_owned(),
    }
}

/// toml's message on one line, with serde's Rust type names in words.
fn plain_message(message: &str) -> String {
    const WORDS: [(&str, &str); 6] = [
        ("invalid type: map", "invalid type: table"),
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
/// its array). At most [`MAX_FIELD_PARTS`] parts of each are kept.
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
    let arrays: Vec<String> = above.iter().filter_map(|l| array_header_name(l)).collect();
    let parts: Vec<&str> = header.split('.').collect();
    let mut out = String::new();
    for (n, part) in parts.iter().enumerate() {
        if n > 0 {
            out.push('.');
        }
        out.push_str(part);
        let prefix = parts[..=n].join(".");
        let count = arrays.iter().filter(|a| **a == prefix).count();
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

/// Removes blanks around dots and the quotes of quoted keys; keeps at most
/// [`MAX_FIELD_PARTS`] parts (then `…`).
fn normalize_key(key: &str) -> String {
    let mut parts: Vec<&str> = key
        .split('.')
        .take(MAX_FIELD_PARTS + 1)
        .map(|p| p.trim().trim_matches('"').trim_matches('\''))
        .collect();
    if parts.len() > MAX_FIELD_PARTS {
        parts[MAX_FIELD_PARTS] = "…";
    }
    parts.join(".")
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

    #[test]
    fn fields_are_cut_to_their_bound_in_parts_and_characters() {
        let deep = vec!["a"; 400_000].join(".");
        let src = format!("{deep} = 1\n");
        let field = field_path_at(&src, 0);
        assert_eq!(field, format!("{}.…", vec!["a"; MAX_FIELD_PARTS].join(".")));
        let src = format!("[{deep}]\n");
        assert_eq!(
            field_path_at(&src, 1),
            field,
            "a header is cut the same way"
        );
        let long = "k".repeat(1_000);
        let d = Diagnostic::whole_file(Path::new("a.toml"), &long, "p");
        let shown = d.to_string();
        assert_eq!(
            shown,
            format!("a.toml: {}…: p", "k".repeat(MAX_FIELD_CHARS))
        );
    }

    #[test]
    fn a_line_index_gives_the_positions_a_scan_would() {
        let src = "ab\ncdé\n\nlast";
        let index = LineIndex::new(src);
        for offset in 0..=src.len() + 2 {
            let mut o = offset.min(src.len());
            while !src.is_char_boundary(o) {
                o -= 1;
            }
            let before = &src[..o];
            let line = before.matches('\n').count() + 1;
            let start = before.rfind('\n').map_or(0, |i| i + 1);
            let expected = Position {
                line,
                column: before[start..].chars().count() + 1,
            };
            assert_eq!(index.position(src, offset), expected, "offset {offset}");
        }
    }

    #[test]
    fn a_datetime_where_a_string_belongs_is_named_a_datetime() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct T {
            s: String,
        }
        let src = "s = 1979-05-27T07:32:00Z\n";
        let err = toml::from_str::<T>(src).expect_err("not a string");
        let d = Diagnostic::from_toml(Path::new("t.toml"), src, &err);
        assert_eq!(
            d.to_string(),
            "t.toml:1:5: s: invalid type: datetime 1979-05-27T07:32:00Z, expected a string"
        );
        let src = "s = { a = 1 }\n";
        let err = toml::from_str::<T>(src).expect_err("not a string");
        let d = Diagnostic::from_toml(Path::new("t.toml"), src, &err);
        assert_eq!(
            d.to_string(),
            "t.toml:1:5: s: invalid type: table, expected a string"
        );
    }

    #[test]
    fn problems_past_the_bound_of_one_file_are_counted_once() {
        let src = "x\n".repeat(10);
        let lines = LineIndex::new(&src);
        let mut errors = Vec::new();
        let mut count = 0;
        let mut e = FileErrors::new(Path::new("f.toml"), &src, &lines, &mut errors, &mut count);
        for _ in 0..MAX_PROBLEMS_PER_FILE + 50 {
            e.at(2..3, "x", "bad");
        }
        assert_eq!(errors.len(), MAX_PROBLEMS_PER_FILE + 1);
        assert_eq!(errors[0].to_string(), "f.toml:2:1: x: bad");
        assert_eq!(
            errors[MAX_PROBLEMS_PER_FILE].to_string(),
            format!(
                "f.toml: more than {MAX_PROBLEMS_PER_FILE} problems: only the first \
                 {MAX_PROBLEMS_PER_FILE} are kept"
            )
        );
    }

    #[test]
    fn control_characters_from_the_file_are_shown_escaped() {
        let d = Diagnostic::whole_file(Path::new("a.toml"), "apps.a\nb", "unknown `x\ry`\u{7}");
        assert_eq!(d.to_string(), "a.toml: apps.a\\nb: unknown `x\\ry`\\u{7}");
    }
}
