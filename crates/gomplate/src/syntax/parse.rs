//! Builds the [`Tree`](super::ast::Tree) from tokens, like Go's
//! `text/template/parse/parse.go`, including its error messages.
//!
//! The parser is a close port of Go 1.20's: the same three-token look-ahead
//! (which decides the line Go reports in errors), the same variable scoping,
//! `else if` chains nested as an `If` in the else list (only after `if`: Go
//! 1.20 has no `else with`, and rejects `else if` in `range`/`with`),
//! `break`/`continue` only inside `range`, and `define`/`block` bodies parsed
//! as separate trees sharing the lexer. Node positions are 1-based line and
//! byte column of the node's first token (Go prints the column 0-based).
//!
//! As in Go, a function name must be defined ([`funcs::is_defined`]) where it
//! is parsed, even in a branch that never runs.
//!
//! Differences from Go, by design:
//! - complex constants (`1+2i`, `2i`) and integers that only fit in a uint64
//!   are rejected here (values have no complex or uint type; Go fails at
//!   execution time for the latter);
//! - parentheses nest at most [`MAX_PAREN_DEPTH`] deep (later Go versions
//!   have the same guard and message).

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use super::ast::{Arg, Command, List, Node, Pipe, Pos, Tree};
use super::lexer::{unquote, unquote_char, Item, ItemType, Lexer};
use crate::error::Error;
use crate::strconv::go_quote;
use crate::value::Value;

/// How deeply parenthesized pipelines may nest.
pub const MAX_PAREN_DEPTH: usize = 1000;

/// Parses `text` (named `name` for errors) with the given delimiters (empty
/// means Go's `{{`/`}}`).
///
/// As in Go's `parse.Parse`, a `define` whose name equals `name` competes
/// with the top-level body: an empty (whitespace-only) body gives way to a
/// non-empty one, and two non-empty ones are a "multiple definition" error.
pub fn parse(name: &str, text: &str, left_delim: &str, right_delim: &str) -> Result<Tree, Error> {
    let mut p = Parser {
        name,
        text,
        lex: Lexer::new(text, left_delim, right_delim),
        t: TreeState::new(),
        line_start: (0, 0),
        defines: Vec::new(),
        define_index: HashMap::new(),
        paren_depth: 0,
    };
    let root = p.parse()?;
    // The top-level tree joins the set like any other (Go's `Tree.add`).
    let mut defines = p.defines;
    let root = match p.define_index.get(name) {
        None => root,
        Some(&i) => {
            if is_empty_tree(&defines[i].1) {
                defines.remove(i);
                root
            } else if !is_empty_tree(&root) {
                let line = p.t.token[0].line;
                return Err(Error::syntax(
                    name,
                    line,
                    format!("template: multiple definition of template {}", go_quote(name)),
                ));
            } else {
                defines.remove(i).1
            }
        }
    };
    Ok(Tree { root, defines })
}

/// Go's `parse.IsEmptyTree`: true when the list holds only whitespace text.
/// Template sets need it too: Go's `text/template` does not let an empty
/// definition replace an existing non-empty template of the same name.
pub fn is_empty_tree(list: &[Node]) -> bool {
    list.iter().all(|n| match n {
        Node::Text(t) => t.trim().is_empty(),
        _ => false,
    })
}

/// What `textOrAction` yields: a node, or the `{{end}}`/`{{else}}` closing a list.
enum Parsed {
    Node(Node),
    End,
    Else,
}

impl fmt::Display for Parsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Parsed::Node(n) => n.fmt(f),
            Parsed::End => f.write_str("{{end}}"),
            Parsed::Else => f.write_str("{{else}}"),
        }
    }
}

/// The per-tree parsing state of Go's `Tree` (each `define`/`block` body has its own).
struct TreeState<'a> {
    /// Three-token look-ahead; `token[0]` is always the last token lexed.
    token: [Item<'a>; 3],
    peek_count: usize,
    /// Variables in scope.
    vars: Vec<Cow<'a, str>>,
    /// Line of the left delimiter of the action being parsed (0 when none).
    action_line: usize,
    range_depth: usize,
}

impl<'a> TreeState<'a> {
    fn new() -> Self {
        TreeState {
            token: Default::default(),
            peek_count: 0,
            vars: vec![Cow::Borrowed("$")],
            action_line: 0,
            range_depth: 0,
        }
    }
}

type PResult<T> = Result<T, Error>;

struct Parser<'a> {
    name: &'a str,
    text: &'a str,
    lex: Lexer<'a>,
    t: TreeState<'a>,
    /// The last line whose start offset was looked up, and that offset.
    line_start: (usize, usize),
    defines: Vec<(String, List)>,
    define_index: HashMap<String, usize>,
    paren_depth: usize,
}

impl<'a> Parser<'a> {
    // --- Token stream (Go's next/backup/peek). ---

