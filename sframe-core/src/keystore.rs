//! Receiver key stores — keys looked up by the KID of the header (RFC 9605 §4.4, §4.4.1).
//!
//! Two stores, both with lookup cost independent of the number of frames:
//!
//! * [`FixedKeyStore<N>`]: `N` slots inline, no allocation ever (`no_std` without `alloc`).
//! * [`VecKeyStore`] (feature `alloc`): grows as keys are added, binary search by KID. Each key
//!   lives in its own heap box, so growing the store never leaves copies of key material behind.
//!
//! Removing or replacing a key drops it, which zeroizes it. Keys the receiver derives itself
//! (later ratchet steps, §5.1; MLS members, §5.2) live in the same store and count against a
//! fixed store's capacity: a ratchet chain holds at most two (newest and previous step).
//! Adding a key to a full [`FixedKeyStore`] is [`crate::Error::KeyStoreFull`], checked before
//! any frame is decrypted.

use crate::crypto::{Backend, DefaultBackend};
use crate::error::{Error, Result};
use crate::key::Key;
use crate::limits::KeyUsage;
use crate::mls::MlsState;
use crate::ratchet::ReceiverChain;
use crate::replay::ReplayWindow;

pub(crate) mod sealed {
    use super::Entry;
    use crate::crypto::Backend;
    use crate::error::Result;

    /// The store operations the receiver uses. Sealed: only this crate implements it.
    pub trait Store {
        /// The crypto backend of the keys kept here.
        type Backend: Backend;
        fn find(&self, kid: u64) -> Option<&Entry<Self::Backend>>;
        fn find_mut(&mut self, kid: u64) -> Option<&mut Entry<Self::Backend>>;
        /// Inserts, replacing any entry with the same KID.
        fn put(&mut self, entry: Entry<Self::Backend>) -> Result<()>;
        /// Removes the entry for `kid`, dropping (so zeroizing) it where it lives: moving it
        /// out first would leave its bytes behind in the slot or the freed box.
        fn remove(&mut self, kid: u64) -> bool;
        fn count(&self) -> usize;
        fn clear_all(&mut self);
        /// Whether `put` of a new KID can succeed.
        fn vacancy(&self) -> bool;
        /// The first entry matching `f`.
        fn find_by(
            &self,
            f: &mut dyn FnMut(&Entry<Self::Backend>) -> bool,
        ) -> Option<&Entry<Self::Backend>>;
        /// Removes (and zeroizes) every entry matching `f`.
        fn remove_where(&mut self, f: &mut dyn FnMut(&Entry<Self::Backend>) -> bool);
    }
}

/// Where an installed key came from (what removes it again).
pub(crate) enum Origin {
    /// Installed by the application (`add_key`, `add_derived_key`).
    Direct,
    /// A step of a §5.1 ratchet chain; the newest step carries the chain state.
    Ratchet(Option<ReceiverChain>),
    /// Derived from the exported secret of this MLS epoch (§5.2).
    Mls(u64),
}

/// One installed key with its replay window and usage counters.
pub struct Entry<B: Backend = DefaultBackend> {
    pub(crate) key: Key<B>,
    pub(crate) window: ReplayWindow,
    pub(crate) usage: KeyUsage,
    pub(crate) origin: Origin,
}

impl<B: Backend> Entry<B> {
    pub(crate) fn new(key: Key<B>) -> Self {
        Self::with_origin(key, Origin::Direct)
    }

    pub(crate) fn with_origin(key: Key<B>, origin: Origin) -> Self {
        Entry {
            key,
            window: ReplayWindow::default(),
            usage: KeyUsage::default(),
            origin,
        }
    }

    /// Before decryption, read-only: the forgery limit, then the frame's shape, then the
    /// replay window (§7.4, §9.3).
    pub(crate) fn check(
        &self,
        ctr: u64,
        well_formed: bool,
        window: u32,
        max_failures: u64,
    ) -> Result<()> {
        if self.usage.auth_failures >= max_failures {
            return Err(Error::KeyUsageLimit);
        }
        if !well_formed {
            return Err(Error::MalformedFrame);
        }
        self.window.check(ctr, window)
    }

    /// After decryption: an authenticated frame moves the replay window and counts; a forged
    /// one only counts as a failure; any other error changes nothing.
    pub(crate) fn record<T>(&mut self, ctr: u64, result: &Result<T>) {
        match result {
            Ok(_) => {
                self.window.accept(ctr);
                self.usage.frames = self.usage.frames.saturating_add(1);
            }
            Err(Error::AuthenticationFailed) => {
                self.usage.auth_failures = self.usage.auth_failures.saturating_add(1);
            }
            Err(_) => {}
        }
    }
}

