//! Helpers shared by the integration tests: running the built binary, building
//! small generators (folders and zips) in temporary folders, and finding the
//! shared fixtures (`../shared`, optional).

#![allow(dead_code)]

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;
use zip::write::SimpleFileOptions;

/// The binary under test.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_deploykf-cmp"))
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared` when it exists (fixtures, tools), else `None`.
pub fn shared() -> Option<PathBuf> {
    let p = repo_root().join("../shared");
    p.join("fixtures").is_dir().then_some(p)
}

/// The result of one run of the binary.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Panics with the output unless the run succeeded.
    pub fn assert_ok(&self) -> &Run {
        assert_eq!(
            self.code,
            Some(0),
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// Panics unless the run failed with exit code 1 and stderr contains every `needle`.
    pub fn assert_fails_with(&self, needles: &[&str]) -> &Run {
        assert_eq!(
            self.code,
            Some(1),
            "expected exit 1\nstdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        for needle in needles {
            assert!(
                self.stderr.contains(needle),
                "stderr lacks {needle:?}:\n{}",
                self.stderr
            );
        }
        assert!(
            self.stdout.is_empty(),
            "stdout must stay clean:\n{}",
            self.stdout
        );
        self
    }
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// A sandbox: a working folder and a private TMPDIR for the child, so tests
/// can check that nothing is left behind.
pub struct Sandbox {
    pub dir: TempDir,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let dir = TempDir::new().unwrap();
        fs::create_dir(dir.path().join("tmp")).unwrap();
        fs::create_dir(dir.path().join("home")).unwrap();
        Sandbox { dir }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Runs `deploykf-cmp ARGS` in the sandbox (cwd = sandbox, TMPDIR and HOME inside).
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with_tmpdir(args, &self.path("tmp"))
    }

    /// Like [`run`](Self::run) with the given TMPDIR (may be relative to the sandbox).
    pub fn run_with_tmpdir(&self, args: &[&str], tmpdir: &Path) -> Run {
        self.command(args, tmpdir).output().expect("run deploykf-cmp").into()
    }

    /// Like [`run`](Self::run) with extra environment variables.
    pub fn run_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = self.command(args, &self.path("tmp"));
        cmd.envs(env.iter().copied());
        cmd.output().expect("run deploykf-cmp").into()
    }

    /// The command [`run`](Self::run) runs, for tests that spawn it.
    pub fn command(&self, args: &[&str], tmpdir: &Path) -> Command {
        let mut cmd = Command::new(bin());
        cmd.args(args).current_dir(self.dir.path()).env("TMPDIR", tmpdir).env("HOME", self.path("home"));
        cmd
    }

    /// `generate --source-path SOURCE -f V... -O OUT`.
    pub fn generate(&self, source: &Path, values: &[&Path], out: &Path) -> Run {
        let mut args = vec![
            "generate".to_string(),
            "--source-path".into(),
            source.display().to_string(),
        ];
        for v in values {
            args.push("--values".into());
            args.push(v.display().to_string());
        }
        args.push("--output-dir".into());
        args.push(out.display().to_string());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.run(&args)
    }

    /// Asserts the private TMPDIR holds nothing (temporary folders were removed).
    pub fn assert_tmp_clean(&self) {
        let left: Vec<_> = fs::read_dir(self.path("tmp"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(left.is_empty(), "left behind in TMPDIR: {left:?}");
    }

    /// Asserts no staging folder was left in `dir`.
    pub fn assert_no_staging_in(&self, dir: &Path) {
        for e in fs::read_dir(dir).unwrap() {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            assert!(
                !name.starts_with(".deploykf-output-"),
                "staging folder left behind: {name}"
            );
        }
    }
}

/// The files of a minimal valid generator; tests override or remove entries.
pub fn minimal_generator() -> Vec<(String, String)> {
    [
        (
            ".deploykf_generator",
            "{\n  \"generator_schema\": \"v1\"\n}",
        ),
        (
            "default_values.yaml",
            "greeting: hello\nitems:\n  - a\n  - b\n",
        ),
        (
            "helpers/names.tpl",
            "{{<- define \"names.greeting\" >}}{{< .Values.greeting >}}{{<- end >}}",
        ),
        (
            "templates/hello.yaml",
            "message: {{< tmpl.Exec \"names.greeting\" . >}}\n",
        ),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect()
}

/// Writes `files` under `root`.
pub fn write_tree(root: &Path, files: &[(String, String)]) {
    for (rel, content) in files {
        let p = root.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, content).unwrap();
    }
}

/// Lists every file under `root`, relative, sorted.
pub fn list_files(root: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.push(p.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    let mut out = Vec::new();
    if root.is_dir() {
        walk(root, root, &mut out);
    }
    out.sort();
    out
}

/// One entry of a zip built by [`write_zip`].
pub enum ZipEntry<'a> {
    File(&'a str, &'a [u8]),
    Dir(&'a str),
    Symlink(&'a str, &'a str),
    /// A file of `len` zero bytes, deflated (a few hundred KiB per 256 MiB).
    Zeros(&'a str, u64),
}

/// Writes a zip with the given entries.
pub fn write_zip(path: &Path, entries: &[ZipEntry]) {
    let mut w = zip::ZipWriter::new(fs::File::create(path).unwrap());
    let opts = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for entry in entries {
        match entry {
            ZipEntry::File(name, data) => {
                w.start_file(*name, opts).unwrap();
                w.write_all(data).unwrap();
            }
            ZipEntry::Dir(name) => {
                w.add_directory(*name, opts).unwrap();
            }
            ZipEntry::Symlink(name, target) => {
                w.add_symlink(*name, *target, opts).unwrap();
            }
            ZipEntry::Zeros(name, len) => {
                w.start_file(
                    *name,
                    opts.compression_level(Some(1))
                        .large_file(*len >= u32::MAX as u64),
                )
                .unwrap();
                let chunk = vec![0u8; 1 << 20];
                let mut left = *len;
                while left > 0 {
                    let n = left.min(chunk.len() as u64) as usize;
                    w.write_all(&chunk[..n]).unwrap();
                    left -= n as u64;
                }
            }
        }
    }
    w.finish().unwrap();
}

/// Writes the minimal generator as a release zip at `path`; returns its bytes.
pub fn write_minimal_generator_zip(path: &Path) -> Vec<u8> {
    let entries = minimal_generator_zip_entries();
    let zip_entries: Vec<ZipEntry> = entries.iter().map(|(n, c)| ZipEntry::File(n, c)).collect();
    write_zip(path, &zip_entries);
    fs::read(path).unwrap()
}

/// The minimal generator as zip entries under `generator/`.
pub fn minimal_generator_zip_entries() -> Vec<(String, Vec<u8>)> {
    minimal_generator()
        .into_iter()
        .map(|(rel, c)| (format!("generator/{rel}"), c.into_bytes()))
        .collect()
}
