//! The seeded generator of random cases: values (two YAML layers, with the
//! odd forms users type) and templates on Go's builtins (pipelines, control
//! flow, variables, printf verbs/flags/widths, printing of every value kind).
//! The same seed always gives the same case. What COMPATIBILITY.md lists as
//! different from Go is never generated: `%p`, YAML timestamps, integers past
//! 2^63, `\/` in YAML, dot inside a collection.

use crate::support::reference::Case;

/// Splitmix64: a tiny, seedable and well-mixed generator.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True one time in `n`.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    pub fn pick(&mut self, items: &[&'static str]) -> &'static str {
        items[self.below(items.len())]
    }
}

/// Scalars as YAML text, including the forms whose resolution is subtle.
const SCALARS: &[&str] = &[
    "1", "-2", "0", "42", "0x1F", "0o17", "017", "+12", "-0", "1.5", "-0.0", "1e3", "6.02e+23", "1e21",
    "1e-7", "0.1", "100000000000000000000.0", "123456789.125", ".inf", "-.Inf", ".nan", "~", "null", "true",
    "False", "yes", "on", "abc", "a b", "\"quoted\\ttab\"", "'single ''q'''", "\"\\u00e9t\\u00e9\"", "12:30",
    "!!str 12", "!!float 3", "!!str true", "\"%v %d\"", "\"<a&b>'\\\"\"", "日本", "\"\\x41\"", "0.", ".5",
    "1_000", "0b101", "\"\"", "''", "\"line\\nbreak\"", "x:y", "'#not comment'", "9007199254740993", "\"ab\"", "'xyz'",
    "-9223372036854775808", "3.0", "1e+400", "\"\\U0001F600\"", "\"\\e\\a\"",
];

/// Flow collections and other inline values.
const FLOWS: &[&str] = &[
    "[]", "{}", "[1, two, 3.5]", "[a, [b, c], {d: e}]", "{x: 1, y: [a]}", "[null, ~, true]", "{a: {b: {c: 1}}}",
    "[ '', \"\" ]", "{k: v, n: 1.0}", "[-1, 0x10, .inf]", "[?x]", "{?x: 1, ?y}", "[a, ?x y: 2]", "[!!str , x]",
    "{x: !!str }", "[!!null , 1]",
];

/// Block scalars, each ending with a line break.
const BLOCKS: &[&str] = &["|\n  text\n  more\n", ">\n  folded\n  text\n\n  para\n", "|-\n  strip\n", "|+\n  keep\n\n", ">-\n  a\n   b\n"];

/// The keys values use, and which templates reach.
const KEYS: &[&str] = &["a", "b", "c", "l", "m", "e"];

/// A YAML value tree, emitted in block style with scalars inline.
enum Y {
    Inline(String),
    Block(&'static str),
    List(Vec<Y>),
    Map(Vec<(String, Y)>),
}

pub struct Gen {
    rng: Rng,
    /// Variables in scope (names without `$`).
    vars: Vec<String>,
    /// Nesting of `range` (where `break`/`continue` are allowed).
    ranges: usize,
    depth: usize,
    next_var: usize,
    /// Field paths (`.a.b`) the generated values hold, for templates to reach.
    paths: Vec<String>,
    /// True once the named template `d` exists.
    defined: bool,
}

impl Gen {
    pub fn new(seed: u64) -> Gen {
        Gen { rng: Rng::new(seed), vars: Vec::new(), ranges: 0, depth: 0, next_var: 0, paths: Vec::new(), defined: false }
    }

    pub fn case(&mut self) -> Case {
        let defaults = self.values(6);
        let overrides = if self.rng.one_in(2) { self.values(3) } else { String::new() };
        // A named template first (its body sees only its own `$`), then the
        // main template, which may call it.
        let mut template = String::new();
        if self.rng.one_in(3) {
            let (vars, ranges) = (std::mem::take(&mut self.vars), std::mem::take(&mut self.ranges));
            template = format!("{{{{< define \"d\" >}}}}{}{{{{< end >}}}}", self.list(3));
            (self.vars, self.ranges) = (vars, ranges);
            self.defined = true;
        }
        template += &self.list(4);
        Case { defaults, overrides, template }
    }

    // ---- values ----------------------------------------------------------

