//! `deploykf-cmp bundle push`, `inspect` and `verify` on bundles written by
//! the test (tests/support/bundle.rs), pushed into a TLS + htpasswd
//! `docker-registry`: digests equal under `skopeo inspect --raw`, a second
//! push uploads nothing, split parts push without being joined, a delta whose
//! base is missing fails listing the digests before pushing anything (and
//! pushes once the base is there), a flipped byte is found by `verify` and
//! refused by `push`; and a delta written by `bundle create --since` pushes
//! onto the registry holding its base (a blob of a new repository mounted
//! from another, a manifest of the base tagged anew) and `--write-lock`
//! writes the lock `mirror --write-lock` writes; a `--platform` bundle pushes the reduced index `mirror
//! --platform` pushes; a bundle missing its last part or no tar at all is
//! refused naming the file. Skipped (with a message) when docker-registry,
//! htpasswd, openssl or skopeo are missing.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::bundle::{blob_offset, split, TestBundle, TestImage};
use support::images::{digest, random_layer, Pusher};
use support::registry::{write_docker_config, RegistryOptions, TestRegistry};
use support::tools;

const USER: &str = "bundle-bot";
const PASSWORD: &str = "Bundle-Pa55-plugh";

struct Site {
    registry: TestRegistry,
    dir: tempfile::TempDir,
    skopeo: PathBuf,
}

fn start() -> Option<Site> {
    let skopeo = tools::skopeo()?;
    let registry = TestRegistry::start(RegistryOptions::plain().tls().auth(USER, PASSWORD))?;
    let dir = tempfile::tempdir().unwrap();
    write_docker_config(&dir.path().join("auth.json"), &registry.host(), USER, PASSWORD);
    let rules = format!("mirror:\n  images:\n    registry: {}/mirror\n", registry.host());
    fs::write(dir.path().join("mirror.yaml"), rules).unwrap();
    Some(Site { registry, dir, skopeo })
}

impl Site {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `bundle push FILE --mirror … --authfile …` plus `extra`.
    fn push(&self, file: &Path, extra: &[&str]) -> (Output, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_deploykf-cmp"))
            .args(["bundle", "push"])
            .arg(file)
            .arg("--mirror")
            .arg(self.path("mirror.yaml"))
            .arg("--authfile")
            .arg(self.path("auth.json"))
            .args(extra)
            .env("SSL_CERT_FILE", self.registry.ca_pem_path().unwrap())
            .env_remove("REGISTRY_AUTH_FILE")
            .env_remove("DEPLOYKF_CMP_MIRROR_CONFIG")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        (out, stderr)
    }

    /// The lock `mirror --write-lock` writes for the images of `list` (in the
    /// site's folder), copied from the plain-HTTP registry `source` under the
    /// site's rules.
    fn mirror_lock(&self, source: &str, list: &str) -> String {
        let lock = self.path("mirror.lock");
        let out = Command::new(env!("CARGO_BIN_EXE_deploykf-cmp"))
            .args(["mirror", "--insecure-registry", source, "--images-file"])
            .arg(self.path(list))
            .arg("--mirror")
            .arg(self.path("mirror.yaml"))
            .arg("--authfile")
            .arg(self.path("auth.json"))
            .arg("--write-lock")
            .arg(&lock)
            .env("SSL_CERT_FILE", self.registry.ca_pem_path().unwrap())
            .env_remove("REGISTRY_AUTH_FILE")
            .env_remove("DEPLOYKF_CMP_MIRROR_CONFIG")
            .output()
            .unwrap();
        assert!(out.status.success(), "mirror --write-lock: {}", String::from_utf8_lossy(&out.stderr));
        fs::read_to_string(lock).unwrap()
    }

    /// `skopeo inspect --raw` of `reference` in the registry; `None` when absent.
    fn raw(&self, reference: &str) -> Option<Vec<u8>> {
        let out = Command::new(&self.skopeo)
            .args(["inspect", "--raw", "--cert-dir"])
            .arg(self.registry.cert_dir().unwrap())
            .args(["--creds", &format!("{USER}:{PASSWORD}")])
            .arg(format!("docker://{}/{reference}", self.registry.host()))
            .env("REGISTRY_AUTH_FILE", self.path("none.json"))
            .output()
            .unwrap();
        out.status.success().then_some(out.stdout)
    }

