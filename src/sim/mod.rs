//! okta-sim: an Okta-compatible simulated org served over real HTTP.
