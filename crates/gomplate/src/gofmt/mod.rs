//! Go's `fmt` printing functions as templates call them (`print`, `println`,
//! `printf`); the verb engine lives in [`printf`].

mod printf;

pub use printf::{sprint, sprintf, sprintln};
