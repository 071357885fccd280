//! Splits template text into tokens, like Go's `text/template/parse/lex.go`,
//! with configurable delimiters and `-` whitespace trimming.
//!
//! This follows Go 1.20's lexer state by state (including its line counting,
//! which parse errors report), but works on `&str` slices: tokens borrow from
//! the input and only error messages allocate. The parser pulls tokens one at
//! a time with [`Lexer::next_item`].
//!
//! Also owns the Go string helpers the parser needs for its literals:
//! [`unquote`] (`strconv.Unquote`) and [`unquote_char`]
//! (`strconv.UnquoteChar`).

use std::borrow::Cow;
use std::fmt;

use crate::strconv::go_quote;

/// The kind of a token (Go's `itemType`). Keywords sort after [`ItemType::Keyword`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ItemType {
    /// A lexing error; the value is the message.
    Error,
    /// `true` or `false`.
    Bool,
    /// A printable ASCII character not otherwise recognised (e.g. `,`).
    Char,
    /// A character constant such as `'a'`.
    CharConstant,
    /// A complex constant (`1+2i`).
    Complex,
    /// `=`
    Assign,
    /// `:=`
    Declare,
    /// End of input.
    Eof,
    /// `.Name`
    Field,
    /// A bare name such as `printf`.
    Identifier,
    /// The left delimiter.
    LeftDelim,
    /// `(` inside an action.
    LeftParen,
    /// A number, including imaginary ones.
    Number,
    /// `|`
    Pipe,
    /// A raw string, quotes included.
    RawString,
    /// The right delimiter.
    RightDelim,
    /// `)` inside an action.
    RightParen,
    /// A run of spaces (ASCII space, tab, CR, LF) inside an action.
    Space,
    /// A quoted string, quotes included.
    String,
    /// Text outside actions.
    Text,
    /// `$` or `$name`.
    Variable,
    /// Marks the start of the keywords; never emitted.
    Keyword,
    Block,
    Break,
    Continue,
    /// `.` on its own.
    Dot,
    Define,
    Else,
    End,
    If,
    Nil,
    Range,
    Template,
    With,
}

fn keyword(word: &str) -> Option<ItemType> {
    Some(match word {
        "block" => ItemType::Block,
        "break" => ItemType::Break,
        "continue" => ItemType::Continue,
        "define" => ItemType::Define,
        "else" => ItemType::Else,
        "end" => ItemType::End,
        "if" => ItemType::If,
        "range" => ItemType::Range,
        "nil" => ItemType::Nil,
        "template" => ItemType::Template,
        "with" => ItemType::With,
        _ => return None,
    })
}

/// A token: its type, byte offset, text and the line it starts on.
#[derive(Clone, Debug, PartialEq)]
pub struct Item<'a> {
    pub typ: ItemType,
    /// Byte offset of the token in the input.
    pub pos: usize,
    /// The token text (for [`ItemType::Error`], the message).
    pub val: Cow<'a, str>,
    /// 1-based line, as Go's lexer counts it.
    pub line: usize,
}

impl Default for Item<'_> {
    fn default() -> Self {
        Item { typ: ItemType::Eof, pos: 0, val: Cow::Borrowed(""), line: 0 }
    }
}

/// Go's `item.String()`, used in "unexpected ..." messages.
impl fmt::Display for Item<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.typ {
            ItemType::Eof => f.write_str("EOF"),
            ItemType::Error => f.write_str(&self.val),
            t if t > ItemType::Keyword => write!(f, "<{}>", self.val),
            _ if self.val.len() > 10 => {
                let head: String = self.val.chars().take(10).collect();
                write!(f, "{}...", go_quote(&head))
            }
            _ => f.write_str(&go_quote(&self.val)),
        }
    }
}

/// The lexer state functions of Go's lexer.
#[derive(Clone, Copy, Debug)]
enum State {
    Text,
    LeftDelim,
    Comment,
    RightDelim,
    InsideAction,
    Space,
    Identifier,
    Field,
    Variable,
    Char,
    Number,
    Quote,
    RawQuote,
}

/// What a state function does next: move to another state or hand out a token.
enum Flow<'a> {
    Next(State),
    Emit(Item<'a>),
}

const LEFT_COMMENT: &str = "/*";
const RIGHT_COMMENT: &str = "*/";
const TRIM_MARKER: u8 = b'-';
/// The marker plus the space before or after it.
const TRIM_MARKER_LEN: usize = 2;

/// Scans template text into [`Item`]s.
pub struct Lexer<'a> {
    input: &'a str,
    left: &'a str,
    right: &'a str,
    pos: usize,
    start: usize,
    at_eof: bool,
    paren_depth: i32,
    line: usize,
    start_line: usize,
    inside_action: bool,
}

