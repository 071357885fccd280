//! Executes parsed templates with Go `text/template` semantics: the template
//! set ([`Engine`]), variable scopes, pipelines, field chains, `range`/`with`/
//! `if`, `break`/`continue`, and the engine-bound functions (`tmpl.Exec`,
//! `tpl`, `file.Write`, `getenv`, short-circuit `and`/`or`).

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::{Error, ErrorKind, FuncError};
use crate::funcs;
use crate::syntax::ast::{Arg, Command, List, Node, Pipe, Pos, Tree};
use crate::syntax::parse;
use crate::value::Value;

/// What the outside world offers templates: environment and file writes.
pub trait Host {
    /// The value of an environment variable (`getenv`, `env.Getenv`).
    fn getenv(&self, name: &str) -> Option<String>;
    /// `file.Write PATH CONTENT`; the host decides which paths are allowed.
    fn write_file(&mut self, path: &str, content: &[u8]) -> Result<(), String>;
}

/// A host with an empty environment that refuses file writes.
pub struct NoHost;

impl Host for NoHost {
    fn getenv(&self, _name: &str) -> Option<String> {
        None
    }
    fn write_file(&mut self, path: &str, _content: &[u8]) -> Result<(), String> {
        Err(format!("file.Write is not allowed here: {path}"))
    }
}

/// Nesting limit for `template`/`tmpl.Exec`/`tpl` calls. Go allows 100000; we
/// stop earlier to stay within the thread's stack (see COMPATIBILITY.md).
const MAX_DEPTH: usize = 200;

/// One template of a set: its body and the name of the source it was parsed
/// from (Go's `ParseName`, which error locations use).
#[derive(Clone, Debug)]
struct Template {
    parse_name: Arc<str>,
    body: Arc<List>,
}

/// What a field access does when the map has no such key (Go's
/// `missingkey` template option).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MissingKey {
    /// `missingkey=error`, which gomplate sets: `map has no entry for key "x"`.
    Error,
    /// Go's default: the missing value, printed as `<no value>`.
    Invalid,
}

/// A set of named templates sharing delimiters, like a Go `*template.Template`
/// with its associated templates.
#[derive(Clone, Debug)]
pub struct Engine {
    left: String,
    right: String,
    missing_key: MissingKey,
    templates: HashMap<String, Template>,
}

impl Default for Engine {
    fn default() -> Self {
        Engine::new("{{", "}}")
    }
}

impl Engine {
    /// An empty set using the given delimiters and gomplate's `missingkey=error`.
    pub fn new(left_delim: &str, right_delim: &str) -> Engine {
        Engine { left: left_delim.into(), right: right_delim.into(), missing_key: MissingKey::Error, templates: HashMap::new() }
    }

    /// Sets what accessing a missing map key does.
    pub fn set_missing_key(&mut self, missing_key: MissingKey) {
        self.missing_key = missing_key;
    }

    /// Parses `text` as template `name`; its `define`d templates join the set
    /// (a later definition replaces an earlier one, as in Go).
    pub fn add_template(&mut self, name: &str, text: &str) -> Result<(), Error> {
        let tree = parse::parse(name, text, &self.left, &self.right)?;
        add_tree(&mut self.templates, name, tree, true);
        Ok(())
    }

    /// Adds every template of `other` as [`Engine::add_template`] would if
    /// the sources of `other` were parsed again into this set, in the order
    /// they were added to it: an empty body never replaces an existing one,
    /// so each name ends with `other`'s last non-empty definition, or keeps
    /// this set's own when `other` only has empty ones.
    pub fn overlay(&mut self, other: &Engine) {
        for (name, tmpl) in &other.templates {
            associate(&mut self.templates, name.clone(), tmpl.clone());
        }
    }

    /// True when a template of that name exists.
    pub fn has_template(&self, name: &str) -> bool {
        self.templates.contains_key(name)
    }

    /// Executes template `name` with `data` as dot (and as the default context
    /// of `tmpl.Exec` and `tpl`). A map becomes a [`Value::Context`]: like
    /// gomplate, templates get a pointer to their context.
    pub fn render(&self, name: &str, data: &Value, host: &mut dyn Host) -> Result<String, Error> {
        let data = &match data {
            Value::Map(map) => Value::Context(map.clone()),
            other => other.clone(),
        };
        let mut state = State {
            engine: self,
            inline: HashMap::new(),
            host,
            default_ctx: data.clone(),
            vars: Vec::new(),
            frame: Frame::default(),
            depth: 0,
        };
        let mut out = String::new();
        state.exec_template(name, data.clone(), &mut out).map_err(|e| match e {
            Fail::Error(e) => e,
            Fail::Break | Fail::Continue => Error::at(ErrorKind::Exec, name, 0, 0, "break or continue outside range"),
        })?;
        Ok(out)
    }
}

/// Where execution currently is, for error messages.
#[derive(Clone, Default)]
struct Frame {
    /// The executing template's name (`executing "NAME"`).
    name: Arc<str>,
    /// The source it was parsed from (`template: PARSE_NAME:LINE:COL`).
    parse_name: Arc<str>,
}

