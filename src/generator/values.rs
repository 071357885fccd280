//! The values a generator renders with (`.Values`): the generator's
//! `default_values.yaml` with the user's `--values` files merged over it, the
//! way the Go CLI sets up gomplate (a `Values=merge:Values_N|...|Values_0|default`
//! context): maps merge recursively, lists and scalars (also `null`) replace,
//! later files win. Files are read with the engine's YAML decoder, and a merged
//! result goes through YAML once more (gomplate's `merge:` datasource encodes
//! the merge with `toYAML` and decodes it again).
//!
//! Layers are held in memory ([`Layer`]): a values file read once, or text
//! such as the plugin's `values` parameter, each named in errors.
//!
//! A values file holds one YAML document: gomplate would read only the first
//! and ignore the rest without a word, so a second document is an error
//! naming the file and its line (see COMPATIBILITY.md).

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Result};
use gomplate::{Map, Value};

/// One values layer over the generator's defaults: its YAML text and how
/// errors name it (`values file 'a.yaml'`).
#[derive(Clone, Debug)]
pub struct Layer {
    pub label: String,
    pub text: String,
}

impl Layer {
    /// The values file `path`, read (see [`read_values_file`]).
    pub fn read(path: &Path) -> Result<Layer> {
        let text = read_values_file(path, "values file")?;
        Ok(Layer { label: format!("values file '{}'", path.display()), text })
    }

    /// Every file of `paths`, in order; all are read before any is decoded,
    /// so a missing file is reported first.
    pub fn read_all(paths: &[PathBuf]) -> Result<Vec<Layer>> {
        paths.iter().map(|path| Layer::read(path)).collect()
    }

    /// The layer's top-level map.
    pub fn map(&self) -> Result<Map> {
        parse_map(&self.text, &self.label)
    }
}

/// Loads `default_values.yaml` and `layers` (in the order given, later ones
/// win) into the merged `.Values` map.
pub fn load(default_values: &Path, layers: &[Layer]) -> Result<Value> {
    // The generator is unpacked in a temporary folder: name the file as it is in the generator.
    let defaults = parse_map(
        &crate::user_input::read_file(default_values, "generator file")?,
        "generator file 'default_values.yaml'",
    )?;
    if layers.is_empty() {
        return Ok(Value::map(defaults));
    }
    let mut maps = vec![defaults];
    for layer in layers {
        maps.push(layer.map()?);
    }
    let layers = maps;
    let merged = Value::map(merge_layers(layers));
    let yaml = gomplate::yaml::encode(&merged)
        .map_err(|e| anyhow!("cannot merge the values files: {e}"))?;
    let reparsed =
        gomplate::yaml::decode(&yaml).map_err(|e| anyhow!("cannot merge the values files: {e}"))?;
    match reparsed {
        Value::Map(_) => Ok(reparsed),
        Value::Nil | Value::Missing => Ok(Value::map(Map::new())),
        other => bail!(
            "cannot merge the values files: the merge produced a {}",
            other.type_name()
        ),
    }
}

/// Reads the user's values file `path` (bounded, see
/// [`crate::user_input::read_file`]) and checks it holds one document;
/// `what` names it in errors.
pub fn read_values_file(path: &Path, what: &str) -> Result<String> {
    let text = crate::user_input::read_file(path, what)?;
    single_document(&text).map_err(|line| {
        anyhow!(
            "{what} '{}': line {line} starts a second YAML document, which would be ignored: \
             put all values in one document (remove the '---' line) or split them into several values files",
            path.display()
        )
    })?;
    Ok(text)
}

/// `Err(line)` when `text` holds content after its first document: the line
/// of the `---` (or `...`) marker that ends that document. Document markers
/// sit at column 0, where no scalar of the document can continue.
pub fn single_document(text: &str) -> Result<(), usize> {
    // The document holding content first, and the open document with the line of its marker.
    let (mut with_content, mut doc, mut doc_line) = (None, 0, 1);
    for (i, line) in text.lines().enumerate() {
        let after = |m: &str| line.strip_prefix(m).filter(|rest| rest.is_empty() || rest.starts_with([' ', '\t']));
        let content = if let Some(rest) = after("---") {
            (doc, doc_line) = (doc + 1, i + 1);
            let rest = rest.trim();
            !rest.is_empty() && !rest.starts_with('#')
        } else if after("...").is_some() {
            (doc, doc_line) = (doc + 1, i + 1);
            false
        } else {
            let trimmed = line.trim();
            !(trimmed.is_empty() || trimmed.starts_with('#') || line.starts_with('%'))
        };
        if content {
            match with_content {
                None => with_content = Some(doc),
                Some(first) if first != doc => return Err(doc_line),
                Some(_) => {}
            }
        }
    }
    Ok(())
}

