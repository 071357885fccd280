//! The crate's tests: Go's own tables (`reference_test.go`,
//! `normalize_test.go`) re-derived for the normalised parse, the printed
//! forms, the messages, and the fuzz target's checks over a fixed corpus.

use crate::error::RefError;
use crate::fuzz::{assert_roundtrips, fuzz_roundtrip};
use crate::grammar::{parse_grammar, parse_normalized, NAME_TOTAL_LENGTH_MAX};
use crate::*;

#[test]
fn docker_hub_is_addressed_at_its_api_host() {
    let busybox = ImageRef::parse("docker.io/library/busybox").unwrap();
    assert_eq!(api_host(&busybox.registry), "registry-1.docker.io");
    assert_eq!(api_host(&ImageRef::parse("busybox").unwrap().registry), "registry-1.docker.io");
    assert_eq!(api_host("index.docker.io"), "registry-1.docker.io");
    assert_eq!(api_host("ghcr.io"), "ghcr.io");
    assert_eq!(api_host("registry-1.docker.io"), "registry-1.docker.io");
}

const SHA_F: &str = "sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";
const SHA_B: &str = "sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa";

fn r(registry: &str, repository: &str, tag: Option<&str>, digest: Option<&str>) -> ImageRef {
    ImageRef {
        registry: registry.into(),
        repository: repository.into(),
        tag: tag.map(Into::into),
        digest: digest.map(Into::into),
    }
}

fn hub(repository: &str, tag: Option<&str>, digest: Option<&str>) -> ImageRef {
    r("docker.io", repository, tag, digest)
}

