//! The engine micro-benchmark (`cargo bench -p gomplate`): lexing/parsing and
//! executing the real deployKF 0.1.5 generator templates, and decoding its
//! values, through the public API the way `deploykf-cmp generate` drives it
//! (one template set per file with the nested `helpers/` and `runtime/`
//! templates, phase 1's `runtime/` files included; dot `{"Values": ...}`, the
//! defaults merged with the sample values and a manifest repo).
//! `baseline_read_zip` reads the same files out of the zip, a same-run yardstick
//! for a loaded machine. Prints a message and measures nothing when
//! `../shared` is absent.

#[path = "../tests/support/fixtures.rs"]
mod fixtures;

use std::collections::HashMap;
use std::sync::OnceLock;

use divan::Bencher;
use gomplate::{Engine, Host, Map, Value};

const VERSION: &str = "0.1.5";
/// Where the generator notionally sits (`runtime/input_dir` names its `templates/`).
const GENERATOR: &str = "/generator";
/// The manifest repo, which the generator requires (as `scripts/bench-render` sets it).
const REPO_VALUES: &str = "argocd:\n  source:\n    repo:\n      \
    url: \"https://git.example.com/platform/deploykf.git\"\n      \
    revision: \"main\"\n      path: \"./GENERATOR_OUTPUT/\"\n";

fn main() {
    if fixtures::fixtures_dir().is_none() {
        return;
    }
    let f = fixture();
    println!(
        "deployKF {VERSION}: {} nested templates, {} template files ({} KiB), {} render to {} KiB",
        f.helpers.len(),
        f.templates.len(),
        f.templates.iter().map(|(_, t)| t.len()).sum::<usize>() / 1024,
        f.parsed.len(),
        render_all(&f.parsed, &f.data) / 1024,
    );
    divan::main();
}

/// The generator's sources and what the benchmarks start from.
struct Fixture {
    /// `default_values.yaml` and the sample values file.
    defaults: String,
    sample: String,
    /// The nested templates (`helpers/<file>`, `runtime/<file>`), in the
    /// order the CLI adds them; `runtime/` holds what phase 1 wrote there.
    helpers: Vec<(String, String)>,
    /// Every file under `templates/`, named as the CLI names it (`templates/...`).
    templates: Vec<(String, String)>,
    /// dot: `{"Values": ...}`.
    data: Value,
    /// Every template file's parsed set.
    parsed: Vec<(String, Engine)>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let generator = fixtures::generator(VERSION).expect("../shared/fixtures is present");
        let sample_path = fixtures::fixtures_dir()
            .unwrap()
            .join(format!("sample-values/sample-values-{VERSION}.yaml"));
        let sample = std::fs::read_to_string(&sample_path)
            .unwrap_or_else(|e| panic!("{}: {e}", sample_path.display()));
        let defaults = generator.file("default_values.yaml").to_string();

        let mut helpers: Vec<(String, String)> = generator
            .files_under("helpers")
            .map(|(name, text)| (name["generator/".len()..].to_string(), text.clone()))
            .collect();
        helpers.sort();
        // What the CLI writes into `runtime/` before rendering (`write_runtime_templates`).
        helpers.push(("runtime/input_dir".into(), format!("{GENERATOR}/templates")));
        helpers.push(("runtime/output_dir".into(), "/output".into()));
        let templates: Vec<(String, String)> = generator
            .files_under("templates")
            .map(|(name, text)| (name["generator/".len()..].to_string(), text.clone()))
            .collect();
        let data = dot(load_values(&defaults, &sample));

        // Phase 1: `.gomplateignore_template` writes the profile mappings
        // into `runtime/`, which later templates `tmpl.Exec`.
        let ignore = "templates/.gomplateignore_template";
        let text = templates.iter().find(|(name, _)| name == ignore);
        let text = text.expect("the generator has no .gomplateignore_template");
        let mut host = BenchHost::default();
        file_engine(&base_engine(&helpers), ignore, &text.1)
            .render(ignore, &data, &mut host)
            .unwrap_or_else(|e| panic!("{e}"));
        let mut written: Vec<(String, String)> = host
            .written
            .into_iter()
            .map(|(path, content)| {
                let file = path
                    .strip_prefix(&format!("{GENERATOR}/runtime/"))
                    .unwrap_or_else(|| panic!("phase 1 wrote outside runtime/: {path}"));
                (format!("runtime/{file}"), String::from_utf8(content).unwrap())
            })
            .collect();
        written.sort();
        helpers.extend(written);