    /// The mirror path of a source reference `host/repo:tag`.
    fn target(&self, image: &TestImage) -> String {
        format!("mirror/{}", image.name)
    }

    fn has_blob(&self, repo: &str, digest: &str) -> bool {
        let ca = reqwest::Certificate::from_pem(&fs::read(self.registry.ca_pem_path().unwrap()).unwrap()).unwrap();
        let http = reqwest::blocking::Client::builder().add_root_certificate(ca).no_proxy().build().unwrap();
        let url = format!("https://{}/v2/{repo}/blobs/{digest}", self.registry.host());
        http.head(url).basic_auth(USER, Some(PASSWORD)).send().unwrap().status().is_success()
    }
}

fn run(args: &[&str], file: &Path) -> (Output, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_deploykf-cmp")).args(args).arg(file).output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout).to_string(), String::from_utf8_lossy(&out.stderr).to_string());
    (out, stdout, stderr)
}

/// A deployKF-like bundle: three images sharing base layers (one of them an
/// index over two platforms) and a generator zip.
fn three_images(seed: u64) -> (TestBundle, Vec<TestImage>, Vec<u8>) {
    let mut bundle = TestBundle::default();
    let base = random_layer(seed, 300 * 1024);
    let own: Vec<Vec<u8>> = (0..3).map(|i| random_layer(seed + 10 + i, 64 * 1024)).collect();
    let images = vec![
        bundle.image("quay.io/deploykf/app-a:1.0", &[&base, &own[0]], &["amd64"], seed + 20),
        bundle.image("docker.io/library/app-b:2.0", &[&base, &own[1]], &["amd64", "arm64"], seed + 30),
        bundle.image("ghcr.io/deploykf/app-c:3.0", &[&own[2]], &["amd64"], seed + 40),
    ];
    let zip = random_layer(seed + 50, 20 * 1024);
    bundle.generator("0.1.5", &zip);
    (bundle, images, zip)
}

/// The pushed image's top manifest and each child has the bundle's digest.
fn assert_pushed(site: &Site, image: &TestImage) {
    let top = site.raw(&site.target(image)).unwrap_or_else(|| panic!("{} is not in the registry", image.name));
    assert_eq!(digest(&top), image.digest, "{} keeps its digest", image.name);
    let repo = site.target(image);
    let repo = repo.rsplit_once(':').unwrap().0;
    for child in &image.children {
        let bytes = site.raw(&format!("{repo}@{child}")).unwrap_or_else(|| panic!("{repo}@{child} is missing"));
        assert_eq!(&digest(&bytes), child);
    }
}

#[test]
fn push_keeps_digests_and_a_second_push_uploads_nothing() {
    let Some(site) = start() else { return };
    let (bundle, images, zip) = three_images(1);
    let file = site.path("b.tar");
    bundle.write(&file);
    let (out, stderr) = site.push(&file, &["--dry-run"]);
    assert!(out.status.success(), "{stderr}");
    let plan = String::from_utf8_lossy(&out.stdout);
    let host = site.registry.host();
    assert!(plan.contains(&format!("docker.io/library/app-b:2.0 -> {host}/mirror/docker.io/library/app-b:2.0\n")), "{plan}");
    assert!(site.raw(&site.target(&images[1])).is_none(), "a dry run pushes nothing");
    let written = site.path("mirror-out.yaml");
    let generators = site.path("gen");
    let (out, stderr) = site.push(&file, &["--jobs", "3", "--write-mirror", written.to_str().unwrap(), "--extract-generator", generators.to_str().unwrap()]);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("3 pushed, 0 already present, 0 failed"), "{stderr}");
    assert!(!stderr.contains(" 0 mounted"), "shared blobs are mounted, not uploaded twice:\n{stderr}");
    for image in &images {
        assert_pushed(&site, image);
    }
    assert_eq!(fs::read(generators.join("deploykf-0.1.5-generator.zip")).unwrap(), zip);
    let config = fs::read_to_string(&written).unwrap();
    assert!(config.contains(&format!("registry: {host}/mirror")), "{config}");
    assert!(config.contains(&format!("{{from: docker.io/library/app-b, to: {host}/mirror/docker.io/library/app-b}}")), "{config}");

    let (out, stderr) = site.push(&file, &[]);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("0 pushed, 3 already present, 0 failed; manifests pushed: 0; blobs: 0 uploaded"), "{stderr}");
}