/// Cases of the Go package's `TestReferenceParse`, with what
/// `ParseNormalizedNamed` (not `Parse`) makes of them, re-derived by hand.
#[test]
fn go_reference_table_normalised() {
    let ok = |input: &str, want: ImageRef| (input.to_string(), Ok(want));
    let bad = |input: &str, want: RefError| (input.to_string(), Err(want));
    let repeated_a = "a/".repeat(127) + "a";
    let cases = vec![
        ok("test_com", hub("library/test_com", None, None)),
        ok("test.com:tag", hub("library/test.com", Some("tag"), None)),
        ok("test.com:5000", hub("library/test.com", Some("5000"), None)),
        ok(
            "test.com/repo:tag",
            r("test.com", "repo", Some("tag"), None),
        ),
        ok("test:5000/repo", r("test:5000", "repo", None, None)),
        ok(
            "test:5000/repo:tag",
            r("test:5000", "repo", Some("tag"), None),
        ),
        ok(
            &format!("test:5000/repo@{SHA_F}"),
            r("test:5000", "repo", None, Some(SHA_F)),
        ),
        ok(
            &format!("test:5000/repo:tag@{SHA_F}"),
            r("test:5000", "repo", Some("tag"), Some(SHA_F)),
        ),
        bad("", RefError::InvalidFormat),
        bad(":justtag", RefError::InvalidFormat),
        bad(&format!("@{SHA_F}"), RefError::InvalidFormat),
        bad(
            "repo@sha256:ffffffffffffffffffffffffffffffffff",
            RefError::ChecksumLength,
        ),
        bad(
            &format!("validname@invaliddigest:{}", "f".repeat(64)),
            RefError::DigestUnsupported,
        ),
        // Registered by default in current go-digest (Docker links it too).
        ok(
            &format!("validname@sha512:{}", "f".repeat(128)),
            hub(
                "library/validname",
                None,
                Some(&format!("sha512:{}", "f".repeat(128))),
            ),
        ),
        // Defined but not registered by go-digest.
        bad(
            &format!("validname@sha384:{}", "f".repeat(96)),
            RefError::DigestUnsupported,
        ),
        bad(
            &format!("validname@sha256:{}", "F".repeat(64)),
            RefError::ChecksumFormat,
        ),
        bad(
            &format!("validname@sha512:{}", "f".repeat(64)),
            RefError::ChecksumLength,
        ),
        // Docker's lowercase check reads up to the first `:`, digest included.
        bad(
            &format!("validname@SHA256:{}", "f".repeat(64)),
            RefError::RemoteUppercase("library/validname@SHA256".into()),
        ),
        bad(
            "Uppercase:tag",
            RefError::RemoteUppercase("library/Uppercase".into()),
        ),
        // The Go tests' FIXME: a capitalised first component is a host.
        ok(
            "Uppercase/lowercase:tag",
            r("Uppercase", "lowercase", Some("tag"), None),
        ),
        bad(
            "test:5000/Uppercase/lowercase:tag",
            RefError::RemoteUppercase("Uppercase/lowercase".into()),
        ),
        ok(
            "lowercase:Uppercase",
            hub("library/lowercase", Some("Uppercase"), None),
        ),
        // `domain` has no dot: Docker Hub, path `domain/aaa…` (263 chars).
        bad(
            &format!("domain/{}:tag", "a".repeat(256)),
            RefError::NameTooLong,
        ),
        // 255 characters of path, all of it on Docker Hub.
        ok(
            &format!("{repeated_a}:tag-puts-this-over-max"),
            hub(&repeated_a, Some("tag-puts-this-over-max"), None),
        ),
        bad("aa/asdf$$^/aa", RefError::InvalidFormat),
        ok(
            "sub-dom1.foo.com/bar/baz/quux",
            r("sub-dom1.foo.com", "bar/baz/quux", None, None),
        ),
        ok(
            "sub-dom1.foo.com/bar/baz/quux:some-long-tag",
            r(
                "sub-dom1.foo.com",
                "bar/baz/quux",
                Some("some-long-tag"),
                None,
            ),
        ),
        ok(
            "b.gcr.io/test.example.com/my-app:test.example.com",
            r(
                "b.gcr.io",
                "test.example.com/my-app",
                Some("test.example.com"),
                None,
            ),
        ),
        ok(
            "xn--n3h.com/myimage:xn--n3h.com",
            r("xn--n3h.com", "myimage", Some("xn--n3h.com"), None),
        ),
        ok(
            &format!("xn--7o8h.com/myimage:xn--7o8h.com@{SHA_F}"),
            r("xn--7o8h.com", "myimage", Some("xn--7o8h.com"), Some(SHA_F)),
        ),
        ok(
            "foo_bar.com:8080",
            hub("library/foo_bar.com", Some("8080"), None),
        ),
        ok(
            "foo/foo_bar.com:8080",
            hub("foo/foo_bar.com", Some("8080"), None),
        ),
        ok("192.168.1.1", hub("library/192.168.1.1", None, None)),
        ok(
            "192.168.1.1:tag",
            hub("library/192.168.1.1", Some("tag"), None),
        ),
        ok(
            "192.168.1.1:5000",
            hub("library/192.168.1.1", Some("5000"), None),
        ),
        ok("192.168.1.1/repo", r("192.168.1.1", "repo", None, None)),
        ok(
            "192.168.1.1:5000/repo",
            r("192.168.1.1:5000", "repo", None, None),
        ),
        ok(
            "192.168.1.1:5000/repo:5050",
            r("192.168.1.1:5000", "repo", Some("5050"), None),
        ),
        bad("[2001:db8::1]", RefError::InvalidFormat),
        bad("[2001:db8::1]:5000", RefError::InvalidFormat),
        bad("[2001:db8::1]:tag", RefError::InvalidFormat),
        ok("[2001:db8::1]/repo", r("[2001:db8::1]", "repo", None, None)),
        ok(
            "[2001:db8:1:2:3:4:5:6]/repo:tag",
            r("[2001:db8:1:2:3:4:5:6]", "repo", Some("tag"), None),
        ),
        ok(
            "[2001:db8::1]:5000/repo",
            r("[2001:db8::1]:5000", "repo", None, None),
        ),
        ok(
            "[2001:db8::1]:5000/repo:tag",
            r("[2001:db8::1]:5000", "repo", Some("tag"), None),
        ),
        ok(
            &format!("[2001:db8::1]:5000/repo@{SHA_F}"),
            r("[2001:db8::1]:5000", "repo", None, Some(SHA_F)),
        ),
        ok(
            &format!("[2001:db8::1]:5000/repo:tag@{SHA_F}"),
            r("[2001:db8::1]:5000", "repo", Some("tag"), Some(SHA_F)),
        ),
        ok(
            "[2001:db8::]:5000/repo",
            r("[2001:db8::]:5000", "repo", None, None),
        ),
        ok("[::1]:5000/repo", r("[::1]:5000", "repo", None, None)),
        bad("[fe80::1%eth0]:5000/repo", RefError::InvalidFormat),
        bad("[fe80::1%@invalidzone]:5000/repo", RefError::InvalidFormat),
        ok(
            &format!("example.com/{}:tag", "a".repeat(255)),
            r("example.com", &"a".repeat(255), Some("tag"), None),
        ),
        bad(
            &format!("example.com/{}:tag", "a".repeat(256)),
            RefError::NameTooLong,
        ),
        // Not in the Go table: tags at and over 128 characters.
        ok(
            &format!("x:{}", "t".repeat(128)),
            hub("library/x", Some(&"t".repeat(128)), None),
        ),
        bad(&format!("x:{}", "t".repeat(129)), RefError::InvalidFormat),
        bad("x:-tag", RefError::InvalidFormat),
        bad("x:.tag", RefError::InvalidFormat),
        ok("x:_tag", hub("library/x", Some("_tag"), None)),
        // Go's `\w` is ASCII; the regex crate's default is not.
        bad("x:tägg", RefError::InvalidFormat),
        // Path component separators.
        ok("a__b/c-----d.e_f", hub("a__b/c-----d.e_f", None, None)),
        bad("a___b/c", RefError::InvalidFormat),
        bad("a_.b/c", RefError::InvalidFormat),
        // Go returns a name without registry here; refused instead.
        bad("foo_bar.com/x", RefError::InvalidHost("foo_bar.com".into())),
        // `index.docker.io` is Docker Hub; `localhost` is a host.
        ok("index.docker.io/nginx", hub("library/nginx", None, None)),
        ok("localhost/nginx", r("localhost", "nginx", None, None)),
    ];
    for (input, want) in cases {
        assert_eq!(parse_normalized(&input), want, "parsing {input:?}");
    }
}