    fn values(&mut self, keys: usize) -> String {
        let n = 1 + self.rng.below(keys);
        let mut pairs = Vec::new();
        for _ in 0..n {
            let key = self.rng.pick(KEYS).to_string();
            let v = self.yaml(0);
            self.record_paths(&format!(".{key}"), &v);
            pairs.push((key, v));
        }
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        pairs.dedup_by(|a, b| a.0 == b.0);
        let mut out = String::new();
        emit_map(&pairs, 0, &mut out);
        // Values typed into Argo CD often lack the final line break.
        if self.rng.one_in(4) {
            out.pop();
        }
        out
    }

    fn record_paths(&mut self, path: &str, v: &Y) {
        self.paths.push(path.to_string());
        if let Y::Map(pairs) = v {
            for (k, v) in pairs {
                self.record_paths(&format!("{path}.{k}"), v);
            }
        }
    }

    fn yaml(&mut self, depth: usize) -> Y {
        let choice = if depth >= 3 { self.rng.below(3) } else { self.rng.below(6) };
        match choice {
            0 | 1 => Y::Inline(self.rng.pick(SCALARS).to_string()),
            2 => {
                if self.rng.one_in(3) {
                    Y::Block(self.rng.pick(BLOCKS))
                } else {
                    Y::Inline(self.rng.pick(FLOWS).to_string())
                }
            }
            3 => Y::List((0..self.rng.below(4)).map(|_| self.yaml(depth + 1)).collect()),
            _ => {
                let mut pairs: Vec<(String, Y)> =
                    (0..self.rng.below(4)).map(|_| (self.rng.pick(KEYS).to_string(), self.yaml(depth + 1))).collect();
                pairs.sort_by(|a, b| a.0.cmp(&b.0));
                pairs.dedup_by(|a, b| a.0 == b.0);
                Y::Map(pairs)
            }
        }
    }

    // ---- templates -------------------------------------------------------

    fn list(&mut self, max: usize) -> String {
        let n = self.rng.below(max + 1);
        let mark = self.vars.len();
        let mut out = String::new();
        for _ in 0..n {
            out += &self.node();
        }
        self.vars.truncate(mark);
        out
    }

    fn node(&mut self) -> String {
        if self.depth >= 3 {
            return self.action();
        }
        self.depth += 1;
        let out = match self.rng.below(14) {
            0 | 1 => self.rng.pick(&["x", " ", "\n", "[", "]", ",", "ab", "\t "]).to_string(),
            2 => {
                let pipe = self.pipeline();
                let else_if = if self.rng.one_in(3) { format!("{{{{< else if {} >}}}}{}", self.pipeline(), self.list(2)) } else { String::new() };
                let els = self.else_branch();
                format!("{{{{< if {pipe} >}}}}{}{else_if}{els}{{{{< end >}}}}", self.list(3))
            }
            3 | 4 => self.range(),
            5 => {
                let pipe = self.value_pipeline();
                let body = self.list(3);
                let els = self.else_branch();
                format!("{{{{< with {pipe} >}}}}{body}{els}{{{{< end >}}}}")
            }
            6 => {
                let pipe = self.pipeline();
                let name = format!("v{}", self.next_var);
                self.next_var += 1;
                self.vars.push(name.clone());
                format!("{{{{< ${name} := {pipe} >}}}}")
            }
            7 if !self.vars.is_empty() => {
                let name = self.vars[self.rng.below(self.vars.len())].clone();
                format!("{{{{< ${name} = {} >}}}}", self.pipeline())
            }
            8 if self.ranges > 0 => self.rng.pick(&["{{< break >}}", "{{< continue >}}"]).to_string(),
            9 => self.rng.pick(&["{{</* c */>}}", "{{<- /* c */ ->}}", "{{< /* c */ ->}}"]).to_string(),
            10 => self.context_use(),
            11 if self.defined => {
                let arg = if self.rng.one_in(4) { String::new() } else { format!(" {}", self.value_pipeline()) };
                format!("{{{{< template \"d\"{arg} >}}}}")
            }
            _ => self.action(),
        };
        self.depth -= 1;
        out
    }

    fn else_branch(&mut self) -> String {
        if self.rng.one_in(2) { format!("{{{{< else >}}}}{}", self.list(2)) } else { String::new() }
    }

