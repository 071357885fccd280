//! Decoding YAML text into [`Value`]s the way gomplate 3.11 does with its
//! yaml.v3 fork: `saphyr-parser` supplies the events, this module builds
//! yaml.v3's node tree from them and applies yaml.v3's decoding into
//! `interface{}` / `map[string]interface{}` (resolution, merge keys,
//! duplicate-key checks, alias loops) plus gomplate's key stringification.

use std::collections::{HashMap, HashSet};

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span};

use super::resolve::{resolve_plain, resolve_tagged, Resolved, Tag};
use super::YamlError;
use crate::strconv::format_float_g;
use crate::value::{Map, Value};
// Go's `%#v` of a string (duplicate-key errors) is its `strconv.Quote`.
use crate::strconv::go_quote;

/// What Go decodes a document into.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// `interface{}`, except that a top-level mapping is decoded as
    /// `map[string]interface{}` (what gomplate's `data.YAML` asks for).
    Any,
    /// `map[string]interface{}` (`data.YAML`, `data.JSON`).
    Map,
    /// `[]interface{}` (`data.YAMLArray`, `data.JSONArray`).
    Array,
}

#[derive(Debug)]
enum Kind {
    Scalar {
        value: String,
        style: ScalarStyle,
        tag: Option<String>,
    },
    Seq(Vec<usize>),
    /// Keys and values interleaved, like yaml.v3's `Node.Content`.
    Map(Vec<usize>),
    Alias {
        target: usize,
        name: String,
    },
}

#[derive(Debug)]
struct Node {
    kind: Kind,
    /// 1-based line of the node's first token.
    line: usize,
}

/// A node tree for one document, in yaml.v3's shape.
struct Doc {
    nodes: Vec<Node>,
    root: Option<usize>,
}

/// An open container while building the tree; `start_line` is the line of
/// its first token (the `[`/`{`, first key or first `-`).
struct Open {
    node: usize,
    start_line: usize,
    flow: bool,
    is_map: bool,
}

/// Pulls documents out of the event stream one at a time, like yaml.v3's
/// `Decoder.Decode` (later documents are not parsed once one is decoded).
struct Reader<'a> {
    text: &'a str,
    parser: Parser<'a, saphyr_parser::StrInput<'a>>,
    /// Character index → byte offset, built lazily for anchor names.
    char_offsets: Option<Vec<usize>>,
    /// Set when the parser rejected tabs after a `:` (which libyaml accepts):
    /// the byte offset just after them.
    tab_separator: Option<usize>,
    /// Set when the parser rejected the indentation of a quoted scalar's
    /// continuation lines: the byte offset it reported.
    quoted_indent: Option<usize>,
}

/// saphyr-parser's complaint about `key:<TAB>value`, valid for libyaml.
const TAB_SEPARATOR: &str = "':' must be followed by a valid YAML whitespace";

/// The scanner's error for a multi-line quoted scalar whose continuation lines
/// are not indented past their parent. libyaml (and so yaml.v3, kubectl, helm)
/// accepts them; Kubernetes CRDs are full of them.
const QUOTED_INDENT: &str = "invalid indentation in quoted scalar";

impl<'a> Reader<'a> {
    fn new(text: &'a str) -> Self {
        Reader {
            text,
            parser: Parser::new_from_str(text),
            char_offsets: None,
            tab_separator: None,
            quoted_indent: None,
        }
    }

