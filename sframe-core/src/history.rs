//! Where the counters of key material used before stood — RFC 9605 §4.4: the counter of a key
//! is never reused, so a key that comes back resumes where its counter stood.
//!
//! One bounded record, by [`crate::Key::fingerprint`], serves two places: a [`crate::Sender`]'s
//! own history of the keys it moved away from, and (with `std`) the process-wide
//! [`crate::registry`]'s record of the keys that dropped senders released. Both follow one
//! rule: beyond its capacity the record forgets the entry recorded longest ago, and from then
//! on it cannot tell a key it never saw from one it forgot, which the callers turn into
//! [`crate::Error::CounterUnknown`] (fail closed).

use crate::limits::KeyUsage;

/// A key used before, identified by [`crate::Key::fingerprint`], and where its counters stood.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Used {
    pub(crate) fingerprint: [u8; 16],
    /// Next counter to use; `None` once `u64::MAX` was used.
    pub(crate) next_ctr: Option<u64>,
    pub(crate) usage: KeyUsage,
}

#[cfg(feature = "alloc")]
mod imp {
    use alloc::collections::BTreeMap;

    use super::Used;
    use crate::limits::KeyUsage;

    /// Counters of keys, by fingerprint, at most `capacity` of them (a `BTreeMap`, plus an
    /// index by age to find the oldest).
    pub(crate) struct History {
        /// fingerprint → (age, next counter, usage).
        by_fingerprint: BTreeMap<[u8; 16], (u64, Option<u64>, KeyUsage)>,
        /// age → fingerprint: the first entry is the one recorded longest ago.
        by_age: BTreeMap<u64, [u8; 16]>,
        /// Age of the next entry (grows by one per record; 2^64 records never happen).
        next_age: u64,
        capacity: usize,
        /// Set once an entry was forgotten (see the module docs).
        forgot: bool,
    }

    impl History {
        /// An empty record that keeps at most `capacity` entries.
        pub(crate) const fn with_capacity(capacity: usize) -> Self {
            History {
                by_fingerprint: BTreeMap::new(),
                by_age: BTreeMap::new(),
                next_age: 0,
                capacity,
                forgot: false,
            }
        }

        /// A sender's own history: with `alloc`, every key the sender used (never forgets).
        pub(crate) const fn for_sender() -> Self {
            Self::with_capacity(usize::MAX)
        }

        pub(crate) fn find(&self, fingerprint: &[u8; 16]) -> Option<Used> {
            self.by_fingerprint
                .get(fingerprint)
                .map(|&(_, next_ctr, usage)| Used {
                    fingerprint: *fingerprint,
                    next_ctr,
                    usage,
                })
        }

        /// Removes and returns the entry of `fingerprint`.
        pub(crate) fn take(&mut self, fingerprint: &[u8; 16]) -> Option<Used> {
            let (age, next_ctr, usage) = self.by_fingerprint.remove(fingerprint)?;
            self.by_age.remove(&age);
            Some(Used {
                fingerprint: *fingerprint,
                next_ctr,
                usage,
            })
        }

        /// Records `used` as the newest entry (replacing an entry of the same key), then
        /// forgets the oldest entries beyond the capacity.
        pub(crate) fn push(&mut self, used: Used) {
            self.take(&used.fingerprint);
            let age = self.next_age;
            self.next_age = self.next_age.wrapping_add(1);
            self.by_fingerprint
                .insert(used.fingerprint, (age, used.next_ctr, used.usage));
            self.by_age.insert(age, used.fingerprint);
            while self.by_fingerprint.len() > self.capacity {
                let Some((_, oldest)) = self.by_age.pop_first() else {
                    break;
                };
                self.by_fingerprint.remove(&oldest);
                self.forgot = true;
            }
        }

        /// Whether an entry was ever forgotten: then a key not found may be a forgotten one.
        pub(crate) fn forgot_any(&self) -> bool {
            self.forgot
        }

        /// Every entry, oldest first.
        pub(crate) fn iter(&self) -> impl Iterator<Item = Used> + '_ {
            self.by_age.values().filter_map(|fp| self.find(fp))
        }

