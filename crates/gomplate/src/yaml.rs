//! YAML as gomplate 3.11 reads and writes it (its yaml.v3 fork): decoding into
//! [`Value`](crate::Value)s with yaml.v3's type resolution, errors carrying the
//! line; encoding like `yaml.v3` with indent 2 (`data.ToYAML`/`toYAML`).