    /// The source text an event spans.
    fn source(&mut self, span: Span) -> &'a str {
        let (start, end) = (
            self.byte_offset(span.start.index()),
            self.byte_offset(span.end.index()),
        );
        &self.text[start..end.max(start)]
    }

    /// The next document's tree, or `None` at the end of the stream.
    fn next_doc(&mut self) -> Result<Option<Doc>, YamlError> {
        let mut nodes: Vec<Node> = Vec::new();
        let mut stack: Vec<Open> = Vec::new();
        let mut anchors: HashMap<usize, usize> = HashMap::new();
        let mut root = None;
        let mut in_doc = false;
        loop {
            let (event, span) = match self.parser.next_event() {
                None => return Ok(None),
                Some(Ok(ev)) => ev,
                Some(Err(e)) if e.info() == TAB_SEPARATOR => {
                    self.tab_separator = Some(self.byte_offset(e.marker().index()));
                    return Err(scan_error(self.text, &e, &stack));
                }
                Some(Err(e)) if e.info() == QUOTED_INDENT => {
                    self.quoted_indent = Some(self.byte_offset(e.marker().index()));
                    return Err(scan_error(self.text, &e, &stack));
                }
                Some(Err(e)) => return Err(scan_error(self.text, &e, &stack)),
            };
            let line = span.start.line();
            let mut add = |nodes: &mut Vec<Node>, stack: &mut Vec<Open>, node: Node| -> usize {
                let id = nodes.len();
                nodes.push(node);
                match stack.last() {
                    Some(open) => match &mut nodes[open.node].kind {
                        Kind::Seq(items) | Kind::Map(items) => items.push(id),
                        _ => unreachable!("containers only"),
                    },
                    None => root = Some(id),
                }
                id
            };
            match event {
                Event::StreamStart | Event::Nothing => {}
                Event::StreamEnd => return Ok(None),
                Event::DocumentStart(_) => in_doc = true,
                Event::DocumentEnd => {
                    if in_doc {
                        return Ok(Some(Doc { nodes, root }));
                    }
                }
                Event::Alias(anchor) => {
                    let name = self.source(span).trim_start_matches('*').to_string();
                    let Some(&target) = anchors.get(&anchor) else {
                        return Err(YamlError {
                            line: 0,
                            message: format!("unknown anchor '{name}' referenced"),
                        });
                    };
                    add(
                        &mut nodes,
                        &mut stack,
                        Node {
                            kind: Kind::Alias { target, name },
                            line,
                        },
                    );
                }
                Event::Scalar(value, style, anchor, tag) => {
                    let tag = tag.map(|t| short_tag(&t.handle, &t.suffix));
                    let mut value = value.into_owned();
                    if matches!(style, ScalarStyle::Literal | ScalarStyle::Folded) && self.ends_input(span) {
                        // libyaml keeps (clip, keep) the line break that
                        // follows the last line; at the end of the input there is none.
                        if value.ends_with('\n') {
                            value.pop();
                        }
                    }
                    let mut single_pair = false;
                    if style == ScalarStyle::Plain && tag.is_none() && flow_key(&value) {
                        // libyaml reads `?` as the key indicator anywhere in a
                        // flow collection, also with no space after it.
                        // (Block collections cannot nest in flow ones, and the
                        // single-pair mapping of `[k: v]` has no `{`.)
                        if let Some(open) = stack.last().filter(|_| stack.iter().any(|open| open.flow)) {
                            match &nodes[open.node].kind {
                                Kind::Map(items) if items.len() % 2 == 1 => {
                                    return Err(YamlError {
                                        line: 0,
                                        message: "did not find expected node content".into(),
                                    })
                                }
                                // `[?x]` is a single-pair mapping `{x: null}`.
                                Kind::Seq(_) => single_pair = true,
                                _ => {}
                            }
                            value.remove(0);
                        }
                    }
                    let kind = Kind::Scalar {
                        value,
                        style,
                        tag,
                    };
                    let id = if single_pair {
                        let map = add(&mut nodes, &mut stack, Node { kind: Kind::Map(Vec::new()), line });
                        stack.push(Open { node: map, start_line: line, flow: true, is_map: true });
                        add(&mut nodes, &mut stack, Node { kind, line });
                        let null = Kind::Scalar { value: "null".into(), style: ScalarStyle::Plain, tag: None };
                        add(&mut nodes, &mut stack, Node { kind: null, line });
                        stack.pop();
                        map
                    } else {
                        add(&mut nodes, &mut stack, Node { kind, line })
                    };
                    if anchor != 0 {
                        anchors.insert(anchor, id);
                    }
                }
                Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                    let is_map = matches!(event, Event::MappingStart(..));
                    let kind = if is_map {
                        Kind::Map(Vec::new())
                    } else {
                        Kind::Seq(Vec::new())
                    };
                    let id = add(&mut nodes, &mut stack, Node { kind, line });
                    if anchor != 0 {
                        anchors.insert(anchor, id);
                    }
                    // The span runs from any anchor or tag to the `[`/`{` of a
                    // flow collection, or to the first key or `-` of a block
                    // one: that token is the context libyaml reports.
                    let flow = self.source(span).ends_with(['[', '{']);
                    stack.push(Open {
                        node: id,
                        start_line: span.end.line(),
                        flow,
                        is_map,
                    });
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    stack.pop();
                }
            }
        }
    }

    /// True when a block scalar's last line is the input's last line and has
    /// no line break: nothing but blanks follows the span, and the text after
    /// the last line break is not blank.
    fn ends_input(&mut self, span: Span) -> bool {
        let last_line = self.text.rsplit('\n').next().unwrap_or_default();
        if last_line.trim().is_empty() {
            return false;
        }
        let end = self.byte_offset(span.end.index());
        self.text[end..].trim().is_empty()
    }

    fn byte_offset(&mut self, char_index: usize) -> usize {
        let text = self.text;
        let offsets = self.char_offsets.get_or_insert_with(|| {
            let mut v: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
            v.push(text.len());
            v
        });
        offsets.get(char_index).copied().unwrap_or(text.len())
    }
}

