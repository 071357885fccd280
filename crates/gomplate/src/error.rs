//! Errors from parsing and executing templates, formatted like Go's
//! `template: NAME:LINE:COL: ...` so users recognise them.

use std::fmt;

/// What went wrong, for callers that branch on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The template text does not parse.
    Syntax,
    /// Execution failed (bad field access, wrong types, function errors).
    Exec,
    /// The template called `fail` (the message is the template author's).
    Fail,
    /// A named template does not exist.
    NotFound,
}

/// A template error with its location.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// What went wrong.
    pub kind: ErrorKind,
    /// The name of the template where it happened.
    pub template: String,
    /// 1-based line (0 when unknown).
    pub line: usize,
    /// Byte column as Go reports it (0-based); not shown for syntax errors,
    /// which Go locates by line only.
    pub col: usize,
    /// Go's rendering of the rest, e.g. `executing "x" at <fail "m">: error calling fail: m`.
    pub message: String,
}

impl Error {
    /// A syntax error at a line.
    pub fn syntax(template: &str, line: usize, message: impl Into<String>) -> Error {
        Error { kind: ErrorKind::Syntax, template: template.into(), line, col: 0, message: message.into() }
    }

    /// An error of `kind` at a position.
    pub fn at(kind: ErrorKind, template: &str, line: usize, col: usize, message: impl Into<String>) -> Error {
        Error { kind, template: template.into(), line, col, message: message.into() }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "template: {}", self.template)?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
            if self.kind != ErrorKind::Syntax {
                write!(f, ":{}", self.col)?;
            }
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for Error {}

/// The error a template function returns; execution wraps it as
/// `error calling NAME: MESSAGE`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FuncError {
    /// The message, as Go's function would return it.
    pub message: String,
    /// True when raised by `fail`: the message is shown to users as is.
    pub is_fail: bool,
}

impl FuncError {
    /// A function error with a message.
    pub fn new(message: impl Into<String>) -> FuncError {
        FuncError { message: message.into(), is_fail: false }
    }
}

impl From<String> for FuncError {
    fn from(message: String) -> FuncError {
        FuncError::new(message)
    }
}

impl From<&str> for FuncError {
    fn from(message: &str) -> FuncError {
        FuncError::new(message)
    }
}
