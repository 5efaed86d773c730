//! The fuzz target of the client's list decoding (`fuzz/fuzz_targets/listing.rs`) as plain
//! tests: every input of its corpus and every crash the fuzzer found (`fuzz/regressions`) runs
//! through `okta::fuzzing::listing`, and a bounded run mutates the corpus with a fixed seed, so
//! the target's invariants hold without a nightly toolchain. See docs/fuzzing.md.

use rand::{Rng, SeedableRng};
use remediator::okta::fuzzing::listing;
use std::path::Path;

/// Inputs a bounded mutation run tries (a few seconds).
const MUTATIONS: usize = 20_000;

fn inputs(dir: &str) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(Path::new(dir))
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_none_or(|e| e != "md"))
        .map(|path| {
            let bytes = std::fs::read(&path).expect("a corpus file");
            (path.display().to_string(), bytes)
        })
        .collect();
    files.sort();
    files
}

#[test]
fn the_fuzz_corpus_runs_clean() {
    let corpus = inputs("fuzz/corpus/listing");
    assert!(corpus.len() >= 10, "the seed corpus is there");
    for (name, bytes) in corpus {
        let outcome = std::panic::catch_unwind(|| listing(&bytes));
        assert!(outcome.is_ok(), "{name} broke an invariant");
    }
}

#[test]
fn every_crash_the_fuzzer_found_stays_fixed() {
    for (name, bytes) in inputs("fuzz/regressions/listing") {
        let outcome = std::panic::catch_unwind(|| listing(&bytes));
        assert!(outcome.is_ok(), "{name} fails again");
    }
}

#[test]
fn a_bounded_mutation_run_over_the_corpus_runs_clean() {
    let corpus: Vec<Vec<u8>> = inputs("fuzz/corpus/listing")
        .into_iter()
        .map(|(_, b)| b)
        .collect();
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x000c_1e47);
    for _ in 0..MUTATIONS {
        let mut input = corpus[rng.gen_range(0..corpus.len())].clone();
        for _ in 0..rng.gen_range(1..8) {
            if input.is_empty() {
                input.push(rng.gen());
                continue;
            }
            let at = rng.gen_range(0..input.len());
            match rng.gen_range(0..4) {
                0 => input[at] = rng.gen(),
                1 => input.insert(at, rng.gen()),
                2 => {
                    input.remove(at);
                }
                _ => {
                    let other = &corpus[rng.gen_range(0..corpus.len())];
                    let from = rng.gen_range(0..other.len());
                    let to = (from + rng.gen_range(1..64)).min(other.len());
                    input.splice(at..at, other[from..to].iter().copied());
                }
            }
        }
        let outcome = std::panic::catch_unwind(|| listing(&input));
        assert!(
            outcome.is_ok(),
            "an input broke an invariant; add it to fuzz/regressions/listing: {}",
            hex::encode(&input)
        );
    }
}
