//! The client's list decoding under libFuzzer: arbitrary bytes become pages (Link header values
//! and bodies) fed to the page decoder and the paging trail (see `remediator::okta::fuzzing`).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| remediator::okta::fuzzing::listing(data));
