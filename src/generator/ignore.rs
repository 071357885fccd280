//! Which template files gomplate renders from an input folder: the
//! `.gomplateignore` rules, with the semantics of the `zealic/xignore` matcher
//! gomplate 3.11 uses (not git's). In short:
//!
//! - every entry (file or folder) starts not ignored; each `.gomplateignore`,
//!   shallowest first, re-decides the entries below its folder that its
//!   patterns match; extra "after" patterns (gomplate's `--exclude`) come last;
//! - a pattern is turned into a regexp (`*` → `[^/]*`, `**` → any depth,
//!   `?` → one char, `.`/`$` escaped, `\x` escapes, other characters — also
//!   `[`, `]`, `+`, `(` — are regexp syntax) anchored at the folder of its
//!   ignore file (an optional leading `/`), and it matches an entry when it
//!   matches the entry's path *or its base name*;
//! - lines starting with `#` are comments, trailing spaces are trimmed,
//!   patterns are `path.Clean`ed (so `dir/` is `dir`), `!` negates;
//! - a matched folder also matches everything below it (`dir/**`), but a
//!   direct match of a file always wins over one through its folder, so `!`
//!   can re-include files in an ignored folder.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use anyhow::{Context, Result};
use regex::Regex;

/// The ignore file name gomplate looks for.
pub const IGNORE_FILE: &str = ".gomplateignore";

/// One entry of a walked folder: its `/`-separated path relative to the walk's
/// root (`""` for the root itself) and whether it is a folder.
#[derive(Clone, Debug)]
struct Entry {
    path: String,
    is_dir: bool,
}

/// A compiled ignore pattern.
#[derive(Debug)]
struct Pattern {
    exclusion: bool,
    matcher: Matcher,
}

#[derive(Debug)]
enum Matcher {
    Regex(Regex),
    /// `DIR/**` for a folder whose path is literal in a regexp: what the
    /// regexp `^/?DIR/.*$` matches, i.e. the paths below `DIR` (without a
    /// line break, which `.` does not match), never a base name.
    Below(String),
}

impl Pattern {
    /// xignore's `NewPattern` + `Prepare`; `None` for an empty pattern.
    fn new(text: &str) -> Result<Option<Pattern>> {
        let (exclusion, value) = match text.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        if value.is_empty() {
            return Ok(None);
        }
        let source = pattern_regex(value);
        let regex =
            Regex::new(&source).with_context(|| format!("invalid ignore pattern '{text}'"))?;
        Ok(Some(Pattern {
            exclusion,
            matcher: Matcher::Regex(regex),
        }))
    }

    /// The pattern `[!]DIR/**` that a match of folder `dir` implies.
    fn below(dir: &str, exclusion: bool) -> Result<Option<Pattern>> {
        let literal = !dir.is_empty()
            && !dir.starts_with('/')
            && dir
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_./@~,=%: ".contains(&b));
        if literal {
            return Ok(Some(Pattern {
                exclusion,
                matcher: Matcher::Below(format!("{dir}/")),
            }));
        }
        Pattern::new(&format!("{}{dir}/**", if exclusion { "!" } else { "" }))
    }

    /// Matches the entry's path (`full`, with a leading `/`) or its base name.
    fn matches(&self, full: &str) -> bool {
        match &self.matcher {
            Matcher::Regex(regex) => regex.is_match(full) || regex.is_match(base_name(full)),
            Matcher::Below(prefix) => full
                .strip_prefix('/')
                .and_then(|p| p.strip_prefix(prefix.as_str()))
                .is_some_and(|rest| !rest.contains('\n')),
        }
    }
}

/// Go's `filepath.Base` for a path that starts with `/`.
fn base_name(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/";
    }
    match trimmed.rfind('/') {
        Some(i) => &trimmed[i + 1..],
        None => trimmed,
    }
}

/// The regexp xignore builds from a pattern.
fn pattern_regex(pattern: &str) -> String {
    let mut re = String::from("^");
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let ch = chars[i];
        i += 1;
        // After the first character (when it is one byte and not `/`): an optional root.
        if i == 1 && ch.len_utf8() == 1 && ch != '/' {
            re.push_str("/?");
        }
        match ch {
            '*' if chars.get(i) == Some(&'*') => {
                i += 1;
                if chars.get(i) == Some(&'/') {
                    i += 1;
                }
                if i >= chars.len() {
                    re.push_str(".*");
                } else {
                    re.push_str("(.*/)?");
                }
            }
            '*' => re.push_str("[^/]*"),
            '?' => re.push_str("[^/]"),
            '.' | '$' => {
                re.push('\\');
                re.push(ch);
            }
            '\\' => {
                re.push('\\');
                if i < chars.len() {
                    re.push(chars[i]);
                    i += 1;
                }
            }
            _ => re.push(ch),
        }
    }
    re.push('$');
    re
}