/// A key the receiver derived for a frame whose KID is not installed (§5.1 ratchet step ahead,
/// §5.2 MLS member). It is stored only if the frame authenticates
/// ([`Candidate::commit`]); a failure counts against its source instead.
pub(crate) enum Candidate<B: Backend> {
    /// A later step of an installed ratchet chain.
    Ratchet {
        /// KID of the chain's current head (keeps its key, loses its chain state).
        head: u64,
        key: Key<B>,
        chain: ReceiverChain,
        /// The head's retained predecessor, removed on commit.
        drop: Option<u64>,
    },
    /// A member key of a kept MLS epoch.
    Mls { epoch: u64, key: Key<B> },
}

impl<B: Backend> Candidate<B> {
    pub(crate) fn key(&self) -> &Key<B> {
        match self {
            Candidate::Ratchet { key, .. } | Candidate::Mls { key, .. } => key,
        }
    }

    /// Stores the authenticated key in `store` with `ctr` recorded as its first frame.
    pub(crate) fn commit<S: sealed::Store<Backend = B>>(
        self,
        store: &mut S,
        ctr: u64,
    ) -> Result<()> {
        let mut entry = match self {
            Candidate::Ratchet {
                head,
                key,
                chain,
                drop,
            } => {
                if let Some(old) = drop {
                    store.remove(old);
                }
                if let Some(h) = store.find_mut(head) {
                    // Forget the older chain state (zeroized on drop): only the new head can
                    // derive further.
                    h.origin = Origin::Ratchet(None);
                }
                Entry::with_origin(key, Origin::Ratchet(Some(chain)))
            }
            Candidate::Mls { epoch, key } => Entry::with_origin(key, Origin::Mls(epoch)),
        };
        entry.record(ctr, &Ok(()));
        store.put(entry)
    }

    /// Counts a failed authentication against the chain's head key or the MLS epoch.
    pub(crate) fn count_failure<S: sealed::Store<Backend = B>>(
        &self,
        store: &mut S,
        mls: Option<&mut MlsState>,
    ) {
        match self {
            Candidate::Ratchet { head, .. } => {
                if let Some(h) = store.find_mut(*head) {
                    h.usage.auth_failures = h.usage.auth_failures.saturating_add(1);
                }
            }
            Candidate::Mls { epoch, .. } => {
                if let Some(e) = mls.and_then(|m| m.epoch_mut(*epoch)) {
                    e.auth_failures = e.auth_failures.saturating_add(1);
                }
            }
        }
    }
}

/// A place to keep a receiver's keys. Implemented by [`FixedKeyStore`] and [`VecKeyStore`].
pub trait KeyStore: sealed::Store + Default {}

/// A key store of `N` inline slots; adding a key when all are used is
/// [`crate::Error::KeyStoreFull`]. Linear lookup: meant for small `N` (a call's participants).
/// `B`: the crypto backend of the receiver that uses it.
pub struct FixedKeyStore<const N: usize, B: Backend = DefaultBackend> {
    slots: [Option<Entry<B>>; N],
}

impl<const N: usize, B: Backend> Default for FixedKeyStore<N, B> {
    fn default() -> Self {
        FixedKeyStore {
            slots: core::array::from_fn(|_| None),
        }
    }
}

impl<const N: usize, B: Backend> sealed::Store for FixedKeyStore<N, B> {
    type Backend = B;

    fn find(&self, kid: u64) -> Option<&Entry<B>> {
        self.slots.iter().flatten().find(|e| e.key.key_id() == kid)
    }

    fn find_mut(&mut self, kid: u64) -> Option<&mut Entry<B>> {
        self.slots
            .iter_mut()
            .flatten()
            .find(|e| e.key.key_id() == kid)
    }

    fn put(&mut self, entry: Entry<B>) -> crate::Result<()> {
        let kid = entry.key.key_id();
        let slot = match self
            .slots
            .iter()
            .position(|s| s.as_ref().is_some_and(|e| e.key.key_id() == kid))
        {
            Some(i) => self.slots.get_mut(i),
            None => self.slots.iter_mut().find(|s| s.is_none()),
        };
        let slot = slot.ok_or(crate::Error::KeyStoreFull)?;
        *slot = Some(entry);
        Ok(())
    }