#[test]
fn split_parts_push_without_being_joined() {
    let Some(site) = start() else { return };
    let (bundle, images, _) = three_images(2);
    let file = site.path("split.tar");
    bundle.write(&file);
    let parts = split(&file, 200 * 1024);
    assert!(parts.len() >= 3, "{parts:?}");
    let (out, stderr) = site.push(&parts[0], &[]);
    assert!(out.status.success(), "{stderr}");
    assert!(!file.exists(), "the parts were not joined on disk");
    for image in &images {
        assert_pushed(&site, image);
    }
    // FILE.sha256 as bundle create writes it: the whole tar, then each part.
    let whole: Vec<u8> = parts.iter().flat_map(|p| fs::read(p).unwrap()).collect();
    let name = |p: &Path| p.file_name().unwrap().to_string_lossy().into_owned();
    let mut sums = format!("{}  {}\n", digest(&whole).trim_start_matches("sha256:"), name(&file));
    for p in &parts {
        sums += &format!("{}  {}\n", digest(&fs::read(p).unwrap()).trim_start_matches("sha256:"), name(p));
    }
    let sums_file = site.path("split.tar.sha256");
    fs::write(&sums_file, &sums).unwrap();
    let (out, stdout, stderr) = run(&["bundle", "verify"], &file);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("OK: ") && stdout.contains("the .sha256 file matches"), "{stdout}");
    let wrong = sums.replacen(&digest(&fs::read(&parts[1]).unwrap())[7..], &"0".repeat(64), 1);
    fs::write(&sums_file, wrong).unwrap();
    let (out, _, stderr) = run(&["bundle", "verify"], &file);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&format!("split.tar.sha256:3: {} has sha256", name(&parts[1]))), "{stderr}");
}

#[test]
fn a_delta_missing_its_base_fails_listing_the_digests_then_pushes_onto_the_base() {
    let Some(site) = start() else { return };
    let base_layer = random_layer(7, 200 * 1024);
    let new_layer = random_layer(8, 50 * 1024);
    // The old bundle: the image's first version.
    let mut old = TestBundle::default();
    old.image("quay.io/deploykf/app:1.0", &[&base_layer], &["amd64"], 70);
    old.generator("0.1.4", b"old generator");
    // The delta: the second version, its base layer left out.
    let mut delta = TestBundle::default();
    let image = delta.image("quay.io/deploykf/app:2.0", &[&base_layer, &new_layer], &["amd64"], 80);
    delta.generator("0.1.5", b"new generator");
    let base_digest = digest(&base_layer);
    delta.omit(&base_digest);
    let (old_file, delta_file) = (site.path("old.tar"), site.path("delta.tar"));
    old.write(&old_file);
    delta.write(&delta_file);

    let (out, stderr) = site.push(&delta_file, &[]);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("missing in the target registry") && stderr.contains(&format!("blob {base_digest} (of quay.io/deploykf/app:2.0")), "{stderr}");
    assert!(site.raw(&site.target(&image)).is_none(), "nothing was pushed");
    assert!(!site.has_blob("mirror/quay.io/deploykf/app", &digest(&new_layer)), "no blob was pushed before the check");

    let (out, stderr) = site.push(&old_file, &[]);
    assert!(out.status.success(), "{stderr}");
    let (out, stderr) = site.push(&delta_file, &[]);
    assert!(out.status.success(), "{stderr}");
    assert_pushed(&site, &image);
}

