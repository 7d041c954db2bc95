//! Builds the networked adapters (and the mesh adapter) from their configuration, or explains
//! that this build lacks one.

use std::sync::Arc;

use super::Adapter;
use crate::config::AdapterConfig;
use crate::error::{Error, Result};

/// The adapter for a non-memory `config`; a `config` error naming `adapter.type` when its cargo
/// feature is not compiled in.
pub(crate) fn remote(config: &AdapterConfig) -> Result<Arc<dyn Adapter>> {
    match config {
        #[cfg(feature = "redis")]
        AdapterConfig::Redis(c) => Ok(Arc::new(super::redis::RedisAdapter::new(c.clone())?)),
        #[cfg(feature = "jetstream")]
        AdapterConfig::JetStream(c) => Ok(Arc::new(super::jetstream::JetStreamAdapter::new(
            c.clone(),
        )?)),
        AdapterConfig::Mesh(c) => Ok(Arc::new(
            crate::mesh::bus_adapter::MeshAdapter::from_config(c)?,
        )),
        other => Err(Error::config(
            "adapter.type",
            format!(
                "this build has no `{}` adapter (enable the cargo feature of the same name)",
                type_name(other)
            ),
        )),
    }
}

fn type_name(config: &AdapterConfig) -> &'static str {
    match config {
        AdapterConfig::Memory { .. } => "memory",
        AdapterConfig::Redis(_) => "redis",
        AdapterConfig::JetStream(_) => "jetstream",
        AdapterConfig::Mesh(_) => "mesh",
    }
}

#[cfg(all(test, not(feature = "redis")))]
mod tests {
    use crate::{EventBus, EventBusConfig};

    #[test]
    fn an_adapter_not_compiled_in_is_a_config_error() {
        let cfg =
            EventBusConfig::from_json(r#"{"adapter":{"type":"redis","url":"redis://h"}}"#).unwrap();
        let err = EventBus::new(cfg).err().unwrap();
        assert_eq!(err.key(), Some("adapter.type"), "{err}");
    }
}