/// True for a plain scalar that libyaml, inside a flow collection, reads as
/// the key indicator `?` followed by a plain key (`?x`); the rarer forms (a
/// quoted, tagged or anchored key after it) are left as saphyr reads them.
fn flow_key(value: &str) -> bool {
    let mut chars = value.chars();
    chars.next() == Some('?')
        && chars.next().is_some_and(|c| !c.is_whitespace() && !"?\"'&*!|>%@`[]{},#".contains(c))
}

/// yaml.v3's short form of a tag (`!!str`, `!local`, `!`).
fn short_tag(handle: &str, suffix: &str) -> String {
    match handle {
        "tag:yaml.org,2002:" | "!!" => format!("!!{suffix}"),
        "!" => format!("!{suffix}"),
        "" => suffix
            .strip_prefix("tag:yaml.org,2002:")
            .map_or_else(|| suffix.to_string(), |s| format!("!!{s}")),
        h => format!("{h}{suffix}"),
    }
}

/// Translates a parser error to yaml.v3's message and line. libyaml reports
/// scanner errors at the (1-based) line of their context or problem, and parser
/// errors at the 0-based line of the construct being parsed (yaml.v3 does not
/// add one for them), which is why those point one line early.
fn scan_error(text: &str, e: &ScanError, stack: &[Open]) -> YamlError {
    let info = e.info();
    let line = e.marker().line();
    let col = e.marker().col();
    let parser_err = |message: &str, ctx: Option<usize>| {
        // yaml.v3: context line if non-zero, else problem line; both 0-based.
        let ctx0 = ctx.map_or(0, |l| l.saturating_sub(1));
        let line = if ctx0 != 0 {
            ctx0
        } else {
            line.saturating_sub(1)
        };
        YamlError {
            line,
            message: message.to_string(),
        }
    };
    let innermost = |is_map: bool, flow: bool| {
        stack
            .iter()
            .rev()
            .find(|o| o.is_map == is_map && o.flow == flow)
            .map(|o| o.start_line)
    };
    match info {
        "while parsing a block mapping, did not find expected key" => {
            parser_err("did not find expected key", innermost(true, false))
        }
        "while parsing a block collection, did not find expected '-' indicator" => parser_err(
            "did not find expected '-' indicator",
            innermost(false, false),
        ),
        "while parsing a flow sequence, expected ',' or ']'" => {
            parser_err("did not find expected ',' or ']'", innermost(false, true))
        }
        "while parsing a flow mapping, did not find expected ',' or '}'" => {
            parser_err("did not find expected ',' or '}'", innermost(true, true))
        }
        "while parsing a node, did not find expected node content" => {
            parser_err("did not find expected node content", None)
        }
        // Tokens libyaml scans fine but its parser does not expect there:
        // report what the innermost open collection was waiting for.
        "misplaced bracket" | "invalid trailing content after double-quoted scalar" => match stack
            .last()
        {
            Some(o) if o.flow && o.is_map => {
                parser_err("did not find expected ',' or '}'", Some(o.start_line))
            }
            Some(o) if o.flow => parser_err("did not find expected ',' or ']'", Some(o.start_line)),
            Some(o) if o.is_map => parser_err("did not find expected key", Some(o.start_line)),
            Some(o) => parser_err("did not find expected '-' indicator", Some(o.start_line)),
            None => parser_err("did not find expected <document start>", None),
        },
        "simple key expect ':'" | "simple key expected" => YamlError {
            line: pending_key_line(text, line, col),
            message: "could not find expected ':'".into(),
        },
        "while parsing node, found unknown anchor" => {
            let rest = text.lines().nth(line.saturating_sub(1)).unwrap_or("");
            let rest: String = rest.chars().skip(col).collect();
            let name: String = rest
                .trim_start_matches('*')
                .chars()
                .take_while(|c| !c.is_whitespace() && !matches!(c, ',' | '[' | ']' | '{' | '}'))
                .collect();
            YamlError {
                line: 0,
                message: format!("unknown anchor '{name}' referenced"),
            }
        }
        "tabs disallowed within this context (block indentation)"
        | "did not find expected next token" => YamlError {
            line,
            message: "found character that cannot start any token".into(),
        },
        i if i.starts_with("unexpected character: ") => YamlError {
            line,
            message: "found character that cannot start any token".into(),
        },
        i => {
            let message = match i
                .strip_prefix("while ")
                .and_then(|rest| rest.split_once(", "))
            {
                Some((_, problem)) => problem,
                None => i,
            };
            YamlError {
                line,
                message: message.to_string(),
            }
        }
    }
}

