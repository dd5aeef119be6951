//! Pulse naming conventions: exchanges and `queue/<user>/<label>` queues.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

/// The queue name Pulse allows `user` to create: `queue/<user>/<label>`.
/// Without a label a random one is made up (a fresh queue each run).
///
/// ```
/// assert_eq!(pulse_wire::queue_name("me", Some("builds")), "queue/me/builds");
/// assert!(pulse_wire::queue_name("me", None).starts_with("queue/me/"));
/// ```
pub fn queue_name(user: &str, label: Option<&str>) -> String {
    match label {
        Some(label) => format!("queue/{user}/{label}"),
        None => format!("queue/{user}/{}", random_label()),
    }
}

/// 16 random hex digits. std's `RandomState` is seeded from the OS's random
/// source, which is plenty for names that only need to be unique.
pub fn random_label() -> String {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.write_u32(std::process::id());
    format!("{:016x}", hasher.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_labels_differ() {
        let a = random_label();
        let b = random_label();
        assert_eq!(a.len(), 16);
        assert_ne!(a, b);
        assert_ne!(queue_name("u", None), queue_name("u", None));
    }
}
