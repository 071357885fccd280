//! `deploykf-cmp bundle create` against a real `docker-registry`: the same
//! inputs give the same bytes, skopeo reads images straight out of the file
//! with their digests, a multi-arch index keeps its bytes (and `--platform`
//! leaves the other platforms external), a source alias pulls from its
//! `pullFrom` under the rendered name, two values sets bring their inventory
//! and generator zips, https:// charts become the chart
//! artifacts `mirror` pushes, a delta holds only blobs its base lacks, split
//! parts concatenate to the whole file, and a corrupt source blob is refused
//! while a re-run resumes from the blobs already fetched. Skipped when
//! docker-registry, htpasswd or skopeo are missing.

mod support;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::file_server::{fixture_charts, FileServer};
use support::images::{digest, random_layer, Pusher, SyntheticSet};
use support::registry::{RegistryOptions, TestRegistry};
use support::tools;

struct Site {
    source: TestRegistry,
    dir: tempfile::TempDir,
    skopeo: PathBuf,
}

fn start() -> Option<Site> {
    let skopeo = tools::skopeo()?;
    let source = TestRegistry::start(RegistryOptions::plain())?;
    let dir = tempfile::tempdir().unwrap();
    // No credentials: the source registry is open.
    fs::write(dir.path().join("config.json"), r#"{"auths":{}}"#).unwrap();
    Some(Site { source, dir, skopeo })
}

impl Site {
    fn pusher(&self) -> Pusher {
        Pusher::new(&self.source.host(), None)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// An images file naming `names` (`repo:tag`) in the source registry.
    fn images_file(&self, file: &str, names: &[&str]) -> PathBuf {
        let text: String = names.iter().map(|n| format!("{}/{n}\n", self.source.host())).collect();
        fs::write(self.path(file), format!("# test images\n{text}")).unwrap();
        self.path(file)
    }

    fn create(&self, args: &[&str]) -> (Output, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_deploykf-cmp"))
            .current_dir(self.dir.path())
            .args(["bundle", "create", "--insecure-registry", &self.source.host()])
            .args(args)
            .env_remove("SSL_CERT_FILE")
            .env_remove("DEPLOYKF_CMP_INSECURE_REGISTRIES")
            .env("DOCKER_CONFIG", self.dir.path())
            .env_remove("REGISTRY_AUTH_FILE")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        (out, stderr)
    }

    fn create_ok(&self, args: &[&str]) -> String {
        let (out, stderr) = self.create(args);
        assert!(out.status.success(), "{stderr}");
        String::from_utf8(out.stdout).unwrap()
    }

    /// `skopeo inspect --raw` of `reference` in the source registry.
    fn raw(&self, reference: &str) -> Vec<u8> {
        let out = Command::new(&self.skopeo)
            .args(["inspect", "--raw", "--tls-verify=false", &format!("docker://{}/{reference}", self.source.host())])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    }
}

/// The entries of a tar, in order.
fn entries(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = tar::Archive::new(bytes);
    let mut out = Vec::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = String::from_utf8(entry.path_bytes().to_vec()).unwrap();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        out.push((name, data));
    }
    out
}

fn blobs(bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    entries(bytes)
        .into_iter()
        .filter_map(|(name, data)| name.strip_prefix("blobs/sha256/").filter(|h| !h.is_empty()).map(|h| (format!("sha256:{h}"), data)))
        .collect()
}

fn bundle_manifest(bytes: &[u8]) -> serde_json::Value {
    let (_, json) = entries(bytes).into_iter().find(|(n, _)| n == "deploykf-bundle.json").expect("a bundle manifest");
    serde_json::from_slice(&json).unwrap()
}

fn sha256_hex(bytes: &[u8]) -> String {
    digest(bytes).trim_start_matches("sha256:").to_string()
}

#[test]
fn the_same_inputs_give_the_same_bytes_and_skopeo_reads_images_out_of_them() {
    let Some(site) = start() else { return };
    let set = SyntheticSet::push(&site.pusher(), "synth", 5, None);
    let names: Vec<&str> = set.images.iter().map(|i| i.name.as_str()).collect();
    let images = site.images_file("images.txt", &names);
    let images = images.to_str().unwrap();

    let first = site.create_ok(&["--images-file", images, "--output", "a.tar"]);
    let a = fs::read(site.path("a.tar")).unwrap();
    assert_eq!(first, format!("{}  a.tar\n", sha256_hex(&a)), "stdout is the checksum line");
    assert_eq!(fs::read_to_string(site.path("a.tar.sha256")).unwrap(), first);
    assert!(!site.path("a.tar.blobs").exists() && !site.path("a.tar.partial").exists(), "nothing left beside the bundle");
    let second = site.create_ok(&["--images-file", images, "-o", "b.tar", "-j", "1"]);
    assert_eq!(second.split_whitespace().next(), first.split_whitespace().next(), "same content, same sha256");

    // The layout: fixed entry order, each blob once, sorted.
    let list = entries(&a);
    let names_in_order: Vec<&str> = list.iter().take(5).map(|(n, _)| n.as_str()).collect();
    assert_eq!(names_in_order, ["oci-layout", "index.json", "deploykf-bundle.json", "blobs/", "blobs/sha256/"]);
    let blob_names: Vec<&String> = list.iter().skip(5).map(|(n, _)| n).collect();
    let mut sorted = blob_names.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(blob_names, sorted);
    let stored = blobs(&a);
    for (d, data) in &stored {
        assert_eq!(&digest(data), d, "a blob is named by its digest");
    }

    // Every image by its full source name, its manifest or index byte for byte.
    let index: serde_json::Value = serde_json::from_slice(&list[1].1).unwrap();
    let refs: BTreeMap<String, String> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["annotations"]["org.opencontainers.image.ref.name"].as_str().unwrap().to_string(), m["digest"].as_str().unwrap().to_string()))
        .collect();
    for image in &set.images {
        let name = format!("{}/{}", site.source.host(), image.name);
        assert_eq!(refs.get(&name), Some(&image.digest), "{name}");
        assert_eq!(stored[&image.digest], site.raw(&image.name), "{name}: the bytes the registry serves");
    }
    let manifest = bundle_manifest(&a);
    assert_eq!(manifest["images"].as_array().unwrap().len(), 5);
    assert!(manifest["external"].as_array().unwrap().is_empty());
    assert!(manifest["base"].is_null());
    let multi = set.images.iter().find(|i| i.multi_arch).unwrap();
    let entry = manifest["images"].as_array().unwrap().iter().find(|i| i["digest"] == multi.digest.as_str()).unwrap();
    assert_eq!(entry["platforms"], serde_json::json!(["linux/amd64", "linux/arm64"]));

    // skopeo reads single OCI images and indexes straight out of the file.
    // (Its oci transports look only at OCI media types in index.json: the
    // Docker v2 manifests, stored byte for byte above, are for `bundle push`.)
    for (image, all) in [(&set.images[0], false), (&set.images[2], false), (multi, true)] {
        let out_dir = site.path(&format!("out-{}", image.name.replace(['/', ':'], "-")));
        let name = format!("{}/{}", site.source.host(), image.name);
        let mut cmd = Command::new(&site.skopeo);
        cmd.arg("copy");
        if all {
            cmd.arg("--all");
        }
        let out = cmd.arg(format!("oci-archive:{}:{name}", site.path("a.tar").display())).arg(format!("dir:{}", out_dir.display())).output().unwrap();
        assert!(out.status.success(), "skopeo copy {name}: {}", String::from_utf8_lossy(&out.stderr));
        let copied = fs::read(out_dir.join("manifest.json")).unwrap();
        assert_eq!(digest(&copied), image.digest, "{name}: skopeo sees the source digest");
    }
}

