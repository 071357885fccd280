//! The render of a generator into an output folder, as the Go CLI drives
//! gomplate: the runtime templates (`runtime/input_dir`, `runtime/output_dir`),
//! phase 1 (each `.gomplateignore_template` → `.gomplateignore` beside it),
//! the `.deploykf_output` marker, then phase 2 (every file of `templates/` not
//! ignored → the output folder). Each template file is its own template set,
//! named by its path in the generator (`templates/...`), with the nested
//! templates `helpers/<file>` and `runtime/<file>`; dot is `{"Values": ...}`.
//! Output that is only whitespace is not written (gomplate's `SuppressEmpty`).
//! Phase 2 renders files in parallel; the first failing file (in path order)
//! is reported.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{anyhow, Context, Result};
use gomplate::{Engine, Host, Map, Value};

use crate::generator::archive::{PackedFiles, PackedReader};
use crate::generator::ignore;
use crate::generator::output::{absolute_clean, lexical_clean, OutputDir, RunInfo};
use crate::generator::source::GeneratorSource;

/// The template delimiters deployKF generators use.
pub const LEFT_DELIM: &str = "{{<";
/// The closing delimiter.
pub const RIGHT_DELIM: &str = ">}}";

/// The environment templates see through `getenv`.
pub type Env = HashMap<String, String>;

/// Renders `source` with `values` into `output`'s staging folder (the caller
/// commits it). `env` is what templates read with `getenv`.
pub fn render(
    source: &GeneratorSource,
    values: Value,
    output: &OutputDir,
    env: Arc<Env>,
) -> Result<()> {
    let templates = source.templates_dir();
    let runtime = source.runtime_dir();
    write_runtime_templates(&runtime, &templates, output.given())?;

    let mut dot = Map::new();
    dot.insert("Values".into(), values);
    let packed = source.packed_templates();
    let extra: Vec<&str> = packed.paths().collect();
    let ctx = RenderContext {
        packed,
        source_root: source.root().to_path_buf(),
        data: Value::map(dot),
        host: HostConfig {
            env,
            cwd: std::env::current_dir().context("cannot read the working directory")?,
            runtime_dir: absolute_clean(&runtime)?,
            output_dir: output.target().to_path_buf(),
            staging_dir: output.staging().to_path_buf(),
        },
    };

    // Phase 1: `.gomplateignore_template` → `.gomplateignore`, in the templates folder.
    let phase1 = ignore::rendered_files_with(
        &templates,
        &extra,
        &["*", "!*.gomplateignore_template"],
    )
    .context("failed to gather templates for rendering")?;
    let nested = NestedTemplates::load(source)?;
    let base = nested.engine()?;
    let mut worker = ctx.worker();
    for rel in &phase1 {
        let out = templates.join(lexical_clean(Path::new(
            &rel.replace(".gomplateignore_template", ".gomplateignore"),
        )));
        ctx.render_file(&base, &templates, rel, &out, &mut worker)?;
    }

    RunInfo::now(
        source.version().map(str::to_string),
        source.artifact_path().to_string_lossy().into_owned(),
        source.hash().to_string(),
    )
    .write(output.staging())?;

    // Phase 2: everything not ignored → the output folder. Runtime templates
    // written in phase 1 are read now.
    let files = ignore::rendered_files_with(&templates, &extra, &[])
        .context("failed to gather templates for rendering")?;
    let nested = NestedTemplates::load(source)?;
    let base = nested.engine()?;
    let dir_mode = mode_of(&templates).unwrap_or(0o755);
    let parents: std::collections::BTreeSet<&Path> = files
        .iter()
        .filter_map(|rel| Path::new(rel).parent())
        .collect();
    for parent in parents {
        create_dirs(&output.staging().join(parent), dir_mode)?;
    }
    ctx.render_all(&base, &templates, &files, output.staging())
}