#[test]
fn verify_finds_a_flipped_byte_and_push_refuses_the_blob() {
    let Some(site) = start() else { return };
    let (mut bundle, mut images, _) = three_images(3);
    // A layer over 1 MiB too: those stream into the upload, smaller ones go up whole.
    let big = random_layer(99, 1536 << 10);
    images.push(bundle.image("ghcr.io/deploykf/app-d:4.0", &[&big], &["amd64"], 90));
    let file = site.path("flip.tar");
    let pristine = bundle.write(&file);
    let (out, stdout, stderr) = run(&["bundle", "verify"], &file);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("OK: ") && stdout.contains("0 external"), "{stdout}");

    // One byte flipped in a small layer (of app-c) and one in the big one (of app-d).
    let mut bytes = pristine;
    let flipped = [(&images[2], &images[2].layers[0]), (&images[3], &images[3].layers[0])];
    for (_, layer) in flipped {
        let at = blob_offset(&bytes, layer) + 1000;
        bytes[at] ^= 0x01;
    }
    fs::write(&file, &bytes).unwrap();
    let (out, _, verified) = run(&["bundle", "verify"], &file);
    assert_eq!(out.status.code(), Some(1), "{verified}");
    let (out, pushed) = site.push(&file, &[]);
    assert!(!out.status.success(), "{pushed}");
    assert!(pushed.contains("2 failed"), "{pushed}");
    for (image, layer) in flipped {
        let hex = layer.trim_start_matches("sha256:");
        assert!(verified.contains(&format!("blobs/sha256/{hex}: its")) && verified.contains("corrupt"), "{verified}");
        assert!(pushed.contains(&format!("{}: blob {layer}", file.display())) && pushed.contains("the bundle is corrupt"), "{pushed}");
        let repo = site.target(image);
        assert!(!site.has_blob(repo.rsplit_once(':').unwrap().0, layer), "the corrupt blob was not committed");
        assert!(site.raw(&repo).is_none(), "its image was not pushed");
    }
    assert_pushed(&site, &images[0]);
}

#[test]
fn inspect_lists_images_platforms_and_generators() {
    let dir = tempfile::tempdir().unwrap();
    let (bundle, images, _) = three_images(4);
    let file = dir.path().join("i.tar");
    bundle.write(&file);
    let (out, stdout, stderr) = run(&["bundle", "inspect", "--output", "json"], &file);
    assert!(out.status.success(), "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let names: Vec<&str> = report["images"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert_eq!(names, images.iter().map(|i| i.name.as_str()).collect::<Vec<_>>());
    assert_eq!(report["images"][1]["platforms"], serde_json::json!(["linux/amd64", "linux/arm64"]));
    assert_eq!(report["images"][1]["digest"], images[1].digest.as_str());
    assert!(report["images"][0]["storedBytes"].as_u64().unwrap() > 300 * 1024);
    assert_eq!(report["generators"][0]["name"], "0.1.5");
    let (out, stdout, _) = run(&["bundle", "inspect"], &file);
    assert!(out.status.success());
    assert!(stdout.contains("docker.io/library/app-b:2.0") && stdout.contains("[linux/amd64, linux/arm64]"), "{stdout}");

    let (out, _, stderr) = run(&["bundle", "inspect"], &dir.path().join("absent.tar"));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("absent.tar: no such bundle"), "{stderr}");
}