impl<'a> Lexer<'a> {
    /// A lexer for `input`; empty delimiters mean Go's defaults `{{` and `}}`.
    pub fn new(input: &'a str, left_delim: &'a str, right_delim: &'a str) -> Lexer<'a> {
        Lexer {
            input,
            left: if left_delim.is_empty() { "{{" } else { left_delim },
            right: if right_delim.is_empty() { "}}" } else { right_delim },
            pos: 0,
            start: 0,
            at_eof: false,
            paren_depth: 0,
            line: 1,
            start_line: 1,
            inside_action: false,
        }
    }

    /// The next token. After [`ItemType::Eof`] or [`ItemType::Error`] the
    /// input is exhausted and further calls return more end tokens.
    pub fn next_item(&mut self) -> Item<'a> {
        let mut state = if self.inside_action { State::InsideAction } else { State::Text };
        loop {
            let flow = match state {
                State::Text => self.lex_text(),
                State::LeftDelim => self.lex_left_delim(),
                State::Comment => self.lex_comment(),
                State::RightDelim => self.lex_right_delim(),
                State::InsideAction => self.lex_inside_action(),
                State::Space => self.lex_space(),
                State::Identifier => self.lex_identifier(),
                State::Field => self.lex_field_or_variable(ItemType::Field),
                State::Variable => self.lex_variable(),
                State::Char => self.lex_char(),
                State::Number => self.lex_number(),
                State::Quote => self.lex_quote(),
                State::RawQuote => self.lex_raw_quote(),
            };
            match flow {
                Flow::Next(s) => state = s,
                Flow::Emit(item) => return item,
            }
        }
    }