#[test]
fn platform_filtering_keeps_the_index_and_declares_the_rest_external() {
    let Some(site) = start() else { return };
    let pusher = site.pusher();
    let shared = random_layer(7, 64 * 1024);
    let index_digest = pusher.push_multi_arch("multi/app", "1", &[&shared], 70);
    let images = site.images_file("images.txt", &["multi/app:1"]);
    site.create_ok(&["--images-file", images.to_str().unwrap(), "--platform", "linux/arm64", "-o", "arm.tar"]);
    let bytes = fs::read(site.path("arm.tar")).unwrap();
    let stored = blobs(&bytes);
    let index = site.raw("multi/app:1");
    assert_eq!(stored[&index_digest], index, "the index is stored unchanged");
    let doc: serde_json::Value = serde_json::from_slice(&index).unwrap();
    let child = |arch: &str| doc["manifests"].as_array().unwrap().iter().find(|m| m["platform"]["architecture"] == arch).unwrap()["digest"].as_str().unwrap().to_string();
    assert!(stored.contains_key(&child("arm64")));
    assert!(!stored.contains_key(&child("amd64")));
    let manifest = bundle_manifest(&bytes);
    assert_eq!(manifest["external"], serde_json::json!([child("amd64")]));
    assert_eq!(manifest["images"][0]["platforms"], serde_json::json!(["linux/arm64"]));
}

