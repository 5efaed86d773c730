//! The chain's tail kept outside sled: a small file beside the database recording the last
//! entry written. sled recovers a damaged log (a truncated file, an edited byte) by silently
//! dropping everything from the damage on, database and recorded head alike, so a chain that
//! verifies may still have lost its end; this record is what shows it.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::journal::verify::Head;

/// The file, in the state directory, that records the last entry written.
pub(crate) const TAIL_FILE: &str = "remediator-tail.json";

pub(super) fn path(dir: &Path) -> PathBuf {
    dir.join(TAIL_FILE)
}

/// Records `head` as the last entry written: a temporary file, synced, renamed over the old
/// record, so a crash leaves the old record or the new one, never a torn one. A crash between
/// sled's flush and this leaves sled one entry ahead of the record, which is allowed.
pub(super) fn write(dir: &Path, head: &Head) -> std::io::Result<()> {
    let target = path(dir);
    let temporary = dir.join(format!("{TAIL_FILE}.tmp"));
    let bytes = serde_json::to_vec(head).map_err(std::io::Error::other)?;
    let mut file = std::fs::File::create(&temporary)?;
    file.write_all(&bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&temporary, &target)
}

/// The recorded last entry: `Ok(None)` when there is no record (a journal written before the
/// record existed), `Err(why)` when the record cannot be read.
pub(super) fn read(dir: &Path) -> Result<Option<Head>, String> {
    let target = path(dir);
    let bytes = match std::fs::read(&target) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(format!("{} cannot be read: {error}", target.display())),
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|error| format!("{} is not a tail record: {error}", target.display()))
}