    fn range(&mut self) -> String {
        let pipe = self.value_pipeline();
        let mark = self.vars.len();
        let decl = match self.rng.below(3) {
            0 => String::new(),
            1 => {
                let v = self.fresh();
                format!("${v} := ")
            }
            _ => {
                let (k, v) = (self.fresh(), self.fresh());
                format!("${k}, ${v} := ")
            }
        };
        self.ranges += 1;
        let body = self.list(3);
        self.ranges -= 1;
        self.vars.truncate(mark);
        // Go allows break/continue in a range's else when an outer range holds it.
        let els = self.else_branch();
        format!("{{{{< range {decl}{pipe} >}}}}{body}{els}{{{{< end >}}}}")
    }

    fn fresh(&mut self) -> String {
        let name = format!("v{}", self.next_var);
        self.next_var += 1;
        self.vars.push(name.clone());
        name
    }

    fn action(&mut self) -> String {
        let (l, r) = (self.rng.pick(&["{{< ", "{{<- ", "{{<"]), self.rng.pick(&[" >}}", " ->}}", ">}}"]));
        let pipe = self.pipeline();
        format!("{l}{pipe}{r}")
    }

    /// Dot (at the top, gomplate's context pointer): printed, compared, tested.
    fn context_use(&mut self) -> String {
        let pick = self.rng.pick(&[
            "{{< . >}}", "{{< $ >}}", "{{< print . >}}", "{{< eq . $ >}}", "{{< eq . . >}}", "{{< if . >}}t{{< end >}}",
            "{{< len . >}}", "{{< printf \"%T\" . >}}", "{{< index . \"Values\" >}}", "{{< eq . .Values >}}",
            "{{< html . >}}", "{{< urlquery $ >}}", "{{< ne $ . >}}", "{{< not $ >}}", "{{< print (and . $) >}}",
        ]);
        if self.rng.one_in(2) {
            let verb = self.format();
            return format!("{{{{< printf {verb} . $ >}}}}");
        }
        pick.to_string()
    }

    /// A pipeline that yields a value worth ranging over or testing.
    fn value_pipeline(&mut self) -> String {
        match self.rng.below(5) {
            0 => self.field(),
            1 => format!("slice {} {}", self.operand(), self.operand()),
            2 if !self.vars.is_empty() => format!("${}", self.vars[self.rng.below(self.vars.len())]),
            _ => self.field(),
        }
    }

    fn pipeline(&mut self) -> String {
        let mut out = self.command();
        for _ in 0..self.rng.below(3).saturating_sub(1) {
            out += " | ";
            out += &self.pipe_stage();
        }
        out
    }

    /// A command that takes the previous pipeline value as its last argument.
    fn pipe_stage(&mut self) -> String {
        match self.rng.below(8) {
            0 => "len".into(),
            1 => "print".into(),
            2 => format!("printf {}", self.format()),
            3 => "html".into(),
            4 => "js".into(),
            5 => "urlquery".into(),
            6 => format!("eq {}", self.operand()),
            _ => format!("slice {}", self.operand()),
        }
    }

    fn command(&mut self) -> String {
        if self.rng.one_in(3) {
            return self.operand();
        }
        match self.rng.below(16) {
            0 => format!("len {}", self.operand()),
            1 => {
                let keys = (0..1 + self.rng.below(2)).map(|_| self.index_key()).collect::<Vec<_>>().join(" ");
                format!("index {} {keys}", self.field())
            }
            2 => format!("slice {}", self.args(0, 4)),
            3 => format!("print {}", self.args(0, 4)),
            4 => format!("println {}", self.args(0, 3)),
            5..=7 => {
                let f = self.format();
                format!("printf {f} {}", self.args(0, 4))
            }
            8 => format!("{} {}", self.rng.pick(&["eq", "ne"]), self.args(2, 2)),
            9 => format!("{} {}", self.rng.pick(&["lt", "le", "gt", "ge"]), self.args(2, 1)),
            10 => format!("{} {}", self.rng.pick(&["and", "or"]), self.args(1, 3)),
            11 => format!("not {}", self.operand()),
            12 => format!("{} {}", self.rng.pick(&["html", "js", "urlquery"]), self.args(1, 2)),
            _ => format!("print {}", self.operand()),
        }
    }

    /// `min` operands plus up to `extra - 1` more, separated by spaces.
    fn args(&mut self, min: usize, extra: usize) -> String {
        let n = min + self.rng.below(extra);
        (0..n).map(|_| self.operand()).collect::<Vec<_>>().join(" ")
    }

    fn index_key(&mut self) -> String {
        match self.rng.below(4) {
            0 => self.rng.pick(&["0", "1", "-1", "5"]).to_string(),
            1 => format!("\"{}\"", self.rng.pick(KEYS)),
            _ => self.rng.pick(&["0", "1"]).to_string(),
        }
    }