/// Decodes YAML text that must hold a map (empty text is an empty map); errors name `label`.
fn parse_map(text: &str, label: &str) -> Result<Map> {
    let value = gomplate::yaml::decode(text).map_err(|e| anyhow!("{label}: {e}"))?;
    match value {
        Value::Map(map) => Ok(std::sync::Arc::unwrap_or_clone(map)),
        Value::Nil | Value::Missing => Ok(Map::new()),
        other => bail!(
            "{label}: the top level must be a map of values, found {} (merge: can only merge maps)",
            describe(&other)
        ),
    }
}

fn describe(value: &Value) -> &'static str {
    match value {
        Value::List(_) => "a list",
        Value::String(_) => "a string",
        Value::Int(_) | Value::Float(_) => "a number",
        Value::Bool(_) => "a boolean",
        _ => "no map",
    }
}

/// Merges layers from lowest to highest priority exactly like gomplate's
/// `coll.Merge(highest, ..., lowest)`: starting from the highest layer, each
/// lower layer is merged under the result so far.
pub fn merge_layers(mut layers: Vec<Map>) -> Map {
    let Some(mut merged) = layers.pop() else {
        return Map::new();
    };
    while let Some(lower) = layers.pop() {
        merged = gomplate::funcs::coll::merge_values(&lower, &merged);
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, Value)]) -> Map {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn a_second_document_is_found_with_its_line() {
        for one in ["a: 1\n", "---\na: 1\n", "# c\n---\na: |\n  x\n  ---\n", "a: 1\n---\n# only a comment\n", "a: 1\n...\n", "--- {a: 1}\n"] {
            assert_eq!(single_document(one), Ok(()), "{one:?}");
        }
        assert_eq!(single_document("a: 1\n---\nb: 2\n"), Err(2));
        assert_eq!(single_document("---\na: 1\n\n--- # two\n\nb: 2\n"), Err(4));
        assert_eq!(single_document("a: 1\n--- {b: 2}\n"), Err(2));
        assert_eq!(single_document("a: 1\n...\nb: 2\n"), Err(2));
        let dir = tempfile::TempDir::new().unwrap();
        let file = dir.path().join("values.yaml");
        std::fs::write(&file, "a: 1\n---\nb: 2\n").unwrap();
        let err = read_values_file(&file, "values file").unwrap_err().to_string();
        assert!(err.contains("values.yaml': line 2 starts a second YAML document"), "{err}");
    }

    #[test]
    fn maps_merge_recursively_and_later_layers_win() {
        let defaults = map(&[
            (
                "a",
                Value::map(map(&[("x", 1i64.into()), ("y", 2i64.into())])),
            ),
            ("list", Value::list(vec![1i64.into(), 2i64.into()])),
            ("keep", "d".into()),
        ]);
        let first = map(&[
            ("a", Value::map(map(&[("y", 20i64.into())]))),
            ("list", Value::list(vec![9i64.into()])),
        ]);
        let second = map(&[
            ("a", Value::map(map(&[("z", 300i64.into())]))),
            ("keep", Value::Nil),
        ]);
        let merged = merge_layers(vec![defaults, first, second]);
        assert_eq!(
            merged,
            map(&[
                (
                    "a",
                    Value::map(map(&[
                        ("x", 1i64.into()),
                        ("y", 20i64.into()),
                        ("z", 300i64.into())
                    ]))
                ),
                ("list", Value::list(vec![9i64.into()])),
                ("keep", Value::Nil),
            ])
        );
    }

    #[test]
    fn merges_right_to_left_like_coll_merge() {
        // default k={a:1}, file0 k="s", file1 k={b:2}. gomplate computes
        // M(default, M(file0, file1)) = M({a:1}, {b:2}) = {a:1, b:2}
        // (a left fold would give {b:2}).
        let defaults = map(&[("k", Value::map(map(&[("a", 1i64.into())])))]);
        let file0 = map(&[("k", "s".into())]);
        let file1 = map(&[("k", Value::map(map(&[("b", 2i64.into())])))]);
        let merged = merge_layers(vec![defaults, file0, file1]);
        assert_eq!(
            merged,
            map(&[(
                "k",
                Value::map(map(&[("a", 1i64.into()), ("b", 2i64.into())]))
            )])
        );
    }

    #[test]
    fn a_map_replaces_a_scalar_and_a_scalar_replaces_a_map() {
        let defaults = map(&[
            ("k", "s".into()),
            ("m", Value::map(map(&[("a", 1i64.into())]))),
        ]);
        let over = map(&[
            ("k", Value::map(map(&[("b", true.into())]))),
            ("m", false.into()),
        ]);
        assert_eq!(
            merge_layers(vec![defaults, over]),
            map(&[
                ("k", Value::map(map(&[("b", true.into())]))),
                ("m", false.into())
            ])
        );
    }

    #[test]
    fn missing_values_file_names_it() {
        let values = [PathBuf::from("/nonexistent/values.yaml")];
        let err = Layer::read_all(&values).unwrap_err();
        assert!(format!("{err:#}")
            .starts_with("values file '/nonexistent/values.yaml': cannot read it"));
    }
}