/// Writes `runtime/input_dir` and `runtime/output_dir` (Go's `WriteRuntimeTemplates`).
pub fn write_runtime_templates(runtime: &Path, templates: &Path, output_dir: &Path) -> Result<()> {
    fs::create_dir_all(runtime)
        .with_context(|| format!("cannot create '{}'", runtime.display()))?;
    for (name, content) in [("input_dir", templates), ("output_dir", output_dir)] {
        let path = runtime.join(name);
        fs::write(&path, content.to_string_lossy().as_bytes())
            .with_context(|| format!("cannot write '{}'", path.display()))?;
    }
    Ok(())
}

/// The nested template folders (`helpers/`, `runtime/`): every file directly
/// inside, named `<folder>/<file>`.
struct NestedTemplates {
    templates: Vec<(String, String)>,
}

impl NestedTemplates {
    fn load(source: &GeneratorSource) -> Result<NestedTemplates> {
        let mut templates = Vec::new();
        for (alias, dir) in [
            ("helpers", source.helpers_dir()),
            ("runtime", source.runtime_dir()),
        ] {
            let mut names = Vec::new();
            for entry in fs::read_dir(&dir)
                .with_context(|| format!("parse nested templates: readDir {alias:?}"))?
            {
                let entry =
                    entry.with_context(|| format!("parse nested templates: readDir {alias:?}"))?;
                if !fs::metadata(entry.path())
                    .map(|m| m.is_dir())
                    .unwrap_or(false)
                {
                    names.push(entry.file_name().to_string_lossy().into_owned());
                }
            }
            names.sort();
            for name in names {
                let rel = format!("{alias}/{name}");
                let text = read_template(&dir.join(&name), &rel)
                    .map_err(|e| anyhow!("parse nested templates: {e:#}"))?;
                templates.push((rel, text));
            }
        }
        Ok(NestedTemplates { templates })
    }

    fn add_to(&self, engine: &mut Engine) -> Result<()> {
        for (name, text) in &self.templates {
            engine.add_template(name, text).map_err(|e| {
                anyhow!("parse nested templates: parse nested template {name:?}: {e}")
            })?;
        }
        Ok(())
    }

    fn engine(&self) -> Result<Engine> {
        let mut engine = Engine::new(LEFT_DELIM, RIGHT_DELIM);
        self.add_to(&mut engine)?;
        Ok(engine)
    }
}

fn read_template(path: &Path, name: &str) -> Result<String> {
    let bytes = fs::read(path).with_context(|| format!("cannot read template '{name}'"))?;
    String::from_utf8(bytes).map_err(|_| anyhow!("template '{name}' is not UTF-8 text"))
}

struct RenderContext<'s> {
    /// Template files held in memory rather than in `templates/`.
    packed: &'s PackedFiles,
    source_root: PathBuf,
    data: Value,
    host: HostConfig,
}

/// What one rendering thread owns.
struct Worker<'s> {
    host: RenderHost,
    packed: PackedReader<'s>,
}