/// libyaml reports a key missing its `:` at the key's line, but the parser
/// notices later: take the last line with content at or before the error.
fn pending_key_line(text: &str, line: usize, col: usize) -> usize {
    let lines: Vec<&str> = text.lines().collect();
    let has_content = |l: &str| {
        let t = l.trim();
        !t.is_empty() && !t.starts_with('#')
    };
    if let Some(current) = lines.get(line.wrapping_sub(1)) {
        let before: String = current.chars().take(col).collect();
        if has_content(&before) {
            return line;
        }
    }
    (1..line)
        .rev()
        .find(|&l| lines.get(l - 1).is_some_and(|t| has_content(t)))
        .unwrap_or(line)
}

/// Decoding state: collected type errors (reported together, like yaml.v3's
/// `TypeError`), the aliases being expanded, and yaml.v3's counters that
/// reject documents made mostly of alias expansions ("billion laughs").
struct Decoder<'d> {
    doc: &'d Doc,
    terrors: Vec<(usize, String)>,
    active_aliases: HashSet<usize>,
    decode_count: u64,
    alias_count: u64,
    alias_depth: u32,
}

/// A fatal error (yaml.v3's `failf`), which stops decoding.
type Fatal = YamlError;

fn fatal(message: impl Into<String>) -> Fatal {
    YamlError {
        line: 0,
        message: message.into(),
    }
}

/// How map keys become strings.
#[derive(Clone, Copy, PartialEq, Eq)]
enum KeyMode {
    /// Keys decoded into Go `string` (a `map[string]interface{}`): the raw
    /// scalar text; null keys are dropped.
    Str,
    /// Keys decoded into `interface{}` then stringified by gomplate's
    /// `conv.ToString` (`fmt.Sprint`).
    General,
}

impl<'d> Decoder<'d> {
    fn new(doc: &'d Doc) -> Self {
        Decoder {
            doc,
            terrors: Vec::new(),
            active_aliases: HashSet::new(),
            decode_count: 0,
            alias_count: 0,
            alias_depth: 0,
        }
    }

    /// yaml.v3 `decoder.unmarshal`'s bookkeeping, done once per node visit.
    fn count(&mut self) -> Result<(), Fatal> {
        self.decode_count += 1;
        if self.alias_depth > 0 {
            self.alias_count += 1;
        }
        let allowed = match self.decode_count {
            n if n <= 400_000 => 0.99,
            n if n >= 4_000_000 => 0.10,
            n => 0.99 - 0.89 * ((n - 400_000) as f64 / 3_600_000.0),
        };
        if self.alias_count > 100
            && self.decode_count > 1000
            && self.alias_count as f64 / self.decode_count as f64 > allowed
        {
            return Err(fatal("document contains excessive aliasing"));
        }
        Ok(())
    }

    /// Visits an alias node: counts it, then runs `f` on its target with the
    /// alias marked active (yaml.v3 `decoder.alias`).
    fn through_alias<T>(
        &mut self,
        id: usize,
        f: impl FnOnce(&mut Self, usize) -> Result<T, Fatal>,
    ) -> Result<T, Fatal> {
        let Kind::Alias { target, name } = &self.node(id).kind else {
            return f(self, id);
        };
        if !self.active_aliases.insert(id) {
            return Err(fatal(format!("anchor '{name}' value contains itself")));
        }
        self.alias_depth += 1;
        let r = (|| {
            self.count()?;
            self.through_alias(*target, f)
        })();
        self.alias_depth -= 1;
        self.active_aliases.remove(&id);
        r
    }