/// `TestValidateReferenceName` and `TestValidateRemoteName` of normalize_test.go.
#[test]
fn go_normalize_valid_and_invalid_names() {
    let hex = "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a";
    let valid = [
        "docker/docker",
        "library/debian",
        "debian",
        "localhost/library/debian",
        "localhost/debian",
        "LOCALDOMAIN/library/debian",
        "LOCALDOMAIN/debian",
        "docker.io/docker/docker",
        "docker.io/library/debian",
        "docker.io/debian",
        "index.docker.io/docker/docker",
        "index.docker.io/library/debian",
        "index.docker.io/debian",
        "127.0.0.1:5000/docker/docker",
        "127.0.0.1:5000/library/debian",
        "127.0.0.1:5000/debian",
        "192.168.0.1",
        "192.168.0.1:80",
        "192.168.0.1:8/debian",
        "192.168.0.2:25000/debian",
        "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
        "[fc00::1]:5000/docker",
        "[fc00::1]:5000/docker/docker",
        "[fc00:1:2:3:4:5:6:7]:5000/library/debian",
        &format!("docker.io/{hex}"),
        "Docker/docker",
        "DOCKER/docker",
        "docker-rules/docker",
        "docker---rules/docker",
        "doc/docker",
        "d/docker",
        "jess/t",
        "dock__er/docker",
    ];
    for name in valid {
        assert!(ImageRef::parse(name).is_ok(), "{name:?} should be valid");
    }
    let long_namespace = format!(
        "{}this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255/docker",
        "this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_".repeat(3)
    );
    let invalid = [
        "https://github.com/docker/docker",
        "docker/Docker",
        "-docker",
        "-docker/docker",
        "-docker.io/docker/docker",
        "docker///docker",
        "docker.io/docker/Docker",
        "docker.io/docker///docker",
        "[fc00::1]",
        "[fc00::1]:5000",
        "fc00::1:5000/debian",
        "[fe80::1%eth0]:5000/debian",
        "[2001:db8:3:4::192.0.2.33]:5000/debian",
        hex,
        "docker-/docker",
        "-docker-/docker",
        "____/____",
        "_docker/_docker",
        "dock..er/docker",
        "dock_.er/docker",
        "dock-.er/docker",
        "docker/",
        &long_namespace,
    ];
    for name in invalid {
        assert!(ImageRef::parse(name).is_err(), "{name:?} should be invalid");
    }
    assert_eq!(parse_normalized(hex), Err(RefError::Identifier));
    assert_eq!(
        parse_normalized(&long_namespace),
        Err(RefError::NameTooLong)
    );
    // An ID with a tag is a name like any other.
    assert_eq!(
        ImageRef::parse(&format!("{hex}:v1")).unwrap(),
        hub(&format!("library/{hex}"), Some("v1"), None)
    );
}