impl RenderContext<'_> {
    fn worker(&self) -> Worker<'_> {
        Worker {
            host: self.host.host(),
            packed: self.packed.reader(),
        }
    }

    /// Renders `templates/<rel>` to `out`, unless its output is only whitespace.
    fn render_file(
        &self,
        base: &Engine,
        templates: &Path,
        rel: &str,
        out: &Path,
        worker: &mut Worker,
    ) -> Result<()> {
        let input = templates.join(rel);
        let name = template_name(&self.source_root, &input);
        let (text, mode) = match worker.packed.read(rel) {
            Some(read) => {
                let (bytes, mode) =
                    read.with_context(|| format!("cannot read template '{name}'"))?;
                let text = String::from_utf8(bytes)
                    .map_err(|_| anyhow!("template '{name}' is not UTF-8 text"))?;
                (text, mode)
            }
            None => {
                let text = read_template(&input, &name)?;
                (text, mode_of(&input).unwrap_or(0o644))
            }
        };
        let mut engine = base.clone();
        engine
            .add_template(&name, &text)
            .map_err(|e| anyhow!("{e}"))?;
        // In gomplate the nested templates are parsed after the file, so their
        // `define`s win over the file's own: when it has any, add them again
        // (as parsing them again would).
        if text.contains("define") || text.contains("block") {
            engine.overlay(base);
        }
        let rendered = engine
            .render(&name, &self.data, &mut worker.host)
            .map_err(|e| anyhow!("failed to render template {name}: {e}"))?;
        if all_whitespace(rendered.as_bytes()) {
            return Ok(());
        }
        write_with_mode(out, rendered.as_bytes(), mode)
            .with_context(|| format!("failed to write the output of template {name}"))
    }

    /// Phase 2: renders `files` into `out_dir` on a few threads.
    fn render_all(
        &self,
        base: &Engine,
        templates: &Path,
        files: &[String],
        out_dir: &Path,
    ) -> Result<()> {
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .clamp(1, 8)
            .min(files.len().max(1));
        let next = AtomicUsize::new(0);
        let first_failure = AtomicUsize::new(usize::MAX);
        let errors: Mutex<Vec<(usize, anyhow::Error)>> = Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| {
                    let mut worker = self.worker();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= files.len() || i > first_failure.load(Ordering::Relaxed) {
                            break;
                        }
                        let rel = &files[i];
                        if let Err(e) =
                            self.render_file(base, templates, rel, &out_dir.join(rel), &mut worker)
                        {
                            first_failure.fetch_min(i, Ordering::Relaxed);
                            errors.lock().expect("error list").push((i, e));
                        }
                    }
                });
            }
        });
        let mut errors = errors.into_inner().expect("error list");
        errors.sort_by_key(|(i, _)| *i);
        match errors.into_iter().next() {
            Some((_, e)) => Err(e),
            None => Ok(()),
        }
    }
}

/// A template's name: its path relative to the generator root (`templates/...`).
fn template_name(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// gomplate's `allWhitespace`: only space, tab, newline, carriage return, vertical tab.
pub fn all_whitespace(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b))
}

/// What every render host shares.
struct HostConfig {
    env: Arc<Env>,
    cwd: PathBuf,
    runtime_dir: PathBuf,
    output_dir: PathBuf,
    staging_dir: PathBuf,
}

impl HostConfig {
    fn host(&self) -> RenderHost {
        RenderHost::new(
            self.env.clone(),
            self.cwd.clone(),
            self.runtime_dir.clone(),
            self.output_dir.clone(),
            self.staging_dir.clone(),
        )
    }
}

/// The [`Host`] templates render with: `getenv` reads the given environment;
/// `file.Write` may only write inside the generator's `runtime/` folder or the
/// output folder (redirected into the staging folder).
pub struct RenderHost {
    env: Arc<Env>,
    cwd: PathBuf,
    runtime_dir: PathBuf,
    output_dir: PathBuf,
    staging_dir: PathBuf,
}

impl RenderHost {
    /// A host for a render writing into `output_dir` through `staging_dir`.
    pub fn new(
        env: Arc<Env>,
        cwd: PathBuf,
        runtime_dir: PathBuf,
        output_dir: PathBuf,
        staging_dir: PathBuf,
    ) -> RenderHost {
        RenderHost {
            env,
            cwd,
            runtime_dir,
            output_dir,
            staging_dir,
        }
    }

    /// Where a `file.Write` to `path` lands, or why it may not.
    pub fn resolve_write(&self, path: &str) -> Result<PathBuf, String> {
        let requested = lexical_clean(&self.cwd.join(path));
        let inside = |dir: &Path| requested.starts_with(dir) && requested != dir;
        if inside(&self.runtime_dir) {
            Ok(requested)
        } else if inside(&self.output_dir) {
            Ok(self
                .staging_dir
                .join(requested.strip_prefix(&self.output_dir).expect("inside")))
        } else {
            Err(format!(
                "file.Write to '{path}' is not allowed: templates may only write inside the generator's runtime folder or the output folder"
            ))
        }
    }
}