        // Phase 2: every template file renders (a bad one fails the benchmark).
        let base = base_engine(&helpers);
        let parsed: Vec<(String, Engine)> = templates
            .iter()
            .map(|(name, text)| (name.clone(), file_engine(&base, name, text)))
            .collect();
        Fixture { defaults, sample, helpers, templates, data, parsed }
    })
}

/// The values as the CLI loads them: the sample values and the manifest repo
/// (which every user sets) merged over the defaults, then through YAML once
/// more (gomplate's `merge:` datasource).
fn load_values(defaults: &str, sample: &str) -> Value {
    let layer = |text: &str| match gomplate::yaml::decode(text).expect("values decode") {
        Value::Map(map) => map,
        other => panic!("values are a {}", other.type_name()),
    };
    let merged = gomplate::funcs::coll::merge_values(&layer(defaults), &layer(sample));
    let merged = gomplate::funcs::coll::merge_values(&merged, &layer(REPO_VALUES));
    let yaml = gomplate::yaml::encode(&Value::map(merged)).expect("values encode");
    gomplate::yaml::decode(&yaml).expect("merged values decode")
}

fn dot(values: Value) -> Value {
    let mut dot = Map::new();
    dot.insert("Values".into(), values);
    Value::map(dot)
}

/// The nested templates every file's set starts from.
fn base_engine(helpers: &[(String, String)]) -> Engine {
    let mut engine = Engine::new("{{<", ">}}");
    for (name, text) in helpers {
        engine.add_template(name, text).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    engine
}

/// One file's template set, as the CLI builds it.
fn file_engine(base: &Engine, name: &str, text: &str) -> Engine {
    let mut engine = base.clone();
    engine.add_template(name, text).unwrap_or_else(|e| panic!("{name}: {e}"));
    if text.contains("define") || text.contains("block") {
        engine.overlay(base);
    }
    engine
}

/// Renders every set; returns the bytes of output.
fn render_all(parsed: &[(String, Engine)], data: &Value) -> usize {
    let mut host = BenchHost::default();
    parsed
        .iter()
        .map(|(name, engine)| {
            let out = engine.render(name, data, &mut host);
            divan::black_box(out.unwrap_or_else(|e| panic!("{name}: {e}"))).len()
        })
        .sum()
}

/// An empty environment; `file.Write`s are kept in memory.
#[derive(Default)]
struct BenchHost {
    written: HashMap<String, Vec<u8>>,
}

impl Host for BenchHost {
    fn getenv(&self, _name: &str) -> Option<String> {
        None
    }
    fn write_file(&mut self, path: &str, content: &[u8]) -> Result<(), String> {
        self.written.insert(path.to_string(), content.to_vec());
        Ok(())
    }
}

/// Same-run yardstick: reading the generator's files out of the zip into memory.
#[divan::bench]
fn baseline_read_zip() -> usize {
    fixtures::generator(VERSION).unwrap().files.len()
}

mod parse {
    use super::*;

    /// Lexing and parsing the nested templates into a fresh set.
    #[divan::bench]
    fn helpers(bencher: Bencher) {
        let f = fixture();
        bencher.bench(|| base_engine(&f.helpers));
    }

    /// Lexing and parsing every template file into its own set (a clone of
    /// the nested templates' set, as the CLI does per file).
    #[divan::bench]
    fn all_templates(bencher: Bencher) {
        let f = fixture();
        let base = base_engine(&f.helpers);
        bencher.bench(|| {
            f.templates
                .iter()
                .filter(|(name, text)| {
                    divan::black_box(file_engine(&base, name, text)).has_template(name)
                })
                .count()
        });
    }
}

mod execute {
    use super::*;

    /// Executing every pre-parsed template file (nested `tmpl.Exec` and
    /// `template` calls of the helpers included).
    #[divan::bench]
    fn all_templates(bencher: Bencher) {
        let f = fixture();
        bencher.bench(|| render_all(&f.parsed, &f.data));
    }
}

mod values {
    use super::*;

    /// Decoding `default_values.yaml`.
    #[divan::bench]
    fn decode_defaults(bencher: Bencher) {
        let f = fixture();
        bencher.bench(|| gomplate::yaml::decode(&f.defaults).unwrap());
    }

    /// Decoding the sample values file.
    #[divan::bench]
    fn decode_sample(bencher: Bencher) {
        let f = fixture();
        bencher.bench(|| gomplate::yaml::decode(&f.sample).unwrap());
    }

    /// The whole load: decode both, merge, encode and decode the merge.
    #[divan::bench]
    fn load_merged(bencher: Bencher) {
        let f = fixture();
        bencher.bench(|| load_values(&f.defaults, &f.sample));
    }
}