    fn rest(&self) -> &'a [u8] {
        &self.input.as_bytes()[self.pos..]
    }

    /// Consumes the next char (`None` at the end).
    fn next(&mut self) -> Option<char> {
        let bytes = self.input.as_bytes();
        if self.pos >= bytes.len() {
            self.at_eof = true;
            return None;
        }
        let b = bytes[self.pos];
        let c = if b < 0x80 {
            self.pos += 1;
            b as char
        } else {
            let c = self.input[self.pos..].chars().next().unwrap_or('\u{fffd}');
            self.pos += c.len_utf8();
            c
        };
        if c == '\n' {
            self.line += 1;
        }
        Some(c)
    }

    fn peek(&mut self) -> Option<char> {
        let c = self.next();
        self.backup();
        c
    }

    /// Steps back one char (a no-op once the end was reached, as in Go).
    fn backup(&mut self) {
        if !self.at_eof && self.pos > 0 {
            if let Some(c) = self.input[..self.pos].chars().next_back() {
                self.pos -= c.len_utf8();
                if c == '\n' {
                    self.line -= 1;
                }
            }
        }
    }

    fn this_item(&mut self, typ: ItemType) -> Item<'a> {
        let item =
            Item { typ, pos: self.start, val: Cow::Borrowed(&self.input[self.start..self.pos]), line: self.start_line };
        self.start = self.pos;
        self.start_line = self.line;
        item
    }

    fn emit(&mut self, typ: ItemType) -> Flow<'a> {
        Flow::Emit(self.this_item(typ))
    }

    /// Skips the pending input, counting its newlines.
    fn ignore(&mut self) {
        self.line += count_newlines(&self.input[self.start..self.pos]);
        self.start = self.pos;
        self.start_line = self.line;
    }

    fn accept(&mut self, valid: &[u8]) -> bool {
        match self.next() {
            Some(c) if c.is_ascii() && valid.contains(&(c as u8)) => true,
            _ => {
                self.backup();
                false
            }
        }
    }

    fn accept_run(&mut self, valid: &[u8]) {
        while self.accept(valid) {}
    }

    /// Emits an error token and ends the scan (the input is dropped, as Go does).
    fn errorf(&mut self, message: String) -> Flow<'a> {
        let item = Item { typ: ItemType::Error, pos: self.start, val: Cow::Owned(message), line: self.start_line };
        self.start = 0;
        self.pos = 0;
        self.input = &self.input[..0];
        Flow::Emit(item)
    }

    fn lex_text(&mut self) -> Flow<'a> {
        if let Some(x) = find_delim(&self.input[self.pos..], self.left) {
            if x > 0 {
                self.pos += x;
                let delim_end = self.pos + self.left.len();
                let trim = if has_left_trim_marker(&self.input.as_bytes()[delim_end..]) {
                    right_trim_length(&self.input.as_bytes()[self.start..self.pos])
                } else {
                    0
                };
                self.pos -= trim;
                self.line += count_newlines(&self.input[self.start..self.pos]);
                let item = self.this_item(ItemType::Text);
                self.pos += trim;
                self.ignore();
                if !item.val.is_empty() {
                    return Flow::Emit(item);
                }
            }
            return Flow::Next(State::LeftDelim);
        }
        self.pos = self.input.len();
        if self.pos > self.start {
            self.line += count_newlines(&self.input[self.start..self.pos]);
            return self.emit(ItemType::Text);
        }
        self.emit(ItemType::Eof)
    }

    /// Whether the input is at the right delimiter, and whether a trim marker precedes it.
    fn at_right_delim(&self) -> (bool, bool) {
        let rest = self.rest();
        let right = self.right.as_bytes();
        if has_right_trim_marker(rest) && rest[TRIM_MARKER_LEN..].starts_with(right) {
            return (true, true);
        }
        (rest.starts_with(right), false)
    }

    fn lex_left_delim(&mut self) -> Flow<'a> {
        self.pos += self.left.len();
        let trim = has_left_trim_marker(self.rest());
        let after = if trim { TRIM_MARKER_LEN } else { 0 };
        if self.rest()[after..].starts_with(LEFT_COMMENT.as_bytes()) {
            self.pos += after;
            self.ignore();
            return Flow::Next(State::Comment);
        }
        let item = self.this_item(ItemType::LeftDelim);
        self.inside_action = true;
        self.pos += after;
        self.ignore();
        self.paren_depth = 0;
        Flow::Emit(item)
    }

    fn lex_comment(&mut self) -> Flow<'a> {
        self.pos += LEFT_COMMENT.len();
        let Some(x) = self.input[self.pos..].find(RIGHT_COMMENT) else {
            return self.errorf("unclosed comment".into());
        };
        self.pos += x + RIGHT_COMMENT.len();
        let (delim, trim) = self.at_right_delim();
        if !delim {
            return self.errorf("comment ends before closing delimiter".into());
        }
        self.line += count_newlines(&self.input[self.start..self.pos]);
        // Go builds (and, without ParseComments, drops) a comment item here.
        self.start = self.pos;
        self.start_line = self.line;
        if trim {
            self.pos += TRIM_MARKER_LEN;
        }
        self.pos += self.right.len();
        if trim {
            self.pos += left_trim_length(self.rest());
        }
        self.ignore();
        Flow::Next(State::Text)
    }

    fn lex_right_delim(&mut self) -> Flow<'a> {
        let (_, trim) = self.at_right_delim();
        if trim {
            self.pos += TRIM_MARKER_LEN;
            self.ignore();
        }
        self.pos += self.right.len();
        let item = self.this_item(ItemType::RightDelim);
        if trim {
            self.pos += left_trim_length(self.rest());
            self.ignore();
        }
        self.inside_action = false;
        Flow::Emit(item)
    }

    fn lex_inside_action(&mut self) -> Flow<'a> {
        let (delim, _) = self.at_right_delim();
        if delim {
            if self.paren_depth == 0 {
                return Flow::Next(State::RightDelim);
            }
            return self.errorf("unclosed left paren".into());
        }
        let Some(r) = self.next() else {
            return self.errorf("unclosed action".into());
        };
        match r {
            _ if is_space(r) => {
                self.backup(); // Put the space back in case of " -}}".
                Flow::Next(State::Space)
            }
            '=' => self.emit(ItemType::Assign),
            ':' => {
                if self.next() != Some('=') {
                    return self.errorf("expected :=".into());
                }
                self.emit(ItemType::Declare)
            }
            '|' => self.emit(ItemType::Pipe),
            '"' => Flow::Next(State::Quote),
            '`' => Flow::Next(State::RawQuote),
            '$' => Flow::Next(State::Variable),
            '\'' => Flow::Next(State::Char),
            '.' if matches!(self.rest().first(), Some(b) if !b.is_ascii_digit()) => Flow::Next(State::Field),
            '.' | '+' | '-' | '0'..='9' => {
                self.backup();
                Flow::Next(State::Number)
            }
            _ if is_alpha_numeric(r) => {
                self.backup();
                Flow::Next(State::Identifier)
            }
            '(' => {
                self.paren_depth += 1;
                self.emit(ItemType::LeftParen)
            }
            ')' => {
                self.paren_depth -= 1;
                if self.paren_depth < 0 {
                    return self.errorf("unexpected right paren".into());
                }
                self.emit(ItemType::RightParen)
            }
            ' '..='~' => self.emit(ItemType::Char),
            _ => self.errorf(format!("unrecognized character in action: {}", go_rune_u(r))),
        }
    }

    /// A run of spaces; the first one is known to be present and not yet consumed.
    fn lex_space(&mut self) -> Flow<'a> {
        let mut num_spaces = 0;
        while self.peek().is_some_and(is_space) {
            self.next();
            num_spaces += 1;
        }
        // A trim-marked right delimiter starts with a space: leave it to lex_right_delim.
        let from_space = &self.input.as_bytes()[self.pos - 1..];
        if has_right_trim_marker(from_space) && from_space[TRIM_MARKER_LEN..].starts_with(self.right.as_bytes()) {
            self.backup(); // Before the space.
            if num_spaces == 1 {
                return Flow::Next(State::RightDelim);
            }
        }
        self.emit(ItemType::Space)
    }

    fn lex_identifier(&mut self) -> Flow<'a> {
        loop {
            let r = self.next();
            if r.is_some_and(is_alpha_numeric) {
                continue;
            }
            self.backup();
            if !self.at_terminator() {
                return self.errorf(format!("bad character {}", go_rune_u_opt(r)));
            }
            let word = &self.input[self.start..self.pos];
            let typ = match keyword(word) {
                Some(k) => k,
                None if word == "true" || word == "false" => ItemType::Bool,
                None => ItemType::Identifier,
            };
            return self.emit(typ);
        }
    }

    fn lex_variable(&mut self) -> Flow<'a> {
        if self.at_terminator() {
            return self.emit(ItemType::Variable);
        }
        self.lex_field_or_variable(ItemType::Variable)
    }

    /// `.Name` or `$name`; the `.` or `$` has been consumed.
    fn lex_field_or_variable(&mut self, typ: ItemType) -> Flow<'a> {
        if self.at_terminator() {
            return self.emit(if typ == ItemType::Variable { ItemType::Variable } else { ItemType::Dot });
        }
        let r = loop {
            let r = self.next();
            if !r.is_some_and(is_alpha_numeric) {
                self.backup();
                break r;
            }
        };
        if !self.at_terminator() {
            return self.errorf(format!("bad character {}", go_rune_u_opt(r)));
        }
        self.emit(typ)
    }

    /// Whether the next char may follow an identifier.
    fn at_terminator(&mut self) -> bool {
        match self.peek() {
            None => true,
            Some(r) if is_space(r) => true,
            Some('.' | ',' | '|' | ':' | ')' | '(') => true,
            Some(_) => self.rest().starts_with(self.right.as_bytes()),
        }
    }

    fn lex_char(&mut self) -> Flow<'a> {
        loop {
            match self.next() {
                Some('\\') => {
                    if !matches!(self.next(), None | Some('\n')) {
                        continue;
                    }
                    return self.errorf("unterminated character constant".into());
                }
                None | Some('\n') => return self.errorf("unterminated character constant".into()),
                Some('\'') => break,
                Some(_) => {}
            }
        }
        self.emit(ItemType::CharConstant)
    }

    fn lex_number(&mut self) -> Flow<'a> {
        if !self.scan_number() {
            let text = go_quote(&self.input[self.start..self.pos]);
            return self.errorf(format!("bad number syntax: {text}"));
        }
        if matches!(self.peek(), Some('+' | '-')) {
            // Complex: 1+2i. No spaces, must end in 'i'.
            if !self.scan_number() || self.input.as_bytes()[self.pos - 1] != b'i' {
                let text = go_quote(&self.input[self.start..self.pos]);
                return self.errorf(format!("bad number syntax: {text}"));
            }
            return self.emit(ItemType::Complex);
        }
        self.emit(ItemType::Number)
    }

    /// Go's deliberately loose number scanner; the parser validates the text.
    fn scan_number(&mut self) -> bool {
        const DEC: &[u8] = b"0123456789_";
        const HEX: &[u8] = b"0123456789abcdefABCDEF_";
        self.accept(b"+-");
        let mut digits = DEC;
        if self.accept(b"0") {
            if self.accept(b"xX") {
                digits = HEX;
            } else if self.accept(b"oO") {
                digits = b"01234567_";
            } else if self.accept(b"bB") {
                digits = b"01_";
            }
        }
        self.accept_run(digits);
        if self.accept(b".") {
            self.accept_run(digits);
        }
        if digits.len() == DEC.len() && self.accept(b"eE") {
            self.accept(b"+-");
            self.accept_run(DEC);
        }
        if digits.len() == HEX.len() && self.accept(b"pP") {
            self.accept(b"+-");
            self.accept_run(DEC);
        }
        self.accept(b"i");
        if self.peek().is_some_and(is_alpha_numeric) {
            self.next();
            return false;
        }
        true
    }

    fn lex_quote(&mut self) -> Flow<'a> {
        loop {
            match self.next() {
                Some('\\') => {
                    if !matches!(self.next(), None | Some('\n')) {
                        continue;
                    }
                    return self.errorf("unterminated quoted string".into());
                }
                None | Some('\n') => return self.errorf("unterminated quoted string".into()),
                Some('"') => break,
                Some(_) => {}
            }
        }
        self.emit(ItemType::String)
    }

    fn lex_raw_quote(&mut self) -> Flow<'a> {
        loop {
            match self.next() {
                None => return self.errorf("unterminated raw quoted string".into()),
                Some('`') => break,
                Some(_) => {}
            }
        }
        self.emit(ItemType::RawString)
    }
}

