//! Reading a configuration file without being hurt by it: only a regular file (a symbolic
//! link to one is followed) under a size cap is read; anything else (a FIFO, a device, a
//! directory, a broken or looping link) is refused from its metadata alone, never opened, so
//! a FIFO without a writer or `/dev/zero` cannot block or fill memory.

use std::fs::{File, Metadata};
use std::io::Read;
use std::path::Path;

use super::{Diagnostic, Position};

/// The text of the configuration file `path`: a regular file (or a link to one) of at most
/// `max_bytes`, in UTF-8. Its type and size are checked from its metadata before it is opened
/// (a FIFO or a device is never opened), and again on the open file.
pub(crate) fn read_regular_file(path: &Path, max_bytes: u64) -> Result<String, Diagnostic> {
    let refuse = |problem: String| Diagnostic::whole_file(path, "", problem);
    let link = std::fs::symlink_metadata(path)
        .map_err(|e| refuse(format!("expected a readable file, found: {e}")))?;
    let meta = if link.file_type().is_symlink() {
        std::fs::metadata(path).map_err(|e| {
            refuse(format!(
                "expected a regular file, found a symbolic link that cannot be followed: {e}"
            ))
        })?
    } else {
        link
    };
    check(&meta, max_bytes).map_err(refuse)?;
    let file = open(path).map_err(|e| refuse(format!("expected a readable file, found: {e}")))?;
    let meta = file
        .metadata()
        .map_err(|e| refuse(format!("expected a readable file, found: {e}")))?;
    check(&meta, max_bytes).map_err(refuse)?;
    let mut bytes = Vec::new();
    file.take(max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| refuse(format!("expected a readable file, found: {e}")))?;
    if bytes.len() as u64 > max_bytes {
        return Err(refuse(too_large(max_bytes)));
    }
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let text = std::str::from_utf8(valid).expect("the bytes up to valid_up_to are UTF-8");
        Diagnostic {
            position: Some(Position::of_offset(text, text.len())),
            ..refuse("expected UTF-8 text, found a byte that is not UTF-8".into())
        }
    })
}

/// Refuses what is not a regular file, or is too large.
fn check(meta: &Metadata, max_bytes: u64) -> Result<(), String> {
    if !meta.is_file() {
        return Err(format!(
            "expected a regular file, found {}",
            file_kind(meta)
        ));
    }
    if meta.len() > max_bytes {
        return Err(too_large(max_bytes));
    }
    Ok(())
}

fn too_large(max_bytes: u64) -> String {
    let kib = max_bytes / 1024;
    format!("expected a file of at most {kib} KiB, found a larger one")
}

/// Opens a file known to be regular. Without blocking where the platform allows: should it be
/// replaced by a FIFO meanwhile, opening does not wait for a writer (the type is checked again
/// on the open file).
fn open(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    options.open(path)
}

/// What a file system object is, in words.
pub(crate) fn file_kind(meta: &Metadata) -> &'static str {
    let t = meta.file_type();
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_dir() {
        "a directory"
    } else if t.is_symlink() {
        "a symbolic link"
    } else if t.is_file() {
        "a regular file"
    } else {
        "something that is not a regular file"
    }
}