/// `TestParseRepositoryInfo`: every spelling of a name gives one
/// reference, with the same familiar form, full name, host and path.
#[test]
fn go_repository_info_spellings() {
    // (path, familiar, full, other spelling, registry)
    let cases = [
        ("fooo", "localhost/fooo", "localhost/fooo", "", "localhost"),
        (
            "fooo/bar",
            "localhost/fooo/bar",
            "localhost/fooo/bar",
            "",
            "localhost",
        ),
        (
            "fooo",
            "LOCALDOMAIN/fooo",
            "LOCALDOMAIN/fooo",
            "",
            "LOCALDOMAIN",
        ),
        (
            "fooo/bar",
            "LOCALDOMAIN/fooo/bar",
            "LOCALDOMAIN/fooo/bar",
            "",
            "LOCALDOMAIN",
        ),
        (
            "fooo/bar",
            "fooo/bar",
            "docker.io/fooo/bar",
            "index.docker.io/fooo/bar",
            "docker.io",
        ),
        (
            "library/ubuntu",
            "ubuntu",
            "docker.io/library/ubuntu",
            "library/ubuntu",
            "docker.io",
        ),
        (
            "nonlibrary/ubuntu",
            "nonlibrary/ubuntu",
            "docker.io/nonlibrary/ubuntu",
            "",
            "docker.io",
        ),
        (
            "other/library",
            "other/library",
            "docker.io/other/library",
            "",
            "docker.io",
        ),
        (
            "private/moonbase",
            "127.0.0.1:8000/private/moonbase",
            "127.0.0.1:8000/private/moonbase",
            "",
            "127.0.0.1:8000",
        ),
        (
            "privatebase",
            "127.0.0.1:8000/privatebase",
            "127.0.0.1:8000/privatebase",
            "",
            "127.0.0.1:8000",
        ),
        (
            "private/moonbase",
            "example.com/private/moonbase",
            "example.com/private/moonbase",
            "",
            "example.com",
        ),
        (
            "privatebase",
            "example.com/privatebase",
            "example.com/privatebase",
            "",
            "example.com",
        ),
        (
            "private/moonbase",
            "example.com:8000/private/moonbase",
            "example.com:8000/private/moonbase",
            "",
            "example.com:8000",
        ),
        (
            "library/ubuntu-12.04-base",
            "ubuntu-12.04-base",
            "docker.io/library/ubuntu-12.04-base",
            "index.docker.io/library/ubuntu-12.04-base",
            "docker.io",
        ),
        (
            "library/foo",
            "foo",
            "docker.io/library/foo",
            "docker.io/foo",
            "docker.io",
        ),
        (
            "library/foo/bar",
            "library/foo/bar",
            "docker.io/library/foo/bar",
            "",
            "docker.io",
        ),
        (
            "store/foo/bar",
            "store/foo/bar",
            "docker.io/store/foo/bar",
            "",
            "docker.io",
        ),
        ("bar", "Foo/bar", "Foo/bar", "", "Foo"),
        ("bar", "FOO/bar", "FOO/bar", "", "FOO"),
    ];
    for (path, familiar, full, other, registry) in cases {
        for spelling in [familiar, full, other]
            .into_iter()
            .filter(|s| !s.is_empty())
        {
            let got = ImageRef::parse(spelling).unwrap();
            assert_eq!(got, r(registry, path, None, None), "{spelling:?}");
            assert_eq!(got.familiar(), familiar, "familiar form of {spelling:?}");
            assert_eq!(got.to_string(), full, "full form of {spelling:?}");
            assert_eq!(got.name(), full, "name of {spelling:?}");
        }
    }
}

