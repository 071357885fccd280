//! A Rust implementation of Go's `text/template` with the gomplate 3.11 function
//! library, faithful enough to render deployKF generators exactly as the Go
//! `deploykf` CLI does.
//!
//! The engine knows nothing about files: callers add named templates
//! ([`Engine::add_template`]) and supply a [`Host`] for the few functions that
//! touch the outside world (`getenv`, `file.Write`).
//!
//! Modules, in the order text flows through them: `syntax` (lexer, parser,
//! tree) → `exec`, which calls [`funcs`] (printing in `gofmt`,
//! Go's number formatting and quoting in `strconv`, data formats in [`yaml`]
//! and [`json`]) on [`Value`]s. Usage and how the engine is checked against
//! Go: `README.md`.

#![warn(missing_docs)]

mod error;
mod exec;
pub mod funcs;
mod gofmt;
pub mod json;
mod strconv;
mod syntax;
#[cfg(test)]
mod testing;
#[cfg(test)]
#[path = "../tests/support/fixtures.rs"]
mod fixtures;
mod value;
pub mod yaml;

pub use error::{Error, ErrorKind, FuncError};

/// The largest string a function may return, and the largest output of one
/// template render: 64 MiB, some 60 times deployKF's largest rendered file.
/// Go has no such bound (a `strings.Repeat` of 100 GB runs the process out of
/// memory); here it is a template error naming the template and line.
pub const SIZE_LIMIT: usize = 64 << 20;
pub use exec::{Engine, Host, MissingKey, NoHost};
pub use value::{Kind, Map, Value};

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
