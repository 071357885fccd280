//! The parse tree of a template, mirroring Go's `text/template/parse` nodes.
//!
//! `Display` on nodes reproduces Go's `Node.String()`, which execution errors
//! quote as `at <...>`.

use crate::value::Value;

/// A position in the template source (1-based line and byte column).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
}

/// A sequence of nodes (Go's `ListNode`).
pub type List = Vec<Node>;

/// A node of the tree.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    /// Plain text between actions.
    Text(String),
    /// `{{< pipeline >}}`: evaluate and print unless it declares variables.
    Action { pos: Pos, pipe: Pipe },
    /// `{{< if >}}`, with `else if` chains nested in `else_list` as Go does.
    If { pos: Pos, pipe: Pipe, list: List, else_list: Option<List> },
    /// `{{< range >}}` with optional `{{< else >}}`.
    Range { pos: Pos, pipe: Pipe, list: List, else_list: Option<List> },
    /// `{{< with >}}` with optional `{{< else >}}` (and `else with` nested).
    With { pos: Pos, pipe: Pipe, list: List, else_list: Option<List> },
    /// `{{< template "name" pipeline >}}` (also what `block` leaves in place).
    Template { pos: Pos, name: String, pipe: Option<Pipe> },
    /// `{{< break >}}` inside a range.
    Break { pos: Pos },
    /// `{{< continue >}}` inside a range.
    Continue { pos: Pos },
}

/// A pipeline, optionally declaring (`:=`) or assigning (`=`) variables.
#[derive(Clone, Debug, PartialEq)]
pub struct Pipe {
    pub pos: Pos,
    /// True for `$x = ...` (assignment to an existing variable).
    pub is_assign: bool,
    /// Variable names including the `$`, e.g. `["$i", "$v"]`.
    pub decl: Vec<String>,
    pub cmds: Vec<Command>,
}

/// One command of a pipeline: an operand followed by arguments.
#[derive(Clone, Debug, PartialEq)]
pub struct Command {
    pub pos: Pos,
    pub args: Vec<Arg>,
}

/// An operand.
#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    /// `.`
    Dot,
    /// `nil`
    Nil,
    /// A constant: `true`/`false`, a number (Go's ideal-constant rules already
    /// applied: int when it is an integer literal, else float64), or a string
    /// (quoted or raw, already unquoted).
    Const { text: String, value: Value },
    /// `.A.B` — the field names without dots.
    Field(Vec<String>),
    /// `$x.A.B` — `name` includes the `$`.
    Variable { name: String, fields: Vec<String> },
    /// A function name, e.g. `printf` or `tmpl` (of `tmpl.Exec`).
    Identifier(String),
    /// `(pipeline).A.B`, or `ident.Field` such as `tmpl.Exec`.
    Chain { node: Box<Arg>, fields: Vec<String> },
    /// A parenthesized pipeline.
    Pipe(Box<Pipe>),
}

/// The result of parsing one template source.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tree {
    /// The top-level body.
    pub root: List,
    /// Templates declared with `define` or `block`, in source order.
    pub defines: Vec<(String, List)>,
}

// TEMPORARY-DISPLAY (replaced by the parser's Go-faithful Node.String())
impl std::fmt::Display for Arg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}
impl std::fmt::Display for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}
impl std::fmt::Display for Pipe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}