/// `TestParseAnyReference`, `TestNormalizedSplitHostname` and
/// `TestParseReferenceWithTagAndDigest`: short and full forms.
#[test]
fn go_short_and_full_forms() {
    let dbcc = "sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c";
    let cases = [
        ("redis", "docker.io/library/redis".to_string()),
        ("redis:latest", "docker.io/library/redis:latest".into()),
        (
            "docker.io/library/redis:latest",
            "docker.io/library/redis:latest".into(),
        ),
        (
            &*format!("redis@{dbcc}"),
            format!("docker.io/library/redis@{dbcc}"),
        ),
        ("dmcgowan/myapp", "docker.io/dmcgowan/myapp".into()),
        (
            "dmcgowan/myapp:latest",
            "docker.io/dmcgowan/myapp:latest".into(),
        ),
        (
            &*format!("dmcgowan/myapp@{dbcc}"),
            format!("docker.io/dmcgowan/myapp@{dbcc}"),
        ),
        // 63 hex digits: not an ID.
        (
            "dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9",
            "docker.io/library/dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9"
                .into(),
        ),
        ("dbcc1", "docker.io/library/dbcc1".into()),
        ("test.com/foo", "test.com/foo".into()),
        ("test_com/foo", "docker.io/test_com/foo".into()),
        ("docker/migrator", "docker.io/docker/migrator".into()),
        ("test.com:8080/foo", "test.com:8080/foo".into()),
        ("test-com:8080/foo", "test-com:8080/foo".into()),
        ("xn--n3h.com:18080/foo", "xn--n3h.com:18080/foo".into()),
        (
            "docker.io/library/foo/bar",
            "docker.io/library/foo/bar".into(),
        ),
        (
            &*format!("busybox:latest@{SHA_B}"),
            format!("docker.io/library/busybox:latest@{SHA_B}"),
        ),
    ];
    for (input, full) in cases {
        let got: ImageRef = input.parse().unwrap();
        assert_eq!(got.to_string(), full, "{input:?}");
    }
    let both = ImageRef::parse(&format!("busybox:latest@{SHA_B}")).unwrap();
    assert_eq!(both.tag.as_deref(), Some("latest"));
    assert_eq!(both.digest.as_deref(), Some(SHA_B));
    assert_eq!(both.familiar(), format!("busybox:latest@{SHA_B}"));
    assert_eq!(
        ImageRef::parse("bitnami/kubectl:1.26").unwrap().familiar(),
        "bitnami/kubectl:1.26"
    );
    assert_eq!(
        ImageRef::parse("docker.io/library/nginx:1.25")
            .unwrap()
            .familiar(),
        "nginx:1.25"
    );
    assert_eq!(
        ImageRef::parse("quay.io/x/y:1").unwrap().familiar(),
        "quay.io/x/y:1"
    );
}

