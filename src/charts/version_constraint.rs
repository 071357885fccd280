//! Helm's chart version constraints (Masterminds/semver v3 syntax) over chart
//! versions and OCI tags: `1.2.3`, `v1.2.3`, `1.2.x`, `~1.2`, `^1.2.0`,
//! `>=1.0.0 <2.0.0`, `>=1, <2`, `1.0 - 2.0`, `a || b`. Versions parse leniently as
//! Masterminds' `NewVersion` does (`v` prefix, missing minor/patch).

use std::cmp::Ordering;
use std::sync::LazyLock;

use regex::Regex;
use semver::{BuildMetadata, Prerelease, Version};

const OPS: &str = r"=||!=|>|<|>=|=>|<=|=<|~|~>|\^";
const CV: &str = r"v?([0-9|x|X|\*]+)(\.[0-9|x|X|\*]+)?(\.[0-9|x|X|\*]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?";

static VERSION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?$").unwrap()
});
static EXACT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^v?[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z\-.]+)?(\+[0-9A-Za-z\-.]+)?$").unwrap()
});
static TERM: LazyLock<Regex> = LazyLock::new(|| Regex::new(&format!(r"^\s*({OPS})\s*({CV})\s*$")).unwrap());
static RANGE: LazyLock<Regex> = LazyLock::new(|| Regex::new(&format!(r"\s*({CV})\s+-\s+({CV})\s*")).unwrap());
static FIND: LazyLock<Regex> = LazyLock::new(|| Regex::new(&format!(r"({OPS})\s*({CV})")).unwrap());
static VALID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r"^(\s*({OPS})\s*({CV})\s*)((?:\s+|,\s*)({OPS})\s*({CV})\s*)*$")).unwrap()
});

/// Parses a version as Masterminds' `NewVersion`: `v1.2.3`, `1.2` (= 1.2.0), `1`.
pub fn parse_version(text: &str) -> Option<Version> {
    let m = VERSION.captures(text)?;
    let num = |i: usize| -> Option<u64> {
        m.get(i).map_or(Some(0), |g| g.as_str().trim_start_matches('.').parse().ok())
    };
    Some(Version {
        major: num(1)?,
        minor: num(2)?,
        patch: num(3)?,
        pre: m.get(5).map_or(Ok(Prerelease::EMPTY), |g| Prerelease::new(g.as_str())).ok()?,
        build: m.get(8).map_or(Ok(BuildMetadata::EMPTY), |g| BuildMetadata::new(g.as_str())).ok()?,
    })
}

/// True when `text` names one version (`1.2.3`, `v1.2.3-rc.1`) rather than a range.
pub fn is_exact(text: &str) -> bool {
    EXACT.is_match(text.trim())
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    TildeOrEqual,
    NotEqual,
    Greater,
    Less,
    GreaterEqual,
    LessEqual,
    Tilde,
    Caret,
}

#[derive(Clone, Debug)]
struct Term {
    op: Op,
    con: Version,
    dirty: bool,
    minor_dirty: bool,
    patch_dirty: bool,
}

/// A parsed constraint: OR-groups of AND-ed terms.
#[derive(Clone, Debug)]
pub struct VersionConstraint {
    groups: Vec<(Vec<Term>, bool)>,
}

fn is_x(s: &str) -> bool {
    matches!(s, "x" | "X" | "*")
}

fn parse_term(text: &str) -> Result<Term, String> {
    let m = TERM.captures(text).ok_or_else(|| format!("improper constraint: {text:?}"))?;
    let op = match &m[1] {
        "" | "=" => Op::TildeOrEqual,
        "!=" => Op::NotEqual,
        ">" => Op::Greater,
        "<" => Op::Less,
        ">=" | "=>" => Op::GreaterEqual,
        "<=" | "=<" => Op::LessEqual,
        "~" | "~>" => Op::Tilde,
        _ => Op::Caret,
    };
    let part = |i: usize| m.get(i).map_or("", |g| g.as_str());
    let (major, minor, patch, pre) = (part(3), part(4), part(5), part(6));
    let (mut dirty, mut minor_dirty, mut patch_dirty) = (false, false, false);
    let ver = if is_x(major) || major.is_empty() {
        dirty = true;
        format!("0.0.0{pre}")
    } else if is_x(minor.trim_start_matches('.')) || minor.is_empty() {
        dirty = true;
        minor_dirty = true;
        format!("{major}.0.0{pre}")
    } else if is_x(patch.trim_start_matches('.')) || patch.is_empty() {
        dirty = true;
        patch_dirty = true;
        format!("{major}{minor}.0{pre}")
    } else {
        part(2).to_string()
    };
    let con = parse_version(&ver).ok_or_else(|| format!("improper constraint: {text:?}"))?;
    Ok(Term { op, con, dirty, minor_dirty, patch_dirty })
}

