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

use crate::key::Key;
use crate::limits::KeyUsage;
use crate::ratchet::ReceiverChain;
use crate::replay::ReplayWindow;

pub(crate) mod sealed {
    use super::Entry;
    use crate::error::Result;

    /// The store operations the receiver uses. Sealed: only this crate implements it.
    pub trait Store {
        fn find(&self, kid: u64) -> Option<&Entry>;
        fn find_mut(&mut self, kid: u64) -> Option<&mut Entry>;
        /// Inserts, replacing any entry with the same KID.
        fn put(&mut self, entry: Entry) -> Result<()>;
        /// Removes the entry for `kid`, dropping (so zeroizing) it where it lives: moving it
        /// out first would leave its bytes behind in the slot or the freed box.
        fn remove(&mut self, kid: u64) -> bool;
        fn count(&self) -> usize;
        fn clear_all(&mut self);
        /// Whether `put` of a new KID can succeed.
        fn vacancy(&self) -> bool;
        /// The first entry matching `f`.
        fn find_by(&self, f: &mut dyn FnMut(&Entry) -> bool) -> Option<&Entry>;
        /// Removes (and zeroizes) every entry matching `f`.
        fn remove_where(&mut self, f: &mut dyn FnMut(&Entry) -> bool);
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
pub struct Entry {
    pub(crate) key: Key,
    pub(crate) window: ReplayWindow,
    pub(crate) usage: KeyUsage,
    pub(crate) origin: Origin,
}

impl Entry {
    pub(crate) fn new(key: Key) -> Self {
        Self::with_origin(key, Origin::Direct)
    }

    pub(crate) fn with_origin(key: Key, origin: Origin) -> Self {
        Entry {
            key,
            window: ReplayWindow::default(),
            usage: KeyUsage::default(),
            origin,
        }
    }
}

/// A place to keep a receiver's keys. Implemented by [`FixedKeyStore`] and [`VecKeyStore`].
pub trait KeyStore: sealed::Store + Default {}

/// A key store of `N` inline slots; adding a key when all are used is
/// [`crate::Error::KeyStoreFull`]. Linear lookup: meant for small `N` (a call's participants).
pub struct FixedKeyStore<const N: usize> {
    slots: [Option<Entry>; N],
}

impl<const N: usize> Default for FixedKeyStore<N> {
    fn default() -> Self {
        FixedKeyStore {
            slots: core::array::from_fn(|_| None),
        }
    }
}

impl<const N: usize> sealed::Store for FixedKeyStore<N> {
    fn find(&self, kid: u64) -> Option<&Entry> {
        self.slots.iter().flatten().find(|e| e.key.key_id() == kid)
    }

    fn find_mut(&mut self, kid: u64) -> Option<&mut Entry> {
        self.slots
            .iter_mut()
            .flatten()
            .find(|e| e.key.key_id() == kid)
    }

    fn put(&mut self, entry: Entry) -> crate::Result<()> {
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

    fn find_by(&self, f: &mut dyn FnMut(&Entry) -> bool) -> Option<&Entry> {
        self.slots.iter().flatten().find(|e| f(e))
    }

    fn remove_where(&mut self, f: &mut dyn FnMut(&Entry) -> bool) {
        for slot in self.slots.iter_mut() {
            if slot.as_ref().is_some_and(&mut *f) {
                *slot = None;
            }
        }
    }
}

impl<const N: usize> KeyStore for FixedKeyStore<N> {}

/// A growable key store (feature `alloc`), sorted by KID.
#[cfg(feature = "alloc")]
#[derive(Default)]
#[allow(clippy::vec_box)] // boxed on purpose: growth must not copy key material around
pub struct VecKeyStore {
    entries: alloc::vec::Vec<alloc::boxed::Box<Entry>>,
}

#[cfg(feature = "alloc")]
impl VecKeyStore {
    fn position(&self, kid: u64) -> core::result::Result<usize, usize> {
        self.entries.binary_search_by_key(&kid, |e| e.key.key_id())
    }
}

#[cfg(feature = "alloc")]
impl sealed::Store for VecKeyStore {
    fn find(&self, kid: u64) -> Option<&Entry> {
        self.position(kid)
            .ok()
            .and_then(|i| self.entries.get(i))
            .map(|b| &**b)
    }

    fn find_mut(&mut self, kid: u64) -> Option<&mut Entry> {
        let i = self.position(kid).ok()?;
        self.entries.get_mut(i).map(|b| &mut **b)
    }

    fn put(&mut self, entry: Entry) -> crate::Result<()> {
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

    fn find_by(&self, f: &mut dyn FnMut(&Entry) -> bool) -> Option<&Entry> {
        self.entries.iter().map(|b| &**b).find(|e| f(e))
    }

    fn remove_where(&mut self, f: &mut dyn FnMut(&Entry) -> bool) {
        self.entries.retain(|e| !f(e));
    }
}

#[cfg(feature = "alloc")]
impl KeyStore for VecKeyStore {}

/// The store [`crate::Receiver`] uses unless told otherwise: [`VecKeyStore`] with `alloc`,
/// else [`FixedKeyStore<16>`].
#[cfg(feature = "alloc")]
pub type DefaultKeyStore = VecKeyStore;
/// The store [`crate::Receiver`] uses unless told otherwise: [`VecKeyStore`] with `alloc`,
/// else [`FixedKeyStore<16>`].
#[cfg(not(feature = "alloc"))]
pub type DefaultKeyStore = FixedKeyStore<16>;
