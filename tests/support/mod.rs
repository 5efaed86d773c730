//! Shared helpers for integration tests; each test binary includes this with `mod support;`.

// Not every test binary uses every helper, so unused items are expected here.
#[allow(dead_code)]
pub mod openapi;
