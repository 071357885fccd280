//! Digest pinning end to end, on deployKF 0.1.5 with its sample values:
//!
//! - `deploykf-cmp images --output list` gives the inventory (the upstream
//!   charts served by a plain test registry); each image is synthesised in
//!   that registry under `<host>/<path>` (some as multi-arch indexes);
//! - `deploykf-cmp mirror --write-lock` copies them, through
//!   `mirror.images.sources` aliases, into a TLS + htpasswd registry and writes
//!   the lock (twice: the same bytes);
//! - the whole app-of-apps is unfolded through `argocd-cmp-harness` with a
//!   values file whose `mirror.images.lock` names the lock (a path relative to
//!   the repository root): every image reference of the output is
//!   `repo:tag@sha256:…`, and each digest is the one `skopeo inspect --raw`
//!   reads from the registry (`deploykf-cmp generate` with the same values
//!   pins its output folder too, and gives the charts' mirror paths).
//!
//! The refusal of an image missing from the lock is checked in
//! `tests/plugin_mirror.rs` on a small generator.

mod common;
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{bin, shared, Run};
use regex::Regex;
use support::harness::{point_charts_at, Tree, CHARTS, REPO_URL};
use support::images::{digest, random_layer, Pusher};
use support::registry::{write_docker_config, RegistryOptions, TestRegistry};

const USER: &str = "deploykf";
const PASSWORD: &str = "s3cret-Pinning-pass";

/// Every `<prefix>` reference with a tag in `text`, and what follows its tag
/// (`Some(digest)` when pinned).
fn references(text: &str, prefix: &str) -> Vec<(String, Option<String>)> {
    let re = Regex::new(&format!(r"{}[a-z0-9._/-]+:[A-Za-z0-9_][A-Za-z0-9_.-]*(@sha256:[0-9a-f]{{64}})?", regex::escape(prefix))).unwrap();
    re.find_iter(text)
        .map(|m| match m.as_str().split_once('@') {
            Some((name, d)) => (name.to_string(), Some(d.to_string())),
            None => (m.as_str().to_string(), None),
        })
        .collect()
}

