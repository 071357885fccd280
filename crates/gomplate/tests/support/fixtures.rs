//! The shared fixtures the engine's tests read: the real deployKF generator
//! zips (`../shared/fixtures/generators/*.zip`, read in memory), the sample
//! values and the golden cases. `../shared` sits beside the repository; when
//! it is absent every accessor prints why and returns `None`, and the test
//! skips. Included by the unit tests (`src/lib.rs`), the integration tests and
//! the benchmark (`benches/engine.rs`).

// Each test binary including this support module uses only part of it.
#![allow(dead_code)]

use std::io::Read;
use std::path::PathBuf;

/// `../shared/fixtures` beside the repository, or `None` with a message.
pub fn fixtures_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures");
    if dir.is_dir() {
        Some(dir)
    } else {
        println!("skipping: {} is absent", dir.display());
        None
    }
}

/// One real deployKF generator: its version and its text files as
/// (zip entry name, content), in zip order.
pub struct Generator {
    pub version: String,
    pub files: Vec<(String, String)>,
}

impl Generator {
    /// The content of `generator/<rel>`.
    pub fn file(&self, rel: &str) -> &str {
        let name = format!("generator/{rel}");
        let found = self.files.iter().find(|(n, _)| *n == name);
        &found.unwrap_or_else(|| panic!("{}: no {name}", self.version)).1
    }

    /// The files under `generator/<dir>/`.
    pub fn files_under<'a>(&'a self, dir: &str) -> impl Iterator<Item = &'a (String, String)> {
        let prefix = format!("generator/{dir}/");
        self.files.iter().filter(move |(n, _)| n.starts_with(&prefix))
    }
}

/// Every generator zip in `../shared/fixtures/generators`, oldest first.
/// Panics when the folder exists but holds no zip.
pub fn generators() -> Option<Vec<Generator>> {
    let dir = fixtures_dir()?.join("generators");
    let mut zips: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "zip"))
        .collect();
    zips.sort();
    assert!(!zips.is_empty(), "no generator zips in {}", dir.display());
    Some(zips.iter().map(|zip| read_generator(zip)).collect())
}

/// The generator of one deployKF version (`0.1.5`).
pub fn generator(version: &str) -> Option<Generator> {
    let zip = fixtures_dir()?.join(format!("generators/deploykf-{version}-generator.zip"));
    Some(read_generator(&zip))
}

fn read_generator(zip: &std::path::Path) -> Generator {
    let name = zip.file_name().unwrap().to_string_lossy();
    let version = name
        .strip_prefix("deploykf-")
        .and_then(|n| n.strip_suffix("-generator.zip"))
        .unwrap_or_else(|| panic!("unexpected generator zip name {name}"))
        .to_string();
    let file = std::fs::File::open(zip).unwrap_or_else(|e| panic!("{}: {e}", zip.display()));
    let mut archive = zip::ZipArchive::new(file).unwrap_or_else(|e| panic!("{}: {e}", zip.display()));
    let mut files = Vec::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        if entry.is_dir() {
            continue;
        }
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap_or_else(|e| panic!("{}: {}: {e}", zip.display(), entry.name()));
        // Binary entries (none today) are not templates or values.
        if let Ok(text) = String::from_utf8(bytes) {
            files.push((entry.name().to_string(), text));
        }
    }
    Generator { version, files }
}
