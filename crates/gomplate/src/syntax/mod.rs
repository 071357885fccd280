//! Template text to syntax trees, as Go's `text/template/parse`: [`lexer`]
//! (tokens) → [`parse`] (Go's parser and its error messages) → [`ast`] (the
//! tree [`exec`](crate::exec) walks).

pub(crate) mod ast;
pub(crate) mod lexer;
pub(crate) mod parse;