fn lt(a: &Version, b: &Version) -> bool {
    a.cmp_precedence(b) == Ordering::Less
}

impl Term {
    fn check(&self, v: &Version, include_pre: bool) -> bool {
        if !v.pre.is_empty() && !include_pre {
            return false;
        }
        let c = &self.con;
        match self.op {
            Op::TildeOrEqual if self.dirty => self.tilde(v),
            Op::TildeOrEqual => v.cmp_precedence(c) == Ordering::Equal,
            Op::Tilde => self.tilde(v),
            Op::NotEqual => {
                if self.dirty {
                    if c.major != v.major {
                        return true;
                    }
                    if self.minor_dirty {
                        return false;
                    }
                    if c.minor != v.minor {
                        return true;
                    }
                    if self.patch_dirty {
                        return v.pre != c.pre;
                    }
                }
                v.cmp_precedence(c) != Ordering::Equal
            }
            Op::Greater => {
                if !self.dirty {
                    return v.cmp_precedence(c) == Ordering::Greater;
                }
                if v.major != c.major {
                    return v.major > c.major;
                }
                if self.minor_dirty {
                    return false;
                }
                if self.patch_dirty {
                    return v.minor > c.minor;
                }
                v.cmp_precedence(c) == Ordering::Greater
            }
            Op::Less => lt(v, c),
            Op::GreaterEqual => !lt(v, c),
            Op::LessEqual => {
                if !self.dirty {
                    return v.cmp_precedence(c) != Ordering::Greater;
                }
                !(v.major > c.major || (v.major == c.major && v.minor > c.minor && !self.minor_dirty))
            }
            Op::Caret => {
                if lt(v, c) {
                    return false;
                }
                if c.major > 0 || self.minor_dirty {
                    return v.major == c.major;
                }
                if v.major > 0 {
                    return false;
                }
                if c.minor > 0 || self.patch_dirty {
                    return v.minor == c.minor;
                }
                if v.minor > 0 {
                    return false;
                }
                c.patch == v.patch
            }
        }
    }

    fn tilde(&self, v: &Version) -> bool {
        let c = &self.con;
        if lt(v, c) {
            return false;
        }
        if c.major == 0 && c.minor == 0 && c.patch == 0 && !self.minor_dirty && !self.patch_dirty {
            return true;
        }
        v.major == c.major && (v.minor == c.minor || self.minor_dirty)
    }
}

impl VersionConstraint {
    /// Parses Helm's constraint syntax; an empty string means any release (`*`).
    pub fn parse(text: &str) -> Result<VersionConstraint, String> {
        let text = if text.trim().is_empty() { "*" } else { text };
        let mut rewritten = text.to_string();
        for m in RANGE.captures_iter(text) {
            rewritten = rewritten.replacen(&m[0], &format!(">= {}, <= {} ", &m[1], &m[11]), 1);
        }
        let mut groups = Vec::new();
        for alternative in rewritten.split("||") {
            if !VALID.is_match(alternative) {
                return Err(format!("improper constraint: {:?}", alternative.trim()));
            }
            let terms = FIND.find_iter(alternative).map(|m| parse_term(m.as_str())).collect::<Result<Vec<_>, _>>()?;
            let has_pre = terms.iter().any(|t| !t.con.pre.is_empty());
            groups.push((terms, has_pre));
        }
        Ok(VersionConstraint { groups })
    }

    /// Whether `version` satisfies the constraint (prereleases only when a term names one).
    pub fn matches(&self, version: &Version) -> bool {
        self.groups.iter().any(|(terms, has_pre)| terms.iter().all(|t| t.check(version, *has_pre)))
    }
}