/// Finds `delim` in `hay`: a memchr-backed scan for its first char, then a
/// prefix check (much faster than a general substring search on long text).
fn find_delim(hay: &str, delim: &str) -> Option<usize> {
    let first = delim.chars().next()?;
    let mut from = 0;
    while let Some(i) = hay[from..].find(first) {
        let at = from + i;
        if hay[at..].starts_with(delim) {
            return Some(at);
        }
        from = at + first.len_utf8();
    }
    None
}

fn count_newlines(s: &str) -> usize {
    // Byte-sized partial sums let the compiler vectorise the loop fully.
    s.as_bytes().chunks(255).map(|chunk| chunk.iter().fold(0u8, |n, &b| n + (b == b'\n') as u8) as usize).sum()
}

/// Go's template space: ASCII space, tab, CR and LF.
fn is_space(r: char) -> bool {
    matches!(r, ' ' | '\t' | '\r' | '\n')
}

fn is_space_byte(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Letters, digits and `_` (Go's `unicode.IsLetter`/`IsDigit`, approximated
/// outside ASCII by Rust's alphabetic/numeric classes).
fn is_alpha_numeric(r: char) -> bool {
    if r.is_ascii() {
        r == '_' || r.is_ascii_alphanumeric()
    } else {
        r.is_alphabetic() || r.is_numeric()
    }
}

fn has_left_trim_marker(s: &[u8]) -> bool {
    s.len() >= 2 && s[0] == TRIM_MARKER && is_space_byte(s[1])
}

fn has_right_trim_marker(s: &[u8]) -> bool {
    s.len() >= 2 && is_space_byte(s[0]) && s[1] == TRIM_MARKER
}

fn right_trim_length(s: &[u8]) -> usize {
    s.iter().rev().take_while(|&&b| is_space_byte(b)).count()
}

fn left_trim_length(s: &[u8]) -> usize {
    s.iter().take_while(|&&b| is_space_byte(b)).count()
}

/// Go's `%#U` verb: `U+0023 '#'`.
pub fn go_rune_u(r: char) -> String {
    if crate::strconv::is_print(r as u32) {
        format!("U+{:04X} '{}'", r as u32, r)
    } else {
        format!("U+{:04X}", r as u32)
    }
}

fn go_rune_u_opt(r: Option<char>) -> String {
    match r {
        Some(r) => go_rune_u(r),
        None => "U+FFFFFFFFFFFFFFFF".into(),
    }
}

/// Go's `strconv.ErrSyntax` message.
pub const INVALID_SYNTAX: &str = "invalid syntax";

/// One decoded character of a quoted literal: a char, or a raw byte from a
/// `\x`/octal escape (Go strings may hold bytes that are not UTF-8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unquoted {
    Char(char),
    Byte(u8),
}

/// Go's `strconv.UnquoteChar`: decodes the first character or escape of `s`
/// inside a literal quoted with `quote`; returns it and the rest.
pub fn unquote_char(s: &str, quote: char) -> Result<(Unquoted, &str), &'static str> {
    let bytes = s.as_bytes();
    let Some(&c) = bytes.first() else { return Err(INVALID_SYNTAX) };
    if c as char == quote && (quote == '\'' || quote == '"') {
        return Err(INVALID_SYNTAX);
    }
    if c >= 0x80 {
        let ch = s.chars().next().ok_or(INVALID_SYNTAX)?;
        return Ok((Unquoted::Char(ch), &s[ch.len_utf8()..]));
    }
    if c != b'\\' {
        return Ok((Unquoted::Char(c as char), &s[1..]));
    }
    let Some(&e) = bytes.get(1) else { return Err(INVALID_SYNTAX) };
    let rest = &s[2..];
    let simple = |ch: char| Ok((Unquoted::Char(ch), rest));
    match e {
        b'a' => simple('\u{7}'),
        b'b' => simple('\u{8}'),
        b'f' => simple('\u{c}'),
        b'n' => simple('\n'),
        b'r' => simple('\r'),
        b't' => simple('\t'),
        b'v' => simple('\u{b}'),
        b'\\' => simple('\\'),
        b'\'' | b'"' => {
            if e as char != quote {
                return Err(INVALID_SYNTAX);
            }
            simple(e as char)
        }
        b'x' | b'u' | b'U' => {
            let n = match e {
                b'x' => 2,
                b'u' => 4,
                _ => 8,
            };
            let digits = rest.as_bytes().get(..n).ok_or(INVALID_SYNTAX)?;
            let mut v: u32 = 0;
            for &d in digits {
                v = (v << 4) | (d as char).to_digit(16).ok_or(INVALID_SYNTAX)?;
            }
            let rest = &rest[n..];
            if e == b'x' {
                return Ok((byte_or_char(v), rest));
            }
            let ch = char::from_u32(v).ok_or(INVALID_SYNTAX)?;
            Ok((Unquoted::Char(ch), rest))
        }
        b'0'..=b'7' => {
            let digits = rest.as_bytes().get(..2).ok_or(INVALID_SYNTAX)?;
            let mut v = (e - b'0') as u32;
            for &d in digits {
                if !(b'0'..=b'7').contains(&d) {
                    return Err(INVALID_SYNTAX);
                }
                v = (v << 3) | (d - b'0') as u32;
            }
            if v > 255 {
                return Err(INVALID_SYNTAX);
            }
            Ok((byte_or_char(v), &rest[2..]))
        }
        _ => Err(INVALID_SYNTAX),
    }
}