#[test]
fn a_source_alias_pulls_from_its_pull_from_and_keeps_the_rendered_name() {
    let Some(site) = start() else { return };
    let layer = random_layer(41, 80 * 1024);
    let pushed = site.pusher().push_image("bitnamilegacy/kubectl", "1.28.5", &[&layer], ("linux", "amd64"), false);
    let src = site.source.host();
    let images = site.images_file("images.txt", &["bitnami/kubectl:1.28.5"]);
    let rules = site.path("mirror.yaml");
    fs::write(&rules, format!("mirror:\n  images:\n    registry: site.example/m\n    sources:\n      - {{from: {src}/bitnami, pullFrom: {src}/bitnamilegacy}}\n")).unwrap();
    let (out, stderr) = site.create(&["--images-file", images.to_str().unwrap(), "-o", "plain.tar"]);
    assert!(!out.status.success() && stderr.contains(&format!("{src}/bitnami/kubectl:1.28.5")), "without the alias: {stderr}");
    site.create_ok(&["--images-file", images.to_str().unwrap(), "--mirror", rules.to_str().unwrap(), "-o", "alias.tar"]);
    let bytes = fs::read(site.path("alias.tar")).unwrap();
    let manifest = bundle_manifest(&bytes);
    assert_eq!(manifest["images"][0]["name"], format!("{src}/bitnami/kubectl:1.28.5").as_str());
    assert_eq!(manifest["images"][0]["pullFrom"], format!("{src}/bitnamilegacy/kubectl:1.28.5").as_str());
    assert_eq!(manifest["images"][0]["digest"], pushed.as_str());
    let index: serde_json::Value = serde_json::from_slice(&entries(&bytes)[1].1).unwrap();
    let names: Vec<&str> = index["manifests"].as_array().unwrap().iter().map(|m| m["annotations"]["org.opencontainers.image.ref.name"].as_str().unwrap()).collect();
    assert!(names.contains(&format!("{src}/bitnami/kubectl:1.28.5").as_str()), "{names:?}");
}

/// A tiny generator whose app-of-apps holds one kustomize Application
/// deploying `.Values.image` (its `version` in a ConfigMap, so two versions differ).
fn write_generator(root: &Path, version: &str) {
    let files = [
        (".deploykf_generator", "{\"generator_schema\": \"v1\"}\n".to_string()),
        ("default_values.yaml", "image: example.invalid/app:1\n".to_string()),
        ("helpers/names.tpl", "{{<- define \"names.app\" >}}app{{<- end >}}".to_string()),
        ("templates/argocd/kustomization.yaml", "resources:\n  - app.yaml\n".to_string()),
        (
            "templates/argocd/app.yaml",
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: {{< tmpl.Exec \"names.app\" . >}}\n\
             spec:\n  destination:\n    namespace: app\n  source:\n    plugin:\n      parameters:\n\
             \x20       - name: output_kustomize_path\n          string: ./manifests/app\n".to_string(),
        ),
        ("templates/manifests/app/kustomization.yaml", "resources:\n  - deployment.yaml\n".to_string()),
        (
            "templates/manifests/app/deployment.yaml",
            format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\n  namespace: app\n  labels:\n    version: \"{version}\"\n\
                 spec:\n  selector:\n    matchLabels:\n      app: app\n  template:\n    metadata:\n      labels:\n        app: app\n\
                 \x20   spec:\n      containers:\n        - name: app\n          image: {{{{< .Values.image >}}}}\n"
            ),
        ),
    ];
    let mut zip = zip::ZipWriter::new(fs::File::create(root).unwrap());
    let options = zip::write::SimpleFileOptions::default().last_modified_time(zip::DateTime::default());
    for (name, text) in files {
        zip.start_file(format!("generator/{name}"), options).unwrap();
        std::io::Write::write_all(&mut zip, text.as_bytes()).unwrap();
    }
    zip.finish().unwrap();
}

#[test]
fn values_sets_bring_their_inventory_and_their_generator_zips() {
    let (Some(helm), Some(kubectl)) = (tools::helm(), tools::kubectl()) else { return };
    let Some(site) = start() else { return };
    let pusher = site.pusher();
    let old = pusher.push_image("app/one", "1", &[&random_layer(51, 40 * 1024)], ("linux", "amd64"), false);
    let new = pusher.push_image("app/one", "2", &[&random_layer(52, 40 * 1024)], ("linux", "amd64"), false);
    write_generator(&site.path("gen-1.zip"), "1");
    write_generator(&site.path("gen-2.zip"), "2");
    fs::write(site.path("v1.yaml"), format!("image: {}/app/one:1\n", site.source.host())).unwrap();
    fs::write(site.path("v2.yaml"), format!("image: {}/app/one:2\n", site.source.host())).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_deploykf-cmp"))
        .current_dir(site.dir.path())
        .args(["bundle", "create", "--insecure-registry", &site.source.host()])
        .args(["--source-path", "gen-1.zip", "-f", "v1.yaml", "--source-path", "gen-2.zip", "--values", "v2.yaml", "-o", "sets.tar"])
        .env("DOCKER_CONFIG", site.dir.path())
        .env("DEPLOYKF_CMP_KUBECTL", &kubectl)
        .env("DEPLOYKF_CMP_HELM", &helm)
        .env("DEPLOYKF_CMP_CACHE_DIR", site.path("cache"))
        .env_remove("REGISTRY_AUTH_FILE")
        .env_remove("DEPLOYKF_CMP_MIRROR_CONFIG")
        .env_remove("DEPLOYKF_CMP_KUSTOMIZE")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let bytes = fs::read(site.path("sets.tar")).unwrap();
    let manifest = bundle_manifest(&bytes);
    let digests: Vec<&str> = manifest["images"].as_array().unwrap().iter().map(|i| i["digest"].as_str().unwrap()).collect();
    assert_eq!(digests, [old.as_str(), new.as_str()]);
    let zips = [fs::read(site.path("gen-1.zip")).unwrap(), fs::read(site.path("gen-2.zip")).unwrap()];
    let sets = manifest["sets"].as_array().unwrap();
    assert_eq!(sets.len(), 2);
    for (i, set) in sets.iter().enumerate() {
        assert_eq!(set["sourcePath"], format!("gen-{}.zip", i + 1).as_str());
        assert_eq!(set["generatorDigest"], digest(&zips[i]).as_str());
        let values = fs::read(site.path(&format!("v{}.yaml", i + 1))).unwrap();
        assert_eq!(set["valuesDigests"], serde_json::json!([digest(&values)]));
    }
    let stored = blobs(&bytes);
    let index: serde_json::Value = serde_json::from_slice(&entries(&bytes)[1].1).unwrap();
    for (i, zip) in zips.iter().enumerate() {
        let name = format!("deploykf-generator:gen-{}", i + 1);
        let entry = index["manifests"].as_array().unwrap().iter().find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == name.as_str()).expect(&name);
        assert_eq!(entry["annotations"]["io.deploykf.bundle.kind"], "generator");
        let artifact: serde_json::Value = serde_json::from_slice(&stored[entry["digest"].as_str().unwrap()]).unwrap();
        assert_eq!(artifact["artifactType"], "application/vnd.deploykf.generator.v1+zip");
        assert_eq!(artifact["config"]["mediaType"], "application/vnd.oci.empty.v1+json");
        assert_eq!(stored[artifact["config"]["digest"].as_str().unwrap()], b"{}");
        assert_eq!(&stored[artifact["layers"][0]["digest"].as_str().unwrap()], zip, "the zip unchanged");
        assert_eq!(artifact["layers"][0]["annotations"]["org.opencontainers.image.title"], format!("gen-{}.zip", i + 1).as_str());
    }
}