/// Adds a template to a set; like Go, an empty body never replaces an
/// existing template of the same name.
fn associate(set: &mut HashMap<String, Template>, name: String, tmpl: Template) {
    if parse::is_empty_tree(&tmpl.body) && set.contains_key(&name) {
        return;
    }
    set.insert(name, tmpl);
}

/// Adds a parsed template `name` and its `define`s to a set; returns the
/// template for `name`. With `keep_nonempty`, an empty body does not replace
/// an existing `name` (Go's `AddParseTree`); `tpl` always replaces it.
fn add_tree(set: &mut HashMap<String, Template>, name: &str, tree: Tree, keep_nonempty: bool) -> Template {
    let parse_name: Arc<str> = name.into();
    for (def, body) in tree.defines {
        associate(set, def, Template { parse_name: parse_name.clone(), body: Arc::new(body) });
    }
    let tmpl = Template { parse_name, body: Arc::new(tree.root) };
    if keep_nonempty {
        associate(set, name.to_string(), tmpl.clone());
    } else {
        set.insert(name.to_string(), tmpl.clone());
    }
    tmpl
}

/// True for the builtins that see a context pointer as such (`fmt` printing,
/// `eq`/`ne` comparing it); the others (`index`, `len`, the escapers, which
/// print through text/template's `printableValue`) and gomplate's functions
/// get the map it points to.
fn sees_pointers(name: &str) -> bool {
    matches!(name, "print" | "printf" | "println" | "eq" | "ne")
}

/// Non-local exits of `walk`: errors, and Go's `break`/`continue` panics.
enum Fail {
    Error(Error),
    Break,
    Continue,
}

impl From<Error> for Fail {
    fn from(e: Error) -> Fail {
        Fail::Error(e)
    }
}

type Res<T> = Result<T, Fail>;

struct State<'a> {
    engine: &'a Engine,
    /// Templates parsed at run time by `tpl` (and the `define`s inside them).
    inline: HashMap<String, Template>,
    host: &'a mut dyn Host,
    default_ctx: Value,
    /// The variable stack; `$` is the first entry of each template call.
    vars: Vec<(String, Value)>,
    frame: Frame,
    depth: usize,
}

/// Go converts a pipeline's interface result to its concrete value; a nil
/// interface becomes the invalid value, which prints as `<no value>`.
fn concrete(v: Value) -> Value {
    match v {
        Value::Nil => Value::Missing,
        v => v,
    }
}

impl<'a> State<'a> {
    fn lookup(&self, name: &str) -> Option<Template> {
        self.inline.get(name).or_else(|| self.engine.templates.get(name)).cloned()
    }

    fn error(&self, pos: Pos, at: Option<&dyn std::fmt::Display>, message: impl Into<String>) -> Fail {
        self.error_kind(ErrorKind::Exec, pos, at, message)
    }

    fn error_kind(&self, kind: ErrorKind, pos: Pos, at: Option<&dyn std::fmt::Display>, message: impl Into<String>) -> Fail {
        let message = message.into();
        let mut text = format!("executing {:?}", &*self.frame.name);
        if let Some(at) = at {
            text.push_str(&format!(" at <{at}>"));
        }
        text.push_str(": ");
        text.push_str(&message);
        // Go reports the byte column 0-based.
        Fail::Error(Error::at(kind, &self.frame.parse_name, pos.line, pos.col.saturating_sub(1), text))
    }

    /// Runs a named template with a fresh variable scope, writing to `out`.
    fn exec_template(&mut self, name: &str, dot: Value, out: &mut String) -> Res<()> {
        let tmpl = self.lookup(name).ok_or_else(|| {
            Fail::Error(Error::at(ErrorKind::NotFound, name, 0, 0, format!("no template {name:?} associated with template {:?}", &*self.frame.name)))
        })?;
        self.call_template(name, &tmpl, dot, out)
    }

    fn call_template(&mut self, name: &str, tmpl: &Template, dot: Value, out: &mut String) -> Res<()> {
        if self.depth >= MAX_DEPTH {
            return Err(Fail::Error(Error::at(
                ErrorKind::Exec,
                &tmpl.parse_name,
                0,
                0,
                format!("exceeded maximum template depth ({MAX_DEPTH})"),
            )));
        }
        let saved_vars = std::mem::replace(&mut self.vars, vec![("$".to_string(), dot.clone())]);
        let saved_frame = std::mem::replace(&mut self.frame, Frame { name: name.into(), parse_name: tmpl.parse_name.clone() });
        self.depth += 1;
        let body = tmpl.body.clone();
        let result = self.walk(&dot, &body, out);
        self.depth -= 1;
        self.frame = saved_frame;
        self.vars = saved_vars;
        result
    }

    fn walk(&mut self, dot: &Value, list: &List, out: &mut String) -> Res<()> {
        for node in list {
            self.walk_node(dot, node, out)?;
        }
        Ok(())
    }