impl Host for RenderHost {
    fn getenv(&self, name: &str) -> Option<String> {
        self.env.get(name).cloned()
    }

    fn write_file(&mut self, path: &str, content: &[u8]) -> Result<(), String> {
        let dest = self.resolve_write(path)?;
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent)
                .map_err(|e| format!("failed to make dirs for {path}: {e}"))?;
        }
        let mode = mode_of(&dest).unwrap_or(0o644);
        write_with_mode(&dest, content, mode).map_err(|e| format!("failed to write {path}: {e:#}"))
    }
}

#[cfg(unix)]
fn mode_of(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path)
        .ok()
        .map(|m| m.permissions().mode() & 0o777)
}

#[cfg(not(unix))]
fn mode_of(_path: &Path) -> Option<u32> {
    None
}

#[cfg(unix)]
fn write_with_mode(path: &Path, content: &[u8], mode: u32) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(path)
        .with_context(|| format!("cannot open '{}' for writing", path.display()))?;
    file.write_all(content)
        .with_context(|| format!("cannot write '{}'", path.display()))
}

#[cfg(not(unix))]
fn write_with_mode(path: &Path, content: &[u8], _mode: u32) -> Result<()> {
    fs::write(path, content).with_context(|| format!("cannot write '{}'", path.display()))
}

#[cfg(unix)]
fn create_dirs(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(mode)
        .create(path)
        .with_context(|| format!("cannot create '{}'", path.display()))
}

#[cfg(not(unix))]
fn create_dirs(path: &Path, _mode: u32) -> Result<()> {
    fs::create_dir_all(path).with_context(|| format!("cannot create '{}'", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host() -> RenderHost {
        RenderHost::new(
            Arc::new(Env::from([("A".to_string(), "1".to_string())])),
            PathBuf::from("/site"),
            PathBuf::from("/gen/src/runtime"),
            PathBuf::from("/site/out"),
            PathBuf::from("/site/.deploykf-output-x"),
        )
    }

    #[test]
    fn whitespace_only_output_is_suppressed_like_gomplate() {
        assert!(all_whitespace(b""));
        assert!(all_whitespace(b" \t\r\n\x0b"));
        // Form feed is not whitespace for gomplate's EmptySkipper.
        assert!(!all_whitespace(b"\x0c"));
        assert!(!all_whitespace(b"\n#\n"));
    }

    #[test]
    fn file_write_is_confined_to_runtime_and_output() {
        let h = host();
        assert_eq!(
            h.resolve_write("/gen/src/templates/../runtime/x_json")
                .unwrap(),
            PathBuf::from("/gen/src/runtime/x_json")
        );
        assert_eq!(
            h.resolve_write("out/a/b.yaml").unwrap(),
            PathBuf::from("/site/.deploykf-output-x/a/b.yaml")
        );
        for bad in [
            "/etc/passwd",
            "out/../secret",
            "/gen/src/runtime",
            "../x",
            "/gen/src/templates/a",
        ] {
            let err = h.resolve_write(bad).unwrap_err();
            assert!(err.contains(bad), "{err}");
        }
    }

    #[test]
    fn getenv_reads_the_given_environment() {
        let h = host();
        assert_eq!(h.getenv("A").as_deref(), Some("1"));
        assert_eq!(h.getenv("PATH"), None);
    }

    #[test]
    fn writes_runtime_templates_verbatim() {
        let dir = tempfile::TempDir::new().unwrap();
        let runtime = dir.path().join("runtime");
        write_runtime_templates(
            &runtime,
            Path::new("/x/templates"),
            Path::new("./GENERATOR_OUTPUT"),
        )
        .unwrap();
        assert_eq!(
            fs::read_to_string(runtime.join("input_dir")).unwrap(),
            "/x/templates"
        );
        assert_eq!(
            fs::read_to_string(runtime.join("output_dir")).unwrap(),
            "./GENERATOR_OUTPUT"
        );
    }
}