    fn node(&self, id: usize) -> &'d Node {
        &self.doc.nodes[id]
    }

    /// Follows aliases to the node they name.
    fn deref(&self, mut id: usize) -> usize {
        while let Kind::Alias { target, .. } = self.node(id).kind {
            id = target;
        }
        id
    }

    /// yaml.v3 `Node.ShortTag()` as a resolved tag; `None` for collections and
    /// unknown tags.
    fn short_tag(&self, id: usize) -> Option<Tag> {
        match &self.node(self.deref(id)).kind {
            Kind::Scalar { value, style, tag } => match tag.as_deref() {
                Some(t) if t != "!" => Tag::from_short(t),
                _ if *style != ScalarStyle::Plain => Some(Tag::Str),
                _ => Some(resolve_plain(value).tag),
            },
            _ => None,
        }
    }

    /// The resolved scalar, or a fatal error for a bad explicit tag.
    fn resolve_scalar(&self, id: usize) -> Result<Resolved, Fatal> {
        let Kind::Scalar { value, style, tag } = &self.node(id).kind else {
            unreachable!("scalars only")
        };
        let tag = tag.as_deref().filter(|t| *t != "!");
        match tag {
            None if *style != ScalarStyle::Plain => Ok(Resolved {
                tag: Tag::Str,
                value: Value::str(value.as_str()),
            }),
            None => Ok(resolve_plain(value)),
            Some("!!binary") => {
                let bytes = go_base64_decode(value)
                    .ok_or_else(|| fatal("!!binary value contains invalid base64 data"))?;
                let s = String::from_utf8_lossy(&bytes).into_owned();
                Ok(Resolved {
                    tag: Tag::Binary,
                    value: Value::str(s),
                })
            }
            Some(t) => match Tag::from_short(t) {
                // Unknown tags are not resolved: the text is a string.
                None | Some(Tag::Merge) => Ok(Resolved {
                    tag: Tag::Str,
                    value: Value::str(value.as_str()),
                }),
                Some(tag) => resolve_tagged(tag, value).map_err(fatal),
            },
        }
    }

    /// Decodes a node into `interface{}`. `Ok(None)` is yaml.v3's "not good"
    /// (the element is skipped, a type error has been recorded).
    fn any(&mut self, id: usize) -> Result<Option<Value>, Fatal> {
        self.count()?;
        self.any_counted(id)
    }

    fn any_counted(&mut self, id: usize) -> Result<Option<Value>, Fatal> {
        match &self.node(id).kind {
            Kind::Alias { .. } => self.through_alias(id, |d, target| d.any_counted(target)),
            Kind::Scalar { .. } => Ok(Some(self.resolve_scalar(id)?.value)),
            Kind::Seq(items) => {
                let mut out = Vec::with_capacity(items.len());
                for &item in items {
                    if let Some(v) = self.any(item)? {
                        out.push(v);
                    }
                }
                Ok(Some(Value::list(out)))
            }
            Kind::Map(_) => {
                let mode = if self.is_string_map(id) {
                    KeyMode::Str
                } else {
                    KeyMode::General
                };
                let mut out = Map::new();
                if !self.mapping(id, &mut out, mode, None)? {
                    return Ok(None);
                }
                Ok(Some(Value::map(out)))
            }
        }
    }

    /// yaml.v3 `isStringMap`: every key is a `!!str` (or the merge key).
    fn is_string_map(&self, id: usize) -> bool {
        let Kind::Map(content) = &self.node(id).kind else {
            return false;
        };
        content
            .chunks(2)
            .all(|kv| matches!(self.short_tag(kv[0]), Some(Tag::Str | Tag::Merge)))
    }

    fn is_merge(&self, id: usize) -> bool {
        match &self.node(id).kind {
            Kind::Scalar { value, style, tag } => {
                value == "<<"
                    && match tag.as_deref() {
                        None | Some("!") => *style == ScalarStyle::Plain,
                        Some(t) => t == "!!merge",
                    }
            }
            _ => false,
        }
    }

    /// A map key as the string gomplate ends up with; `None` when yaml.v3
    /// skips the key.
    fn key(&mut self, id: usize, mode: KeyMode) -> Result<Option<String>, Fatal> {
        match mode {
            KeyMode::Str => {
                self.count()?;
                self.through_alias(id, |d, target| d.str_key(id, target))
            }
            KeyMode::General => match self.any(id)? {
                None => Ok(None),
                Some(v @ (Value::Map(_) | Value::List(_))) => {
                    Err(fatal(format!("invalid map key: {}", go_sharp_v(&v))))
                }
                Some(v) => Ok(Some(go_to_string(&v))),
            },
        }
    }

    /// A key decoded into a Go `string`: the scalar's text (`!!binary` ones
    /// decoded), `None` for null keys and collections (a type error).
    fn str_key(&mut self, id: usize, target: usize) -> Result<Option<String>, Fatal> {
        match &self.node(target).kind {
            Kind::Scalar { value, .. } => {
                let r = self.resolve_scalar(target)?;
                Ok(match (r.tag, r.value) {
                    (_, Value::Nil) => None,
                    (Tag::Binary, Value::String(s)) => Some(s.to_string()),
                    _ => Some(value.clone()),
                })
            }
            kind => {
                let what = if matches!(kind, Kind::Map(_)) {
                    "!!map"
                } else {
                    "!!seq"
                };
                let line = self.node(id).line;
                self.terrors.push((
                    line,
                    format!("line {line}: cannot unmarshal {what} into string"),
                ));
                Ok(None)
            }
        }
    }

    /// yaml.v3 `decoder.mapping` into a map whose keys are decoded per
    /// `mode`. `merged` is the set of keys already present when this mapping
    /// is a merge source. Returns false after recording duplicate-key errors.
    fn mapping(
        &mut self,
        id: usize,
        out: &mut Map,
        mode: KeyMode,
        mut merged: Option<&mut HashSet<String>>,
    ) -> Result<bool, Fatal> {
        let Kind::Map(content) = &self.node(id).kind else {
            unreachable!("mappings only")
        };
        let content: &'d [usize] = content;
        if !self.unique_keys(content) {
            return Ok(false);
        }
        let mut merge_node = None;
        for kv in content.chunks(2) {
            if self.is_merge(kv[0]) {
                merge_node = Some(kv[1]);
                continue;
            }
            let Some(key) = self.key(kv[0], mode)? else {
                continue;
            };
            if let Some(seen) = merged.as_deref_mut() {
                if !seen.insert(key.clone()) {
                    continue;
                }
            }
            if let Some(v) = self.any(kv[1])? {
                out.insert(key, v);
            }
        }
        if let Some(m) = merge_node {
            match merged {
                Some(seen) => self.merge(m, out, mode, seen)?,
                None => {
                    let mut seen = HashSet::new();
                    for kv in content.chunks(2) {
                        if let Some(k) = self.key(kv[0], mode)? {
                            seen.insert(k);
                        }
                    }
                    self.merge(m, out, mode, &mut seen)?;
                }
            }
        }
        Ok(true)
    }

    /// yaml.v3's duplicate-key check, run before a mapping is decoded into
    /// anything: records an error per repeated key, false if there was any.
    fn unique_keys(&mut self, content: &[usize]) -> bool {
        let before = self.terrors.len();
        for i in (0..content.len()).step_by(2) {
            let ki = self.dup_key(content[i]);
            for j in (i + 2..content.len()).step_by(2) {
                let kj = self.dup_key(content[j]);
                if ki == kj {
                    let lj = self.node(content[j]).line;
                    let li = self.node(content[i]).line;
                    let key = go_quote(kj.1);
                    self.terrors.push((
                        lj,
                        format!("line {lj}: mapping key {key} already defined at line {li}"),
                    ));
                }
            }
        }
        self.terrors.len() == before
    }

    /// The (kind, raw value) yaml.v3 compares to find duplicate keys.
    fn dup_key(&self, id: usize) -> (u8, &'d str) {
        match &self.node(id).kind {
            Kind::Scalar { value, .. } => (0, value.as_str()),
            Kind::Alias { name, .. } => (1, name.as_str()),
            Kind::Seq(_) => (2, ""),
            Kind::Map(_) => (3, ""),
        }
    }

    fn merge(
        &mut self,
        id: usize,
        out: &mut Map,
        mode: KeyMode,
        seen: &mut HashSet<String>,
    ) -> Result<(), Fatal> {
        const WANT_MAP: &str = "map merge requires map or sequence of maps as the value";
        let is_map = |d: &Self, id: usize| matches!(d.node(d.deref(id)).kind, Kind::Map(_));
        match &self.node(id).kind {
            Kind::Map(_) | Kind::Alias { .. } => {
                if !is_map(self, id) {
                    return Err(fatal(WANT_MAP));
                }
                self.merge_source(id, out, mode, seen)?;
            }
            Kind::Seq(items) => {
                for &item in items {
                    if !is_map(self, item) {
                        return Err(fatal(WANT_MAP));
                    }
                    self.merge_source(item, out, mode, seen)?;
                }
            }
            Kind::Scalar { .. } => return Err(fatal(WANT_MAP)),
        }
        Ok(())
    }

    fn merge_source(
        &mut self,
        id: usize,
        out: &mut Map,
        mode: KeyMode,
        seen: &mut HashSet<String>,
    ) -> Result<(), Fatal> {
        self.count()?;
        self.through_alias(id, |d, target| {
            d.mapping(target, out, mode, Some(seen)).map(|_| ())
        })
    }
}


