//! The limit on failed sign-ins: per client address and per account, counted on this server
//! over a sliding window, in bounded memory.

use crate::error::{ServiceError, ServiceResult};

/// Failed sign-ins one client address may make in [`FAILED_SIGN_IN_WINDOW_MS`].
pub const MAX_FAILED_SIGN_INS: usize = 10;

/// The window failed sign-ins are counted over: 5 minutes.
pub const FAILED_SIGN_IN_WINDOW_MS: i64 = 5 * 60_000;

/// Keys kept at most; the oldest are dropped past it, so a flood of addresses or accounts
/// costs bounded memory.
const FAILED_SIGN_IN_ADDRESSES: usize = 10_000;

/// Recent failed sign-ins per key (a client address, or an account), on this server.
pub struct FailedSignIns<K>(std::sync::Mutex<std::collections::HashMap<K, Vec<i64>>>);

impl<K> Default for FailedSignIns<K> {
    fn default() -> Self {
        Self(std::sync::Mutex::new(std::collections::HashMap::new()))
    }
}

impl<K: std::hash::Hash + Eq + Clone> FailedSignIns<K> {
    /// Refuses `key` (429, saying `whose`: "your address", "this account") while it has
    /// [`MAX_FAILED_SIGN_INS`] failures in the window.
    pub fn admit(&self, key: &K, now: cohort_core::Timestamp, whose: &str) -> ServiceResult<()> {
        let Ok(mut m) = self.0.lock() else { return Ok(()) };
        let Some(times) = m.get_mut(key) else { return Ok(()) };
        times.retain(|t| now.millis() - t < FAILED_SIGN_IN_WINDOW_MS);
        match times.first() {
            Some(oldest) if times.len() >= MAX_FAILED_SIGN_INS => {
                let minutes = ((oldest + FAILED_SIGN_IN_WINDOW_MS - now.millis() + 59_999) / 60_000).max(1);
                Err(ServiceError::TooMany(format!(
                    "too many failed sign-ins for {whose}; try again in {minutes} minute{}",
                    if minutes == 1 { "" } else { "s" }
                )))
            }
            _ => Ok(()),
        }
    }

    pub fn fail(&self, key: &K, now: cohort_core::Timestamp) {
        let Ok(mut m) = self.0.lock() else { return };
        if m.len() >= FAILED_SIGN_IN_ADDRESSES && !m.contains_key(key) {
            m.retain(|_, times| times.last().is_some_and(|t| now.millis() - t < FAILED_SIGN_IN_WINDOW_MS));
            if m.len() >= FAILED_SIGN_IN_ADDRESSES {
                m.clear();
            }
        }
        m.entry(key.clone()).or_default().push(now.millis());
    }
}