/// Where Go's familiar form would not parse back, the long form is kept.
#[test]
fn familiar_form_always_parses_back() {
    let hex = "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a";
    let cases = [
        (format!("docker.io/{hex}"), format!("library/{hex}")),
        (format!("docker.io/{hex}:v1"), format!("{hex}:v1")),
        ("docker.io/a.b/c".to_string(), "docker.io/a.b/c".to_string()),
        (
            "docker.io/localhost/c".into(),
            "docker.io/localhost/c".into(),
        ),
        (
            "docker.io/foo_bar.com/x:1".into(),
            "docker.io/foo_bar.com/x:1".into(),
        ),
        ("docker.io/library/a.b".into(), "a.b".into()),
    ];
    for (input, familiar) in cases {
        let got = ImageRef::parse(&input).unwrap();
        assert_eq!(got.familiar(), familiar, "{input:?}");
        assert_eq!(ImageRef::parse(&familiar).unwrap(), got, "{familiar:?}");
    }
}

#[test]
fn errors_carry_the_go_text_and_the_input() {
    let msg = |s: &str| ImageRef::parse(s).unwrap_err().to_string();
    let upper = msg("Nginx:1.25");
    assert!(
        upper.starts_with("invalid image reference \"Nginx:1.25\": "),
        "{upper}"
    );
    assert!(
        upper.contains(
            "invalid reference format: repository name (library/Nginx) must be lowercase"
        ),
        "{upper}"
    );
    assert!(
        msg("a b").contains(": invalid reference format;"),
        "{}",
        msg("a b")
    );
    assert!(
        msg(&format!("x@sha256:{}", "f".repeat(34))).contains("invalid checksum digest length")
    );
    assert!(msg(&"a".repeat(64)).contains("64-byte hexadecimal"));
    assert!(msg(&format!("e.com/{}", "a".repeat(256)))
        .contains("repository name must not be more than 255 characters"));
    assert_eq!(
        RefError::NameContainsUppercase.to_string(),
        "repository name must be lowercase"
    );
}

/// Every message echoes what it refuses, cut when long: a megabyte of input
/// gives a message of a few hundred bytes.
#[test]
fn errors_stay_short_for_long_inputs() {
    let huge = "x".repeat(1 << 20);
    let base = ImageRef::parse("busybox").unwrap();
    let messages = [
        ImageRef::parse(&format!("{huge}!")).unwrap_err(),
        ImageRef::parse(&format!("a/{}", huge.to_uppercase())).unwrap_err(),
        base.with_tag(&format!("-{huge}")).unwrap_err(),
        base.with_digest(&format!("sha256:{}", "f".repeat(1 << 20))).unwrap_err(),
        ImageRef::parse_loose("busybox:1", Some(&huge)).unwrap_err(),
        ImageRef::parse_loose(&format!("{}:1", "a".repeat(1000)), Some("2")).unwrap_err(),
        ImageRef::parse_loose("busybox", Some(&format!("1@{huge}"))).unwrap_err(),
    ]
    .map(|e| e.to_string());
    for m in &messages {
        assert!(m.len() < 1000, "{} bytes: {}", m.len(), &m[..300]);
        assert!(m.contains("bytes)"), "{m}");
    }
    assert!(messages[2].starts_with("invalid tag format \"-xxx"), "{}", messages[2]);
    assert!(messages[3].starts_with("invalid checksum digest length \"sha256:fff"), "{}", messages[3]);
    assert!(messages[4].starts_with("image repository \"busybox:1\" already has a tag or digest, and tag \"xxx"));
    assert!(messages[6].contains("(tag \"1@xxx"), "{}", messages[6]);
}