/// `bundle create` (the real writer) of an old and a new set from a source
/// registry; the new one a delta `--since` the old bundle.
#[test]
fn a_delta_of_bundle_create_pushes_onto_the_registry_holding_its_base() {
    let Some(site) = start() else { return };
    let Some(source) = TestRegistry::start(RegistryOptions::plain()) else { return };
    let pusher = Pusher::new(&source.host(), None);
    let base = random_layer(11, 256 << 10);
    let host = source.host();
    let app1 = pusher.push_image("deploykf/app", "1.0", &[&base, &random_layer(12, 32 << 10)], ("linux", "amd64"), false);
    // The same manifest under a new tag: the delta stores nothing of it.
    assert_eq!(pusher.push_image("deploykf/app", "1.0-lts", &[&base, &random_layer(12, 32 << 10)], ("linux", "amd64"), false), app1);
    let multi = pusher.push_multi_arch("deploykf/multi", "1.0", &[&base], 13);
    let app2 = pusher.push_image("deploykf/app", "2.0", &[&base, &random_layer(14, 32 << 10)], ("linux", "amd64"), false);
    let other = pusher.push_image("deploykf/other", "2.0", &[&base], ("linux", "amd64"), true);
    let create = |name: &str, images: &[&str], extra: &[&str]| {
        let list = site.path(&format!("{name}.txt"));
        fs::write(&list, images.iter().map(|i| format!("{host}/{i}\n")).collect::<String>()).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_deploykf-cmp"))
            .args(["bundle", "create", "--insecure-registry", &host, "--images-file"])
            .arg(&list)
            .arg("--output")
            .arg(site.path(name))
            .args(extra)
            .arg("--authfile")
            .arg(site.path("auth.json"))
            .output()
            .unwrap();
        assert!(out.status.success(), "bundle create {name}: {}", String::from_utf8_lossy(&out.stderr));
        site.path(name)
    };
    let old = create("old.tar", &["deploykf/app:1.0", "deploykf/multi:1.0"], &[]);
    let old_arg = old.display().to_string();
    let delta = create("delta.tar", &["deploykf/app:1.0-lts", "deploykf/app:2.0", "deploykf/multi:1.0", "deploykf/other:2.0"], &["--since", &old_arg]);

    for file in [&old, &delta] {
        let (out, stdout, stderr) = run(&["bundle", "verify"], file);
        assert!(out.status.success(), "{stdout}{stderr}");
    }
    let (out, stdout, stderr) = run(&["bundle", "inspect", "--output", "json"], &delta);
    assert!(out.status.success(), "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let in_base: Vec<&str> =
        report["images"].as_array().unwrap().iter().filter(|i| i["inBase"] == true).map(|i| i["name"].as_str().unwrap()).collect();
    assert_eq!(in_base, [format!("{host}/deploykf/app:1.0-lts"), format!("{host}/deploykf/multi:1.0")], "{stdout}");
    let (out, stderr) = site.push(&delta, &[]);
    assert!(!out.status.success(), "the base is not in the registry yet: {stderr}");
    assert!(stderr.contains(&format!("blob {} (of {host}/deploykf/other:2.0", digest(&base))), "{stderr}");
    assert!(stderr.contains(&format!("manifest {app1} (of {host}/deploykf/app:1.0-lts")), "{stderr}");
    assert!(site.raw(&format!("mirror/{}/deploykf/app:2.0", host.replace(':', "_"))).is_none(), "nothing pushed");
    let (out, stderr) = site.push(&old, &[]);
    assert!(out.status.success(), "{stderr}");
    let lock = site.path("bundle.lock");
    let (out, stderr) = site.push(&delta, &["--write-lock", lock.to_str().unwrap()]);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("3 pushed, 1 already present"), "{stderr}");
    let lock_text = fs::read_to_string(&lock).unwrap();
    let lock: serde_json::Value = serde_json::from_str(&lock_text).unwrap();
    for (name, want) in [("app:1.0-lts", &app1), ("app:2.0", &app2), ("multi:1.0", &multi), ("other:2.0", &other)] {
        // The rules write the source's host:port as host_port in the path.
        let target = format!("mirror/{}/deploykf/{name}", host.replace(':', "_"));
        let raw = site.raw(&target).unwrap_or_else(|| panic!("{name} is missing:\n{stderr}"));
        assert_eq!(&digest(&raw), want, "{name}");
        let entry = &lock["images"][format!("{host}/deploykf/{name}")];
        assert_eq!(entry["digest"], want.as_str(), "{name}: {lock}");
        assert_eq!(entry["mirrored"], format!("{}/{target}", site.registry.host()).as_str(), "{name}: {lock}");
    }
    assert_eq!(lock["images"].as_object().unwrap().len(), 4, "{lock}");
    assert_eq!(site.mirror_lock(&host, "delta.tar.txt"), lock_text, "the lock mirror --write-lock writes");
}