    fn walk_node(&mut self, dot: &Value, node: &Node, out: &mut String) -> Res<()> {
        match node {
            Node::Text(text) => {
                out.push_str(text);
                Ok(())
            }
            Node::Action { pos, pipe } => {
                let value = self.eval_pipeline(dot, pipe)?;
                if pipe.decl.is_empty() {
                    value.write_go(out, true);
                }
                self.check_output(*pos, out)
            }
            Node::If { pipe, list, else_list, .. } => self.walk_if(dot, pipe, list, else_list.as_ref(), false, out),
            Node::With { pipe, list, else_list, .. } => self.walk_if(dot, pipe, list, else_list.as_ref(), true, out),
            Node::Range { pos, pipe, list, else_list } => {
                let mark = self.vars.len();
                let result = self.walk_range(dot, *pos, pipe, list, else_list.as_ref(), out);
                self.vars.truncate(mark);
                result
            }
            Node::Template { pos, name, pipe } => {
                let new_dot = match pipe {
                    Some(pipe) => self.eval_pipeline(dot, pipe)?,
                    None => Value::Missing,
                };
                let Some(tmpl) = self.lookup(name) else {
                    return Err(self.error(*pos, Some(&format_args!("template {name:?}")), format!("template {name:?} not defined")));
                };
                self.call_template(name, &tmpl, new_dot, out)?;
                self.check_output(*pos, out)
            }
            Node::Break { .. } => Err(Fail::Break),
            Node::Continue { .. } => Err(Fail::Continue),
        }
    }

    /// Fails at `pos` once `out` is over [`crate::SIZE_LIMIT`] (checked after
    /// each action, template call and range iteration, so text between them
    /// adds at most its own length).
    fn check_output(&self, pos: Pos, out: &str) -> Res<()> {
        if out.len() <= crate::SIZE_LIMIT {
            return Ok(());
        }
        Err(self.error(pos, None, format!("the output is over the limit of {} MiB for one template", crate::SIZE_LIMIT >> 20)))
    }

    /// `if` (and `with`, which also makes the value dot for its true branch):
    /// variables declared in the pipeline are scoped to the branches.
    fn walk_if(&mut self, dot: &Value, pipe: &Pipe, list: &List, else_list: Option<&List>, with: bool, out: &mut String) -> Res<()> {
        let mark = self.vars.len();
        let value = self.eval_pipeline(dot, pipe)?;
        let result = if value.is_true() {
            self.walk(if with { &value } else { dot }, list, out)
        } else if let Some(else_list) = else_list {
            self.walk(dot, else_list, out)
        } else {
            Ok(())
        };
        self.vars.truncate(mark);
        result
    }

    fn walk_range(&mut self, dot: &Value, pos: Pos, pipe: &Pipe, list: &List, else_list: Option<&List>, out: &mut String) -> Res<()> {
        let value = self.eval_pipeline(dot, pipe)?;
        let mark = self.vars.len();
        let items: Vec<(Value, Value)> = match &value {
            Value::List(items) => items.iter().enumerate().map(|(i, v)| (Value::Int(i as i64), v.clone())).collect(),
            Value::Map(map) | Value::Context(map) => map.iter().map(|(k, v)| (Value::str(k.as_str()), v.clone())).collect(),
            Value::Missing | Value::Nil => Vec::new(),
            Value::Int(n) => {
                return Err(self.error(pos, Some(pipe), format!("range can't iterate over {n}")));
            }
            other => {
                return Err(self.error(pos, Some(pipe), format!("range can't iterate over {}", other.to_go_string())));
            }
        };
        if items.is_empty() {
            if let Some(else_list) = else_list {
                // As in Go, a `break` (of an outer range) in the else branch
                // ends this range statement only.
                return match self.walk(dot, else_list, out) {
                    Err(Fail::Break) => Ok(()),
                    result => result,
                };
            }
            return Ok(());
        }
        for (index, elem) in items {
            if !pipe.decl.is_empty() {
                if pipe.is_assign {
                    if pipe.decl.len() > 1 {
                        self.set_var(pos, &pipe.decl[0], index.clone())?;
                    } else {
                        self.set_var(pos, &pipe.decl[0], elem.clone())?;
                    }
                } else {
                    let top = self.vars.len() - 1;
                    self.vars[top].1 = elem.clone();
                }
            }
            if pipe.decl.len() > 1 {
                if pipe.is_assign {
                    self.set_var(pos, &pipe.decl[1], elem.clone())?;
                } else {
                    let next = self.vars.len() - 2;
                    self.vars[next].1 = index;
                }
            }
            let result = self.walk(&elem, list, out);
            self.vars.truncate(mark);
            match result {
                Ok(()) | Err(Fail::Continue) => {}
                Err(Fail::Break) => break,
                Err(e) => return Err(e),
            }
            self.check_output(pos, out)?;
        }
        Ok(())
    }

    fn set_var(&mut self, pos: Pos, name: &str, value: Value) -> Res<()> {
        match self.vars.iter_mut().rev().find(|(n, _)| n == name) {
            Some(slot) => {
                slot.1 = value;
                Ok(())
            }
            None => Err(self.error(pos, None, format!("undefined variable: {name}"))),
        }
    }

    fn var_value(&self, pos: Pos, name: &str) -> Res<Value> {
        match self.vars.iter().rev().find(|(n, _)| n == name) {
            Some((_, v)) => Ok(v.clone()),
            None => Err(self.error(pos, None, format!("undefined variable: {name}"))),
        }
    }

