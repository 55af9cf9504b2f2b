//! Which key material the live [`crate::Sender`]s of a thread use — the guard behind
//! RFC 9605 §4.4.1's rule that a (key, counter) pair is used once: two senders given the same
//! key and KID would both count from 0 and reuse every nonce (the classic mistake of one
//! encrypter per media track sharing one KID).
//!
//! With the `std` feature every [`crate::Sender`] joins the registry of the thread that
//! created it and claims the [`crate::Key::fingerprint`] of every key it uses; a second sender
//! that tries to use a claimed key gets [`crate::Error::KeyInUse`]. Claims are released when
//! the sender is dropped. Senders created on different threads are not compared (each thread
//! — each JavaScript realm, for the wasm build — has its own registry), and without `std`
//! there is no registry: then the application alone guarantees one sender per key.

#[cfg(feature = "std")]
mod imp {
    use std::collections::BTreeMap;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Arc, Mutex, MutexGuard};

    use crate::error::{Error, Result};

    type Claims = BTreeMap<[u8; 16], u64>;

    std::thread_local! {
        static THREAD_REGISTRY: Arc<Mutex<Claims>> = Arc::new(Mutex::new(Claims::new()));
    }

    static NEXT_OWNER: AtomicU64 = AtomicU64::new(1);

    /// One sender's membership in its thread's registry.
    pub(crate) struct Membership {
        claims: Arc<Mutex<Claims>>,
        owner: u64,
    }

    fn lock(m: &Mutex<Claims>) -> MutexGuard<'_, Claims> {
        // A panic elsewhere while holding the lock leaves the map consistent (single inserts
        // and removals): keep using it rather than panicking.
        m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    impl Membership {
        pub(crate) fn join() -> Self {
            let claims = THREAD_REGISTRY
                .try_with(Arc::clone)
                .unwrap_or_else(|_| Arc::new(Mutex::new(Claims::new())));
            Membership {
                claims,
                owner: NEXT_OWNER.fetch_add(1, Ordering::Relaxed),
            }
        }

        /// Claims `fingerprint` for this sender, in one step under the lock;
        /// [`Error::KeyInUse`] if another live sender holds it.
        pub(crate) fn claim(&self, fingerprint: [u8; 16]) -> Result<()> {
            let owner = *lock(&self.claims).entry(fingerprint).or_insert(self.owner);
            if owner == self.owner {
                Ok(())
            } else {
                Err(Error::KeyInUse)
            }
        }
    }

    impl Drop for Membership {
        fn drop(&mut self) {
            let owner = self.owner;
            lock(&self.claims).retain(|_, o| *o != owner);
        }
    }
}

#[cfg(not(feature = "std"))]
mod imp {
    use crate::error::Result;

    /// Without `std` there is no registry (see the module docs).
    pub(crate) struct Membership;

    impl Membership {
        pub(crate) fn join() -> Self {
            Membership
        }

        pub(crate) fn claim(&self, _fingerprint: [u8; 16]) -> Result<()> {
            Ok(())
        }
    }
}

pub(crate) use imp::Membership;
