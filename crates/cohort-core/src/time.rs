//! Time as the domain sees it: milliseconds since the Unix epoch, from an injected clock.

/// An instant, in milliseconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Milliseconds since the epoch.
    pub fn millis(self) -> i64 {
        self.0
    }

    /// The `updatedAt` of a change made at `self` to something last changed at `prior`: never
    /// earlier than `self` and always after `prior`, so every change gives a new version (two
    /// changes within one millisecond, or a clock that stepped back, included).
    pub fn next_after(self, prior: Timestamp) -> Timestamp {
        Timestamp(self.0.max(prior.0.saturating_add(1)))
    }
}

/// Where "now" comes from, so tests can fix it.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> Timestamp;
}
