//! The plugin's output guard: `plugin generate` never succeeds with a stream
//! that holds no Kubernetes object (empty, only comments or `---`, only empty
//! documents), because Argo CD would then prune every resource of the
//! Application. A site that really wants an empty Application opts in with
//! [`ALLOW_EMPTY_ENV`] ([`crate::settings::Settings::allow_empty`]).

use anyhow::{bail, Result};
use gomplate::Value;

use crate::manifests;
use crate::settings::ALLOW_EMPTY_ENV;

/// Fails, naming `component`, unless `manifests` holds at least one
/// Kubernetes object: a document that is a map with a non-empty `kind`.
pub fn ensure_objects(manifests: &[u8], component: &str) -> Result<()> {
    let text = String::from_utf8_lossy(manifests);
    if manifests::decode_stream(&text).into_iter().any(holds_object) {
        return Ok(());
    }
    bail!(
        "the component '{component}' rendered no Kubernetes object (its output is empty or only comments): \
         refusing to print an empty manifest list, which would make Argo CD prune every resource of the \
         Application. Check the component's kustomization or chart and its values; to deploy an empty \
         Application on purpose, set {ALLOW_EMPTY_ENV}=true in the plugin's environment"
    )
}

/// Whether one document is a Kubernetes object; an undecodable document
/// counts as one (kubectl and Argo CD report it better than a guess here).
fn holds_object(doc: Result<Value>) -> bool {
    match doc {
        Ok(Value::Map(map)) => map.get("kind").and_then(Value::as_str).is_some_and(|k| !k.is_empty()),
        Ok(_) => false,
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_without_objects_are_refused() {
        for empty in ["", "\n", "---\n", "# Source: x\n---\n# only a comment\n", "{}\n", "---\nnull\n---\n[]\n"] {
            let err = ensure_objects(empty.as_bytes(), "./manifests/app/").unwrap_err().to_string();
            assert!(err.contains("'./manifests/app/' rendered no Kubernetes object"), "{empty:?}: {err}");
        }
        ensure_objects(b"# Source: a\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n", "c").unwrap();
        ensure_objects(b"---\n{}\n---\nkind: Namespace\n", "c").unwrap();
    }
}
