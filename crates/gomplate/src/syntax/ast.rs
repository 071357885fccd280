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

// Go's `Node.String()` renderings, quoted by execution errors as `at <...>`.
// Like Go, they always use `{{`/`}}`, print assignments as `:=`, and show
// constants as written in the source.

use std::fmt;

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arg::Dot => f.write_str("."),
            Arg::Nil => f.write_str("nil"),
            Arg::Const { text, .. } => f.write_str(text),
            Arg::Field(fields) => fields.iter().try_for_each(|x| write!(f, ".{x}")),
            Arg::Variable { name, fields } => {
                f.write_str(name)?;
                fields.iter().try_for_each(|x| write!(f, ".{x}"))
            }
            Arg::Identifier(name) => f.write_str(name),
            Arg::Chain { node, fields } => {
                match node.as_ref() {
                    Arg::Pipe(pipe) => write!(f, "({pipe})")?,
                    other => write!(f, "{other}")?,
                }
                fields.iter().try_for_each(|x| write!(f, ".{x}"))
            }
            Arg::Pipe(pipe) => write!(f, "{pipe}"),
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, arg) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            match arg {
                Arg::Pipe(pipe) => write!(f, "({pipe})")?,
                other => write!(f, "{other}")?,
            }
        }
        Ok(())
    }
}

impl fmt::Display for Pipe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.decl.is_empty() {
            f.write_str(&self.decl.join(", "))?;
            f.write_str(" := ")?;
        }
        for (i, cmd) in self.cmds.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{cmd}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let branch = |f: &mut fmt::Formatter<'_>, name: &str, pipe: &Pipe, list: &List, else_list: &Option<List>| {
            write!(f, "{{{{{name} {pipe}}}}}")?;
            list.iter().try_for_each(|n| write!(f, "{n}"))?;
            if let Some(else_list) = else_list {
                f.write_str("{{else}}")?;
                else_list.iter().try_for_each(|n| write!(f, "{n}"))?;
            }
            f.write_str("{{end}}")
        };
        match self {
            Node::Text(text) => f.write_str(text),
            Node::Action { pipe, .. } => write!(f, "{{{{{pipe}}}}}"),
            Node::If { pipe, list, else_list, .. } => branch(f, "if", pipe, list, else_list),
            Node::Range { pipe, list, else_list, .. } => branch(f, "range", pipe, list, else_list),
            Node::With { pipe, list, else_list, .. } => branch(f, "with", pipe, list, else_list),
            Node::Template { name, pipe, .. } => {
                write!(f, "{{{{template {}", crate::strconv::go_quote(name))?;
                if let Some(pipe) = pipe {
                    write!(f, " {pipe}")?;
                }
                f.write_str("}}")
            }
            Node::Break { .. } => f.write_str("{{break}}"),
            Node::Continue { .. } => f.write_str("{{continue}}"),
        }
    }
}
