//! Which key material the live [`crate::Sender`]s of the process use, and where the counters
//! of the keys that dropped senders used stood — the guard behind RFC 9605 §4.4.1 / §4.4.3's
//! rule that a (key, counter) pair is used once. Two senders given the same key and KID would
//! both count from 0 and reuse every nonce (the classic mistake of one encrypter per media
//! track sharing one KID), and so would a sender re-created with the key of a dropped one.
//!
//! With the `std` feature there is one registry per process (one `static` behind a lock,
//! taken when a sender installs a key — `set_key` and the like, `ratchet` — and when it is
//! dropped; never per frame):
//!
//! * **One key, one live sender.** A [`crate::Sender`] claims the [`crate::Key::fingerprint`]
//!   of every key it installs and keeps the claims (it may go back to those keys) until it is
//!   dropped. Another sender — on any thread — that installs a claimed key gets
//!   [`crate::Error::KeyInUse`] and keeps its previous key.
//! * **Counters outlive their sender.** A dropped sender (in C `sframe_sender_free`, in
//!   JavaScript `free()` / `close()`) releases its keys with their next counters and usage
//!   counts. A sender that installs one of them later resumes where it stood instead of
//!   starting at 0 (an explicit counter, [`crate::Sender::set_key_with_counter`], only moves
//!   it up).
//! * **Bounded, failing closed.** The registry remembers the last [`RELEASED_KEYS`] released
//!   keys (the key released longest ago is forgotten first; a key taken back by a sender
//!   leaves the record and re-enters it as the newest when released again). Once it had to
//!   forget one, it cannot tell a key it never saw from a forgotten one: from then on, for the
//!   rest of the process, a key that neither the sender nor the registry knows is
//!   [`crate::Error::CounterUnknown`] unless its next counter is given
//!   ([`crate::Sender::set_key_with_counter`]; 0 for a key the application knows is new) —
//!   also for ratchet steps and MLS keys, which take no counter. The same rule as a sender's
//!   own history without `alloc` ([`crate::RETIRED_KIDS`]). An MLS member key is the exported
//!   secret used as base key under the member's KID (§5.2), so
//!   `set_key_with_counter(layout.kid(epoch, leaf)?, exported_secret, counter)` installs it;
//!   a §5.1 ratchet chain has no call with a counter: a process that released more keys than
//!   that cannot start new chains.
//!
//! What stays the application's job:
//!
//! * **Other processes**, and restarts: the registry lives in memory. A sender that resumes a
//!   key an earlier process (or another process, e.g. after `fork`) used must be given the
//!   counter persisted after that process's last frame with
//!   [`crate::Sender::set_key_with_counter`].
//! * **WebAssembly**: the scope is one wasm instance — one worker or JS realm. Encrypters in
//!   two workers or two tabs are not compared.
//! * **Without `std`** there is no registry: one sender per key and counters across a sender's
//!   lifetime are the application's job (a sender still never repeats a counter itself).

/// How many released keys the registry of a process remembers (with `std`): the keys of
/// dropped senders, each a 16-byte fingerprint with its next counter and usage counts. A full
/// record takes about 2.2 MB of heap (2,209,048 bytes measured on x86-64, about 135 bytes a
/// key; `tests/registry_capacity.rs` checks it stays under 2.3 MB). Beyond it the oldest
/// release is forgotten and the registry fails closed (see the [module docs](self)).
pub const RELEASED_KEYS: usize = 16384;

#[cfg(feature = "std")]
mod imp {
    use std::collections::BTreeMap;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Mutex, MutexGuard};

    use super::RELEASED_KEYS;
    use crate::error::{Error, Result};
    use crate::history::{History, Used};

    struct Registry {
        /// Fingerprint → the live sender that claimed it.
        claims: BTreeMap<[u8; 16], u64>,
        /// Keys released by dropped senders, with their counters.
        released: History,
    }

    static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
        claims: BTreeMap::new(),
        released: History::with_capacity(RELEASED_KEYS),
    });

    static NEXT_OWNER: AtomicU64 = AtomicU64::new(1);

    fn lock() -> MutexGuard<'static, Registry> {
        // Nothing panics while the lock is held; should a panic (e.g. out of memory) ever poison
        // it, each step left the maps consistent: keep using them rather than panicking.
        REGISTRY
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// One sender's membership in the process's registry.
    pub(crate) struct Membership {
        owner: u64,
    }

    impl Membership {
        pub(crate) fn join() -> Self {
            Membership {
                owner: NEXT_OWNER.fetch_add(1, Ordering::Relaxed),
            }
        }

        /// Claims `fingerprint` — a key the sender has no record of — in one step under the
        /// lock. [`Error::KeyInUse`] if another live sender holds it. Otherwise the counters a
        /// dropped sender released for it, if any (the record is taken: the claim holds it
        /// now). An unknown key after the registry forgot one is [`Error::CounterUnknown`]
        /// unless `counter_given`. On error nothing changes.
        pub(crate) fn claim(
            &self,
            fingerprint: [u8; 16],
            counter_given: bool,
        ) -> Result<Option<Used>> {
            let mut reg = lock();
            match reg.claims.get(&fingerprint) {
                Some(&owner) if owner != self.owner => return Err(Error::KeyInUse),
                // Not reached: a sender claims only keys it has no record of, and it keeps a
                // record of every key it claimed.
                Some(_) => return Ok(None),
                None => {}
            }
            let released = reg.released.take(&fingerprint);
            if released.is_none() && !counter_given && reg.released.forgot_any() {
                return Err(Error::CounterUnknown);
            }
            reg.claims.insert(fingerprint, self.owner);
            Ok(released)
        }

        /// Releases this sender's claims (when it is dropped), recording every key it used
        /// with its counters.
        pub(crate) fn release(&self, used: impl Iterator<Item = Used>) {
            let mut reg = lock();
            for u in used {
                if reg.claims.get(&u.fingerprint) == Some(&self.owner) {
                    reg.claims.remove(&u.fingerprint);
                    reg.released.push(u);
                }
            }
        }
    }
}

#[cfg(not(feature = "std"))]
mod imp {
    use crate::error::Result;
    use crate::history::Used;

    /// Without `std` there is no registry (see the module docs).
    pub(crate) struct Membership;

    impl Membership {
        pub(crate) fn join() -> Self {
            Membership
        }

        pub(crate) fn claim(
            &self,
            _fingerprint: [u8; 16],
            _counter_given: bool,
        ) -> Result<Option<Used>> {
            Ok(None)
        }

        pub(crate) fn release(&self, _used: impl Iterator<Item = Used>) {}
    }
}

pub(crate) use imp::Membership;