/// Go's `path.Clean` (the engine's, so there is one).
pub use gomplate::funcs::path::clean_str as clean_path;

/// Parses an ignore file's text into pattern strings (xignore's `FromReader`).
fn parse_ignore_file(text: &str) -> Vec<String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.starts_with('#') {
            continue;
        }
        let line = line.trim_end_matches(' ');
        if line.is_empty() {
            continue;
        }
        let (invert, rest) = match line.strip_prefix('!') {
            Some(rest) => (true, rest.trim_end_matches(' ')),
            None => (false, line),
        };
        let cleaned = if rest.is_empty() {
            String::new()
        } else {
            clean_path(rest)
        };
        out.push(if invert {
            format!("!{cleaned}")
        } else {
            cleaned
        });
    }
    out
}

/// Every entry under `root` in `afero.Walk` order (the root first, names
/// sorted), with `extra` files (relative to `root`, not on disk) and their
/// folders in their places.
fn collect(root: &Path, extra: &[&str]) -> Result<Vec<Entry>> {
    let mut out = vec![Entry {
        path: String::new(),
        is_dir: true,
    }];
    for entry in walkdir::WalkDir::new(root).min_depth(1).sort_by_file_name() {
        let entry = entry.with_context(|| format!("cannot list '{}'", root.display()))?;
        // Symbolic links are entries, not descended (afero's `Lstat`).
        out.push(Entry { path: crate::folder::slash_path(root, entry.path()), is_dir: entry.file_type().is_dir() });
    }
    if !extra.is_empty() {
        // Their folders too, where they are not on disk.
        let mut known: std::collections::HashSet<String> =
            out.iter().map(|e| e.path.clone()).collect();
        for path in extra {
            let mut end = 0;
            while let Some(i) = path[end..].find('/') {
                end += i;
                if known.insert(path[..end].to_string()) {
                    out.push(Entry {
                        path: path[..end].to_string(),
                        is_dir: true,
                    });
                }
                end += 1;
            }
            if known.insert(path.to_string()) {
                out.push(Entry {
                    path: path.to_string(),
                    is_dir: false,
                });
            }
        }
        // Walk order is depth first with sorted names: compare by component.
        out[1..].sort_by(|a, b| a.path.split('/').cmp(b.path.split('/')));
    }
    Ok(out)
}

/// xignore's `applyPatterns`: the entries the patterns decide, with
/// `true` = ignored. Direct matches override matches through a folder.
fn apply_patterns(entries: &[Entry], patterns: &[Pattern]) -> Result<HashMap<String, bool>> {
    // Each entry's path with a leading `/`, as the patterns see it.
    let fulls: Vec<String> = entries.iter().map(|e| format!("/{}", e.path)).collect();
    let mut files: HashMap<String, bool> = HashMap::new();
    let mut dir_patterns = Vec::new();
    for pattern in patterns {
        for (entry, full) in entries.iter().zip(&fulls) {
            if !pattern.matches(full) {
                continue;
            }
            files.insert(entry.path.clone(), !pattern.exclusion);
            if entry.is_dir {
                dir_patterns.extend(Pattern::below(&entry.path, pattern.exclusion)?);
            }
        }
    }
    let mut state: HashMap<String, bool> = HashMap::new();
    for pattern in &dir_patterns {
        for (entry, full) in entries.iter().zip(&fulls) {
            if pattern.matches(full) {
                state.insert(entry.path.clone(), !pattern.exclusion);
            }
        }
    }
    state.extend(files);
    Ok(state)
}

fn compile(patterns: &[String]) -> Result<Vec<Pattern>> {
    let mut out = Vec::new();
    for p in patterns {
        out.extend(Pattern::new(p)?);
    }
    Ok(out)
}

/// Go's `filepath.Join(dir, name)` for the relative paths used here.
fn join(dir: &str, name: &str) -> String {
    clean_path(&format!("{dir}/{name}"))
}

/// [`rendered_files_with`] for a folder whose files are all on disk.
#[cfg(test)]
fn rendered_files(root: &Path, after_patterns: &[&str]) -> Result<Vec<String>> {
    rendered_files_with(root, &[], after_patterns)
}