/// Go's `Parse` reports "must be lowercase" when only lowercasing would
/// help; normalisation catches those cases earlier, so this is checked on
/// the grammar itself.
#[test]
fn grammar_uppercase_and_empty() {
    assert_eq!(
        parse_grammar("Example.com/Foo").err(),
        Some(RefError::NameContainsUppercase)
    );
    assert_eq!(parse_grammar("").err(), Some(RefError::InvalidFormat));
    let p = parse_grammar("a/b:c").unwrap();
    assert_eq!(
        (p.domain, p.path, p.tag, p.digest),
        ("a", "b", Some("c"), None)
    );
}

#[test]
fn with_tag_and_with_digest_keep_the_other_part() {
    let base = ImageRef::parse("busybox").unwrap();
    let tagged = base.with_tag("1.36").unwrap();
    let both = tagged.with_digest(SHA_B).unwrap();
    assert_eq!(
        both.to_string(),
        format!("docker.io/library/busybox:1.36@{SHA_B}")
    );
    let retagged = both.with_tag("latest").unwrap();
    assert_eq!(
        retagged.to_string(),
        format!("docker.io/library/busybox:latest@{SHA_B}")
    );
    for bad_tag in ["-foo", "", ".x", "a:b", &"t".repeat(129)] {
        let e = base.with_tag(bad_tag).unwrap_err().to_string();
        assert!(e.starts_with("invalid tag format"), "{bad_tag:?}: {e}");
    }
    let cases = [
        ("foo", "invalid digest format"),
        ("sha256:abc", "invalid digest format"),
        (
            &*format!("sha256:{}", "a".repeat(63)),
            "invalid checksum digest length",
        ),
        (
            &*format!("sha256:{}", "A".repeat(64)),
            "invalid checksum digest format",
        ),
        (
            &*format!("md5x:{}", "a".repeat(64)),
            "unsupported digest algorithm",
        ),
    ];
    for (bad_digest, text) in cases {
        let e = base.with_digest(bad_digest).unwrap_err().to_string();
        assert!(e.starts_with(text), "{bad_digest:?}: {e}");
        assert!(e.contains("docker.io/library/busybox"), "{e}");
    }
    let sha512 = format!("sha512:{}", "0".repeat(128));
    assert_eq!(
        base.with_digest(&sha512).unwrap().digest.as_deref(),
        Some(&*sha512)
    );
}