    fn next(&mut self) -> Item<'a> {
        if self.t.peek_count > 0 {
            self.t.peek_count -= 1;
        } else {
            self.t.token[0] = self.lex.next_item();
        }
        self.t.token[self.t.peek_count].clone()
    }

    fn backup(&mut self) {
        self.t.peek_count += 1;
    }

    fn backup2(&mut self, t1: Item<'a>) {
        self.t.token[1] = t1;
        self.t.peek_count = 2;
    }

    fn backup3(&mut self, t2: Item<'a>, t1: Item<'a>) {
        self.t.token[1] = t1;
        self.t.token[2] = t2;
        self.t.peek_count = 3;
    }

    fn peek(&mut self) -> Item<'a> {
        if self.t.peek_count > 0 {
            return self.t.token[self.t.peek_count - 1].clone();
        }
        self.t.peek_count = 1;
        self.t.token[0] = self.lex.next_item();
        self.t.token[0].clone()
    }

    fn next_non_space(&mut self) -> Item<'a> {
        loop {
            let token = self.next();
            if token.typ != ItemType::Space {
                return token;
            }
        }
    }

    fn peek_non_space(&mut self) -> Item<'a> {
        let token = self.next_non_space();
        self.backup();
        token
    }

    /// The type of the next non-space token, without cloning it.
    fn peek_non_space_type(&mut self) -> ItemType {
        self.next_non_space();
        self.backup();
        self.t.token[self.t.peek_count - 1].typ
    }

    // --- Errors. ---

    /// A syntax error at the line of the last token lexed, as Go reports it.
    fn errorf(&self, message: impl Into<String>) -> Error {
        Error::syntax(self.name, self.t.token[0].line, message)
    }

    fn unexpected(&self, token: &Item<'a>, context: &str) -> Error {
        if token.typ == ItemType::Error {
            let mut extra = String::new();
            if self.t.action_line != 0 && self.t.action_line != token.line {
                extra = format!(" in action started at {}:{}", self.name, self.t.action_line);
                if token.val.ends_with(" action") {
                    extra.replace_range(.." in action".len(), "");
                }
            }
            return self.errorf(format!("{}{}", token.val, extra));
        }
        self.errorf(format!("unexpected {token} in {context}"))
    }

    fn expect(&mut self, expected: ItemType, context: &str) -> PResult<Item<'a>> {
        let token = self.next_non_space();
        if token.typ != expected {
            return Err(self.unexpected(&token, context));
        }
        Ok(token)
    }

    // --- Positions. ---

    /// The position of a token: the lexer's line (which is exact for tokens
    /// inside actions) and the byte column found from the line's start.
    fn pos_of(&mut self, item: &Item<'a>) -> Pos {
        let (line, mut start) = self.line_start;
        if line != item.line || start > item.pos {
            start = self.text[..item.pos].rfind('\n').map_or(0, |i| i + 1);
            self.line_start = (item.line, start);
        }
        Pos { line: item.line, col: item.pos - start + 1 }
    }

    // --- Trees. ---

    /// Starts parsing a `define`/`block` body: a fresh tree on the same lexer.
    fn push_tree(&mut self) -> TreeState<'a> {
        std::mem::replace(&mut self.t, TreeState::new())
    }

    fn pop_tree(&mut self, outer: TreeState<'a>) {
        self.t = outer;
    }

    /// Go's `Tree.add` for a `define`/`block` body.
    fn add(&mut self, name: String, list: List) -> PResult<()> {
        if let Some(&i) = self.define_index.get(&name) {
            if is_empty_tree(&self.defines[i].1) {
                self.defines[i].1 = list;
            } else if !is_empty_tree(&list) {
                return Err(self.errorf(format!("template: multiple definition of template {}", go_quote(&name))));
            }
            return Ok(());
        }
        self.define_index.insert(name.clone(), self.defines.len());
        self.defines.push((name, list));
        Ok(())
    }

    // --- Grammar. ---

    /// The top level: like `item_list` but also takes `define`s, up to EOF.
    fn parse(&mut self) -> PResult<List> {
        let mut root = List::new();
        while self.peek().typ != ItemType::Eof {
            if self.peek().typ == ItemType::LeftDelim {
                let delim = self.next();
                if self.next_non_space().typ == ItemType::Define {
                    let outer = self.push_tree();
                    self.parse_definition()?;
                    self.pop_tree(outer);
                    continue;
                }
                self.backup2(delim);
            }
            match self.text_or_action()? {
                Parsed::Node(n) => root.push(n),
                other => return Err(self.errorf(format!("unexpected {other}"))),
            }
        }
        Ok(root)
    }

    /// `{{define "name"}} itemList {{end}}`; `define` has been consumed.
    fn parse_definition(&mut self) -> PResult<()> {
        const CONTEXT: &str = "define clause";
        let token = self.next_non_space();
        if token.typ != ItemType::String && token.typ != ItemType::RawString {
            return Err(self.unexpected(&token, CONTEXT));
        }
        let name = unquote(&token.val).map_err(|e| self.errorf(e))?;
        self.expect(ItemType::RightDelim, CONTEXT)?;
        let (list, end) = self.item_list()?;
        if !matches!(end, Parsed::End) {
            return Err(self.errorf(format!("unexpected {end} in {CONTEXT}")));
        }
        self.add(name, list)
    }

    /// `textOrAction*`, ended by `{{end}}` or `{{else}}` (returned separately).
    fn item_list(&mut self) -> PResult<(List, Parsed)> {
        let mut list = List::new();
        while self.peek_non_space_type() != ItemType::Eof {
            match self.text_or_action()? {
                Parsed::Node(n) => list.push(n),
                end => return Ok((list, end)),
            }
        }
        Err(self.errorf("unexpected EOF"))
    }

    fn text_or_action(&mut self) -> PResult<Parsed> {
        let token = self.next_non_space();
        match token.typ {
            ItemType::Text => Ok(Parsed::Node(Node::Text(token.val.into_owned()))),
            ItemType::LeftDelim => {
                self.t.action_line = token.line;
                let result = self.action();
                self.t.action_line = 0;
                result
            }
            _ => Err(self.unexpected(&token, "input")),
        }
    }

    /// The inside of an action: a control keyword or a pipeline.
    fn action(&mut self) -> PResult<Parsed> {
        let token = self.next_non_space();
        let node = match token.typ {
            ItemType::Block => self.block_control()?,
            ItemType::Break => self.break_control(&token, "{{break}}")?,
            ItemType::Continue => self.break_control(&token, "{{continue}}")?,
            ItemType::Else => return self.else_control(),
            ItemType::End => {
                self.expect(ItemType::RightDelim, "end")?;
                return Ok(Parsed::End);
            }
            ItemType::If => self.if_control()?,
            ItemType::Range => {
                let (pipe, list, else_list) = self.parse_control(false, "range")?;
                Node::Range { pos: pipe.pos, pipe, list, else_list }
            }
            ItemType::Template => self.template_control()?,
            ItemType::With => {
                let (pipe, list, else_list) = self.parse_control(false, "with")?;
                Node::With { pos: pipe.pos, pipe, list, else_list }
            }
            _ => {
                self.backup();
                let token = self.peek();
                // Variables declared here persist until the enclosing "end".
                let pipe = self.pipeline("command", ItemType::RightDelim)?;
                Node::Action { pos: self.pos_of(&token), pipe }
            }
        };
        Ok(Parsed::Node(node))
    }

    /// `{{break}}` or `{{continue}}` (named by `what`); the keyword has been consumed.
    fn break_control(&mut self, keyword: &Item<'a>, what: &str) -> PResult<Node> {
        let token = self.next_non_space();
        if token.typ != ItemType::RightDelim {
            return Err(self.unexpected(&token, what));
        }
        if self.t.range_depth == 0 {
            return Err(self.errorf(format!("{what} outside {{{{range}}}}")));
        }
        let pos = self.pos_of(keyword);
        Ok(if keyword.typ == ItemType::Break { Node::Break { pos } } else { Node::Continue { pos } })
    }

    fn if_control(&mut self) -> PResult<Node> {
        let (pipe, list, else_list) = self.parse_control(true, "if")?;
        Ok(Node::If { pos: pipe.pos, pipe, list, else_list })
    }

    /// `{{else}}`, or the `else` of `{{else if ...}}` (leaving `if` pending).
    fn else_control(&mut self) -> PResult<Parsed> {
        if self.peek_non_space_type() == ItemType::If {
            return Ok(Parsed::Else);
        }
        self.expect(ItemType::RightDelim, "else")?;
        Ok(Parsed::Else)
    }

    /// The pipeline, body and optional else body of `if`/`range`/`with`.
    fn parse_control(&mut self, allow_else_if: bool, context: &str) -> PResult<(Pipe, List, Option<List>)> {
        let nvars = self.t.vars.len();
        let result = self.parse_control_inner(allow_else_if, context);
        self.t.vars.truncate(nvars);
        result
    }

    fn parse_control_inner(&mut self, allow_else_if: bool, context: &str) -> PResult<(Pipe, List, Option<List>)> {
        let pipe = self.pipeline(context, ItemType::RightDelim)?;
        let is_range = context == "range";
        if is_range {
            self.t.range_depth += 1;
        }
        let (list, next) = self.item_list()?;
        if is_range {
            self.t.range_depth -= 1;
        }
        let mut else_list = None;
        if let Parsed::Else = next {
            if allow_else_if && self.peek().typ == ItemType::If {
                // {{if a}}_{{else if b}}_{{end}} is {{if a}}_{{else}}{{if b}}_{{end}}{{end}}:
                // the nested if consumes the only {{end}}.
                self.next();
                else_list = Some(vec![self.if_control()?]);
            } else {
                let (list, next) = self.item_list()?;
                if !matches!(next, Parsed::End) {
                    return Err(self.errorf(format!("expected end; found {next}")));
                }
                else_list = Some(list);
            }
        }
        Ok((pipe, list, else_list))
    }

    /// `{{block "name" pipeline}} itemList {{end}}`: a define plus a template call.
    fn block_control(&mut self) -> PResult<Node> {
        const CONTEXT: &str = "block clause";
        let token = self.next_non_space();
        let name = self.parse_template_name(&token, CONTEXT)?;
        let pipe = self.pipeline(CONTEXT, ItemType::RightDelim)?;
        let outer = self.push_tree();
        let (list, end) = self.item_list()?;
        if !matches!(end, Parsed::End) {
            self.pop_tree(outer);
            return Err(self.errorf(format!("unexpected {end} in {CONTEXT}")));
        }
        self.add(name.clone(), list)?;
        self.pop_tree(outer);
        Ok(Node::Template { pos: self.pos_of(&token), name, pipe: Some(pipe) })
    }

    /// `{{template "name" [pipeline]}}`; `template` has been consumed.
    fn template_control(&mut self) -> PResult<Node> {
        const CONTEXT: &str = "template clause";
        let token = self.next_non_space();
        let name = self.parse_template_name(&token, CONTEXT)?;
        let mut pipe = None;
        if self.next_non_space().typ != ItemType::RightDelim {
            self.backup();
            pipe = Some(self.pipeline(CONTEXT, ItemType::RightDelim)?);
        }
        Ok(Node::Template { pos: self.pos_of(&token), name, pipe })
    }

    fn parse_template_name(&self, token: &Item<'a>, context: &str) -> PResult<String> {
        match token.typ {
            ItemType::String | ItemType::RawString => unquote(&token.val).map_err(|e| self.errorf(e)),
            _ => Err(self.unexpected(token, context)),
        }
    }

    /// `declarations? command ('|' command)*`, up to `end` (right delim or paren).
    fn pipeline(&mut self, context: &str, end: ItemType) -> PResult<Pipe> {
        let start = self.peek_non_space();
        let mut pipe = Pipe { pos: self.pos_of(&start), is_assign: false, decl: Vec::new(), cmds: Vec::new() };
        // Declarations or assignments: "$x :=", "$x =", "$i, $v :=" (range only).
        loop {
            let v = self.peek_non_space();
            if v.typ != ItemType::Variable {
                break;
            }
            self.next();
            // "$x foo" needs three tokens of look-ahead to tell from "$x :=".
            let after = self.peek();
            let next = self.peek_non_space();
            if next.typ == ItemType::Assign || next.typ == ItemType::Declare {
                pipe.is_assign = next.typ == ItemType::Assign;
                self.next_non_space();
                pipe.decl.push(v.val.to_string());
                self.t.vars.push(v.val);
            } else if next.typ == ItemType::Char && next.val == "," {
                self.next_non_space();
                pipe.decl.push(v.val.to_string());
                self.t.vars.push(v.val);
                if context == "range" && pipe.decl.len() < 2 {
                    match self.peek_non_space_type() {
                        ItemType::Variable | ItemType::RightDelim | ItemType::RightParen => continue,
                        _ => return Err(self.errorf("range can only initialize variables")),
                    }
                }
                return Err(self.errorf(format!("too many declarations in {context}")));
            } else if after.typ == ItemType::Space {
                self.backup3(v, after);
            } else {
                self.backup2(v);
            }
            break;
        }
        loop {
            let token = self.next_non_space();
            match token.typ {
                t if t == end => {
                    self.check_pipeline(&pipe, context)?;
                    return Ok(pipe);
                }
                ItemType::Bool
                | ItemType::CharConstant
                | ItemType::Complex
                | ItemType::Dot
                | ItemType::Field
                | ItemType::Identifier
                | ItemType::Number
                | ItemType::Nil
                | ItemType::RawString
                | ItemType::String
                | ItemType::Variable
                | ItemType::LeftParen => {
                    self.backup();
                    let cmd = self.command()?;
                    pipe.cmds.push(cmd);
                }
                _ => return Err(self.unexpected(&token, context)),
            }
        }
    }

    fn check_pipeline(&self, pipe: &Pipe, context: &str) -> PResult<()> {
        if pipe.cmds.is_empty() {
            return Err(self.errorf(format!("missing value for {context}")));
        }
        // Only the first command may start with a non-executable operand.
        for (i, c) in pipe.cmds.iter().enumerate().skip(1) {
            if matches!(c.args.first(), Some(Arg::Const { .. } | Arg::Dot | Arg::Nil)) {
                return Err(self.errorf(format!("non executable command in pipeline stage {}", i + 1)));
            }
        }
        Ok(())
    }

    /// `operand (space operand)*`, consuming a trailing `|` but not the end token.
    fn command(&mut self) -> PResult<Command> {
        let start = self.peek_non_space();
        let mut args = Vec::new();
        loop {
            self.peek_non_space_type(); // Skip leading spaces.
            if let Some(operand) = self.operand()? {
                args.push(operand);
            }
            let token = self.next();
            match token.typ {
                ItemType::Space => continue,
                ItemType::RightDelim | ItemType::RightParen => self.backup(),
                ItemType::Pipe => {}
                _ => return Err(self.unexpected(&token, "operand")),
            }
            break;
        }
        if args.is_empty() {
            return Err(self.errorf("empty command"));
        }
        Ok(Command { pos: self.pos_of(&start), args })
    }

    /// `term .Field*`; `None` when the next token is not an operand.
    fn operand(&mut self) -> PResult<Option<Arg>> {
        let Some(node) = self.term()? else { return Ok(None) };
        if self.peek().typ != ItemType::Field {
            return Ok(Some(node));
        }
        let mut fields = Vec::new();
        while self.peek().typ == ItemType::Field {
            let token = self.next();
            fields.push(token.val[1..].to_string());
        }
        Ok(Some(match node {
            Arg::Field(mut f) => {
                f.extend(fields);
                Arg::Field(f)
            }
            Arg::Variable { name, fields: mut f } => {
                f.extend(fields);
                Arg::Variable { name, fields: f }
            }
            Arg::Const { .. } | Arg::Nil | Arg::Dot => {
                return Err(self.errorf(format!("unexpected . after term {}", go_quote(&node.to_string()))));
            }
            node => Arg::Chain { node: Box::new(node), fields },
        }))
    }

    /// A literal, function name, `.`, `.Field`, `$var` or `( pipeline )`;
    /// `None` (with the token put back) when the next token is none of these.
    fn term(&mut self) -> PResult<Option<Arg>> {
        let token = self.next_non_space();
        let arg = match token.typ {
            ItemType::Identifier => {
                if !crate::funcs::is_defined(&token.val) {
                    return Err(self.errorf(format!("function {} not defined", go_quote(&token.val))));
                }
                Arg::Identifier(token.val.into_owned())
            }
            ItemType::Dot => Arg::Dot,
            ItemType::Nil => Arg::Nil,
            ItemType::Variable => self.use_var(&token.val)?,
            ItemType::Field => Arg::Field(vec![token.val[1..].to_string()]),
            ItemType::Bool => Arg::Const { value: Value::Bool(token.val == "true"), text: token.val.into_owned() },
            ItemType::CharConstant | ItemType::Complex | ItemType::Number => {
                let value = number_value(&token.val, token.typ).map_err(|e| self.errorf(e))?;
                Arg::Const { text: token.val.into_owned(), value }
            }
            ItemType::LeftParen => {
                if self.paren_depth >= MAX_PAREN_DEPTH {
                    return Err(self.errorf("max expression depth exceeded"));
                }
                self.paren_depth += 1;
                let pipe = self.pipeline("parenthesized pipeline", ItemType::RightParen);
                self.paren_depth -= 1;
                Arg::Pipe(Box::new(pipe?))
            }
            ItemType::String | ItemType::RawString => {
                let s = unquote(&token.val).map_err(|e| self.errorf(e))?;
                Arg::Const { text: token.val.into_owned(), value: Value::str(s) }
            }
            _ => {
                self.backup();
                return Ok(None);
            }
        };
        Ok(Some(arg))
    }

    /// A reference to a variable, which must be in scope.
    fn use_var(&self, name: &str) -> PResult<Arg> {
        if self.t.vars.iter().any(|v| v == name) {
            return Ok(Arg::Variable { name: name.to_string(), fields: Vec::new() });
        }
        Err(self.errorf(format!("undefined variable {}", go_quote(name))))
    }
}