/// A `\x`/octal escape value: ASCII stays a char, higher values are raw bytes.
fn byte_or_char(v: u32) -> Unquoted {
    if v < 0x80 {
        Unquoted::Char(v as u8 as char)
    } else {
        Unquoted::Byte(v as u8)
    }
}

impl Unquoted {
    /// The numeric value (a rune, or the byte value).
    pub fn value(self) -> u32 {
        match self {
            Unquoted::Char(c) => c as u32,
            Unquoted::Byte(b) => b as u32,
        }
    }
}

/// Go's `strconv.Unquote` for `"..."` and `` `...` `` literals (raw strings
/// lose their carriage returns, as in Go). Escapes that produce bytes which
/// are not valid UTF-8 are replaced by U+FFFD, since values are Rust strings.
pub fn unquote(s: &str) -> Result<String, &'static str> {
    let bytes = s.as_bytes();
    if bytes.len() < 2 {
        return Err(INVALID_SYNTAX);
    }
    let quote = bytes[0];
    if quote != bytes[bytes.len() - 1] {
        return Err(INVALID_SYNTAX);
    }
    let inner = &s[1..s.len() - 1];
    match quote {
        b'`' => {
            if inner.contains('`') {
                return Err(INVALID_SYNTAX);
            }
            Ok(if inner.contains('\r') { inner.replace('\r', "") } else { inner.to_string() })
        }
        b'"' => {
            if !inner.contains('\\') && !inner.contains('\n') {
                if inner.contains('"') {
                    return Err(INVALID_SYNTAX);
                }
                return Ok(inner.to_string());
            }
            let mut out: Vec<u8> = Vec::with_capacity(inner.len());
            let mut rest = inner;
            while !rest.is_empty() {
                if rest.as_bytes()[0] == b'\n' {
                    return Err(INVALID_SYNTAX);
                }
                let (u, tail) = unquote_char(rest, '"')?;
                match u {
                    Unquoted::Char(c) => {
                        let mut buf = [0; 4];
                        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    }
                    Unquoted::Byte(b) => out.push(b),
                }
                rest = tail;
            }
            Ok(match String::from_utf8(out) {
                Ok(s) => s,
                Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
            })
        }
        _ => Err(INVALID_SYNTAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ItemType::*;

    fn lex_all<'a>(input: &'a str, left: &'a str, right: &'a str) -> Vec<Item<'a>> {
        let mut l = Lexer::new(input, left, right);
        let mut out = Vec::new();
        loop {
            let item = l.next_item();
            let stop = matches!(item.typ, Eof | Error);
            out.push(item);
            if stop {
                return out;
            }
        }
    }

    fn types_vals(input: &str) -> Vec<(ItemType, std::string::String)> {
        lex_all(input, "", "").into_iter().map(|i| (i.typ, i.val.into_owned())).collect()
    }

    fn tv(list: &[(ItemType, &str)]) -> Vec<(ItemType, std::string::String)> {
        list.iter().map(|(t, v)| (*t, v.to_string())).collect()
    }

    #[test]
    fn lexer_text_and_empty() {
        assert_eq!(types_vals(""), tv(&[(Eof, "")]));
        assert_eq!(types_vals("now is the time"), tv(&[(Text, "now is the time"), (Eof, "")]));
    }

    #[test]
    fn lexer_action_tokens() {
        assert_eq!(
            types_vals("{{$x := printf \"%d\" .A.B | len}}"),
            tv(&[
                (LeftDelim, "{{"),
                (Variable, "$x"),
                (Space, " "),
                (Declare, ":="),
                (Space, " "),
                (Identifier, "printf"),
                (Space, " "),
                (String, "\"%d\""),
                (Space, " "),
                (Field, ".A"),
                (Field, ".B"),
                (Space, " "),
                (Pipe, "|"),
                (Space, " "),
                (Identifier, "len"),
                (RightDelim, "}}"),
                (Eof, ""),
            ])
        );
    }

    #[test]
    fn lexer_keywords_and_constants() {
        assert_eq!(
            types_vals("{{range if else end with define template block nil true false . break continue}}"),
            tv(&[
                (LeftDelim, "{{"),
                (Range, "range"),
                (Space, " "),
                (If, "if"),
                (Space, " "),
                (Else, "else"),
                (Space, " "),
                (End, "end"),
                (Space, " "),
                (With, "with"),
                (Space, " "),
                (Define, "define"),
                (Space, " "),
                (Template, "template"),
                (Space, " "),
                (Block, "block"),
                (Space, " "),
                (Nil, "nil"),
                (Space, " "),
                (Bool, "true"),
                (Space, " "),
                (Bool, "false"),
                (Space, " "),
                (Dot, "."),
                (Space, " "),
                (Break, "break"),
                (Space, " "),
                (Continue, "continue"),
                (RightDelim, "}}"),
                (Eof, ""),
            ])
        );
    }

    #[test]
    fn lexer_numbers_and_chars() {
        assert_eq!(
            types_vals("{{1 02 0x14 -7.2i 1e3 +1.2e-4 4.2i 1+2i 1_000 0b101 0o17 0x1p-2 'a' '\\n'}}"),
            tv(&[
                (LeftDelim, "{{"),
                (Number, "1"),
                (Space, " "),
                (Number, "02"),
                (Space, " "),
                (Number, "0x14"),
                (Space, " "),
                (Number, "-7.2i"),
                (Space, " "),
                (Number, "1e3"),
                (Space, " "),
                (Number, "+1.2e-4"),
                (Space, " "),
                (Number, "4.2i"),
                (Space, " "),
                (Complex, "1+2i"),
                (Space, " "),
                (Number, "1_000"),
                (Space, " "),
                (Number, "0b101"),
                (Space, " "),
                (Number, "0o17"),
                (Space, " "),
                (Number, "0x1p-2"),
                (Space, " "),
                (CharConstant, "'a'"),
                (Space, " "),
                (CharConstant, "'\\n'"),
                (RightDelim, "}}"),
                (Eof, ""),
            ])
        );
    }

    #[test]
    fn lexer_raw_string_and_parens() {
        assert_eq!(
            types_vals("{{(`a\nb`).X}}"),
            tv(&[
                (LeftDelim, "{{"),
                (LeftParen, "("),
                (RawString, "`a\nb`"),
                (RightParen, ")"),
                (Field, ".X"),
                (RightDelim, "}}"),
                (Eof, ""),
            ])
        );
    }

    #[test]
    fn lexer_variables_and_assign() {
        assert_eq!(
            types_vals("{{$ $x.y $i, $v = 3}}"),
            tv(&[
                (LeftDelim, "{{"),
                (Variable, "$"),
                (Space, " "),
                (Variable, "$x"),
                (Field, ".y"),
                (Space, " "),
                (Variable, "$i"),
                (Char, ","),
                (Space, " "),
                (Variable, "$v"),
                (Space, " "),
                (Assign, "="),
                (Space, " "),
                (Number, "3"),
                (RightDelim, "}}"),
                (Eof, ""),
            ])
        );
    }

    #[test]
    fn lexer_custom_delims_and_trim() {
        let items = lex_all("a \n{{<- .x ->}}\n\t b", "{{<", ">}}");
        let got: Vec<_> = items.iter().map(|i| (i.typ, i.val.to_string())).collect();
        assert_eq!(
            got,
            tv(&[(Text, "a"), (LeftDelim, "{{<"), (Field, ".x"), (RightDelim, ">}}"), (Text, "b"), (Eof, "")])
        );
        // Lines as Go counts them.
        let lines: Vec<_> = items.iter().map(|i| i.line).collect();
        assert_eq!(lines, vec![1, 2, 2, 2, 3, 3]);
        // Byte positions.
        assert_eq!(items[1].pos, 3);
        assert_eq!(items[2].pos, 8);
    }

    #[test]
    fn lexer_trim_marker_needs_space() {
        // "{{-3}}" is the number -3, not a trim marker.
        assert_eq!(
            types_vals("x {{-3}} y"),
            tv(&[(Text, "x "), (LeftDelim, "{{"), (Number, "-3"), (RightDelim, "}}"), (Text, " y"), (Eof, "")])
        );
        // A newline also counts as the space after/before the marker.
        assert_eq!(
            types_vals("x {{-\n3\n-}} y"),
            tv(&[(Text, "x"), (LeftDelim, "{{"), (Number, "3"), (RightDelim, "}}"), (Text, "y"), (Eof, "")])
        );
        // Several spaces before " -}}": the extra ones form a space token.
        assert_eq!(
            types_vals("{{3  -}}"),
            tv(&[(LeftDelim, "{{"), (Number, "3"), (Space, " "), (RightDelim, "}}"), (Eof, "")])
        );
    }

    #[test]
    fn lexer_comments() {
        assert_eq!(types_vals("a {{/* c\n */}} b"), tv(&[(Text, "a "), (Text, " b"), (Eof, "")]));
        assert_eq!(types_vals("a {{- /* c */ -}} b"), tv(&[(Text, "a"), (Text, "b"), (Eof, "")]));
        assert_eq!(types_vals("{{/* c */ }}").last().unwrap().1, "comment ends before closing delimiter");
        assert_eq!(types_vals("{{/* c }}").last().unwrap().1, "unclosed comment");
    }

    #[test]
    fn lexer_errors() {
        let last = |s: &str| types_vals(s).pop().unwrap();
        assert_eq!(last("{{ .x"), (Error, "unclosed action".into()));
        assert_eq!(last("{{ \"abc }}"), (Error, "unterminated quoted string".into()));
        assert_eq!(last("{{ `abc }}"), (Error, "unterminated raw quoted string".into()));
        assert_eq!(last("{{ 'a }}"), (Error, "unterminated character constant".into()));
        assert_eq!(last("{{ 3k }}"), (Error, "bad number syntax: \"3k\"".into()));
        assert_eq!(last("{{ foo# }}"), (Error, "bad character U+0023 '#'".into()));
        assert_eq!(last("{{ .x# }}"), (Error, "bad character U+0023 '#'".into()));
        assert_eq!(last("{{ ( .x }}"), (Error, "unclosed left paren".into()));
        assert_eq!(last("{{ .x ) }}"), (Error, "unexpected right paren".into()));
        assert_eq!(last("{{ : }}"), (Error, "expected :=".into()));
        assert_eq!(last("{{ \u{7} }}"), (Error, "unrecognized character in action: U+0007".into()));
        assert_eq!(last("{{ € }}"), (Error, "unrecognized character in action: U+20AC '€'".into()));
    }

    #[test]
    fn lexer_newlines_inside_actions_are_spaces() {
        assert_eq!(
            types_vals("{{.x\n|\nquote}}"),
            tv(&[
                (LeftDelim, "{{"),
                (Field, ".x"),
                (Space, "\n"),
                (Pipe, "|"),
                (Space, "\n"),
                (Identifier, "quote"),
                (RightDelim, "}}"),
                (Eof, ""),
            ])
        );
    }

    #[test]
    fn lexer_lines_match_offsets_in_generators() {
        // The parser takes node lines from the lexer; check them against a recount.
        let Some(generators) = crate::fixtures::generators() else { return };
        let mut checked = 0;
        for (name, text) in generators.iter().flat_map(|g| &g.files) {
            let mut l = Lexer::new(text, "{{<", ">}}");
            let (mut at, mut line) = (0, 1);
            loop {
                let item = l.next_item();
                if matches!(item.typ, Eof | Error) {
                    break;
                }
                line += count_newlines(&text[at..item.pos]);
                at = item.pos;
                assert_eq!(item.line, line, "{name} {item:?}");
                checked += 1;
            }
        }
        // Each generator has ~900 files of templates and values.
        assert!(checked > 10_000 * generators.len(), "only {checked} tokens in the generators");
        println!("checked {checked} tokens");
    }

    #[test]
    fn lexer_item_display() {
        let item = |typ, val: &'static str| Item { typ, pos: 0, val: Cow::Borrowed(val), line: 1 };
        assert_eq!(item(End, "end").to_string(), "<end>");
        assert_eq!(item(Eof, "").to_string(), "EOF");
        assert_eq!(item(String, "\"x\"").to_string(), "\"\\\"x\\\"\"");
        assert_eq!(item(Text, "0123456789abc").to_string(), "\"0123456789\"...");
        assert_eq!(item(RightDelim, ">}}").to_string(), "\">}}\"");
    }

    #[test]
    fn lexer_go_quote() {
        assert_eq!(go_quote("a\"b\\c\n\té\u{1}"), "\"a\\\"b\\\\c\\n\\té\\x01\"");
        assert_eq!(go_rune_u('#'), "U+0023 '#'");
    }

    #[test]
    fn lexer_unquote() {
        assert_eq!(unquote("\"a\\tb\\n\\\"\\\\\"").unwrap(), "a\tb\n\"\\");
        assert_eq!(unquote("\"\\x41\\u00e9\\U0001F600\\101\"").unwrap(), "Aé😀A");
        assert_eq!(unquote("`a\\n\r\nb`").unwrap(), "a\\n\nb");
        assert_eq!(unquote("\"\\q\""), Err(INVALID_SYNTAX));
        assert_eq!(unquote("\"\\'\""), Err(INVALID_SYNTAX));
        assert_eq!(unquote("\"\\400\""), Err(INVALID_SYNTAX));
        assert_eq!(unquote("\"\\ud800\""), Err(INVALID_SYNTAX));
        assert_eq!(unquote_char("\\x41'", '\'').unwrap(), (Unquoted::Char('A'), "'"));
        assert_eq!(unquote_char("\\377'", '\'').unwrap(), (Unquoted::Byte(255), "'"));
        assert_eq!(unquote_char("'", '\''), Err(INVALID_SYNTAX));
    }
}