/// An approximation of Go's `%#v` for a collection used as a map key.
fn go_sharp_v(v: &Value) -> String {
    match v {
        Value::Map(_) => format!("map[string]interface {{}}{}", &v.to_go_string()[3..]),
        _ => format!("[]interface {{}}{}", v.to_go_string()),
    }
}

/// gomplate's `conv.ToString` of a decoded key (`fmt.Sprint`, nil → "nil").
fn go_to_string(v: &Value) -> String {
    match v {
        Value::Nil | Value::Missing => "nil".into(),
        Value::Float(f) => format_float_g(*f),
        v => v.to_go_string(),
    }
}

/// Go's `base64.StdEncoding.DecodeString`: padded standard alphabet; CR and
/// LF are ignored.
fn go_base64_decode(s: &str) -> Option<Vec<u8>> {
    let clean: Vec<u8> = s.bytes().filter(|b| *b != b'\n' && *b != b'\r').collect();
    if !clean.len().is_multiple_of(4) {
        return None;
    }
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(clean.len() / 4 * 3);
    let chunks = clean.len() / 4;
    for (n, chunk) in clean.chunks(4).enumerate() {
        let pad = chunk.iter().rev().take_while(|c| **c == b'=').count();
        if pad > 2 || (pad > 0 && n + 1 != chunks) {
            return None;
        }
        let mut acc = 0u32;
        for &c in &chunk[..4 - pad] {
            acc = acc << 6 | val(c)?;
        }
        acc <<= 6 * pad as u32;
        let bytes = [(acc >> 16) as u8, (acc >> 8) as u8, acc as u8];
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    Some(out)
}

/// The `Target` type name in yaml.v3's "cannot unmarshal" errors.
fn target_type(target: Target) -> &'static str {
    match target {
        Target::Array => "[]interface {}",
        _ => "map[string]interface {}",
    }
}