/// The value of a number or character literal, as Go's `parse.newNumber`
/// reads it and `exec.idealConstant` types it: character constants and
/// integer literals are ints; literals with `.`, `e` or `p` (other than hex
/// integers) are float64.
pub fn number_value(text: &str, typ: ItemType) -> Result<Value, String> {
    if typ == ItemType::CharConstant {
        let (c, tail) = unquote_char(&text[1..], '\'').map_err(|e| e.to_string())?;
        if tail != "'" {
            return Err(format!("malformed character constant: {text}"));
        }
        return Ok(Value::Int(c.value() as i64));
    }
    let complex = || Err(format!("complex constants are not supported: {}", go_quote(text)));
    if typ == ItemType::Complex {
        return complex();
    }
    if let Some(imag) = text.strip_suffix('i') {
        if parse_float(imag).is_some() {
            return complex();
        }
    }
    let as_uint = parse_uint(text);
    let as_int = parse_int(text);
    let mut float = None;
    if as_int.is_none() && as_uint.is_none() {
        if let Some(f) = parse_float(text) {
            if !text.contains(['.', 'e', 'E', 'p', 'P']) {
                return Err(format!("integer overflow: {}", go_quote(text)));
            }
            float = Some(f);
        }
    }
    let is_hex_int = text.len() > 2
        && text.starts_with('0')
        && matches!(text.as_bytes()[1], b'x' | b'X')
        && !text.contains(['p', 'P']);
    if let Some(f) = float {
        if !is_hex_int && text.contains(['.', 'e', 'E', 'p', 'P']) {
            return Ok(Value::Float(f));
        }
    }
    if let Some(i) = as_int {
        // Integer-valued literals written with '.', 'e' or 'p' are still floats.
        if !is_hex_int && text.contains(['.', 'e', 'E', 'p', 'P']) {
            return Ok(Value::Float(i as f64));
        }
        return Ok(Value::Int(i));
    }
    if as_uint.is_some() {
        return Err(format!("{text} overflows int"));
    }
    if let Some(f) = float {
        return Ok(Value::Float(f));
    }
    Err(format!("illegal number syntax: {}", go_quote(text)))
}