    fn field(&mut self) -> String {
        let root = if self.ranges > 0 || self.rng.one_in(3) { "$" } else { "" };
        if !self.paths.is_empty() && !self.rng.one_in(8) {
            return format!("{root}.Values{}", self.paths[self.rng.below(self.paths.len())]);
        }
        let mut out = format!("{root}.Values.{}", self.rng.pick(KEYS));
        if self.rng.one_in(4) {
            out += &format!(".{}", self.rng.pick(KEYS));
        }
        out
    }

    fn operand(&mut self) -> String {
        match self.rng.below(12) {
            0..=3 => self.field(),
            4 => self.rng.pick(&["0", "1", "-7", "0x1F", "1_000", "0b11", "0o17", "017", "'a'", "'\\n'", "1.5", "1e3", "-0.0", "2.50"]).to_string(),
            5 => self.rng.pick(&["\"\"", "\"x\"", "\"a b\"", "\"é\"", "\"<&>\"", "`raw\\n`", "\"\\t\"", "\"%\""]).to_string(),
            6 => self.rng.pick(&["true", "false", "nil"]).to_string(),
            10 => self.rng.pick(&["(index \"abc\" 0)", "(index \"é\" 1)", "(index \"\\x00\" 0)"]).to_string(),
            7 if !self.vars.is_empty() => format!("${}", self.vars[self.rng.below(self.vars.len())]),
            8 if self.ranges > 0 => ".".into(),
            9 if self.depth < 3 => {
                self.depth += 1;
                let inner = self.command();
                self.depth -= 1;
                format!("({inner})")
            }
            _ => self.field(),
        }
    }

    /// A printf format: text and verbs with random flags, widths, precisions, argument indexes.
    fn format(&mut self) -> String {
        let mut out = String::from("\"");
        for _ in 0..1 + self.rng.below(3) {
            if self.rng.one_in(3) {
                out += self.rng.pick(&["x", " ", "|", "%%"]);
            }
            out.push('%');
            for flag in ["+", "-", "#", " ", "0"] {
                if self.rng.one_in(5) {
                    out += flag;
                }
            }
            if self.rng.one_in(3) {
                out += self.rng.pick(&["1", "5", "12", "*", "0"]);
            }
            if self.rng.one_in(3) {
                out += self.rng.pick(&[".", ".0", ".2", ".10", ".*"]);
            }
            if self.rng.one_in(10) {
                out += self.rng.pick(&["[1]", "[2]", "[3]", "[0]"]);
            }
            out += self.rng.pick(&["v", "v", "d", "s", "q", "x", "X", "o", "O", "b", "c", "U", "e", "E", "f", "F", "g", "G", "t", "T", "z", "%"]);
        }
        out.push('"');
        out
    }
}

fn pad(indent: usize) -> String {
    " ".repeat(indent)
}

fn emit_block(text: &str, indent: usize, out: &mut String) {
    let (header, body) = text.split_once('\n').unwrap();
    out.push_str(header);
    out.push('\n');
    for line in body.split_inclusive('\n') {
        if line != "\n" {
            out.push_str(&pad(indent));
        }
        out.push_str(line);
    }
}

fn emit_map(pairs: &[(String, Y)], indent: usize, out: &mut String) {
    for (k, v) in pairs {
        out.push_str(&pad(indent));
        out.push_str(k);
        out.push(':');
        emit_child(v, indent, out);
    }
}

fn emit_child(v: &Y, indent: usize, out: &mut String) {
    match v {
        Y::Inline(s) if s.is_empty() => out.push('\n'),
        Y::Inline(s) => {
            out.push(' ');
            out.push_str(s);
            out.push('\n');
        }
        Y::Block(b) => {
            out.push(' ');
            emit_block(b, indent + 2, out);
        }
        Y::List(items) if items.is_empty() => out.push_str(" []\n"),
        Y::Map(pairs) if pairs.is_empty() => out.push_str(" {}\n"),
        Y::List(items) => {
            out.push('\n');
            emit_list(items, indent + 2, out);
        }
        Y::Map(pairs) => {
            out.push('\n');
            emit_map(pairs, indent + 2, out);
        }
    }
}

fn emit_list(items: &[Y], indent: usize, out: &mut String) {
    for item in items {
        out.push_str(&pad(indent));
        out.push('-');
        emit_child(item, indent, out);
    }
}