#[test]
fn a_delta_holds_only_the_blobs_its_base_lacks_and_parts_concatenate_to_the_whole() {
    let Some(site) = start() else { return };
    let pusher = site.pusher();
    let base_layer = random_layer(21, 300 * 1024);
    let old_layer = random_layer(22, 100 * 1024);
    let new_layer = random_layer(23, 120 * 1024);
    pusher.push_image("app/one", "1", &[&base_layer, &old_layer], ("linux", "amd64"), false);
    pusher.push_image("app/one", "2", &[&base_layer, &new_layer], ("linux", "amd64"), false);
    pusher.push_image("app/two", "1", &[&base_layer], ("linux", "amd64"), true);
    let old = site.images_file("old.txt", &["app/one:1", "app/two:1"]);
    let new = site.images_file("new.txt", &["app/one:2", "app/two:1"]);
    site.create_ok(&["--images-file", old.to_str().unwrap(), "-o", "old.tar"]);
    let old_bytes = fs::read(site.path("old.tar")).unwrap();
    let old_blobs = blobs(&old_bytes);

    // Split: parts of 64 KiB, named FILE.partNNN, whose concatenation is the delta.
    let sums = site.create_ok(&["--images-file", new.to_str().unwrap(), "--since", "old.tar", "--max-size", "64KiB", "-o", "delta.tar"]);
    assert!(!site.path("delta.tar").exists());
    let mut joined = Vec::new();
    let mut n = 0;
    while let Ok(part) = fs::read(site.path(&format!("delta.tar.part{n:03}"))) {
        assert!(part.len() <= 64 * 1024);
        joined.extend(part);
        n += 1;
    }
    assert!(n >= 2, "{n} parts");
    let lines: Vec<&str> = sums.lines().collect();
    assert_eq!(lines.len(), n + 1);
    assert_eq!(lines[0], format!("{}  delta.tar", sha256_hex(&joined)));
    assert!(lines[1].ends_with("  delta.tar.part000"));

    // The same delta unsplit: the same bytes.
    site.create_ok(&["--images-file", new.to_str().unwrap(), "--since", "old.tar", "-o", "whole.tar"]);
    assert_eq!(fs::read(site.path("whole.tar")).unwrap(), joined, "the parts concatenated are the whole file");

    let delta = blobs(&joined);
    let manifest = bundle_manifest(&joined);
    for d in delta.keys() {
        assert!(!old_blobs.contains_key(d), "{d} is in the base, yet stored in the delta");
    }
    assert!(delta.contains_key(&digest(&new_layer)));
    assert!(!delta.contains_key(&digest(&base_layer)) && !delta.contains_key(&digest(&old_layer)));
    let external: BTreeSet<&str> = manifest["external"].as_array().unwrap().iter().map(|d| d.as_str().unwrap()).collect();
    assert!(external.contains(digest(&base_layer).as_str()));
    // app/two:1, unchanged: its manifest is the base's, external, yet named in index.json.
    let two = manifest["images"].as_array().unwrap().iter().find(|i| i["name"].as_str().unwrap().ends_with("app/two:1")).unwrap();
    let two_digest = two["digest"].as_str().unwrap();
    assert!(old_blobs.contains_key(two_digest) && !delta.contains_key(two_digest) && external.contains(two_digest));
    let index: serde_json::Value = serde_json::from_slice(&entries(&joined)[1].1).unwrap();
    let entry = index["manifests"].as_array().unwrap().iter().find(|m| m["digest"] == two_digest).expect("index.json names the unchanged image");
    assert_eq!(entry["size"], two["size"]);
    assert_eq!(manifest["base"]["sha256"], sha256_hex(&old_bytes).as_str());
    let (_, json) = entries(&old_bytes).into_iter().find(|(n, _)| n == "deploykf-bundle.json").unwrap();
    assert_eq!(manifest["base"]["manifest"], digest(&json).as_str());

    // The base given by its manifest alone: the same blobs left out.
    fs::write(site.path("old.json"), json).unwrap();
    site.create_ok(&["--images-file", new.to_str().unwrap(), "--since", "old.json", "-o", "delta2.tar"]);
    let by_json = fs::read(site.path("delta2.tar")).unwrap();
    let by_json = bundle_manifest(&by_json);
    assert_eq!(by_json["blobs"], manifest["blobs"]);
    assert_eq!(by_json["external"], manifest["external"]);
    assert!(by_json["base"]["sha256"].is_null());

    // A split bundle as the base, named by its first part: read across the parts.
    site.create_ok(&["--images-file", new.to_str().unwrap(), "--since", "delta.tar.part000", "-o", "again.tar"]);
    let again = bundle_manifest(&fs::read(site.path("again.tar")).unwrap());
    assert_eq!(again["base"]["sha256"], sha256_hex(&joined).as_str());
    assert!(again["external"].as_array().unwrap().iter().any(|d| d == digest(&new_layer).as_str()));
}

