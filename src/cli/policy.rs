//! `remediator policy validate [DIR] [-o json]`.

use std::path::Path;

use remediator::config::Diagnostic;

use super::args::OutputFormat;
use super::exit;
use super::out::outln;

pub fn validate(dir: &Path, output: OutputFormat) -> anyhow::Result<u8> {
    let loaded = remediator::policy::Policy::load_dir(dir);
    if output == OutputFormat::Json {
        let (notes, errors) = match &loaded {
            Ok(policy) => (policy.notes.clone(), Vec::new()),
            Err(errors) => (Vec::new(), errors.errors().iter().map(error_json).collect()),
        };
        let report = serde_json::json!({
            "dir": dir.display().to_string(),
            "valid": loaded.is_ok(),
            "notes": notes,
            "errors": errors,
        });
        outln!("{}", serde_json::to_string_pretty(&report)?)?;
        return Ok(if loaded.is_ok() {
            exit::OK
        } else {
            exit::ERROR
        });
    }
    match loaded {
        Ok(policy) => {
            for note in &policy.notes {
                outln!("note: {note}")?;
            }
            outln!("{}: policy is valid", dir.display())?;
            Ok(exit::OK)
        }
        Err(errors) => {
            eprintln!("{errors}");
            eprintln!("{}: {} error(s)", dir.display(), errors.errors().len());
            Ok(exit::ERROR)
        }
    }
}

/// One problem: its file, line and column (when known), field and what is wrong.
fn error_json(error: &Diagnostic) -> serde_json::Value {
    serde_json::json!({
        "file": error.file.display().to_string(),
        "line": error.position.as_ref().map(|p| p.line),
        "column": error.position.as_ref().map(|p| p.column),
        "field": error.field,
        "problem": error.problem,
    })
}