/// Decodes documents until one is not null, as gomplate's `data.YAML` loop
/// does. `None` when the stream has no document at all, `Some(Value::Nil)`
/// when every document is null.
pub(crate) fn decode(text: &str, target: Target) -> Result<Option<Value>, YamlError> {
    let mut patched: Option<String> = None;
    for _ in 0..10_000 {
        let current = patched.as_deref().unwrap_or(text);
        let mut reader = Reader::new(current);
        match decode_docs(&mut reader, target) {
            Err(e) if reader.quoted_indent.is_some() => {
                // Indent the scalar's continuation lines past their parent:
                // folding drops leading spaces, so values and lines stay the same.
                match reindent_quoted_scalar(current, reader.quoted_indent.unwrap_or(0)) {
                    Some(fixed) => patched = Some(fixed),
                    None => return Err(e),
                }
            }
            Err(e) => match reader.tab_separator {
                // libyaml takes tabs after `:` as separation: retry with spaces
                // in their place (same lines and columns, same values).
                Some(end) => {
                    let start = current[..end].trim_end_matches('\t').len();
                    let mut fixed = String::with_capacity(current.len());
                    fixed.push_str(&current[..start]);
                    fixed.push_str(&" ".repeat(end - start));
                    fixed.push_str(&current[end..]);
                    if start == end {
                        return Err(e);
                    }
                    patched = Some(fixed);
                }
                None => return Err(e),
            },
            ok => return ok,
        }
    }
    Err(YamlError {
        line: 0,
        message: "too many tab separators".into(),
    })
}