#[test]
fn a_pinned_render_of_deploykf_holds_the_registrys_digests() {
    let Some(shared) = shared() else {
        eprintln!("SKIPPED: ../shared (fixtures, argocd-cmp-harness) is absent");
        return;
    };
    let (Some(helm), Some(kubectl), Some(skopeo)) = (support::tools::helm(), support::tools::kubectl(), support::tools::skopeo())
    else {
        return;
    };
    let Some(source) = TestRegistry::start(RegistryOptions::plain().helm()) else { return };
    let Some(target) = TestRegistry::start(RegistryOptions::default().tls().auth(USER, PASSWORD).helm()) else { return };
    let (source_host, host) = (source.host(), target.host());
    let tree = Tree::new(&shared);
    let repo = tree.repo();

    // The inventory, with the upstream charts in the source registry.
    for (_, _, tgz) in CHARTS {
        source.push_chart(&tree.charts().join(tgz), "charts");
    }
    let mut chart_values = serde_json::json!({});
    point_charts_at(&mut chart_values, &source_host);
    fs::write(tree.path("chart-values.yaml"), chart_values.to_string()).unwrap();
    let sample: Vec<PathBuf> = Tree::sample_values().iter().map(|n| repo.join(n)).collect();
    let home = tree.path("home");
    fs::create_dir_all(&home).unwrap();
    let list: Run = Command::new(bin())
        .args(["images", "--output", "list", "--source-path"])
        .arg(&tree.zip)
        .args(sample.iter().chain([&tree.path("chart-values.yaml")]).flat_map(|v| [Path::new("-f"), v]))
        .env("HOME", &home)
        .env("DEPLOYKF_CMP_HELM", &helm)
        .env("DEPLOYKF_CMP_KUBECTL", &kubectl)
        .env("DEPLOYKF_CMP_INSECURE_REGISTRIES", &source_host)
        .env_remove("DEPLOYKF_CMP_KUSTOMIZE")
        .env_remove("DEPLOYKF_CMP_MIRROR_CONFIG")
        .env_remove("DEPLOYKF_CMP_CACHE_DIR")
        .env_remove("XDG_CACHE_HOME")
        .output()
        .unwrap()
        .into();
    list.assert_ok();
    let images: Vec<&str> = list.stdout.lines().collect();
    assert!(images.len() >= 40, "{}", list.stdout);

    // Each image synthesised in the source registry under `<host>/<path>`.
    let pusher = Pusher::new(&source_host, None);
    let base = random_layer(1, 64 << 10);
    let mut hosts = BTreeSet::new();
    for (i, image) in images.iter().enumerate() {
        assert!(!image.contains('@'), "a synthetic image cannot have a given digest: {image}");
        let (name, tag) = image.rsplit_once(':').unwrap();
        hosts.insert(name.split('/').next().unwrap().to_string());
        if i % 7 == 0 {
            pusher.push_multi_arch(name, tag, &[&base], 100 + i as u64);
        } else {
            let own = random_layer(1000 + i as u64, 16 << 10);
            pusher.push_image(name, tag, &[&base, &own], ("linux", "amd64"), i % 3 == 1);
        }
    }

    // `mirror --write-lock`: pulled through aliases, pushed where the rules send the upstream names.
    let sources: String = hosts.iter().map(|h| format!("      - {{from: \"{h}\", pullFrom: \"{source_host}/{h}\"}}\n")).collect();
    let copy_config = tree.path("mirror-copy.yaml");
    fs::write(&copy_config, format!("mirror:\n  images:\n    registry: {host}/deploykf\n    sources:\n{sources}")).unwrap();
    fs::write(tree.path("images.txt"), &list.stdout).unwrap();
    let auth = tree.path("auth.json");
    write_docker_config(&auth, &host, USER, PASSWORD);
    let mirror = |lock: &Path| -> Run {
        Command::new(bin())
            .args(["mirror", "--images-file"])
            .arg(tree.path("images.txt"))
            .arg("--mirror")
            .arg(&copy_config)
            .arg("--authfile")
            .arg(&auth)
            .args(["--insecure-registry", &source_host, "--write-lock"])
            .arg(lock)
            .env("SSL_CERT_FILE", target.ca_pem_path().unwrap())
            .env("HOME", &home)
            .output()
            .unwrap()
            .into()
    };
    let lock_path = repo.join("images.lock");
    let run = mirror(&lock_path);
    run.assert_ok();
    assert!(!run.stderr.contains(PASSWORD), "{}", run.stderr);
    assert!(run.stderr.contains(&format!("wrote the digests of {} images to the lock file", images.len())), "{}", run.stderr);
    let lock_text = fs::read_to_string(&lock_path).unwrap();
    let again = tree.path("again.lock");
    mirror(&again).assert_ok();
    assert_eq!(fs::read_to_string(&again).unwrap(), lock_text, "the lock of the same copies is the same bytes");
    let lock: serde_json::Value = serde_json::from_str(&lock_text).unwrap();
    assert_eq!(lock["version"], 1);
    let entries = lock["images"].as_object().unwrap();
    let keys: Vec<&str> = entries.keys().map(String::as_str).collect();
    assert_eq!(keys, images, "one entry per source reference, sorted");
    let positions: Vec<usize> = keys.iter().map(|k| lock_text.find(&format!("\"{k}\"")).unwrap()).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "the file's keys are sorted");
    let locked: BTreeMap<String, String> = entries
        .values()
        .map(|e| (e["mirrored"].as_str().unwrap().to_string(), e["digest"].as_str().unwrap().to_string()))
        .collect();

    // The render's mirror (values file in the repository), the lock next to it.
    let repo_values = serde_json::json!({"argocd": {"source": {"repo": {"url": REPO_URL, "revision": "main", "path": "."}}}});
    fs::write(repo.join("repo-values.yaml"), repo_values.to_string()).unwrap();
    let mirror_values = format!(
        "mirror:\n  images:\n    registry: {host}/deploykf\n    lock: images.lock\n  charts:\n    repository: oci://{host}/deploykf/charts\n"
    );
    fs::write(repo.join("mirror-values.yaml"), mirror_values).unwrap();

    // `generate` pins too (the lock read from the working directory); its
    // chart dependencies say where the mirror's charts go.
    let cli_out = tree.path("cli-out");
    let cli: Run = {
        let mut cmd = Command::new(bin());
        cmd.args(["generate", "--source-path"]).arg(&tree.zip);
        for v in Tree::sample_values().iter().map(String::as_str).chain(["repo-values.yaml", "mirror-values.yaml"]) {
            cmd.args(["-f", v]);
        }
        cmd.arg("-O")
            .arg(&cli_out)
            .current_dir(&repo)
            .env("HOME", &home)
            .env_remove("DEPLOYKF_CMP_MIRROR_CONFIG")
            .env_remove("DEPLOYKF_CMP_MIRROR_ENFORCE");
        cmd.output().unwrap().into()
    };
    cli.assert_ok();
    let deps = Regex::new(r#"(?m)^\s*-?\s*name: "?([a-z0-9-]+)"?\s*\n\s*version: "?([^"\s]+)"?\s*\n\s*repository: "?oci://([^"\s]+)"?"#).unwrap();
    let mut pushed = BTreeSet::new();
    for entry in walkdir(&cli_out) {
        if entry.file_name().is_some_and(|n| n == "Chart.yaml") {
            let text = fs::read_to_string(&entry).unwrap();
            for c in deps.captures_iter(&text) {
                let path = c[3].strip_prefix(&format!("{host}/")).unwrap_or_else(|| panic!("{} from {}", &c[1], &c[3]));
                let tgz = ["", "v"].iter().map(|v| tree.charts().join(format!("{}-{v}{}.tgz", &c[1], c[2].trim_start_matches('v')))).find(|p| p.is_file());
                if pushed.insert(format!("{path}/{}", &c[1])) {
                    target.push_chart(&tgz.unwrap(), path);
                }
            }
        }
    }
    assert_eq!(pushed.len(), CHARTS.len(), "{pushed:?}");
    let cli_text: String = walkdir(&cli_out).iter().filter_map(|p| fs::read_to_string(p).ok()).collect();
    let prefix = format!("{host}/deploykf/");
    let cli_refs = references(&cli_text, &prefix);
    assert!(cli_refs.iter().any(|(_, d)| d.is_some()), "generate pinned nothing");

    // The whole tree through the harness.
    let app = tree.write_app_of_apps(&["repo-values.yaml", "mirror-values.yaml"]);
    let docker_config = tree.path("registry/config.json");
    write_docker_config(&docker_config, &host, USER, PASSWORD);
    let run = tree.run_harness_with_registry(&app, &[helm, kubectl], &docker_config, &target);
    assert!(!run.stderr.contains(PASSWORD), "the registry password reached the output:\n{}", run.stderr);
    let children = run.assert_every_application_rendered();
    let pod_images = run.images();
    let unpinned: Vec<&String> = pod_images.iter().filter(|i| *i != "auto" && !(i.starts_with(&prefix) && i.contains("@sha256:"))).collect();
    assert!(unpinned.is_empty(), "pod images not pinned: {unpinned:#?}");
    let mut output = String::new();
    for name in children.iter().map(String::as_str).chain(["deploykf-app-of-apps"]) {
        output.push_str(&run.manifests(name));
    }
    // Every reference anywhere in the output (pod specs, env, flags, ConfigMap data, CRDs).
    let refs = references(&output, &prefix);
    let tag_only: BTreeSet<&String> = refs.iter().filter(|(_, d)| d.is_none()).map(|(n, _)| n).collect();
    assert!(tag_only.is_empty(), "references left tag-only: {tag_only:#?}");
    let pinned: BTreeMap<&String, &String> = refs.iter().map(|(n, d)| (n, d.as_ref().unwrap())).collect();
    let pinned_names: BTreeSet<&String> = pinned.keys().copied().collect();
    assert_eq!(pinned_names, locked.keys().collect(), "every listed image, pinned, in the output");

    // Each digest is the lock's and the registry's.
    let cert_dir = target.cert_dir().unwrap();
    for (name, pinned_digest) in &pinned {
        assert_eq!(locked.get(*name), Some(*pinned_digest), "{name} is pinned to the lock's digest");
        let out = Command::new(&skopeo)
            .args(["inspect", "--raw", "--creds", &format!("{USER}:{PASSWORD}")])
            .arg("--cert-dir")
            .arg(&cert_dir)
            .arg(format!("docker://{name}"))
            .env("REGISTRY_AUTH_FILE", tree.path("none.json"))
            .output()
            .unwrap();
        assert!(out.status.success(), "skopeo inspect {name}: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(&digest(&out.stdout), *pinned_digest, "{name}: the registry's digest");
    }
    eprintln!("{} pinned references ({} pod images) checked against the registry", pinned.len(), pod_images.len());
}

fn walkdir(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}