    fn remove(&mut self, kid: u64) -> bool {
        match self
            .slots
            .iter_mut()
            .find(|s| s.as_ref().is_some_and(|e| e.key.key_id() == kid))
        {
            Some(slot) => {
                // Assignment drops the old entry in place (its Drop zeroizes the key there).
                *slot = None;
                true
            }
            None => false,
        }
    }

    fn count(&self) -> usize {
        self.slots.iter().flatten().count()
    }

    fn clear_all(&mut self) {
        self.slots.iter_mut().for_each(|s| *s = None);
    }

    fn vacancy(&self) -> bool {
        self.slots.iter().any(Option::is_none)
    }

    fn find_by(&self, f: &mut dyn FnMut(&Entry<B>) -> bool) -> Option<&Entry<B>> {
        self.slots.iter().flatten().find(|e| f(e))
    }

    fn remove_where(&mut self, f: &mut dyn FnMut(&Entry<B>) -> bool) {
        for slot in self.slots.iter_mut() {
            if slot.as_ref().is_some_and(&mut *f) {
                *slot = None;
            }
        }
    }
}

impl<const N: usize, B: Backend> KeyStore for FixedKeyStore<N, B> {}

/// A growable key store (feature `alloc`), sorted by KID. `B`: the crypto backend of the
/// receiver that uses it.
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
#[allow(clippy::vec_box)] // boxed on purpose: growth must not copy key material around
pub struct VecKeyStore<B: Backend = DefaultBackend> {
    entries: alloc::vec::Vec<alloc::boxed::Box<Entry<B>>>,
}

#[cfg(feature = "alloc")]
impl<B: Backend> Default for VecKeyStore<B> {
    fn default() -> Self {
        VecKeyStore {
            entries: alloc::vec::Vec::new(),
        }
    }
}

#[cfg(feature = "alloc")]
impl<B: Backend> VecKeyStore<B> {
    fn position(&self, kid: u64) -> core::result::Result<usize, usize> {
        self.entries.binary_search_by_key(&kid, |e| e.key.key_id())
    }
}

#[cfg(feature = "alloc")]
impl<B: Backend> sealed::Store for VecKeyStore<B> {
    type Backend = B;

    fn find(&self, kid: u64) -> Option<&Entry<B>> {
        self.position(kid)
            .ok()
            .and_then(|i| self.entries.get(i))
            .map(|b| &**b)
    }

    fn find_mut(&mut self, kid: u64) -> Option<&mut Entry<B>> {
        let i = self.position(kid).ok()?;
        self.entries.get_mut(i).map(|b| &mut **b)
    }

    fn put(&mut self, entry: Entry<B>) -> crate::Result<()> {
        match self.position(entry.key.key_id()) {
            Ok(i) => {
                if let Some(slot) = self.entries.get_mut(i) {
                    **slot = entry;
                }
            }
            Err(i) => self.entries.insert(i, alloc::boxed::Box::new(entry)),
        }
        Ok(())
    }

    fn remove(&mut self, kid: u64) -> bool {
        match self.position(kid) {
            Ok(i) => {
                // Only the box pointer moves; dropping the box zeroizes the key inside it
                // before the memory is freed.
                drop(self.entries.remove(i));
                true
            }
            Err(_) => false,
        }
    }

    fn count(&self) -> usize {
        self.entries.len()
    }

    fn clear_all(&mut self) {
        self.entries.clear();
    }

    fn vacancy(&self) -> bool {
        true
    }

    fn find_by(&self, f: &mut dyn FnMut(&Entry<B>) -> bool) -> Option<&Entry<B>> {
        self.entries.iter().map(|b| &**b).find(|e| f(e))
    }

    fn remove_where(&mut self, f: &mut dyn FnMut(&Entry<B>) -> bool) {
        self.entries.retain(|e| !f(e));
    }
}

#[cfg(feature = "alloc")]
impl<B: Backend> KeyStore for VecKeyStore<B> {}

/// The store [`crate::Receiver`] uses unless told otherwise: [`VecKeyStore`] with `alloc`,
/// else [`FixedKeyStore<16>`].
#[cfg(feature = "alloc")]
pub type DefaultKeyStore<B = DefaultBackend> = VecKeyStore<B>;
/// The store [`crate::Receiver`] uses unless told otherwise: [`VecKeyStore`] with `alloc`,
/// else [`FixedKeyStore<16>`].
#[cfg(not(feature = "alloc"))]
pub type DefaultKeyStore<B = DefaultBackend> = FixedKeyStore<16, B>;