/// Re-indents the continuation lines of the quoted scalar the scanner stopped
/// in (it reports a position at or after the opening quote) so that each is
/// indented past the line the scalar starts on. `None` when nothing changes.
fn reindent_quoted_scalar(text: &str, at: usize) -> Option<String> {
    let bytes = text.as_bytes();
    // The opening quote: the last quote at or before `at` that starts a scalar
    // (preceded by `: `, `- `, `[`, `{`, `,` or the line's indentation).
    let mut open = None;
    let mut i = at.min(bytes.len().saturating_sub(1)) + 1;
    while i > 0 {
        i -= 1;
        if bytes[i] == b'\'' || bytes[i] == b'"' {
            let before = text[..i].trim_end_matches([' ', '\t']);
            if before.is_empty() || before.ends_with(['\n', ':', '-', '[', '{', ',', '?']) {
                open = Some(i);
                break;
            }
        }
    }
    let open = open?;
    let quote = bytes[open];
    let mut end = open + 1;
    while end < bytes.len() {
        match bytes[end] {
            b'\'' if quote == b'\'' && bytes.get(end + 1) == Some(&b'\'') => end += 2,
            b'\\' if quote == b'"' => end += 2,
            c if c == quote => break,
            _ => end += 1,
        }
    }
    let line_start = text[..open].rfind('\n').map_or(0, |n| n + 1);
    let base = text[line_start..].len() - text[line_start..].trim_start_matches(' ').len();
    let scalar = &text[open..end.min(text.len())];
    let mut out = String::with_capacity(text.len() + 256);
    out.push_str(&text[..open]);
    let mut changed = false;
    for (n, line) in scalar.split('\n').enumerate() {
        if n > 0 {
            out.push('\n');
            let indent = line.len() - line.trim_start_matches(' ').len();
            if !line.trim().is_empty() && indent <= base {
                out.push_str(&" ".repeat(base + 1 - indent));
                changed = true;
            }
        }
        out.push_str(line);
    }
    out.push_str(&text[end.min(text.len())..]);
    changed.then_some(out)
}

fn decode_docs(reader: &mut Reader<'_>, target: Target) -> Result<Option<Value>, YamlError> {
    let mut seen = false;
    while let Some(doc) = reader.next_doc()? {
        seen = true;
        let Some(root) = doc.root else { continue };
        let mut d = Decoder::new(&doc);
        d.count()?; // the document node
        let value = d.document(root, target)?;
        if !d.terrors.is_empty() {
            let first = d.terrors[0].0;
            let lines: Vec<&str> = d.terrors.iter().map(|(_, m)| m.as_str()).collect();
            return Err(YamlError {
                line: first,
                message: format!("unmarshal errors:\n  {}", lines.join("\n  ")),
            });
        }
        if !value.is_nil() {
            return Ok(Some(value));
        }
    }
    Ok(seen.then_some(Value::Nil))
}

impl Decoder<'_> {
    fn document(&mut self, root: usize, target: Target) -> Result<Value, Fatal> {
        let node = self.deref(root);
        let line = self.node(root).line;
        match (&self.node(node).kind, target) {
            (Kind::Map(_), Target::Any | Target::Map) => {
                let mut out = Map::new();
                self.count()?;
                self.mapping(node, &mut out, KeyMode::Str, None)?;
                Ok(Value::map(out))
            }
            (_, Target::Any) => Ok(self.any(root)?.unwrap_or(Value::Nil)),
            (Kind::Seq(_), Target::Array) => Ok(self.any(root)?.unwrap_or(Value::Nil)),
            (Kind::Scalar { .. }, _) => {
                let r = self.resolve_scalar(node)?;
                if r.value.is_nil() {
                    return Ok(Value::Nil);
                }
                let Kind::Scalar { value, .. } = &self.node(node).kind else {
                    unreachable!()
                };
                let shown = if value.len() > 10 {
                    format!("{}...", &value[..floor_char(value, 7)])
                } else {
                    value.clone()
                };
                let tag = match self.node(node).kind {
                    Kind::Scalar {
                        tag: Some(ref t), ..
                    } if t != "!" => t.clone(),
                    _ => r.tag.short().to_string(),
                };
                self.terrors.push((
                    line,
                    format!(
                        "line {line}: cannot unmarshal {tag} `{shown}` into {}",
                        target_type(target)
                    ),
                ));
                Ok(Value::Nil)
            }
            (kind, _) => {
                if let Kind::Map(content) = kind {
                    if !self.unique_keys(content) {
                        return Ok(Value::Nil);
                    }
                }
                let what = if matches!(kind, Kind::Map(_)) {
                    "!!map"
                } else {
                    "!!seq"
                };
                self.terrors.push((
                    line,
                    format!(
                        "line {line}: cannot unmarshal {what} into {}",
                        target_type(target)
                    ),
                ));
                Ok(Value::Nil)
            }
        }
    }
}

/// The largest char boundary `<= i` (Go slices bytes; we must not split chars).
fn floor_char(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}
