//! `remediator policy validate [DIR]`.

use std::path::Path;

use super::exit;

pub fn validate(dir: &Path) -> anyhow::Result<u8> {
    match remediator::policy::Policy::load_dir(dir) {
        Ok(policy) => {
            for note in &policy.notes {
                println!("note: {note}");
            }
            println!("{}: policy is valid", dir.display());
            Ok(exit::OK)
        }
        Err(errors) => {
            eprintln!("{errors}");
            eprintln!("{}: {} error(s)", dir.display(), errors.errors().len());
            Ok(exit::ERROR)
        }
    }
}