#[test]
fn a_corrupt_source_blob_is_refused_and_a_re_run_resumes() {
    let Some(site) = start() else { return };
    let pusher = site.pusher();
    let good = random_layer(31, 300 * 1024);
    let bad = random_layer(32, 200 * 1024);
    pusher.push_image("corrupt/app", "1", &[&good, &bad], ("linux", "amd64"), false);
    let hex = sha256_hex(&bad);
    let data = site.source.storage_dir().join(format!("docker/registry/v2/blobs/sha256/{}/{hex}/data", &hex[..2]));
    let mut flipped = bad.clone();
    flipped[1000] ^= 0xff;
    fs::write(&data, &flipped).unwrap();

    let images = site.images_file("images.txt", &["corrupt/app:1"]);
    let (out, stderr) = site.create(&["--images-file", images.to_str().unwrap(), "-o", "c.tar"]);
    assert!(!out.status.success(), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(stderr.contains(&format!("sha256:{hex}")) && stderr.contains("corrupt source blob, not bundled"), "{stderr}");
    assert!(stderr.contains("1 of 1 images and charts failed") && stderr.contains("corrupt/app:1"), "{stderr}");
    assert!(!site.path("c.tar").exists() && !site.path("c.tar.sha256").exists() && !site.path("c.tar.partial").exists());
    let kept = site.path("c.tar.blobs/sha256");
    assert!(kept.join(sha256_hex(&good)).exists(), "the sound blob is kept for a re-run");
    assert!(!kept.join(&hex).exists(), "the corrupt blob is not kept");

    // Repaired at the source, and the sound blob gone from it: the re-run
    // fetches only the missing blob, the other comes from the blob folder.
    fs::write(&data, &bad).unwrap();
    let good_hex = sha256_hex(&good);
    fs::remove_file(site.source.storage_dir().join(format!("docker/registry/v2/blobs/sha256/{}/{good_hex}/data", &good_hex[..2]))).unwrap();
    let sums = site.create_ok(&["--images-file", images.to_str().unwrap(), "-o", "c.tar"]);
    let bytes = fs::read(site.path("c.tar")).unwrap();
    assert!(sums.starts_with(&sha256_hex(&bytes)));
    let stored = blobs(&bytes);
    assert_eq!(stored[&digest(&bad)], bad);
    assert_eq!(stored[&digest(&good)], good);
    assert!(!site.path("c.tar.blobs").exists());
}

#[test]
fn https_charts_become_the_chart_artifacts_mirror_pushes() {
    let Some(fixtures) = fixture_charts() else { return };
    let Some(site) = start() else { return };
    let cm = fs::read(fixtures.join("cert-manager-v1.12.10.tgz")).unwrap();
    let repo = {
        let cm = cm.clone();
        FileServer::start(move |_| {
            let index = format!(
                "apiVersion: v1\nentries:\n  cert-manager:\n  - name: cert-manager\n    version: v1.12.10\n    digest: {}\n    urls: [cert-manager-v1.12.10.tgz]\n",
                sha256_hex(&cm)
            );
            HashMap::from([("/charts/index.yaml".to_string(), index.into_bytes()), ("/charts/cert-manager-v1.12.10.tgz".to_string(), cm)])
        })
    };
    let charts = site.path("charts.txt");
    fs::write(&charts, format!("http://{}/charts cert-manager v1.12.10\n", repo.addr)).unwrap();
    site.create_ok(&["--charts-file", charts.to_str().unwrap(), "-o", "charts.tar"]);
    let bytes = fs::read(site.path("charts.tar")).unwrap();
    let manifest = bundle_manifest(&bytes);
    let chart = &manifest["charts"][0];
    assert_eq!(chart["ref"], format!("{}/charts/cert-manager:v1.12.10", repo.addr).as_str());
    let stored = blobs(&bytes);
    let artifact: serde_json::Value = serde_json::from_slice(&stored[chart["digest"].as_str().unwrap()]).unwrap();
    assert_eq!(artifact["config"]["mediaType"], "application/vnd.cncf.helm.config.v1+json");
    assert_eq!(artifact["layers"][0]["mediaType"], "application/vnd.cncf.helm.chart.content.v1.tar+gzip");
    assert_eq!(stored[artifact["layers"][0]["digest"].as_str().unwrap()], cm, "the archive unchanged");
    let config: serde_json::Value = serde_json::from_slice(&stored[artifact["config"]["digest"].as_str().unwrap()]).unwrap();
    assert_eq!(config["name"], "cert-manager");
}

#[test]
fn bad_input_is_refused_before_anything_is_fetched() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_deploykf-cmp")).current_dir(dir.path()).args(["bundle", "create"]).args(args).output().unwrap();
        assert!(!out.status.success() && out.stdout.is_empty());
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    fs::write(dir.path().join("bad.txt"), "ok.example/a:1\nNot An Image\n").unwrap();
    let e = run(&["--images-file", "bad.txt", "-o", "x.tar"]);
    assert!(e.contains("bad.txt:2"), "{e}");
    fs::write(dir.path().join("latest.txt"), "ok.example/a\n").unwrap();
    assert!(run(&["--images-file", "latest.txt", "-o", "x.tar"]).contains("give a tag or a digest"));
    assert!(run(&["-o", "x.tar"]).contains("nothing to bundle"));
    assert!(run(&["--images-file", "bad.txt", "-o", "x.tar", "--max-size", "5 bananas"]).contains("unknown unit"));
    assert!(run(&["--images-file", "bad.txt", "-o", "x.tar", "--platform", "linux"]).contains("os/arch"));
    fs::write(dir.path().join("ok.txt"), "ok.example/a:1\n").unwrap();
    let e = run(&["--images-file", "ok.txt", "-o", "x.tar", "--since", "missing.tar"]);
    assert!(e.contains("--since missing.tar") && e.contains("missing.tar.part000"), "{e}");
    fs::write(dir.path().join("junk.tar"), "no tar\n".repeat(200)).unwrap();
    let e = run(&["--images-file", "ok.txt", "-o", "x.tar", "--since", "junk.tar"]);
    assert!(e.contains("--since: junk.tar: not a bundle"), "{e}");
    fs::write(dir.path().join("cut.json"), "{\"schemaVersion\": 1,\n").unwrap();
    let e = run(&["--images-file", "ok.txt", "-o", "x.tar", "--since", "cut.json"]);
    assert!(e.contains("--since cut.json: not a deploykf-bundle.json"), "{e}");
    assert!(!Path::new(&dir.path().join("x.tar")).exists());
}

