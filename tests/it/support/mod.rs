//! Shared set-up of the integration tests.
//!
//! Not every test module uses every helper.
#![allow(dead_code)]

pub mod act;
pub mod cli;
pub mod client;
pub mod daemon;
pub mod plan;
pub mod receiver;
pub mod sim;