/// `bundle create --platform` keeps the index and declares the other
/// platforms external; the push drops them from the index, the same index
/// `mirror --platform` pushes.
#[test]
fn a_platform_filtered_bundle_pushes_the_index_mirror_would() {
    let Some(site) = start() else { return };
    let Some(source) = TestRegistry::start(RegistryOptions::plain()) else { return };
    let host = source.host();
    let multi = Pusher::new(&host, None).push_multi_arch("deploykf/multi", "1.0", &[&random_layer(21, 64 << 10)], 22);
    fs::write(site.path("multi.txt"), format!("{host}/deploykf/multi:1.0\n")).unwrap();
    let file = site.path("amd64.tar");
    let out = Command::new(env!("CARGO_BIN_EXE_deploykf-cmp"))
        .args(["bundle", "create", "--platform", "linux/amd64", "--insecure-registry", &host, "--images-file"])
        .arg(site.path("multi.txt"))
        .arg("--output")
        .arg(&file)
        .arg("--authfile")
        .arg(site.path("auth.json"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lock = site.path("amd64.lock");
    let (out, stderr) = site.push(&file, &["--write-lock", lock.to_str().unwrap()]);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("platform linux/arm64 is not in the bundle"), "{stderr}");
    let pushed = site.raw(&format!("mirror/{}/deploykf/multi:1.0", host.replace(':', "_"))).unwrap();
    assert_ne!(digest(&pushed), multi, "a reduced index has a digest of its own");
    let lock: serde_json::Value = serde_json::from_slice(&fs::read(lock).unwrap()).unwrap();
    assert_eq!(lock["images"][format!("{host}/deploykf/multi:1.0")]["digest"], digest(&pushed).as_str(), "the lock names the index pushed");

    // A delta of the same platform since that bundle stores nothing of the
    // image; its push finds the reduced index the base's push left.
    let delta = site.path("amd64-delta.tar");
    let out = Command::new(env!("CARGO_BIN_EXE_deploykf-cmp"))
        .args(["bundle", "create", "--platform", "linux/amd64", "--insecure-registry", &host, "--images-file"])
        .arg(site.path("multi.txt"))
        .arg("--output")
        .arg(&delta)
        .arg("--since")
        .arg(&file)
        .arg("--authfile")
        .arg(site.path("auth.json"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (out, stderr) = site.push(&delta, &["--write-lock", site.path("delta.lock").to_str().unwrap()]);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("0 pushed, 1 already present") && stderr.contains("as the index of platforms linux/amd64"), "{stderr}");
    assert_eq!(fs::read(site.path("delta.lock")).unwrap(), fs::read(site.path("amd64.lock")).unwrap());
    let index: serde_json::Value = serde_json::from_slice(&pushed).unwrap();
    let arches: Vec<&str> = index["manifests"].as_array().unwrap().iter().map(|m| m["platform"]["architecture"].as_str().unwrap()).collect();
    assert_eq!(arches, ["amd64"]);

    fs::write(site.path("via-mirror.txt"), format!("{host}/deploykf/multi:1.0={}/via-mirror/multi:1.0\n", site.registry.host())).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_deploykf-cmp"))
        .args(["mirror", "--platform", "linux/amd64", "--insecure-registry", &host, "--images-file"])
        .arg(site.path("via-mirror.txt"))
        .arg("--authfile")
        .arg(site.path("auth.json"))
        .env("SSL_CERT_FILE", site.registry.ca_pem_path().unwrap())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(site.raw("via-mirror/multi:1.0").unwrap(), pushed, "bundle push and mirror --platform push the same index");
}

#[test]
fn broken_bundles_are_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (bundle, _, _) = three_images(5);
    let file = dir.path().join("cut.tar");
    bundle.write(&file);
    let mut parts = split(&file, 100 * 1024);
    fs::remove_file(parts.pop().unwrap()).unwrap();
    for command in ["verify", "inspect"] {
        let (out, stdout, stderr) = run(&["bundle", command], &parts[0]);
        assert_eq!(out.status.code(), Some(1), "{command}: {stdout}{stderr}");
        assert!(stdout.is_empty(), "{command} prints nothing on failure: {stdout}");
        assert!(stderr.contains(&format!("{}: ", file.display())) && stderr.contains("truncated"), "{command}: {stderr}");
    }

    let junk = dir.path().join("junk.tar");
    fs::write(&junk, b"not a tar at all, just text\n".repeat(40)).unwrap();
    let (out, _, stderr) = run(&["bundle", "verify"], &junk);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&format!("{}: not a bundle", junk.display())), "{stderr}");

    let out = Command::new(env!("CARGO_BIN_EXE_deploykf-cmp"))
        .args(["bundle", "push"])
        .arg(&junk)
        .env_remove("DEPLOYKF_CMP_MIRROR_CONFIG")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("give --mirror FILE"), "{}", String::from_utf8_lossy(&out.stderr));
}
