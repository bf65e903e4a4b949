//! Putting deleted manifests back under their tags from the audit log.