/// Go's `strconv.ParseUint(s, 0, 64)`.
fn parse_uint(s0: &str) -> Option<u64> {
    let s = s0.as_bytes();
    if s.is_empty() {
        return None;
    }
    let (base, digits): (u64, &[u8]) = if s[0] == b'0' {
        match s.get(1).map(u8::to_ascii_lowercase) {
            Some(b'b') if s.len() >= 3 => (2, &s[2..]),
            Some(b'o') if s.len() >= 3 => (8, &s[2..]),
            Some(b'x') if s.len() >= 3 => (16, &s[2..]),
            _ => (8, &s[1..]),
        }
    } else {
        (10, s)
    };
    let mut n: u64 = 0;
    let mut underscores = false;
    for &c in digits {
        if c == b'_' {
            underscores = true;
            continue;
        }
        let d = (c as char).to_digit(36)? as u64;
        if d >= base {
            return None;
        }
        n = n.checked_mul(base)?.checked_add(d)?;
    }
    if underscores && !crate::funcs::conv::underscore_ok(s0) {
        return None;
    }
    Some(n)
}

/// Go's `strconv.ParseInt(s, 0, 64)`.
fn parse_int(s: &str) -> Option<i64> {
    let (neg, rest) = match s.as_bytes().first() {
        Some(b'+') => (false, &s[1..]),
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    let u = parse_uint(rest)?;
    if neg {
        if u > 1 << 63 {
            return None;
        }
        Some((u as i64).wrapping_neg())
    } else {
        i64::try_from(u).ok()
    }
}

/// Go's `strconv.ParseFloat(s, 64)` for the forms the lexer produces:
/// decimal and hex (`0x1.8p3`) mantissas, `_` separators; `None` on syntax
/// errors and on overflow to infinity (Go's range error).
fn parse_float(s0: &str) -> Option<f64> {
    let s = s0.as_bytes();
    let mut i = 0;
    let mut neg = false;
    if let Some(&c @ (b'+' | b'-')) = s.first() {
        neg = c == b'-';
        i = 1;
    }
    let mut base = 10;
    if s.len() >= i + 2 && s[i] == b'0' && s[i + 1].eq_ignore_ascii_case(&b'x') {
        base = 16;
        i += 2;
    }
    let mant_start = i;
    let (mut underscores, mut saw_dot, mut saw_digits) = (false, false, false);
    while i < s.len() {
        let c = s[i];
        if c == b'_' {
            underscores = true;
        } else if c == b'.' {
            if saw_dot {
                break;
            }
            saw_dot = true;
        } else if c.is_ascii_digit() || (base == 16 && c.is_ascii_hexdigit()) {
            saw_digits = true;
        } else {
            break;
        }
        i += 1;
    }
    if !saw_digits {
        return None;
    }
    let mant_end = i;
    let mut exp: i64 = 0;
    let exp_char = if base == 10 { b'e' } else { b'p' };
    if i < s.len() && s[i].to_ascii_lowercase() == exp_char {
        i += 1;
        let mut esign = 1;
        if let Some(&c @ (b'+' | b'-')) = s.get(i) {
            esign = if c == b'-' { -1 } else { 1 };
            i += 1;
        }
        if !s.get(i).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        while i < s.len() && (s[i].is_ascii_digit() || s[i] == b'_') {
            if s[i] == b'_' {
                underscores = true;
            } else if exp < 100_000 {
                exp = exp * 10 + (s[i] - b'0') as i64;
            }
            i += 1;
        }
        exp *= esign;
    } else if base == 16 {
        return None;
    }
    if i != s.len() || (underscores && !crate::funcs::conv::underscore_ok(s0)) {
        return None;
    }
    let value = if base == 10 {
        let cleaned: String = s0.chars().filter(|&c| c != '_').collect();
        cleaned.parse::<f64>().ok()?
    } else {
        let mut mant = 0f64;
        let mut scale: i64 = 0;
        let mut after_dot = false;
        for &c in &s[mant_start..mant_end] {
            match c {
                b'_' => {}
                b'.' => after_dot = true,
                _ => {
                    mant = mant * 16.0 + (c as char).to_digit(16)? as f64;
                    if after_dot {
                        scale -= 4;
                    }
                }
            }
        }
        let v = mant * 2f64.powi((exp + scale).clamp(-2000, 2000) as i32);
        if neg {
            -v
        } else {
            v
        }
    };
    if value.is_infinite() {
        return None;
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: &str = "{{<";
    const R: &str = ">}}";

    fn p(text: &str) -> Tree {
        parse("t", text, "", "").unwrap_or_else(|e| panic!("parse {text:?}: {e}"))
    }

    fn err(text: &str) -> String {
        match parse("t", text, "", "") {
            Ok(tree) => panic!("expected an error for {text:?}, got {tree:?}"),
            Err(e) => e.to_string(),
        }
    }

    /// The Go `String()` of the whole root list.
    fn s(text: &str) -> String {
        p(text).root.iter().map(|n| n.to_string()).collect()
    }

    fn only_action_pipe(text: &str) -> Pipe {
        match p(text).root.into_iter().next() {
            Some(Node::Action { pipe, .. }) => pipe,
            other => panic!("not an action: {other:?}"),
        }
    }

    fn const_value(text: &str) -> Value {
        match &only_action_pipe(text).cmds[0].args[0] {
            Arg::Const { value, .. } => value.clone(),
            other => panic!("not a constant: {other:?}"),
        }
    }

    fn string_value(text: &str) -> String {
        match const_value(text) {
            Value::String(s) => s.to_string(),
            v => panic!("{text}: not a string: {v:?}"),
        }
    }

    fn pos(line: usize, col: usize) -> Pos {
        Pos { line, col }
    }

    // Round trips through Display, with expectations from Go's parse_test.go.

    #[test]
    fn parse_text_and_empty() {
        assert_eq!(p("").root, vec![]);
        assert_eq!(p("hello\n").root, vec![Node::Text("hello\n".into())]);
        assert_eq!(s("{{/* comment */}}"), "");
    }

    #[test]
    fn parse_fields_variables_and_dot() {
        assert_eq!(s("{{.}}"), "{{.}}");
        assert_eq!(s("{{.X}}"), "{{.X}}");
        assert_eq!(s("{{.X.Y.Z}}"), "{{.X.Y.Z}}");
        assert_eq!(s("{{$}}"), "{{$}}");
        assert_eq!(s("{{$.I}}"), "{{$.I}}");
        assert_eq!(s("{{$x := 3}}{{$x.A.B}}"), "{{$x := 3}}{{$x.A.B}}");
        assert_eq!(only_action_pipe("{{.X.Y}}").cmds[0].args, vec![Arg::Field(vec!["X".into(), "Y".into()])]);
        assert_eq!(
            only_action_pipe("{{$.A.b}}").cmds[0].args,
            vec![Arg::Variable { name: "$".into(), fields: vec!["A".into(), "b".into()] }]
        );
    }

    #[test]
    fn parse_constants() {
        assert_eq!(s("{{3}}"), "{{3}}");
        assert_eq!(s("{{nil}}"), "{{nil}}");
        assert_eq!(s("{{true}} {{false}}"), "{{true}} {{false}}");
        assert_eq!(s("{{\"x\\n\"}} {{`r`}}"), "{{\"x\\n\"}} {{`r`}}");
        assert!(matches!(const_value("{{true}}"), Value::Bool(true)));
        assert_eq!(string_value("{{\"a\\tb\\x41\\u00e9\\101\"}}"), "a\tbAéA");
        assert_eq!(string_value("{{`a\\n`}}"), "a\\n");
    }

    #[test]
    fn parse_numbers_follow_go_ideal_constants() {
        let int = |t: &str| match const_value(t) {
            Value::Int(i) => i,
            v => panic!("{t}: not an int: {v:?}"),
        };
        let float = |t: &str| match const_value(t) {
            Value::Float(f) => f,
            v => panic!("{t}: not a float: {v:?}"),
        };
        assert_eq!(int("{{42}}"), 42);
        assert_eq!(int("{{-7}}"), -7);
        assert_eq!(int("{{+7}}"), 7);
        assert_eq!(int("{{0x1F}}"), 31);
        assert_eq!(int("{{0xE}}"), 14);
        assert_eq!(int("{{0755}}"), 493);
        assert_eq!(int("{{0o17}}"), 15);
        assert_eq!(int("{{0b101}}"), 5);
        assert_eq!(int("{{1_000_000}}"), 1_000_000);
        assert_eq!(int("{{-9223372036854775808}}"), i64::MIN);
        assert_eq!(int("{{'a'}}"), 97);
        assert_eq!(int("{{'\\n'}}"), 10);
        assert_eq!(int("{{'é'}}"), 0xe9);
        assert_eq!(int("{{'\\x41'}}"), 65);
        assert_eq!(float("{{1.5}}"), 1.5);
        assert_eq!(float("{{1.0}}"), 1.0);
        assert_eq!(float("{{1e3}}"), 1000.0);
        assert_eq!(float("{{.5}}"), 0.5);
        assert_eq!(float("{{-2.5e-1}}"), -0.25);
        assert_eq!(float("{{0x1p-2}}"), 0.25);
        assert_eq!(float("{{0x1.8p1}}"), 3.0);
        assert_eq!(float("{{1_0.2_5}}"), 10.25);
        assert_eq!(err("{{08}}"), "template: t:1: integer overflow: \"08\"");
        assert_eq!(err("{{1__0}}"), "template: t:1: illegal number syntax: \"1__0\"");
        assert_eq!(err("{{1e400}}"), "template: t:1: illegal number syntax: \"1e400\"");
        assert_eq!(err("{{0x}}"), "template: t:1: illegal number syntax: \"0x\"");
        assert_eq!(err("{{'ab'}}"), "template: t:1: malformed character constant: 'ab'");
        assert_eq!(err("{{''}}"), "template: t:1: invalid syntax");
        assert_eq!(err("{{9223372036854775808}}"), "template: t:1: 9223372036854775808 overflows int");
        assert!(err("{{1+2i}}").contains("complex constants are not supported"));
    }

    #[test]
    fn parse_pipelines_and_commands() {
        assert_eq!(s("{{.X | quote}}"), "{{.X | quote}}");
        assert_eq!(s("{{printf \"%d\" 23 | len}}"), "{{printf \"%d\" 23 | len}}");
        assert_eq!(s("{{.X|.Y}}"), "{{.X | .Y}}");
        assert_eq!(s("{{(.X).Y}} {{(printf .X).Y.Z}}"), "{{(.X).Y}} {{(printf .X).Y.Z}}");
        assert_eq!(s("{{print (1) (\"a\" | printf)}}"), "{{print (1) (\"a\" | printf)}}");
        assert_eq!(s("{{tmpl.Exec \"a\" .}}"), "{{tmpl.Exec \"a\" .}}");
        // A trailing '|' before the delimiter is accepted, as in Go.
        assert_eq!(s("{{.X |}}"), "{{.X}}");
        let pipe = only_action_pipe("{{tmpl.Exec \"a\" .}}");
        assert_eq!(
            pipe.cmds[0].args[0],
            Arg::Chain { node: Box::new(Arg::Identifier("tmpl".into())), fields: vec!["Exec".into()] }
        );
        let pipe = only_action_pipe("{{(1).X}}");
        assert!(
            matches!(&pipe.cmds[0].args[0], Arg::Chain { node, fields } if matches!(**node, Arg::Pipe(_)) && fields == &["X"])
        );
    }

    #[test]
    fn parse_declarations_and_assignments() {
        let pipe = only_action_pipe("{{$x := .A}}");
        assert_eq!(pipe.decl, vec!["$x"]);
        assert!(!pipe.is_assign);
        assert_eq!(s("{{$x := 1}}{{$x = 2}}"), "{{$x := 1}}{{$x := 2}}");
        let tree = p("{{$x := 1}}{{$x = 2}}");
        assert!(matches!(&tree.root[1], Node::Action { pipe, .. } if pipe.is_assign && pipe.decl == ["$x"]));
        assert_eq!(s("{{range $i, $v := .}}{{$i}}{{$v}}{{end}}"), "{{range $i, $v := .}}{{$i}}{{$v}}{{end}}");
        assert_eq!(s("{{range $v := .}}{{end}}"), "{{range $v := .}}{{end}}");
        // "$x foo": $x used as an argument, not declared.
        assert_eq!(s("{{$x := 1}}{{$x | print}}"), "{{$x := 1}}{{$x | print}}");
        assert_eq!(s("{{with $x := 3}}{{$x}}{{end}}"), "{{with $x := 3}}{{$x}}{{end}}");
        assert_eq!(s("{{print ($y := 1) $y}}"), "{{print ($y := 1) $y}}");
    }

    #[test]
    fn parse_variable_scoping() {
        assert_eq!(err("{{$x}}"), "template: t:1: undefined variable \"$x\"");
        // Declarations inside a control end with it.
        assert_eq!(err("{{if true}}{{$x := 1}}{{end}}{{$x}}"), "template: t:1: undefined variable \"$x\"");
        assert_eq!(err("{{with $x := 1}}{{end}}{{$x}}"), "template: t:1: undefined variable \"$x\"");
        // They persist to the end of the enclosing list otherwise.
        assert_eq!(s("{{$x := 1}}{{if true}}{{$x}}{{end}}{{$x}}"), "{{$x := 1}}{{if true}}{{$x}}{{end}}{{$x}}");
        // Each define starts with only $.
        assert_eq!(err("{{$x := 1}}{{define \"a\"}}{{$x}}{{end}}"), "template: t:1: undefined variable \"$x\"");
        assert_eq!(err("{{$x.y}}"), "template: t:1: undefined variable \"$x\"");
    }

    #[test]
    fn parse_if_else_chains() {
        assert_eq!(s("{{if .X}}a{{end}}"), "{{if .X}}a{{end}}");
        assert_eq!(s("{{if .X}}a{{else}}b{{end}}"), "{{if .X}}a{{else}}b{{end}}");
        assert_eq!(
            s("{{if .X}}a{{else if .Y}}b{{else}}c{{end}}"),
            "{{if .X}}a{{else}}{{if .Y}}b{{else}}c{{end}}{{end}}"
        );
        let tree = p("{{if .X}}a{{else if .Y}}b{{end}}");
        let Node::If { else_list: Some(else_list), .. } = &tree.root[0] else { panic!() };
        assert!(matches!(else_list.as_slice(), [Node::If { else_list: None, .. }]));
        // Go 1.20 allows "else if" only after "if".
        assert_eq!(err("{{with .X}}a{{else if .Y}}b{{end}}"), "template: t:1: unexpected <if> in input");
        assert_eq!(err("{{with .X}}a{{else with .Y}}b{{end}}"), "template: t:1: unexpected <with> in else");
    }

    #[test]
    fn parse_range_with_break_continue() {
        assert_eq!(s("{{range .X}}a{{else}}b{{end}}"), "{{range .X}}a{{else}}b{{end}}");
        assert_eq!(
            s("{{range .X}}{{if .}}{{break}}{{end}}{{continue}}{{end}}"),
            "{{range .X}}{{if .}}{{break}}{{end}}{{continue}}{{end}}"
        );
        assert_eq!(s("{{with .X}}a{{else}}b{{end}}"), "{{with .X}}a{{else}}b{{end}}");
        assert_eq!(err("{{break}}"), "template: t:1: {{break}} outside {{range}}");
        assert_eq!(err("{{continue}}"), "template: t:1: {{continue}} outside {{range}}");
        assert_eq!(err("{{range .}}{{else}}{{break}}{{end}}"), "template: t:1: {{break}} outside {{range}}");
        assert_eq!(err("{{range .}}{{break 1}}{{end}}"), "template: t:1: unexpected \"1\" in {{break}}");
        assert_eq!(err("{{range $i, 1}}{{end}}"), "template: t:1: range can only initialize variables");
        assert_eq!(err("{{range $i, $j, $k := .}}{{end}}"), "template: t:1: too many declarations in range");
        assert_eq!(err("{{with $i, $j := .}}{{end}}"), "template: t:1: too many declarations in with");
    }

    #[test]
    fn parse_define_template_block() {
        let tree = p("a{{define \"x\"}}X{{.}}{{end}}b{{template \"x\" .}}{{template `y`}}");
        assert_eq!(tree.defines.len(), 1);
        assert_eq!(tree.defines[0].0, "x");
        assert_eq!(tree.defines[0].1.iter().map(|n| n.to_string()).collect::<String>(), "X{{.}}");
        assert_eq!(
            tree.root.iter().map(|n| n.to_string()).collect::<String>(),
            "ab{{template \"x\" .}}{{template \"y\"}}"
        );
        let tree = p("{{block \"b\" .X}}body{{end}}");
        assert_eq!(tree.defines, vec![("b".to_string(), vec![Node::Text("body".into())])]);
        assert_eq!(tree.root[0].to_string(), "{{template \"b\" .X}}");
        // An empty define gives way to a later one, and the reverse.
        let tree = p("{{define \"x\"}} {{end}}{{define \"x\"}}X{{end}}{{define \"x\"}}\n{{end}}");
        assert_eq!(tree.defines, vec![("x".to_string(), vec![Node::Text("X".into())])]);
        // A define named like the file replaces an empty top level.
        let tree = p("{{define \"t\"}}T{{end}}\n");
        assert_eq!(tree.root, vec![Node::Text("T".into())]);
        assert!(tree.defines.is_empty());
        assert_eq!(
            err("{{define \"x\"}}1{{end}}{{define \"x\"}}2{{end}}"),
            "template: t:1: template: multiple definition of template \"x\""
        );
        assert_eq!(err("{{define \"t\"}}T{{end}}x"), "template: t:1: template: multiple definition of template \"t\"");
        assert_eq!(err("{{define x}}{{end}}"), "template: t:1: unexpected \"x\" in define clause");
        assert_eq!(err("{{define \"x\" .}}{{end}}"), "template: t:1: unexpected <.> in define clause");
        assert_eq!(err("{{define \"x\"}}a{{else}}b{{end}}"), "template: t:1: unexpected {{else}} in define clause");
        assert_eq!(err("{{template x}}"), "template: t:1: unexpected \"x\" in template clause");
        assert_eq!(err("{{if .}}{{define \"x\"}}{{end}}{{end}}"), "template: t:1: unexpected <define> in command");
        assert_eq!(err("{{block \"b\"}}{{end}}"), "template: t:1: missing value for block clause");
    }

    #[test]
    fn parse_error_messages() {
        assert_eq!(err("a\n\n{{if .X}}"), "template: t:3: unexpected EOF");
        assert_eq!(err("{{end}}"), "template: t:1: unexpected {{end}}");
        assert_eq!(err("{{else}}"), "template: t:1: unexpected {{else}}");
        assert_eq!(err("{{end 1}}"), "template: t:1: unexpected \"1\" in end");
        assert_eq!(err("{{if .X}}a{{else}}b{{else}}c{{end}}"), "template: t:1: expected end; found {{else}}");
        assert_eq!(err("{{}}"), "template: t:1: missing value for command");
        assert_eq!(err("{{if}}{{end}}"), "template: t:1: missing value for if");
        assert_eq!(err("{{.X | 3}}"), "template: t:1: non executable command in pipeline stage 2");
        assert_eq!(err("{{.X | \"a\"}}"), "template: t:1: non executable command in pipeline stage 2");
        assert_eq!(err("{{\"a\".X}}"), "template: t:1: unexpected . after term \"\\\"a\\\"\"");
        assert_eq!(err("{{\"\\q\"}}"), "template: t:1: invalid syntax");
        assert_eq!(err("{{ \"abc }}"), "template: t:1: unterminated quoted string");
        assert_eq!(err("{{ .X"), "template: t:1: unclosed action");
        assert_eq!(err("{{ .X\n\n"), "template: t:3: unclosed action started at t:1");
        assert_eq!(err("{{ \"a\n\" }}"), "template: t:1: unterminated quoted string");
        assert_eq!(err("{{ .X\n\"a }}"), "template: t:2: unterminated quoted string in action started at t:1");
        assert_eq!(err("{{ 3k }}"), "template: t:1: bad number syntax: \"3k\"");
        assert_eq!(err("{{ ( .X }}"), "template: t:1: unclosed left paren");
        assert_eq!(err("{{ .X) }}"), "template: t:1: unexpected right paren");
        assert_eq!(err("{{ .X \"y\"z }}"), "template: t:1: unexpected \"z\" in operand");
        assert_eq!(err("{{ (1) 2 | . }}"), "template: t:1: non executable command in pipeline stage 2");
        assert_eq!(err("{{ x := 1 }}"), "template: t:1: function \"x\" not defined");
        assert_eq!(err("{{ print (nosuch 1) }}"), "template: t:1: function \"nosuch\" not defined");
        assert_eq!(err("{{ if false }}{{ nosuch }}{{ end }}"), "template: t:1: function \"nosuch\" not defined");
        assert_eq!(err("{{ |x }}"), "template: t:1: unexpected \"|\" in command");
        assert_eq!(err("{{ ( ) }}"), "template: t:1: missing value for parenthesized pipeline");
        assert_eq!(err("x {{/* c"), "template: t:1: unclosed comment");
        assert_eq!(err("{{.X}}\n{{end}}"), "template: t:2: unexpected {{end}}");
        // Long tokens are cut to 10 characters, like Go's %.10q.
        assert_eq!(err("{{1\"abcdefghijkl\"}}"), "template: t:1: unexpected \"\\\"abcdefghi\"... in operand");
        // A comment must follow the delimiter (and optional trim marker) directly.
        assert_eq!(err("{{ /* c */ }}"), "template: t:1: unexpected \"/\" in command");
    }

    /// Messages and lines produced by Go's text/template/parse for the same input.
    #[test]
    fn parse_errors_match_go_output() {
        let cases: &[(&str, &str)] = &[
            ("a\n{{ if .X }}\nb\n{{ else }}\nc\n{{ else }}\n{{ end }}", "t:6: expected end; found {{else}}"),
            ("{{ .X\n|\n3 }}", "t:3: non executable command in pipeline stage 2"),
            ("{{ $x\n:=\n1 }}{{ $y }}", "t:3: undefined variable \"$y\""),
            ("{{ $x\n\n}}", "t:3: undefined variable \"$x\""),
            ("{{ $x\n  foo }}", "t:2: undefined variable \"$x\""),
            ("{{ range\n$i,\n$j,\n$k := . }}{{ end }}", "t:3: too many declarations in range"),
            (
                "{{ define\n\"a\"\n}}\n{{ end }}\n{{ define \"a\" }}x{{ end }}{{ define \"a\" }}y{{ end }}",
                "t:5: template: multiple definition of template \"a\"",
            ),
            ("{{ if .A }}\n{{ .B }}\n{{ \"unterminated }}\n{{ end }}", "t:3: unterminated quoted string"),
            ("{{ if .A }}\n\n{{ else\n  3 }}", "t:4: unexpected \"3\" in else"),
            ("{{ block\n\"x\" .\n}}\n{{ else }}\n{{ end }}", "t:3: unexpected {{else}} in block clause"),
            ("x\n{{- /* c\n*/ -}}\ny\n{{ /* bad */ }}", "t:5: unexpected \"/\" in command"),
            ("{{ .A }}\n{{ .B\n", "t:3: unclosed action started at t:2"),
            ("{{ `raw\nstring\n` | print\n}}\n{{ $z }}", "t:5: undefined variable \"$z\""),
            ("{{ 'a\n' }}", "t:1: unterminated character constant"),
            ("{{ ( ( .X ) }}", "t:1: unclosed left paren"),
            ("{{ $x, $y := 1 }}", "t:1: too many declarations in command"),
            ("{{ if $x := 1 }}{{ $x }}{{ else }}{{ $x }}{{ end }}{{ $x }}", "t:1: undefined variable \"$x\""),
            ("{{ template }}", "t:1: unexpected \"}}\" in template clause"),
            ("{{ template \"x\" | f }}", "t:1: unexpected \"|\" in template clause"),
            ("{{ .X || f }}", "t:1: unexpected \"|\" in command"),
            ("{{ - 3 }}", "t:1: illegal number syntax: \"-\""),
            ("{{ .x.y$ }}", "t:1: bad character U+0024 '$'"),
            ("{{ true }}{{ false.x }}", "t:1: unexpected . after term \"false\""),
            ("{{ 0x_1 }}{{ 0_1 }}{{ 1_ }}", "t:1: illegal number syntax: \"1_\""),
            ("{{ 1.5e }}", "t:1: illegal number syntax: \"1.5e\""),
            ("{{ 123456789012345678901234567890 }}", "t:1: integer overflow: \"123456789012345678901234567890\""),
            ("{{ '\\18' }}", "t:1: invalid syntax"),
            ("{{ \"\\U00110000\" }}", "t:1: invalid syntax"),
            ("{{ print·g }}", "t:1: bad character U+00B7 '·'"),
            ("{{ \u{0} }}", "t:1: unrecognized character in action: U+0000"),
            ("{{ .X , .Y }}", "t:1: unexpected \",\" in operand"),
            ("{{ .X = 1 }}", "t:1: unexpected \"=\" in operand"),
            ("{{ := }}", "t:1: unexpected \":=\" in command"),
            ("\n{{ if .X }}\n{{ range }}", "t:3: missing value for range"),
            ("{{ define \"a\" }}\n\n", "t:3: unexpected EOF"),
            ("{{ if .X }}\n{{ else if }}", "t:2: missing value for if"),
            ("{{ if .X }}{{ else if .Y }}{{ end }}{{ end }}", "t:1: unexpected {{end}}"),
        ];
        for (text, want) in cases {
            assert_eq!(err(text), format!("template: {want}"), "input {text:?}");
        }
    }

    #[test]
    fn parse_error_line_uses_lookahead_like_go() {
        // Go reports the line of the last token lexed: here the "}}" after the newline.
        assert_eq!(err("{{ $x\n}}"), "template: t:2: undefined variable \"$x\"");
    }

    #[test]
    fn parse_custom_delims_and_trim() {
        let tree = parse("t", "a  \n{{<- .X ->}}\n  b{{</* c */>}}c {{<- /* d */ ->}} e", L, R).unwrap();
        assert_eq!(tree.root.iter().map(|n| n.to_string()).collect::<String>(), "a{{.X}}bce");
        assert_eq!(parse("t", "{{< end >}}", L, R).unwrap_err().to_string(), "template: t:1: unexpected {{end}}");
        assert_eq!(
            parse("t", "{{< .X }}", L, R).unwrap_err().to_string(),
            "template: t:1: unexpected \"}\" in operand"
        );
        // Default delimiters are plain text with custom ones.
        assert_eq!(parse("t", "{{ .X }}", L, R).unwrap().root, vec![Node::Text("{{ .X }}".into())]);
    }

    #[test]
    fn parse_positions() {
        let tree = p("ab{{.X}}\n  {{if  .Y}}{{fail \"m\" | quote}}{{end}}\n{{template \"z\" .}}");
        let Node::Action { pos: apos, pipe } = &tree.root[1] else { panic!() };
        assert_eq!(*apos, pos(1, 5));
        assert_eq!(pipe.pos, pos(1, 5));
        assert_eq!(pipe.cmds[0].pos, pos(1, 5));
        let Node::If { pos: ipos, list, .. } = &tree.root[3] else { panic!() };
        assert_eq!(*ipos, pos(2, 9));
        let Node::Action { pipe, .. } = &list[0] else { panic!() };
        assert_eq!(pipe.cmds[0].pos, pos(2, 15));
        assert_eq!(pipe.cmds[1].pos, pos(2, 26));
        let Node::Template { pos: tpos, .. } = &tree.root[5] else { panic!() };
        assert_eq!(*tpos, pos(3, 12));
        let tree = p("{{range .}}\n {{break}}{{end}}");
        let Node::Range { list, .. } = &tree.root[0] else { panic!() };
        assert_eq!(list[1], Node::Break { pos: pos(2, 4) });
    }

    #[test]
    fn parse_display_matches_go_string() {
        let tree = p("{{$x := tmpl.Exec \"a\" . | toYAML}}{{fail \"msg\"}}{{.Values.x | quote}}");
        let strings: Vec<String> = tree.root.iter().map(|n| n.to_string()).collect();
        assert_eq!(
            strings,
            vec!["{{$x := tmpl.Exec \"a\" . | toYAML}}", "{{fail \"msg\"}}", "{{.Values.x | quote}}"]
        );
        let Node::Action { pipe, .. } = &tree.root[1] else { panic!() };
        assert_eq!(pipe.to_string(), "fail \"msg\"");
        assert_eq!(pipe.cmds[0].to_string(), "fail \"msg\"");
        assert_eq!(pipe.cmds[0].args[1].to_string(), "\"msg\"");
        let pipe = only_action_pipe("{{(print 1).X}}");
        assert_eq!(pipe.cmds[0].args[0].to_string(), "(print 1).X");
        let pipe = only_action_pipe("{{print (print 1)}}");
        assert_eq!(pipe.cmds[0].args[1].to_string(), "print 1");
        assert_eq!(pipe.cmds[0].to_string(), "print (print 1)");
    }

    #[test]
    fn parse_is_empty_tree() {
        assert!(is_empty_tree(&p(" \n\t{{/* x */}}").root));
        assert!(!is_empty_tree(&p(" x ").root));
        assert!(!is_empty_tree(&p("{{.}}").root));
    }

    #[test]
    fn parse_all_generator_templates() {
        let Some(generators) = crate::fixtures::generators() else { return };
        let texts: Vec<&(String, String)> = generators
            .iter()
            .flat_map(|g| g.files_under("templates").chain(g.files_under("helpers")))
            .collect();
        // Every deployKF release has more than 600 templates and helpers.
        assert!(texts.len() > 600 * generators.len(), "only {} templates", texts.len());
        let start = std::time::Instant::now();
        let mut failures = Vec::new();
        for (name, text) in &texts {
            if let Err(e) = parse(name, text, L, R) {
                failures.push(e.to_string());
            }
        }
        let elapsed = start.elapsed();
        let bytes: usize = texts.iter().map(|(_, t)| t.len()).sum();
        println!("parsed {} files ({} bytes) in {:?}", texts.len(), bytes, elapsed);
        assert!(failures.is_empty(), "{} failures, first: {:?}", failures.len(), &failures[..failures.len().min(5)]);
    }
}
