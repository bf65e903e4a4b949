//! Setting values the user gave; handed to an adapter only for names it declared.

use std::collections::BTreeMap;

use super::types::SettingSpec;

/// Values for adapter settings by name. `Debug` never shows values: some are secrets.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SettingValues {
    values: BTreeMap<String, String>,
}

impl SettingValues {
    /// No values.
    pub fn new() -> Self {
        Self::default()
    }

    /// Set a value (a later value for the same name wins).
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.values.insert(name.into(), value.into());
    }

    /// Names of the settings given.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }

    /// The value for `name`, if given.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// Fill declared settings that have no explicit value from their
    /// environment variables, read through `lookup` (tests pass a map).
    pub fn fill_from_env(
        &mut self,
        specs: &[SettingSpec],
        lookup: impl Fn(&str) -> Option<String>,
    ) {
        for spec in specs {
            if !self.values.contains_key(&spec.name)
                && let Some(value) = lookup(&spec.env).filter(|v| !v.is_empty())
            {
                self.values.insert(spec.name.clone(), value);
            }
        }
    }
}

impl std::fmt::Debug for SettingValues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.values.keys()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str, env: &str) -> SettingSpec {
        SettingSpec {
            name: name.into(),
            env: env.into(),
            secret: true,
            api_endpoint: false,
            help: String::new(),
        }
    }

    #[test]
    fn explicit_values_beat_environment_and_debug_hides_values() {
        let mut values = SettingValues::new();
        values.insert("token", "from-flag");
        let env =
            |name: &str| (name == "X_TOKEN" || name == "X_USER").then(|| format!("env-{name}"));
        values.fill_from_env(&[spec("token", "X_TOKEN"), spec("user", "X_USER")], env);
        assert_eq!(values.get("token"), Some("from-flag"));
        assert_eq!(values.get("user"), Some("env-X_USER"));
        let shown = format!("{values:?}");
        assert!(
            !shown.contains("from-flag") && !shown.contains("env-"),
            "{shown}"
        );
    }
}
