//! Adding installed adapters to a catalog at start-up.

use crate::adapters::AdapterCatalog;
use crate::runtime::{AdapterEngine, AdapterSource, Permissions, digest_of};

use super::store::InstalledStore;

/// Load every installed adapter after the bundled ones in `catalog`, each
/// limited to its grants. A broken one (file missing or changed since the
/// install, no longer loadable, a name now taken) is skipped and reported in
/// the returned warnings: one bad install must not stop every command.
pub fn add_installed(
    engine: &AdapterEngine,
    catalog: &mut AdapterCatalog,
    store: &InstalledStore,
) -> Vec<String> {
    let records = match store.list() {
        Ok(r) => r,
        Err(e) => return vec![format!("installed adapters ignored: {e}")],
    };
    let mut warnings = Vec::new();
    for record in records {
        let skip = |why: String| {
            format!(
                "installed adapter `{}` skipped: {why}; reinstall it with `regent adapter install`",
                record.name
            )
        };
        if catalog.get(&record.name).is_some() {
            warnings.push(skip("an adapter of that name is already loaded".into()));
            continue;
        }
        let path = store.component_path(&record);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                warnings.push(skip(format!("reading {}: {e}", path.display())));
                continue;
            }
        };
        let digest = digest_of(&bytes);
        if digest != record.component_digest {
            warnings.push(skip(format!(
                "{} has digest {digest}, but {} was installed",
                path.display(),
                record.component_digest
            )));
            continue;
        }
        let source = AdapterSource::Installed {
            from: record.source.to_string(),
        };
        match engine.load_lazily(source, bytes, Some(&digest)) {
            Ok(loaded) if loaded.name() == record.name => {
                catalog.add(loaded.with_permissions(Permissions::Granted(record.grants.clone())));
            }
            Ok(loaded) => warnings.push(skip(format!(
                "its component now calls itself `{}`",
                loaded.name()
            ))),
            Err(e) => warnings.push(skip(e.to_string())),
        }
    }
    warnings
}
