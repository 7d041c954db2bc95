//! [`ChannelRegistry`]: the configs of registered channels, looked up by name, by canonical hash
//! or by wire hint, with a configurable default for channels nobody registered.
//!
//! Promises: every stored config passed [`ChannelConfig::validate`]; two names with one 64-bit
//! hash are never both registered ([`RegistryError::HashCollision`]); lookups by name compare the
//! text, not only the hash; an unregistered channel resolves to the default config (by default
//! [`Visibility::Global`], fail-open; set [`Visibility::SubnetLocal`] for fail-closed). Not here:
//! locking (the registry is a plain value: share it behind a lock or keep one per task).

use std::collections::HashMap;

use super::config::{ChannelConfig, Visibility};
use super::error::RegistryError;
use super::hash::{ChannelHash, ChannelHint};
use super::name::ChannelName;
use super::pattern::ChannelPattern;

/// A config found for a channel, and whether it came from a registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolved<'a> {
    /// The config that applies.
    pub config: &'a ChannelConfig,
    /// `true` when the channel is registered, `false` when the default applied.
    pub registered: bool,
}

/// Registered channels and the default config for the rest.
#[derive(Debug, Clone, Default)]
pub struct ChannelRegistry {
    by_hash: HashMap<ChannelHash, (ChannelName, ChannelConfig)>,
    by_hint: HashMap<ChannelHint, Vec<ChannelHash>>,
    default: ChannelConfig,
}

impl ChannelRegistry {
    /// An empty registry whose default is [`ChannelConfig::default`] (global visibility).
    pub fn new() -> ChannelRegistry {
        ChannelRegistry::default()
    }

    /// An empty registry with `default` for unregistered channels.
    pub fn with_default(default: ChannelConfig) -> Result<ChannelRegistry, RegistryError> {
        default.validate()?;
        Ok(ChannelRegistry {
            default,
            ..ChannelRegistry::default()
        })
    }

    /// Replaces the default config for unregistered channels.
    pub fn set_default(&mut self, default: ChannelConfig) -> Result<(), RegistryError> {
        default.validate()?;
        self.default = default;
        Ok(())
    }

    /// Sets only the default visibility (for example [`Visibility::SubnetLocal`], fail-closed).
    pub fn set_default_visibility(&mut self, visibility: Visibility) -> Result<(), RegistryError> {
        let mut d = self.default.clone();
        d.visibility = visibility;
        self.set_default(d)
    }

    /// The default config for unregistered channels.
    pub fn default_config(&self) -> &ChannelConfig {
        &self.default
    }

    /// Registers `name` with `config`.
    pub fn register(
        &mut self,
        name: ChannelName,
        config: ChannelConfig,
    ) -> Result<(), RegistryError> {
        config.validate()?;
        let hash = name.hash();
        if let Some((existing, _)) = self.by_hash.get(&hash) {
            return Err(if *existing == name {
                RegistryError::AlreadyRegistered(name)
            } else {
                RegistryError::HashCollision {
                    name,
                    existing: existing.clone(),
                }
            });
        }
        self.by_hint.entry(name.hint()).or_default().push(hash);
        self.by_hash.insert(hash, (name, config));
        Ok(())
    }

    /// Replaces the config of a registered channel, returning the old one.
    pub fn update(
        &mut self,
        name: &ChannelName,
        config: ChannelConfig,
    ) -> Result<ChannelConfig, RegistryError> {
        config.validate()?;
        match self.by_hash.get_mut(&name.hash()) {
            Some((n, c)) if n == name => Ok(std::mem::replace(c, config)),
            _ => Err(RegistryError::NotRegistered(name.clone())),
        }
    }

    /// Removes a registration, returning its config (`None` if `name` was not registered).
    pub fn unregister(&mut self, name: &ChannelName) -> Option<ChannelConfig> {
        let hash = name.hash();
        match self.by_hash.get(&hash) {
            Some((n, _)) if n == name => {}
            _ => return None,
        }
        let (_, config) = self.by_hash.remove(&hash)?;
        if let Some(list) = self.by_hint.get_mut(&name.hint()) {
            list.retain(|h| *h != hash);
            if list.is_empty() {
                self.by_hint.remove(&name.hint());
            }
        }
        Some(config)
    }

    /// The config of a registered channel.
    pub fn get(&self, name: &ChannelName) -> Option<&ChannelConfig> {
        match self.by_hash.get(&name.hash()) {
            Some((n, c)) if n == name => Some(c),
            _ => None,
        }
    }

    /// The registered channel with canonical hash `hash`.
    pub fn get_by_hash(&self, hash: ChannelHash) -> Option<(&ChannelName, &ChannelConfig)> {
        self.by_hash.get(&hash).map(|(n, c)| (n, c))
    }

    /// The registered channels whose wire hint is `hint` (several names can share a hint).
    pub fn by_hint(
        &self,
        hint: ChannelHint,
    ) -> impl Iterator<Item = (&ChannelName, &ChannelConfig)> + '_ {
        self.by_hint
            .get(&hint)
            .into_iter()
            .flatten()
            .filter_map(|h| self.get_by_hash(*h))
    }

    /// The config that applies to `name`: its registration, or the default.
    pub fn resolve(&self, name: &ChannelName) -> Resolved<'_> {
        match self.get(name) {
            Some(config) => Resolved {
                config,
                registered: true,
            },
            None => Resolved {
                config: &self.default,
                registered: false,
            },
        }
    }

    /// The config that applies to the channel with hash `hash`: its registration, or the default.
    pub fn resolve_hash(&self, hash: ChannelHash) -> Resolved<'_> {
        match self.by_hash.get(&hash) {
            Some((_, config)) => Resolved {
                config,
                registered: true,
            },
            None => Resolved {
                config: &self.default,
                registered: false,
            },
        }
    }

    /// The registered channels that match `pattern`, sorted by name.
    pub fn matching(&self, pattern: &ChannelPattern) -> Vec<&ChannelName> {
        let mut v: Vec<&ChannelName> = self
            .by_hash
            .values()
            .map(|(n, _)| n)
            .filter(|n| pattern.matches(n))
            .collect();
        v.sort();
        v
    }

    /// Every registration, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&ChannelName, &ChannelConfig)> + '_ {
        self.by_hash.values().map(|(n, c)| (n, c))
    }

    /// The number of registered channels.
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    /// Whether no channel is registered.
    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_names_with_one_hash_are_refused() {
        let a = ChannelName::parse("sensors/a").unwrap();
        let forged = ChannelName::forged("sensors/b", a.hash());
        let mut r = ChannelRegistry::new();
        r.register(a.clone(), ChannelConfig::default()).unwrap();
        let err = r
            .register(forged.clone(), ChannelConfig::default())
            .unwrap_err();
        assert_eq!(
            err,
            RegistryError::HashCollision {
                name: forged.clone(),
                existing: a.clone()
            }
        );
        assert!(err.to_string().contains("sensors/b"));
        // Lookups by name compare the text: the forged name is not registered.
        assert!(r.get(&forged).is_none());
        assert!(!r.resolve(&forged).registered);
        assert!(r.unregister(&forged).is_none());
        assert_eq!(r.len(), 1);
        assert!(r.update(&forged, ChannelConfig::default()).is_err());
    }
}
