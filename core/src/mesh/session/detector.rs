//! The per-peer failure detector: healthy, suspected after a silence, failed after a longer
//! one, recovered when anything authentic arrives again. Pure state and time; no I/O.

use std::time::Instant;

use super::DetectorConfig;

/// A peer's health as seen by this node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Health {
    /// Heard from within `suspect_after`.
    Healthy,
    /// Silent for at least `suspect_after`.
    Suspected,
    /// Silent for at least `fail_after`.
    Failed,
}

/// A change the detector reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HealthChange {
    /// Healthy -> Suspected.
    Suspected,
    /// Suspected -> Failed.
    Failed,
    /// Suspected or Failed -> Healthy.
    Recovered,
}

/// Silence-based failure detector for one peer.
#[derive(Debug, Clone)]
pub struct FailureDetector {
    config: DetectorConfig,
    health: Health,
    last_heard: Instant,
}

impl FailureDetector {
    /// A healthy detector that last heard from the peer at `now`.
    pub fn new(config: DetectorConfig, now: Instant) -> Self {
        FailureDetector {
            config,
            health: Health::Healthy,
            last_heard: now,
        }
    }

    /// Current health.
    pub fn health(&self) -> Health {
        self.health
    }

    /// When the peer was last heard from.
    pub fn last_heard(&self) -> Instant {
        self.last_heard
    }

    /// Something authentic arrived from the peer.
    pub fn heard(&mut self, now: Instant) -> Option<HealthChange> {
        self.last_heard = self.last_heard.max(now);
        let was = std::mem::replace(&mut self.health, Health::Healthy);
        (was != Health::Healthy).then_some(HealthChange::Recovered)
    }

    /// Advances time; reports at most one change per call (call again for the next).
    pub fn tick(&mut self, now: Instant) -> Option<HealthChange> {
        let silent = now.saturating_duration_since(self.last_heard);
        match self.health {
            Health::Healthy if silent >= self.config.suspect_after => {
                self.health = Health::Suspected;
                Some(HealthChange::Suspected)
            }
            Health::Suspected if silent >= self.config.fail_after => {
                self.health = Health::Failed;
                Some(HealthChange::Failed)
            }
            _ => None,
        }
    }

    /// When [`tick`](Self::tick) may next report a change.
    pub fn deadline(&self) -> Option<Instant> {
        match self.health {
            Health::Healthy => Some(self.last_heard + self.config.suspect_after),
            Health::Suspected => Some(self.last_heard + self.config.fail_after),
            Health::Failed => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn transitions() {
        let t0 = Instant::now();
        let cfg = DetectorConfig {
            heartbeat_interval: Duration::from_millis(100),
            suspect_after: Duration::from_millis(300),
            fail_after: Duration::from_millis(800),
        };
        let mut d = FailureDetector::new(cfg, t0);
        assert_eq!(d.tick(t0 + Duration::from_millis(299)), None);
        assert_eq!(d.deadline(), Some(t0 + Duration::from_millis(300)));
        assert_eq!(
            d.tick(t0 + Duration::from_millis(300)),
            Some(HealthChange::Suspected)
        );
        assert_eq!(d.tick(t0 + Duration::from_millis(500)), None);
        assert_eq!(
            d.tick(t0 + Duration::from_millis(800)),
            Some(HealthChange::Failed)
        );
        assert_eq!(d.deadline(), None);
        assert_eq!(
            d.heard(t0 + Duration::from_millis(900)),
            Some(HealthChange::Recovered)
        );
        assert_eq!(d.health(), Health::Healthy);
        assert_eq!(d.heard(t0 + Duration::from_millis(901)), None);
    }
}