        #[cfg(test)]
        pub(crate) fn len(&self) -> usize {
            self.by_fingerprint.len()
        }
    }
}

#[cfg(not(feature = "alloc"))]
mod imp {
    use super::Used;
    use crate::sender::RETIRED_KIDS;

    /// The last [`RETIRED_KIDS`] keys (without `alloc`: inline), oldest first.
    pub(crate) struct History {
        used: [Option<Used>; RETIRED_KIDS],
        /// Set once an entry was forgotten (see the module docs).
        forgot: bool,
    }

    impl History {
        /// A sender's own history: without `alloc`, its last [`RETIRED_KIDS`] keys.
        pub(crate) const fn for_sender() -> Self {
            History {
                used: [None; RETIRED_KIDS],
                forgot: false,
            }
        }

        pub(crate) fn find(&self, fingerprint: &[u8; 16]) -> Option<Used> {
            self.used
                .iter()
                .flatten()
                .find(|u| u.fingerprint == *fingerprint)
                .copied()
        }

        /// Removes and returns the entry of `fingerprint`.
        pub(crate) fn take(&mut self, fingerprint: &[u8; 16]) -> Option<Used> {
            let slot = self
                .used
                .iter_mut()
                .find(|u| u.is_some_and(|u| u.fingerprint == *fingerprint))?;
            slot.take()
        }

        /// Records `used` as the newest entry (replacing an entry of the same key); when full,
        /// forgets the oldest.
        pub(crate) fn push(&mut self, used: Used) {
            self.take(&used.fingerprint);
            // Keep the order (oldest first) with the free slots at the end.
            let mut kept = 0;
            for i in 0..RETIRED_KIDS {
                if let Some(u) = self.used.get_mut(i).and_then(Option::take) {
                    if let Some(slot) = self.used.get_mut(kept) {
                        *slot = Some(u);
                    }
                    kept += 1;
                }
            }
            let slot = if kept < RETIRED_KIDS {
                kept
            } else {
                // Full: forget the oldest (slot 0), and remember that something was forgotten.
                self.used.rotate_left(1);
                self.forgot = true;
                RETIRED_KIDS - 1
            };
            if let Some(u) = self.used.get_mut(slot) {
                *u = Some(used);
            }
        }

        /// Whether an entry was ever forgotten: then a key not found may be a forgotten one.
        pub(crate) fn forgot_any(&self) -> bool {
            self.forgot
        }

        /// Every entry, oldest first.
        pub(crate) fn iter(&self) -> impl Iterator<Item = Used> + '_ {
            self.used.iter().flatten().copied()
        }
    }
}

pub(crate) use imp::History;

#[cfg(all(test, feature = "alloc"))]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn used(i: u8, ctr: u64) -> Used {
        Used {
            fingerprint: [i; 16],
            next_ctr: Some(ctr),
            usage: KeyUsage {
                frames: ctr,
                auth_failures: 0,
            },
        }
    }

    #[test]
    fn bounded_record_forgets_the_oldest_and_says_so() -> Result<(), &'static str> {
        let mut h = History::with_capacity(3);
        for i in 0..3 {
            h.push(used(i, u64::from(i) + 10));
        }
        assert!(!h.forgot_any());
        // Taking an entry and recording it again makes it the newest.
        let e0 = h.take(&[0; 16]).ok_or("entry 0 is recorded")?;
        assert_eq!(e0, used(0, 10));
        h.push(used(0, 11));
        h.push(used(3, 13)); // over capacity: forgets 1, the oldest
        assert!(h.forgot_any());
        assert_eq!(h.len(), 3);
        assert_eq!(h.find(&[1; 16]), None);
        assert_eq!(h.find(&[0; 16]), Some(used(0, 11)));
        let order: Vec<u8> = h.iter().map(|u| u.fingerprint[0]).collect();
        assert_eq!(order, [2, 0, 3]);
        // Recording a key again replaces its entry (no duplicate, nothing forgotten).
        h.push(used(2, 20));
        assert_eq!(h.len(), 3);
        assert_eq!(h.find(&[2; 16]), Some(used(2, 20)));
        assert_eq!(h.find(&[0; 16]), Some(used(0, 11)));
        Ok(())
    }
}
