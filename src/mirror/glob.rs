//! Go's `path.Match` on one name component, as `mirror.images.exclude`
//! patterns match image names component by component ([`super::config`]).

/// Go's `path.Match` on one name component (no `/` inside): `*`, `?`,
/// `[...]` classes with ranges and `^` negation, `\` escapes.
pub fn matches(p: &[u8], s: &[u8]) -> bool {
    match p.first() {
        None => s.is_empty(),
        Some(b'*') => (0..=s.len()).any(|i| matches(&p[1..], &s[i..])),
        Some(b'?') => !s.is_empty() && matches(&p[1..], &s[1..]),
        Some(b'[') => {
            let Some((&c, rest)) = s.split_first() else {
                return false;
            };
            match class_match(&p[1..], c) {
                Some((hit, after)) => hit && matches(after, rest),
                None => false,
            }
        }
        Some(b'\\') if p.len() > 1 => s.first() == Some(&p[1]) && matches(&p[2..], &s[1..]),
        Some(&c) => s.first() == Some(&c) && matches(&p[1..], &s[1..]),
    }
}

/// Matches `c` against the class starting after `[`; returns the verdict and
/// the pattern after `]`, or `None` for an unclosed class.
fn class_match(p: &[u8], c: u8) -> Option<(bool, &[u8])> {
    let (negate, mut p) = match p.first() {
        Some(b'^') => (true, &p[1..]),
        _ => (false, p),
    };
    let mut hit = false;
    let mut first = true;
    loop {
        let (&lo, rest) = p.split_first()?;
        if lo == b']' && !first {
            return Some((hit != negate, rest));
        }
        first = false;
        let (lo, rest) = if lo == b'\\' {
            (*rest.first()?, &rest[1..])
        } else {
            (lo, rest)
        };
        let (hi, rest) = match rest {
            [b'-', hi, tail @ ..] if *hi != b']' => {
                if *hi == b'\\' {
                    (*tail.first()?, &tail[1..])
                } else {
                    (*hi, tail)
                }
            }
            _ => (lo, rest),
        };
        hit |= lo <= c && c <= hi;
        p = rest;
    }
}

/// True when every `[` class is closed and no `\` ends the pattern.
pub fn valid(p: &[u8]) -> bool {
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            b'\\' if i + 1 >= p.len() => return false,
            b'\\' => i += 2,
            b'[' => match class_match(&p[i + 1..], 0) {
                Some((_, after)) => i = p.len() - after.len(),
                None => return false,
            },
            _ => i += 1,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_components_follow_path_match() {
        assert!(matches(b"a*c", b"abbbc"));
        assert!(!matches(b"a*c", b"abd"));
        assert!(matches(b"a?c", b"abc"));
        assert!(matches(b"[^a-c]x", b"dx"));
        assert!(!matches(b"[^a-c]x", b"bx"));
        assert!(matches(b"a\\*", b"a*"));
        assert!(!matches(b"a\\*", b"ab"));
        assert!(valid(b"[a-z]*"));
        assert!(!valid(b"[a-z"));
        assert!(!valid(b"ab\\"));
    }
}