    fn eval_pipeline(&mut self, dot: &Value, pipe: &Pipe) -> Res<Value> {
        let mut value: Option<Value> = None;
        for cmd in &pipe.cmds {
            value = Some(self.eval_command(dot, cmd, value)?);
        }
        let value = concrete(value.unwrap_or(Value::Missing));
        for name in &pipe.decl {
            if pipe.is_assign {
                self.set_var(pipe.pos, name, value.clone())?;
            } else {
                self.vars.push((name.clone(), value.clone()));
            }
        }
        Ok(value)
    }

    /// Evaluates one command; `last` is the previous command's result, passed
    /// as the final argument (Go's `final`).
    fn eval_command(&mut self, dot: &Value, cmd: &Command, last: Option<Value>) -> Res<Value> {
        let first = &cmd.args[0];
        let has_args = cmd.args.len() > 1 || last.is_some();
        match first {
            Arg::Field(fields) => {
                if has_args {
                    return Err(self.error(cmd.pos, Some(cmd), format!("{} is not a method but has arguments", fields.last().map(String::as_str).unwrap_or(""))));
                }
                self.eval_fields(cmd.pos, first, dot.clone(), fields)
            }
            Arg::Variable { name, fields } => {
                let value = self.var_value(cmd.pos, name)?;
                if fields.is_empty() {
                    if has_args {
                        return Err(self.error(cmd.pos, Some(cmd), format!("can't give argument to non-function {first}")));
                    }
                    return Ok(value);
                }
                if has_args {
                    return Err(self.error(cmd.pos, Some(cmd), format!("{} is not a method but has arguments", fields.last().map(String::as_str).unwrap_or(""))));
                }
                self.eval_fields(cmd.pos, first, value, fields)
            }
            Arg::Identifier(name) => self.call_function(dot, cmd.pos, cmd, name, &cmd.args[1..], last),
            Arg::Chain { node, fields } => {
                if let Arg::Identifier(ns) = node.as_ref() {
                    if funcs::is_namespace(ns) {
                        if fields.len() != 1 {
                            return Err(self.error(cmd.pos, Some(cmd), format!("can't evaluate field {} of namespace {ns}", fields[1..].join("."))));
                        }
                        let name = format!("{ns}.{}", fields[0]);
                        return self.call_function(dot, cmd.pos, cmd, &name, &cmd.args[1..], last);
                    }
                }
                if has_args {
                    return Err(self.error(cmd.pos, Some(cmd), format!("{} is not a method but has arguments", fields.last().map(String::as_str).unwrap_or(""))));
                }
                if matches!(node.as_ref(), Arg::Nil) {
                    return Err(self.error(cmd.pos, Some(cmd), format!("indirection through explicit nil in {first}")));
                }
                let receiver = self.eval_arg(dot, cmd.pos, node)?;
                self.eval_fields(cmd.pos, first, receiver, fields)
            }
            Arg::Pipe(pipe) => {
                if has_args {
                    return Err(self.error(cmd.pos, Some(cmd), format!("can't give argument to non-function {first}")));
                }
                self.eval_pipeline(dot, pipe)
            }
            Arg::Nil => Err(self.error(cmd.pos, Some(cmd), "nil is not a command")),
            Arg::Dot | Arg::Const { .. } => {
                if has_args {
                    return Err(self.error(cmd.pos, Some(cmd), format!("can't give argument to non-function {first}")));
                }
                self.eval_arg(dot, cmd.pos, first)
            }
        }
    }

    /// Evaluates an operand used as an argument.
    fn eval_arg(&mut self, dot: &Value, pos: Pos, arg: &Arg) -> Res<Value> {
        match arg {
            Arg::Dot => Ok(dot.clone()),
            Arg::Nil => Ok(Value::Nil),
            Arg::Const { value, .. } => Ok(value.clone()),
            Arg::Field(fields) => self.eval_fields(pos, arg, dot.clone(), fields),
            Arg::Variable { name, fields } => {
                let value = self.var_value(pos, name)?;
                if fields.is_empty() {
                    Ok(value)
                } else {
                    self.eval_fields(pos, arg, value, fields)
                }
            }
            Arg::Pipe(pipe) => self.eval_pipeline(dot, pipe),
            Arg::Identifier(name) => {
                let cmd = Command { pos, args: vec![arg.clone()] };
                self.call_function(dot, pos, &cmd, name, &[], None)
            }
            Arg::Chain { .. } => {
                let cmd = Command { pos, args: vec![arg.clone()] };
                self.eval_command(dot, &cmd, None)
            }
        }
    }