/// Picks from `candidates` (chart versions or OCI tags, `_` standing for `+`)
/// what Helm picks for `requested`: an exact string match first, else the
/// highest version satisfying the constraint. Returns the candidate as written.
pub fn select<'a>(candidates: &'a [String], requested: &str) -> Result<Option<&'a String>, String> {
    let requested = requested.trim();
    if !requested.is_empty() {
        if let Some(exact) = candidates.iter().find(|c| c.as_str() == requested || c.replace('_', "+") == requested) {
            return Ok(Some(exact));
        }
    }
    let constraint = VersionConstraint::parse(requested)?;
    Ok(candidates
        .iter()
        .filter_map(|c| parse_version(&c.replace('_', "+")).map(|v| (v, c)))
        .filter(|(v, _)| constraint.matches(v))
        .max_by(|(a, _), (b, _)| a.cmp_precedence(b).then_with(|| a.build.cmp(&b.build)))
        .map(|(_, c)| c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(constraint: &str, version: &str) -> bool {
        VersionConstraint::parse(constraint).unwrap().matches(&parse_version(version).unwrap())
    }

    #[test]
    fn lenient_versions() {
        assert_eq!(parse_version("v1.12.10").unwrap(), Version::new(1, 12, 10));
        assert_eq!(parse_version("1.2").unwrap(), Version::new(1, 2, 0));
        assert_eq!(parse_version("0.9.2-deploykf").unwrap().pre.as_str(), "deploykf");
        assert!(parse_version("latest").is_none());
        assert!(is_exact("1.2.3") && is_exact("v1.2.3-rc.1+b") && !is_exact("1.2") && !is_exact("~1.2.3"));
    }

    #[test]
    fn helm_constraint_forms() {
        assert!(ok("1.12.10", "v1.12.10"));
        assert!(!ok("1.12.10", "1.12.11"));
        assert!(ok("1.2.x", "1.2.9") && !ok("1.2.x", "1.3.0"));
        assert!(ok("~1.2", "1.2.7") && !ok("~1.2", "1.3.0"));
        assert!(ok("~1.2.3", "1.2.4") && !ok("~1.2.3", "1.2.2"));
        assert!(ok("^1.2.0", "1.9.0") && !ok("^1.2.0", "2.0.0") && !ok("^1.2.0", "1.1.9"));
        assert!(ok("^0.2.3", "0.2.9") && !ok("^0.2.3", "0.3.0"));
        assert!(ok(">=1.0.0 <2.0.0", "1.5.0") && !ok(">=1.0.0 <2.0.0", "2.0.0"));
        assert!(ok(">=1.0.0, <2.0.0", "1.0.0") && !ok(">= 1.0.0, < 2.0.0", "0.9.0"));
        assert!(ok("1.0 - 1.4.5", "1.4.5") && !ok("1.0 - 1.4.5", "1.4.6"));
        assert!(ok("<1.0.0 || >=3.0.0", "3.1.0") && !ok("<1.0.0 || >=3.0.0", "2.0.0"));
        assert!(ok("*", "7.0.0") && !ok("*", "7.0.0-rc.1"));
        assert!(ok(">=1.0.0-0", "1.2.0-rc.1"));
        assert!(ok("!=1.2.3", "1.2.4") && !ok("!=1.2.3", "1.2.3"));
        assert!(VersionConstraint::parse("not a version").is_err());
    }

    #[test]
    fn selection_prefers_exact_then_highest() {
        let tags: Vec<String> = ["v1.12.2", "v1.12.10", "1.13.0", "latest", "1.12.3_build.1"].map(String::from).into();
        assert_eq!(select(&tags, "1.12.x").unwrap().unwrap(), "v1.12.10");
        assert_eq!(select(&tags, "1.12.10").unwrap().unwrap(), "v1.12.10");
        assert_eq!(select(&tags, "1.12.3+build.1").unwrap().unwrap(), "1.12.3_build.1");
        assert_eq!(select(&tags, "").unwrap().unwrap(), "1.13.0");
        assert_eq!(select(&tags, "latest").unwrap().unwrap(), "latest");
        assert!(select(&tags, "2.x").unwrap().is_none());
    }
}
