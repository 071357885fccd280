//! The parts of Go's `strconv` the engine needs, byte for byte: float
//! formatting ([`format_float`], with Ryū shortest digits over an exact
//! bignum) and quoting ([`go_quote`] and the `%q` forms, with the exact
//! [`is_print`] table). Works on plain numbers and strings, not on
//! [`Value`](crate::Value)s, so that both `value` and `gofmt` can use it.

mod bignum;
mod ftoa;
mod isprint;
mod quote;
mod ryu;

pub use ftoa::{format_float, format_float_g};
pub use isprint::is_print;
pub use quote::go_quote;
pub(crate) use quote::{can_backquote, quote_rune, quote_with};