    /// Follows `.A.B.C` from `receiver` with Go's map-field rules: a missing key
    /// is an error under `missingkey=error` (else the missing value, and further
    /// fields stay missing), a nil value cannot be indexed further, and
    /// non-maps have no fields.
    fn eval_fields(&self, pos: Pos, node: &Arg, receiver: Value, fields: &[String]) -> Res<Value> {
        let strict = self.engine.missing_key == MissingKey::Error;
        let mut current = receiver;
        let mut from_container = false;
        for field in fields {
            current = match &current {
                Value::Missing if strict => {
                    return Err(self.error(pos, Some(node), format!("nil data; no entry for key {field:?}")));
                }
                Value::Missing => Value::Missing,
                Value::Nil => {
                    return Err(self.error(pos, Some(node), format!("nil pointer evaluating interface {{}}.{field}")));
                }
                Value::Map(map) | Value::Context(map) => match map.get(field.as_str()) {
                    Some(v) => v.clone(),
                    None if strict => {
                        return Err(self.error(pos, Some(node), format!("map has no entry for key {field:?}")));
                    }
                    None => Value::Missing,
                },
                other => {
                    let typ = if from_container { "interface {}" } else { other.type_name() };
                    return Err(self.error(pos, Some(node), format!("can't evaluate field {field} in type {typ}")));
                }
            };
            from_container = true;
        }
        Ok(current)
    }

    fn call_function(&mut self, dot: &Value, pos: Pos, cmd: &Command, name: &str, args: &[Arg], last: Option<Value>) -> Res<Value> {
        // `and`/`or` evaluate lazily and return the deciding operand.
        if name == "and" || name == "or" {
            if args.is_empty() && last.is_none() {
                return Err(self.error(pos, Some(cmd), format!("wrong number of args for {name}: want at least 1 got 0")));
            }
            let want = name == "or";
            let mut value = Value::Missing;
            for arg in args {
                value = self.eval_arg(dot, pos, arg)?;
                if value.is_true() == want {
                    return Ok(value);
                }
            }
            if let Some(last) = last {
                value = last;
            }
            return Ok(value);
        }
        let mut argv = Vec::with_capacity(args.len() + 1);
        for arg in args {
            argv.push(self.eval_arg(dot, pos, arg)?);
        }
        if let Some(last) = last {
            argv.push(last);
        }
        let result = match name {
            "tmpl.Exec" => self.fn_tmpl_exec(&argv),
            "tpl" | "tmpl.Inline" => self.fn_tpl(&argv),
            "file.Write" => self.fn_file_write(&argv),
            "getenv" | "env.Getenv" => self.fn_getenv(&argv),
            "env.ExpandEnv" => Err(FuncError::new("env.ExpandEnv is not supported")),
            "call" => Err(FuncError::new("call: templates here have no function values")),
            _ => match funcs::lookup(name) {
                Some(f) if sees_pointers(name) => f(&argv),
                Some(f) => f(&argv.into_iter().map(Value::deref).collect::<Vec<_>>()),
                None => return Err(self.error(pos, Some(cmd), format!("function {name:?} not defined"))),
            },
        };
        match result {
            Ok(Value::String(s)) if s.len() > crate::SIZE_LIMIT => Err(self.error(
                pos,
                Some(cmd),
                format!("error calling {}: {}", short_name(name), funcs::strings::over_limit(s.len() as u128).message),
            )),
            Ok(v) => Ok(v),
            Err(e) => {
                let kind = if e.is_fail { ErrorKind::Fail } else { ErrorKind::Exec };
                // Go checks argument counts and types before calling, and
                // reports those failures without "error calling".
                let message = if ["wrong number of args for ", "wrong type for value; ", "invalid value; expected "]
                    .iter()
                    .any(|p| e.message.starts_with(p))
                {
                    e.message
                } else {
                    format!("error calling {}: {}", short_name(name), e.message)
                };
                Err(self.error_kind(kind, pos, Some(cmd), message))
            }
        }
    }

    fn fn_tmpl_exec(&mut self, argv: &[Value]) -> Result<Value, FuncError> {
        let (name, ctx) = match argv {
            [name] => (name, self.default_ctx.clone()),
            [name, ctx] => (name, ctx.clone()),
            _ => return Err(FuncError::new(format!("wrong number of args for Exec: want 1 or 2 got {}", argv.len()))),
        };
        let name = arg_string(name);
        let Some(tmpl) = self.lookup(&name) else {
            return Err(FuncError::new(format!("template {name:?} not defined")));
        };
        self.call_to_value(&name, &tmpl, ctx)
    }

    /// Runs a template for `tmpl.Exec`/`tpl`: its output as a string value.
    fn call_to_value(&mut self, name: &str, tmpl: &Template, ctx: Value) -> Result<Value, FuncError> {
        let mut out = String::new();
        match self.call_template(name, tmpl, ctx, &mut out) {
            Ok(()) => Ok(Value::from(out)),
            Err(Fail::Error(e)) => Err(nested(e)),
            Err(_) => Err(FuncError::new("break or continue outside range")),
        }
    }