#[test]
fn loose_values_join_repository_and_tag() {
    let loose =
        |repo: &str, tag: Option<&str>| ImageRef::parse_loose(repo, tag).map(|r| r.to_string());
    assert_eq!(
        loose("docker.io/bitnami/kubectl", Some("1.26")).unwrap(),
        "docker.io/bitnami/kubectl:1.26"
    );
    assert_eq!(
        loose("quay.io/jetstack/cert-manager-controller", None).unwrap(),
        "quay.io/jetstack/cert-manager-controller"
    );
    assert_eq!(
        loose("istio/proxyv2", Some("")).unwrap(),
        "docker.io/istio/proxyv2"
    );
    assert_eq!(
        loose("busybox:1.36", None).unwrap(),
        "docker.io/library/busybox:1.36"
    );
    assert_eq!(
        loose("busybox", Some(&format!("1.36@{SHA_B}"))).unwrap(),
        format!("docker.io/library/busybox:1.36@{SHA_B}")
    );
    assert_eq!(
        loose("busybox", Some(&format!("@{SHA_B}"))).unwrap(),
        format!("docker.io/library/busybox@{SHA_B}")
    );
    assert_eq!(
        loose("registry.local:5000/x", Some("v1")).unwrap(),
        "registry.local:5000/x:v1"
    );
    let e = loose("busybox:1.36", Some("1.37")).unwrap_err().to_string();
    assert!(e.contains("already has a tag or digest"), "{e}");
    let e = loose("busybox", Some("-bad")).unwrap_err().to_string();
    assert!(
        e.contains("invalid tag format") && e.contains("\"-bad\"") && e.contains("\"busybox\""),
        "{e}"
    );
    let e = loose("busybox", Some("1@sha256:abc"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("invalid digest format"), "{e}");
    assert!(loose("Bitnami", Some("1"))
        .unwrap_err()
        .to_string()
        .contains("must be lowercase"));
}

#[test]
fn keep_host_paths_are_valid_and_distinct() {
    let cases = [
        ("quay.io/x/y", "quay.io/x/y"),
        ("ghcr.io/x/y", "ghcr.io/x/y"),
        ("nginx", "docker.io/library/nginx"),
        ("host:5000/x", "host_5000/x"),
        ("LOCALDOMAIN/x", "localdomain/x"),
        ("xn--n3h.com:18080/foo", "xn--n3h.com_18080/foo"),
        ("[::1]:5000/repo", "ipv6_0.0.0.0.0.0.0.1_5000/repo"),
        ("[2001:DB8::1]/repo", "ipv6_2001.db8.0.0.0.0.0.1/repo"),
        (
            "[2001:db8::]:5000/repo:tag",
            "ipv6_2001.db8.0.0.0.0.0.0_5000/repo",
        ),
        ("[::]/r", "ipv6_0.0.0.0.0.0.0.0/r"),
        ("[ABC]/r", "ipv6_abc/r"),
        ("[:1:]:80/r", "ipv6_x.1.x_80/r"),
    ];
    let mut seen = std::collections::BTreeSet::new();
    for (input, path) in cases {
        let got = ImageRef::parse(input).unwrap().path_with_host();
        assert_eq!(got, path, "{input:?}");
        assert!(seen.insert(got.clone()), "{input:?} collides");
        let mirrored =
            ImageRef::parse(&format!("registry.example.com/deploykf/{got}")).unwrap();
        assert_eq!(mirrored.repository, format!("deploykf/{path}"));
    }
}

/// The fuzz target's checks over a fixed corpus: the tables above plus
/// inputs chosen to stress the grammar's corners.
#[test]
fn fuzz_roundtrip_fixed_corpus() {
    let long_path = format!("e.com/{}", "a".repeat(255));
    let corpus = [
        "", "nginx", "nginx:1.25", "bitnami/kubectl:1.26", "docker.io/library/nginx",
        "index.docker.io/nginx", "localhost/x", "localhost:5000/x:y", "Foo/bar", "FOO/bar:T",
        "docker.io/a.b/c", "docker.io/localhost/x", "a.b/c", "host:5000/x",
        "[::1]:5000/repo@sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "[2001:db8::1]/repo:tag", "[:]/r", "192.168.1.1", "192.168.1.1:5000", "foo_bar.com:8080",
        "foo_bar.com/x", "a___b", "a__b/c--d", "x:-", "x:_", "@", ":", "/", "//", "a//b",
        "docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
        "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
        "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a:x",
        "x@sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "x@sha512:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "x@a+b.c_d-e:ffffffffffffffffffffffffffffffff", "İ/x", "x:tägg", "é", "\u{0}", "a/B", "A:b",
        &long_path,
        "busybox\n1.36", "busybox\n", "busybox:1\n2", "quay.io/x\n-bad", "Foo/bar\n@sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "busybox\n1.36@sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    ];
    for input in corpus {
        fuzz_roundtrip(input.as_bytes());
    }
    fuzz_roundtrip(&[0xff, 0xfe, b'a']);
    // Keep-host path over the limit: the check expects the length error.
    let over = format!("{}/{}", "h.".repeat(20) + "io", "a".repeat(250));
    fuzz_roundtrip(over.as_bytes());
    assert!(ImageRef::parse(&over).unwrap().path_with_host().len() > NAME_TOTAL_LENGTH_MAX);
}

/// The fuzz target's assertions do fire: a reference whose printed forms
/// parse to something else is caught.
#[test]
#[should_panic(expected = "parses to another reference")]
fn fuzz_roundtrip_detects_a_broken_reference() {
    // A hand-built value outside the invariants stands in for a bug.
    assert_roundtrips("hand-built", r("docker.io", "a.b", None, None));
}
