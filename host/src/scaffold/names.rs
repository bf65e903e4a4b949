//! The adapter name and the identifiers derived from it.

use super::ScaffoldError;

/// The longest adapter name the host accepts in `info().name`.
pub const MAX_NAME: usize = 32;

/// An adapter name that passed validation, with its derived spellings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdapterName {
    /// `acme-registry`: `info().name`, settings prefix, `--repo-container-registry` value.
    pub name: String,
}

impl AdapterName {
    /// Check `name` against the host's rules and the bundled adapters.
    pub fn parse(name: &str) -> Result<Self, ScaffoldError> {
        let invalid = |why: &str| {
            ScaffoldError::Invalid(format!(
                "`{name}` is not a valid adapter name: {why} (e.g. `acme-registry`)"
            ))
        };
        if name.is_empty() {
            return Err(invalid("it is empty"));
        }
        if name.len() > MAX_NAME {
            return Err(invalid(&format!("it is longer than {MAX_NAME} characters")));
        }
        if !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(invalid("use only lowercase letters a-z, digits and `-`"));
        }
        if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
            return Err(invalid("it must start with a letter"));
        }
        if name.ends_with('-') || name.contains("--") {
            return Err(invalid("`-` must separate words"));
        }
        if bundled_names().any(|bundled| bundled == name) {
            return Err(ScaffoldError::Invalid(format!(
                "`{name}` is the name of an adapter bundled with regent; choose another name \
                 (e.g. `{name}-custom`), or improve the bundled one in regent's repository"
            )));
        }
        Ok(Self {
            name: name.to_owned(),
        })
    }

    /// Cargo package: `acme-registry-regent-adapter`.
    pub fn package(&self) -> String {
        format!("{}-regent-adapter", self.name)
    }

    /// The built file: `acme_registry_regent_adapter.wasm`.
    pub fn wasm_file(&self) -> String {
        format!("{}.wasm", self.package().replace('-', "_"))
    }

    /// Environment-variable infix: `ACME_REGISTRY`.
    pub fn upper_snake(&self) -> String {
        self.name.to_ascii_uppercase().replace('-', "_")
    }

    /// Rust type: `AcmeRegistryAdapter`.
    pub fn type_name(&self) -> String {
        let mut out: String = self.words().collect();
        out.push_str("Adapter");
        out
    }

    /// Human name: `Acme Registry`.
    pub fn title(&self) -> String {
        self.words().collect::<Vec<_>>().join(" ")
    }

    fn words(&self) -> impl Iterator<Item = String> + '_ {
        self.name.split('-').map(|word| {
            let mut chars = word.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
    }
}

/// Names of the adapters bundled in this binary (`regent-adapter-<name>` packages).
pub fn bundled_names() -> impl Iterator<Item = &'static str> {
    crate::adapters::bundled_components()
        .iter()
        .filter_map(|(package, _)| package.strip_prefix("regent-adapter-"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(name: &str) -> String {
        match AdapterName::parse(name) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("{name:?} was accepted"),
        }
    }

    #[test]
    fn derives_identifiers() {
        let n = AdapterName::parse("acme-registry2").expect("valid");
        assert_eq!(n.package(), "acme-registry2-regent-adapter");
        assert_eq!(n.wasm_file(), "acme_registry2_regent_adapter.wasm");
        assert_eq!(n.upper_snake(), "ACME_REGISTRY2");
        assert_eq!(n.type_name(), "AcmeRegistry2Adapter");
        assert_eq!(n.title(), "Acme Registry2");
    }

    #[test]
    fn refuses_bad_names_with_reasons() {
        assert!(refused("").contains("empty"));
        assert!(refused("Acme").contains("lowercase"));
        assert!(refused("acme_x").contains("lowercase"));
        assert!(refused("1acme").contains("start with a letter"));
        assert!(refused("acme-").contains("separate"));
        assert!(refused(&"a".repeat(MAX_NAME + 1)).contains("longer"));
        assert!(AdapterName::parse(&"a".repeat(MAX_NAME)).is_ok());
    }

    #[test]
    fn refuses_every_bundled_name() {
        let bundled: Vec<_> = bundled_names().collect();
        assert!(bundled.contains(&"default"), "{bundled:?}");
        for name in bundled {
            assert!(refused(name).contains("bundled"), "{name}");
        }
    }
}