    fn fn_tpl(&mut self, argv: &[Value]) -> Result<Value, FuncError> {
        let first = match argv.first() {
            Some(Value::String(s)) => s.to_string(),
            Some(other) if argv.len() <= 3 => {
                return Err(FuncError::new(format!("wrong input: first arg must be string, got {}", other.type_name())));
            }
            _ => return Err(FuncError::new(format!("wrong number of args for tpl: want 1, 2, or 3 - got {}", argv.len()))),
        };
        let (name, text, ctx) = match argv {
            [_] => ("<inline>".to_string(), first, self.default_ctx.clone()),
            [_, Value::String(second)] => (first, second.to_string(), self.default_ctx.clone()),
            [_, ctx] => ("<inline>".to_string(), first, ctx.clone()),
            [_, Value::String(text), ctx] => (first, text.to_string(), ctx.clone()),
            [_, other, _] => return Err(FuncError::new(format!("wrong input: second arg (in) must be string, got {}", other.type_name()))),
            _ => return Err(FuncError::new(format!("wrong number of args for tpl: want 1, 2, or 3 - got {}", argv.len()))),
        };
        let tree = parse::parse(&name, &text, &self.engine.left, &self.engine.right).map_err(nested)?;
        let tmpl = add_tree(&mut self.inline, &name, tree, false);
        self.call_to_value(&name, &tmpl, ctx)
    }

    fn fn_file_write(&mut self, argv: &[Value]) -> Result<Value, FuncError> {
        let [path, data] = argv else {
            return Err(FuncError::new(format!("wrong number of args for Write: want 2 got {}", argv.len())));
        };
        let path = arg_string(path);
        let content = arg_string(data);
        self.host.write_file(&path, content.as_bytes()).map_err(FuncError::new)?;
        Ok(Value::str(""))
    }

    fn fn_getenv(&mut self, argv: &[Value]) -> Result<Value, FuncError> {
        let (name, default) = match argv {
            [name] => (arg_string(name), None),
            [name, default, ..] => (arg_string(name), Some(arg_string(default))),
            [] => return Err(FuncError::new("wrong number of args for Getenv: want at least 1 got 0")),
        };
        let value = self.host.getenv(&name).unwrap_or_default();
        match default {
            Some(default) if value.is_empty() => Ok(Value::from(default)),
            _ => Ok(Value::from(value)),
        }
    }
}

/// The method name Go reports for a namespaced function (`coll.Merge` → `Merge`).
fn short_name(name: &str) -> &str {
    name.rsplit_once('.').map(|(_, m)| m).unwrap_or(name)
}

/// A template error raised inside `tmpl.Exec`/`tpl`, wrapped as Go wraps it
/// (`error calling Exec: template: ...`); a `fail` stays a `fail`.
fn nested(e: Error) -> FuncError {
    FuncError { message: e.to_string(), is_fail: e.kind == ErrorKind::Fail }
}