/// Wall time, CPU seconds and peak RSS (MiB) of one command under `/usr/bin/time`.
fn timed(cmd: &mut Command, what: &str) -> (f64, f64, f64) {
    let rss_file = tempfile::NamedTempFile::new().unwrap();
    let start = std::time::Instant::now();
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%M %U %S", "-o"])
        .arg(rss_file.path())
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .envs(cmd.get_envs().filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.to_owned()))))
        .current_dir(cmd.get_current_dir().unwrap_or(Path::new(".")))
        .output()
        .unwrap();
    let wall = start.elapsed().as_secs_f64();
    assert!(out.status.success(), "{what}: {}", String::from_utf8_lossy(&out.stderr));
    let text = fs::read_to_string(rss_file.path()).unwrap();
    let f: Vec<f64> = text.trim().lines().last().unwrap().split(' ').map(|f| f.parse().unwrap()).collect();
    (wall, f[1] + f[2], f[0] / 1024.0)
}

fn tree_size(dir: &Path) -> u64 {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                tree_size(&e.path())
            } else {
                e.metadata().unwrap().len()
            }
        })
        .sum()
}

/// `scripts/bench-bundle`: `bundle create` against `skopeo sync --all --dest
/// dir` of the same images (the synthetic set of `scripts/bench-mirror`:
/// `BENCH_IMAGES`, default 78, one `BENCH_BIG_MIB` layer, default 400),
/// `BENCH_ROUNDS` rounds (default 3), the tools' order alternating. Prints the
/// times, peak RSS, and the bundle's size against the sum of the unique blobs
/// (manifests included) the source registry holds; then the push side
/// ([`bench_push`]).
/// Run with `--release -- --ignored --nocapture`.
#[test]
#[ignore = "benchmark: scripts/bench-bundle"]
fn bench_bundle() {
    let env = |name: &str, default: usize| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let (count, big, rounds) = (env("BENCH_IMAGES", 78), env("BENCH_BIG_MIB", 400), env("BENCH_ROUNDS", 3).max(1));
    let Some(site) = start() else { return };
    if tools::gnu_time().is_none() {
        return;
    }
    let set = SyntheticSet::push(&site.pusher(), "deploykf", count, Some(big));
    let unique: u64 = fs::read_dir(site.source.storage_dir().join("docker/registry/v2/blobs/sha256"))
        .unwrap()
        .flat_map(|d| fs::read_dir(d.unwrap().path()).unwrap())
        .map(|b| b.unwrap().path().join("data").metadata().map(|m| m.len()).unwrap_or(0))
        .sum();
    println!("source: {count} images, {:.1} MiB of unique blobs (manifests included), big layer {big} MiB", unique as f64 / 1048576.0);
    let names: Vec<&str> = set.images.iter().map(|i| i.name.as_str()).collect();
    let images = site.images_file("images.txt", &names);
    let mut yaml = format!("{}:\n  tls-verify: false\n  images:\n", site.source.host());
    for name in &names {
        let (repo, tag) = name.split_once(':').unwrap();
        yaml.push_str(&format!("    {repo}: [\"{tag}\"]\n"));
    }
    fs::write(site.path("sync.yaml"), yaml).unwrap();

    let ours = || {
        let _ = fs::remove_file(site.path("bench.tar"));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_deploykf-cmp"));
        cmd.current_dir(site.dir.path()).args(["bundle", "create", "--insecure-registry", &site.source.host(), "--images-file"]);
        cmd.arg(&images).args(["-o", "bench.tar"]).env("DOCKER_CONFIG", site.dir.path()).env_remove("REGISTRY_AUTH_FILE");
        if let Ok(j) = std::env::var("BENCH_JOBS") {
            cmd.args(["--jobs", &j]);
        }
        cmd
    };
    let skopeo = || {
        let _ = fs::remove_dir_all(site.path("skopeo-dir"));
        let mut cmd = Command::new(&site.skopeo);
        cmd.args(["sync", "--all", "--src", "yaml", "--dest", "dir"]).arg(site.path("sync.yaml")).arg(site.path("skopeo-dir"));
        cmd.env("REGISTRY_AUTH_FILE", site.path("config.json"));
        cmd
    };
    let (mut ratios, mut rss) = (Vec::new(), (0f64, 0f64));
    for round in 1..=rounds {
        let run = |ours_turn: bool| {
            let (mut cmd, name) = if ours_turn { (ours(), "bundle create") } else { (skopeo(), "skopeo sync") };
            let (wall, cpu, peak) = timed(&mut cmd, name);
            let size = if ours_turn { fs::metadata(site.path("bench.tar")).unwrap().len() } else { tree_size(&site.path("skopeo-dir")) };
            println!(
                "round {round}: {name:14} {wall:6.2}s (CPU {cpu:.2}s, peak RSS {peak:.0} MiB), output {:.1} MiB ({:.4}x the unique blobs)",
                size as f64 / 1048576.0,
                size as f64 / unique as f64
            );
            (wall, peak)
        };
        let (o, s) = if round % 2 == 1 {
            let o = run(true);
            (o, run(false))
        } else {
            let s = run(false);
            (run(true), s)
        };
        println!("round {round}: ratio {:.2} (bundle create / skopeo sync)", o.0 / s.0);
        ratios.push(o.0 / s.0);
        rss = (rss.0.max(o.1), rss.1.max(s.1));
    }
    ratios.sort_by(|a, b| a.total_cmp(b));
    println!("median over {rounds} rounds: ratio {:.2} (bundle create / skopeo sync --all --dest dir)", ratios[ratios.len() / 2]);
    println!("peak RSS: bundle create {:.0} MiB, skopeo {:.0} MiB", rss.0, rss.1);
    let stored = blobs(&fs::read(site.path("bench.tar")).unwrap());
    for image in &set.images {
        assert_eq!(digest(&stored[&image.digest]), image.digest);
    }
    bench_push(&site, &set, rounds);
}