/// The files under `root` gomplate renders: not ignored by the nested
/// `.gomplateignore` files, then by `after_patterns`; sorted, `/`-separated,
/// relative to `root`. `extra` are files of the folder that are not on disk
/// (paths relative to `root`, none of them an ignore file).
pub fn rendered_files_with(
    root: &Path,
    extra: &[&str],
    after_patterns: &[&str],
) -> Result<Vec<String>> {
    let entries = collect(root, extra)?;
    let mut state: HashMap<String, bool> =
        entries.iter().map(|e| (e.path.clone(), false)).collect();
    let is_dir: HashMap<&str, bool> = entries
        .iter()
        .map(|e| (e.path.as_str(), e.is_dir))
        .collect();

    // Nested ignore files, shallowest first.
    let mut ignore_files: Vec<&str> = entries
        .iter()
        .map(|e| e.path.as_str())
        .filter(|p| p.ends_with(IGNORE_FILE))
        .collect();
    ignore_files.sort_by_key(|p| (p.split('/').count(), p.to_string()));
    for ignore_file in ignore_files {
        let base = match ignore_file.rfind('/') {
            Some(i) => &ignore_file[..i],
            None => ".",
        };
        let base_path = if base == "." {
            root.to_path_buf()
        } else {
            root.join(base)
        };
        let file = base_path.join(IGNORE_FILE);
        let patterns = if file.is_file() {
            let text =
                fs::read(&file).with_context(|| format!("cannot read '{}'", file.display()))?;
            compile(&parse_ignore_file(&String::from_utf8_lossy(&text)))
                .with_context(|| format!("ignore matching failed for '{}'", file.display()))?
        } else {
            Vec::new()
        };
        let sub_entries = if base == "." {
            entries.clone()
        } else {
            let below: Vec<&str> = extra
                .iter()
                .filter_map(|p| p.strip_prefix(base)?.strip_prefix('/'))
                .collect();
            collect(&base_path, &below)?
        };
        for (path, ignored) in apply_patterns(&sub_entries, &patterns)? {
            state.insert(join(base, &path), ignored);
        }
    }

    let after: Vec<String> = after_patterns.iter().map(|s| s.to_string()).collect();
    state.extend(apply_patterns(&entries, &compile(&after)?)?);

    let mut files: Vec<String> = state
        .into_iter()
        .filter(|(path, ignored)| {
            !ignored && !path.is_empty() && is_dir.get(path.as_str()) == Some(&false)
        })
        .map(|(path, _)| path)
        .collect();
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tempfile::TempDir;

    fn tree(files: &[(&str, &str)]) -> TempDir {
        let dir = TempDir::new().unwrap();
        for (path, content) in files {
            let p = dir.path().join(path);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, content).unwrap();
        }
        dir
    }

    #[test]
    fn builds_the_xignore_regexps() {
        assert_eq!(pattern_regex("foo"), "^/?foo$");
        assert_eq!(pattern_regex("/foo"), "^/foo$");
        assert_eq!(pattern_regex("*.tgz"), "^/?[^/]*\\.tgz$");
        assert_eq!(pattern_regex("a/**/b"), "^/?a/(.*/)?b$");
        assert_eq!(pattern_regex("a/**"), "^/?a/.*$");
        assert_eq!(pattern_regex("\\#*\\#"), "^/?\\#[^/]*\\#$");
        assert_eq!(pattern_regex("?x"), "^/?[^/]x$");
    }

    #[test]
    fn parses_ignore_files_like_xignore() {
        let text = "\u{feff}# comment\nfoo/  \n\n!bar/./baz\n  lead\n!\nx\r\n";
        assert_eq!(
            parse_ignore_file(text),
            vec!["foo", "!bar/baz", "  lead", "!", "x"]
        );
        assert_eq!(clean_path("a/../../b"), "../b");
        assert_eq!(clean_path("/../a/"), "/a");
        assert_eq!(clean_path("./"), ".");
    }

    #[test]
    fn patterns_match_paths_and_base_names() {
        let p = Pattern::new("*.tgz").unwrap().unwrap();
        assert!(p.matches("/deep/dir/chart.tgz"));
        let p = Pattern::new("argocd/apps/x.yaml").unwrap().unwrap();
        assert!(p.matches("/argocd/apps/x.yaml"));
        assert!(!p.matches("/other/argocd/apps/x.yaml"));
        let p = Pattern::new("Chart.lock").unwrap().unwrap();
        assert!(p.matches("/manifests/a/Chart.lock"));
        let p = Pattern::new("/top.txt").unwrap().unwrap();
        assert!(!p.matches("/sub/top.txt"));
        assert!(p.matches("/top.txt"));
    }

    #[test]
    fn folder_patterns_match_like_their_regexps() {
        let paths = [
            "/a",
            "/a/b",
            "/a/b/c.yaml",
            "/a/bc",
            "/a-b/c",
            "/ab/c",
            "/x/a/b/c",
            "/a/b/\nx",
            "/a.b/c",
            "/axb/c",
            "/",
            "/b",
            "/a/b/c/d/e",
        ];
        for dir in ["a", "a/b", "a.b", "a-b", "a b"] {
            for exclusion in [false, true] {
                let fast = Pattern::below(dir, exclusion).unwrap().unwrap();
                assert!(matches!(fast.matcher, Matcher::Below(_)), "{dir}");
                let text = format!("{}{dir}/**", if exclusion { "!" } else { "" });
                let slow = Pattern::new(&text).unwrap().unwrap();
                assert_eq!(fast.exclusion, slow.exclusion);
                for path in paths {
                    assert_eq!(fast.matches(path), slow.matches(path), "{dir} {path:?}");
                }
            }
        }
        // Regexp syntax in a folder name keeps the regexp (xignore's quirk).
        assert!(matches!(
            Pattern::below("c++", false).unwrap().unwrap().matcher,
            Matcher::Regex(_)
        ));
    }

    #[test]
    fn ignores_folders_and_reincludes_direct_negations() {
        let dir = tree(&[
            (
                ".gomplateignore",
                "manifests/skip/\n!manifests/skip/keep.yaml\n*.tgz\n.gomplateignore\n",
            ),
            ("manifests/skip/a.yaml", ""),
            ("manifests/skip/keep.yaml", ""),
            ("manifests/app/chart.tgz", ""),
            ("manifests/app/values.yaml", ""),
            ("argocd/app.yaml", ""),
        ]);
        assert_eq!(
            rendered_files(dir.path(), &[]).unwrap(),
            vec![
                "argocd/app.yaml",
                "manifests/app/values.yaml",
                "manifests/skip/keep.yaml"
            ]
        );
    }

    #[test]
    fn nested_ignore_files_are_relative_to_their_folder_and_win() {
        let dir = tree(&[
            (".gomplateignore", "*.md\n.gomplateignore\n"),
            ("a/.gomplateignore", "/x.yaml\n!README.md\n"),
            ("a/x.yaml", ""),
            ("a/y.yaml", ""),
            ("a/README.md", ""),
            ("x.yaml", ""),
            ("b/README.md", ""),
        ]);
        assert_eq!(
            rendered_files(dir.path(), &[]).unwrap(),
            vec!["a/README.md", "a/y.yaml", "x.yaml"]
        );
    }

    #[test]
    fn phase_one_patterns_select_only_ignore_templates() {
        let dir = tree(&[
            (".gomplateignore_template", ""),
            ("sub/.gomplateignore_template", ""),
            ("sub/a.yaml", ""),
            ("b.yaml", ""),
        ]);
        assert_eq!(
            rendered_files(dir.path(), &["*", "!*.gomplateignore_template"]).unwrap(),
            vec![".gomplateignore_template", "sub/.gomplateignore_template"]
        );
    }

    #[test]
    fn without_ignore_files_everything_renders() {
        let dir = tree(&[("b/c.yaml", ""), ("a.yaml", ""), (".hidden", "")]);
        assert_eq!(
            rendered_files(dir.path(), &[]).unwrap(),
            vec![".hidden", "a.yaml", "b/c.yaml"]
        );
    }

    #[test]
    fn files_held_outside_the_folder_are_walked_in_their_places() {
        // The same tree, once fully on disk and once with its plain files
        // given as `extra` (only ignore files and their folders on disk).
        let files = [
            (".gomplateignore", "*.md\n.gomplateignore\n"),
            (
                "a/.gomplateignore",
                "/x.yaml\n!README.md\nsub\n!sub/keep.yaml\n",
            ),
            ("a/x.yaml", ""),
            ("a/y.yaml", ""),
            ("a/README.md", ""),
            ("a/sub/keep.yaml", ""),
            ("a/sub/drop.yaml", ""),
            ("a-b/z.yaml", ""),
            ("x.yaml", ""),
            ("b/README.md", ""),
        ];
        let full = tree(&files);
        let on_disk: Vec<(&str, &str)> = files
            .iter()
            .filter(|(p, _)| p.ends_with(IGNORE_FILE))
            .copied()
            .collect();
        let partial = tree(&on_disk);
        let mut extra = Vec::new();
        for (path, _) in files.iter().filter(|(p, _)| !p.ends_with(IGNORE_FILE)) {
            extra.push(*path);
        }
        for after in [&[][..], &["*", "!*.yaml"][..]] {
            assert_eq!(
                rendered_files_with(partial.path(), &extra, after).unwrap(),
                rendered_files(full.path(), after).unwrap(),
                "{after:?}"
            );
        }
    }
}
