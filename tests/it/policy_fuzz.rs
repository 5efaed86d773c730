//! The `policy_parser` fuzz target (fuzz/fuzz_targets/policy_parser.rs) as plain tests, for
//! machines without a nightly toolchain: its `check` over the seed corpus, over every input
//! that once broke a property (the regressions, kept forever), and over a bounded run of
//! inputs from a seeded random generator. `POLICY_FUZZ_INPUTS` and `POLICY_FUZZ_SEED` make
//! the run longer or different (docs/policy.md, "Fuzzing").

#[path = "../../fuzz/fuzz_targets/policy_parser.rs"]
mod target;

use std::path::Path;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const CORPUS: &str = "fuzz/corpus/policy_parser";
const REGRESSIONS: &str = "fuzz/regressions/policy_parser";
/// Inputs of the default random run: enough to reach every generator branch many times, few
/// enough for `cargo test` to stay quick.
const RANDOM_INPUTS: usize = 3_000;
/// Longest random input, in bytes.
const MAX_INPUT_BYTES: usize = 2_048;
const DEFAULT_SEED: u64 = 0x5eed_0f90_11c7;

fn each_file_of(dir: &str) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("entry").path();
        let data = std::fs::read(&path).expect("readable input");
        let outcome = std::panic::catch_unwind(|| target::check(&data));
        assert!(outcome.is_ok(), "{} breaks a property", path.display());
        n += 1;
    }
    n
}

#[test]
fn the_seed_corpus_holds() {
    assert!(each_file_of(CORPUS) >= 8, "the corpus lost its seeds");
}

#[test]
fn every_input_that_once_broke_a_property_holds() {
    assert!(each_file_of(REGRESSIONS) >= 1);
}

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .map(|v| v.parse().unwrap_or_else(|e| panic!("{name}={v:?}: {e}")))
        .unwrap_or(default)
}

#[test]
fn seeded_random_inputs_hold() {
    let seed = setting("POLICY_FUZZ_SEED", DEFAULT_SEED);
    let inputs = setting("POLICY_FUZZ_INPUTS", RANDOM_INPUTS as u64);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut valid = 0;
    for n in 0..inputs {
        let len = rng.gen_range(0..=MAX_INPUT_BYTES);
        let mut data = vec![0u8; len];
        rng.fill(&mut data[..]);
        let outcome = std::panic::catch_unwind(|| target::check(&data));
        valid += outcome.as_ref().map_or(0, |v| *v as u64);
        if outcome.is_err() {
            let kept = std::env::temp_dir().join(format!("policy-fuzz-{seed}-{n}"));
            let _ = std::fs::write(&kept, &data);
            panic!(
                "input {n} of seed {seed} breaks a property; kept in {} (copy it to {REGRESSIONS})",
                kept.display()
            );
        }
    }
    // The generator is what reaches validation: if it stops writing valid policies, the run
    // only exercises the TOML parser.
    assert!(
        valid * 10 >= inputs,
        "only {valid} of {inputs} inputs made a valid policy"
    );
}