/// The push side of `scripts/bench-bundle`: `bundle push` of the last round's
/// bundle against `skopeo sync --all --src dir --dest docker` of skopeo's copy
/// of the same images, each into a fresh htpasswd registry, `rounds` rounds,
/// the tools' order alternating; the pushed digests are checked.
fn bench_push(site: &Site, set: &SyntheticSet, rounds: usize) {
    const USER: &str = "bench-bot";
    const PASSWORD: &str = "Bench-Pa55-xyzzy";
    let source_path = site.source.host().replace(':', "_");
    let (mut ratios, mut rss) = (Vec::new(), (0f64, 0f64));
    for round in 1..=rounds {
        let run = |ours_turn: bool| {
            let target = TestRegistry::start(RegistryOptions::plain().auth(USER, PASSWORD)).unwrap();
            let auth = site.path("push-auth.json");
            support::registry::write_docker_config(&auth, &target.host(), USER, PASSWORD);
            fs::write(site.path("push-mirror.yaml"), format!("mirror:\n  images:\n    registry: {}/mirror\n", target.host())).unwrap();
            let (mut cmd, name) = if ours_turn {
                let mut cmd = Command::new(env!("CARGO_BIN_EXE_deploykf-cmp"));
                cmd.args(["bundle", "push"]).arg(site.path("bench.tar")).arg("--mirror").arg(site.path("push-mirror.yaml"));
                cmd.arg("--authfile").arg(&auth).args(["--insecure-registry", &target.host()]).env_remove("SSL_CERT_FILE");
                if let Ok(j) = std::env::var("BENCH_JOBS") {
                    cmd.args(["--jobs", &j]);
                }
                (cmd, "bundle push")
            } else {
                let mut cmd = Command::new(&site.skopeo);
                cmd.args(["sync", "--all", "--src", "dir", "--dest", "docker", "--dest-tls-verify=false"]);
                cmd.args(["--dest-creds", &format!("{USER}:{PASSWORD}")]).arg(site.path("skopeo-dir")).arg(format!("{}/skopeo", target.host()));
                cmd.env("REGISTRY_AUTH_FILE", site.path("config.json"));
                (cmd, "skopeo sync")
            };
            let (wall, cpu, peak) = timed(&mut cmd, name);
            println!("round {round}: {name:14} {wall:6.2}s (CPU {cpu:.2}s, peak RSS {peak:.0} MiB)");
            if ours_turn {
                for image in &set.images {
                    let out = Command::new(&site.skopeo)
                        .args(["inspect", "--raw", "--tls-verify=false", "--creds", &format!("{USER}:{PASSWORD}")])
                        .arg(format!("docker://{}/mirror/{source_path}/{}", target.host(), image.name))
                        .env("REGISTRY_AUTH_FILE", site.path("config.json"))
                        .output()
                        .unwrap();
                    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
                    assert_eq!(digest(&out.stdout), image.digest, "{} keeps its digest", image.name);
                }
            }
            (wall, peak)
        };
        let (o, s) = if round % 2 == 1 {
            let o = run(true);
            (o, run(false))
        } else {
            let s = run(false);
            (run(true), s)
        };
        println!("round {round}: ratio {:.2} (bundle push / skopeo sync)", o.0 / s.0);
        ratios.push(o.0 / s.0);
        rss = (rss.0.max(o.1), rss.1.max(s.1));
    }
    ratios.sort_by(|a, b| a.total_cmp(b));
    println!("median over {rounds} rounds: ratio {:.2} (bundle push / skopeo sync --all --src dir --dest docker)", ratios[ratios.len() / 2]);
    println!("peak RSS: bundle push {:.0} MiB, skopeo {:.0} MiB", rss.0, rss.1);
}