/// gomplate's `conv.ToString` for arguments declared as `string`-ish.
fn arg_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        Value::Missing | Value::Nil => "<nil>".to_string(),
        other => other.to_go_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::m as map;

    struct EnvHost(Vec<(String, String)>, Vec<(String, String)>);

    impl Host for EnvHost {
        fn getenv(&self, name: &str) -> Option<String> {
            self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        }
        fn write_file(&mut self, path: &str, content: &[u8]) -> Result<(), String> {
            self.1.push((path.into(), String::from_utf8_lossy(content).into()));
            Ok(())
        }
    }

    fn data() -> Value {
        map(&[
            ("s", "hello".into()),
            ("n", Value::Int(3)),
            ("f", Value::Float(1.5)),
            ("t", true.into()),
            ("z", Value::Nil),
            ("empty", "".into()),
            ("list", Value::list(vec!["a".into(), "b".into(), "c".into()])),
            ("m", map(&[("b", Value::Int(2)), ("a", Value::Int(1)), ("c", Value::Int(3))])),
            ("nested", map(&[("inner", map(&[("x", "deep".into())]))])),
            ("people", Value::list(vec![map(&[("name", "ann".into())]), map(&[("name", "bob".into())])])),
        ])
    }

    fn run_with(defs: &[(&str, &str)], text: &str, host: &mut dyn Host) -> Result<String, Error> {
        run_mode(MissingKey::Invalid, defs, text, host)
    }

    fn run_mode(mode: MissingKey, defs: &[(&str, &str)], text: &str, host: &mut dyn Host) -> Result<String, Error> {
        let mut engine = Engine::new("{{<", ">}}");
        engine.set_missing_key(mode);
        for (name, body) in defs {
            engine.add_template(name, body)?;
        }
        engine.add_template("t", text)?;
        engine.render("t", &data(), host)
    }

    fn run(text: &str) -> String {
        run_with(&[], text, &mut NoHost).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    /// Renders each template and compares its output.
    fn check(cases: &[(&str, &str)]) {
        for (text, want) in cases {
            assert_eq!(run(text), *want, "{text}");
        }
    }

    fn run_err(text: &str) -> Error {
        run_with(&[], text, &mut NoHost).expect_err(text)
    }

    // Printing, trimming, if/range/with, break/continue, variables and
    // and/or are case files checked against Go: tests/cases/exec-*.txt.

    #[test]
    fn missing_keys_print_no_value_with_missingkey_invalid() {
        check(&[
            ("{{< .missing >}}|{{< .z >}}", "<no value>|<no value>"),
            ("{{< .missing.deeper >}}", "<no value>"),
            ("{{< if .missing >}}1{{< else >}}0{{< end >}}", "0"),
            ("{{< range .missing >}}x{{< else >}}none{{< end >}}", "none"),
            ("{{< with .missing >}}x{{< else >}}{{< .s >}}{{< end >}}", "hello"),
            ("{{< or .missing .s >}}", "hello"),
        ]);
    }

    #[test]
    fn overlay_is_like_parsing_the_other_sources_again() {
        let nested = [("helpers/a.tpl", "{{<- define \"x\" >}}A{{< end >}}{{<- define \"e\" >}}{{< end >}}"), ("helpers/b.tpl", "{{<- define \"x\" >}}B{{< end >}}{{<- define \"e\" >}} {{< end >}}")];
        let file = "{{< define \"x\" >}}F{{< end >}}{{< define \"e\" >}}own{{< end >}}{{< template \"x\" >}}|{{< template \"e\" >}}";
        let mut base = Engine::new("{{<", ">}}");
        for (name, text) in nested {
            base.add_template(name, text).unwrap();
        }
        let mut reparsed = base.clone();
        reparsed.add_template("t", file).unwrap();
        for (name, text) in nested {
            reparsed.add_template(name, text).unwrap();
        }
        let mut overlaid = base.clone();
        overlaid.add_template("t", file).unwrap();
        overlaid.overlay(&base);
        let want = reparsed.render("t", &Value::Missing, &mut NoHost).unwrap();
        assert_eq!(want, "B|own");
        assert_eq!(overlaid.render("t", &Value::Missing, &mut NoHost).unwrap(), want);
    }

    #[test]
    fn define_template_and_block() {
        let out = run_with(&[("helpers/h.tpl", "{{<- define \"greet\" >}}hi {{< . >}}{{< end >}}")], "{{< template \"greet\" .s >}}", &mut NoHost).unwrap();
        assert_eq!(out, "hi hello");
        check(&[
            ("{{< block \"b\" .n >}}[{{< . >}}]{{< end >}}", "[3]"),
            ("{{< define \"x\" >}}{{< . >}}{{< end >}}{{< template \"x\" >}}", "<no value>"),
        ]);
    }

    #[test]
    fn tmpl_exec_and_tpl() {
        let defs = [("helpers/h.tpl", "{{<- define \"name\" >}}{{< .Values.x >}}{{< end >}}")];
        let mut engine = Engine::new("{{<", ">}}");
        engine.add_template(defs[0].0, defs[0].1).unwrap();
        engine.add_template("t", "{{< tmpl.Exec \"name\" >}}/{{< tmpl.Exec \"name\" (dict \"Values\" (dict \"x\" 2)) >}}").ok();
        let ctx = map(&[("Values", map(&[("x", Value::Int(1))]))]);
        // `dict` comes from the function library; without it only the first half can run.
        if crate::funcs::lookup("dict").is_some() {
            assert_eq!(engine.render("t", &ctx, &mut NoHost).unwrap(), "1/2");
        }
        engine.add_template("u", "{{< tpl \"v={{< .Values.x >}}\" . >}}|{{< tpl .Values.y >}}").unwrap();
        let ctx = map(&[("Values", map(&[("x", Value::Int(1)), ("y", "{{< .Values.x >}}!".into())]))]);
        assert_eq!(engine.render("u", &ctx, &mut NoHost).unwrap(), "v=1|1!");
        engine.add_template("p", "{{< tmpl.Exec \"helpers/h.tpl\" >}}{{< tmpl.Exec \"nope\" >}}").unwrap();
        let err = engine.render("p", &ctx, &mut NoHost).unwrap_err();
        assert!(err.to_string().contains("template \"nope\" not defined"), "{err}");
    }

    #[test]
    fn host_functions() {
        let mut host = EnvHost(vec![("HOME".into(), "/h".into()), ("EMPTY".into(), "".into())], vec![]);
        let out = run_with(&[], "{{< getenv \"HOME\" >}} {{< getenv \"EMPTY\" \"d\" >}} {{< getenv \"UNSET\" >}}.{{< \"data\" | file.Write \"/x/f\" >}}", &mut host).unwrap();
        assert_eq!(out, "/h d .");
        assert_eq!(host.1, vec![("/x/f".to_string(), "data".to_string())]);
        let err = run_with(&[], "{{< file.Write \"/etc/passwd\" \"x\" >}}", &mut NoHost).unwrap_err();
        assert!(err.to_string().contains("error calling Write: file.Write is not allowed here"), "{err}");
    }

    #[test]
    fn field_errors_match_go() {
        let err = run_err("{{< .z.x >}}");
        assert_eq!(err.to_string(), "template: t:1:4: executing \"t\" at <.z.x>: nil pointer evaluating interface {}.x");
        let err = run_err("{{< .s.x >}}");
        assert!(err.to_string().ends_with("can't evaluate field x in type interface {}"), "{err}");
        let err = run_err("{{< $v := .s >}}{{< $v.x >}}");
        assert!(err.to_string().ends_with("can't evaluate field x in type string"), "{err}");
        let err = run_err("{{< .nested.inner.x.y >}}");
        assert!(err.to_string().ends_with("can't evaluate field y in type interface {}"), "{err}");
        let err = run_err("{{< \"a\" | .s >}}");
        assert!(err.to_string().ends_with("s is not a method but has arguments"), "{err}");
    }

    #[test]
    fn fail_is_reported_with_its_message() {
        if crate::funcs::lookup("fail").is_none() {
            return;
        }
        let err = run_err("line1\n{{< if .t >}}{{< fail \"value x is wrong\" >}}{{< end >}}");
        assert_eq!(err.kind, ErrorKind::Fail);
        assert_eq!(
            err.to_string(),
            "template: t:2:17: executing \"t\" at <fail \"value x is wrong\">: error calling fail: template generation failed: value x is wrong"
        );
    }

    #[test]
    fn missing_keys_are_errors_as_gomplate_sets_them() {
        let strict = |t: &str| run_mode(MissingKey::Error, &[], t, &mut NoHost);
        assert_eq!(
            strict("{{< .nested.nope >}}").unwrap_err().to_string(),
            "template: t:1:4: executing \"t\" at <.nested.nope>: map has no entry for key \"nope\""
        );
        assert_eq!(strict("{{< index .nested \"nope\" >}}").unwrap(), "<no value>");
        assert_eq!(strict("{{< .z >}}").unwrap(), "<no value>");
        let nil_data = "{{< define \"d\" >}}{{< .x >}}{{< end >}}{{< template \"d\" >}}";
        assert!(strict(nil_data).unwrap_err().to_string().ends_with("nil data; no entry for key \"x\""));
    }

    #[test]
    fn argument_check_errors_are_not_wrapped() {
        let err = run_err("{{< quote 1 2 >}}");
        assert!(err.to_string().ends_with("at <quote 1 2>: wrong number of args for quote: want 1 got 2"), "{err}");
    }

    #[test]
    fn unknown_function_and_template() {
        assert!(run_err("{{< nosuchfunc 1 >}}").to_string().contains("\"nosuchfunc\""));
        assert!(run_err("{{< template \"nope\" >}}").to_string().contains("template \"nope\" not defined"));
    }

    #[test]
    fn huge_strings_and_outputs_are_template_errors() {
        let err = run_err("a\n{{< strings.Repeat 100000000000 \"x\" >}}").to_string();
        assert_eq!(
            err,
            "template: t:2:4: executing \"t\" at <strings.Repeat 100000000000 \"x\">: error calling Repeat: \
             the result would be 100000000000 bytes, over the limit of 64 MiB for a string"
        );
        let err = run_err("{{< strings.Indent 100000000 \"ab\\ncd\" >}}").to_string();
        assert!(err.contains("error calling Indent: the result would be 200000005 bytes, over the limit"), "{err}");
        let err = run_err("{{< strings.ReplaceAll \"\" (strings.Repeat 1000 \"x\") (strings.Repeat 1000000 \"y\") >}}").to_string();
        assert!(err.contains("error calling ReplaceAll: the result would be 1001001000 bytes"), "{err}");
        // A string doubled in a loop fails at the first result over the limit.
        let items = (0..30).map(|i| i.to_string()).collect::<Vec<_>>().join(" ");
        let doubling = format!("{{{{< $a := \"0123456789abcdef\" >}}}}{{{{< range coll.Slice {items} >}}}}\n{{{{< $a = printf \"%s%s\" $a $a >}}}}{{{{< end >}}}}");
        let err = run_err(&doubling).to_string();
        assert!(err.starts_with("template: t:2:"), "{err}");
        assert!(err.contains("error calling printf: the result would be 134217728 bytes, over the limit of 64 MiB"), "{err}");
        let hundred = (0..100).map(|i| i.to_string()).collect::<Vec<_>>().join(" ");
        let err = run_err(&format!("{{{{< toJSONPretty (strings.Repeat 1000000 \" \") (coll.Slice {hundred}) >}}}}")).to_string();
        assert!(err.contains("error calling toJSONPretty: the result would be over the limit of 64 MiB"), "{err}");
        let err = run_err("{{< regexp.Replace \"a\" (strings.Repeat 1000 \"x\") (strings.Repeat 100000 \"a\") >}}").to_string();
        assert!(err.contains("error calling Replace: the result would be 100100000 bytes"), "{err}");
        let err = run_err("{{< join (strings.Split \"\" (strings.Repeat 100000 \"a\")) (strings.Repeat 1000 \"x\") >}}").to_string();
        assert!(err.contains("error calling join: the result would be 100099000 bytes"), "{err}");
        // The output of one template is bounded too.
        let big = format!("{{{{< range coll.Slice {items} >}}}}\n{{{{< strings.Repeat 4000000 \"x\" >}}}}{{{{< end >}}}}");
        let err = run_err(&big).to_string();
        assert!(err.starts_with("template: t:2:4: "), "{err}");
        assert!(err.ends_with("the output is over the limit of 64 MiB for one template"), "{err}");
    }

    #[test]
    fn recursion_is_bounded() {
        let err = run_with(&[], "{{< define \"r\" >}}{{< template \"r\" . >}}{{< end >}}{{< template \"r\" . >}}", &mut NoHost).unwrap_err();
        assert!(err.to_string().contains("exceeded maximum template depth"), "{err}");
    }
}
