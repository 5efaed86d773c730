//! The policy directory: which of its entries are policy files, each read only when it is a
//! regular file under [`MAX_POLICY_FILE_BYTES`]; anything else named `*.toml` (a FIFO, a
//! device, a directory, a broken or looping link) is refused without being opened.

use std::path::{Path, PathBuf};

use super::PolicyError;
use crate::config::file_kind;

/// The policy file extension.
const POLICY_EXTENSION: &str = "toml";

/// Largest policy file read, in bytes (1 MiB): policy files are a few kilobytes; a larger one
/// is refused unread.
pub const MAX_POLICY_FILE_BYTES: u64 = 1024 * 1024;

/// Most `*.toml` files read from one policy directory.
pub const MAX_POLICY_FILES: usize = 1_000;

/// The `*.toml` entries of `dir`, sorted by name, skipping names that start with `.` (editor
/// lock files such as `.#retry.toml`, Kubernetes' `..data`). Each is checked by [`read`].
pub(crate) fn list(dir: &Path) -> Result<Vec<PathBuf>, PolicyError> {
    let refuse = |problem: String| PolicyError::whole_file(dir, "", problem);
    let meta = std::fs::metadata(dir)
        .map_err(|e| refuse(format!("expected a readable policy directory, found: {e}")))?;
    if !meta.is_dir() {
        return Err(refuse(format!(
            "expected a policy directory, found {}",
            file_kind(&meta)
        )));
    }
    let entries = std::fs::read_dir(dir)
        .map_err(|e| refuse(format!("expected a readable policy directory, found: {e}")))?;
    let mut paths = Vec::new();
    for entry in entries {
        let entry =
            entry.map_err(|e| refuse(format!("expected a readable policy directory: {e}")))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let policy_file = !name.starts_with('.')
            && Path::new(&*name)
                .extension()
                .is_some_and(|x| x == POLICY_EXTENSION);
        if !policy_file {
            continue;
        }
        if paths.len() == MAX_POLICY_FILES {
            return Err(refuse(format!(
                "expected at most {MAX_POLICY_FILES} *.toml policy files, found more"
            )));
        }
        paths.push(entry.path());
    }
    paths.sort();
    if paths.is_empty() {
        return Err(refuse(
            "expected at least one *.toml policy file, found none".into(),
        ));
    }
    Ok(paths)
}

/// The text of the policy file `path`: a regular file (or a link to one) of at most
/// [`MAX_POLICY_FILE_BYTES`], in UTF-8, checked before it is opened.
pub(crate) fn read(path: &Path) -> Result<String, PolicyError> {
    crate::config::read_regular_file(path, MAX_POLICY_FILE_BYTES)
}
