//! The receiving side — RFC 9605 §4.4 (decryption) with replay protection (§7.4, §9.3), sender
//! key ratcheting (§5.1) and MLS epochs (§5.2).
//!
//! `unprotect`: parse the header (§4.3) → look up the key by KID → check the replay window
//! (read-only) → verify and decrypt (§4.4.3) → only then record the counter. A frame that fails
//! any step changes nothing but the key's authentication-failure count, which exists to
//! enforce the forgery limit ([`Limits::max_auth_failures`]).
//!
//! A KID with no installed key may still be one the receiver can derive: a later ratchet step
//! of an installed chain (bounded look-ahead, [`DEFAULT_MAX_RATCHET_LOOKAHEAD`]) or a member of
//! a kept MLS epoch. The key is derived on the stack, tried, and stored only if the frame
//! authenticates; failures count against the chain's head key or the epoch. With the default
//! RustCrypto backend this allocates nothing; with `aws-lc`, building the derived key inside
//! aws-lc-rs does (frames under already installed keys never allocate).
//!
//! Defaults: replay window [`DEFAULT_REPLAY_WINDOW`] (512), look-ahead 8 ratchet steps, 3 MLS
//! epochs kept, [`Limits::for_suite`].

use subtle::ConstantTimeEq;

use crate::crypto::Backend;
use crate::error::{Error, Result};
use crate::frame;
use crate::header::Header;
use crate::key::Key;
use crate::keystore::{DefaultKeyStore, Entry, KeyStore, Origin};
use crate::limits::{KeyUsage, Limits};
use crate::mls::{DEFAULT_MLS_EPOCHS_KEPT, EpochSecret, MAX_MLS_EPOCHS, MlsKidLayout, MlsState};
use crate::ratchet::{
    ChainState, DEFAULT_MAX_RATCHET_LOOKAHEAD, MAX_RATCHET_LOOKAHEAD, RatchetLayout, ReceiverChain,
};
use crate::replay::{DEFAULT_REPLAY_WINDOW, MAX_REPLAY_WINDOW};
use crate::suite::CipherSuite;

/// Unprotects frames from any number of senders, each key found by the KID in the header.
///
/// ```
/// use sframe_core::{CipherSuite, Error, Receiver, Sender};
/// let suite = CipherSuite::AesCtr128HmacSha256_80;
/// let (mut alice, mut bob) = (Sender::new(suite), Sender::new(suite));
/// alice.set_key(1, &[1; 16])?;
/// bob.set_key(2, &[2; 16])?;
///
/// let mut rx = Receiver::new(suite);
/// rx.add_key(1, &[1; 16])?;
/// rx.add_key(2, &[2; 16])?;
/// let mut a = alice.protect_vec(b"", b"from alice")?;
/// let mut b = bob.protect_vec(b"", b"from bob")?;
/// let replay = a.clone();
/// assert_eq!(rx.unprotect(b"", &mut b)?, b"from bob");
/// assert_eq!(rx.unprotect(b"", &mut a)?, b"from alice");
/// assert_eq!(rx.unprotect_vec(b"", &replay), Err(Error::Replay));
/// # Ok::<(), Error>(())
/// ```
pub struct Receiver<S: KeyStore = DefaultKeyStore> {
    suite: CipherSuite,
    limits: Limits,
    window: u32,
    store: S,
    lookahead: u32,
    mls: Option<MlsState>,
    mls_keep: usize,
}

impl Receiver {
    /// A receiver for `suite` with the default key store and backend, replay window
    /// ([`DEFAULT_REPLAY_WINDOW`]) and [`Limits::for_suite`].
    pub fn new(suite: CipherSuite) -> Self {
        Self::with_store(suite)
    }
}

impl<B: Backend> Receiver<DefaultKeyStore<B>> {
    /// [`Receiver::new`] with the crypto backend `backend` (`RustCrypto`, `AwsLc`): pins the
    /// backend whatever the default is in this build.
    ///
    /// ```
    /// use sframe_core::{CipherSuite, Receiver, RustCrypto};
    /// let rx = Receiver::with_backend(RustCrypto, CipherSuite::AesGcm128Sha256);
    /// assert_eq!(rx.backend(), "rustcrypto");
    /// ```
    pub fn with_backend(backend: B, suite: CipherSuite) -> Self {
        let _ = backend;
        Self::with_store(suite)
    }
}

impl<S: KeyStore> Receiver<S> {
    /// A receiver using key store `S`, e.g. `Receiver::<FixedKeyStore<4>>::with_store(suite)`
    /// (the store's second parameter names the backend: `FixedKeyStore<4, RustCrypto>`).
    pub fn with_store(suite: CipherSuite) -> Self {
        Receiver {
            suite,
            limits: Limits::for_suite(suite),
            window: DEFAULT_REPLAY_WINDOW,
            store: S::default(),
            lookahead: DEFAULT_MAX_RATCHET_LOOKAHEAD,
            mls: None,
            mls_keep: DEFAULT_MLS_EPOCHS_KEPT,
        }
    }

    /// The name of the crypto backend (`"rustcrypto"`, `"aws-lc"`).
    pub fn backend(&self) -> &'static str {
        <S::Backend as Backend>::NAME
    }

    /// The cipher suite.
    pub fn suite(&self) -> CipherSuite {
        self.suite
    }

    /// Sets the replay window in counter values (0 turns replay protection off, e.g. to play a
    /// recording twice). At most [`MAX_REPLAY_WINDOW`]; larger is [`Error::InvalidConfig`].
    pub fn set_replay_window(&mut self, size: u32) -> Result<()> {
        if size > MAX_REPLAY_WINDOW {
            return Err(Error::InvalidConfig);
        }
        self.window = size;
        Ok(())
    }

    /// The replay window in force.
    pub fn replay_window(&self) -> u32 {
        self.window
    }

    /// Replaces the usage limits.
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// The usage limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Derives and installs the key for `kid` (§4.4.2). If the same key material is already
    /// installed under `kid` (compared in constant time), nothing changes: its replay window
    /// and failure counts stay, so re-announcing a key never lets old frames be replayed nor
    /// resets the forgery budget. Other material under `kid` is replaced (and zeroized), with
    /// a fresh replay window and usage counters.
    ///
    /// ```
    /// use sframe_core::{CipherSuite, Error, Receiver, Sender};
    /// let suite = CipherSuite::AesGcm128Sha256;
    /// let mut tx = Sender::new(suite);
    /// tx.set_key(1, &[5; 16])?;
    /// let frame = tx.protect_vec(b"", b"once")?;
    /// let mut rx = Receiver::new(suite);
    /// rx.add_key(1, &[5; 16])?;
    /// rx.unprotect_vec(b"", &frame)?;
    /// rx.add_key(1, &[5; 16])?; // re-announced: the replay window stays
    /// assert_eq!(rx.unprotect_vec(b"", &frame), Err(Error::Replay));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn add_key(&mut self, kid: u64, base_key: &[u8]) -> Result<()> {
        self.put_key(Key::derive_in(self.suite, kid, base_key)?)
    }

    /// Installs an already derived [`Key`], as [`Receiver::add_key`] does.
    /// A key derived for another cipher suite is refused with [`Error::SuiteMismatch`].
    pub fn add_derived_key(&mut self, key: Key<S::Backend>) -> Result<()> {
        if key.suite() != self.suite {
            return Err(Error::SuiteMismatch);
        }
        self.put_key(key)
    }

    fn put_key(&mut self, key: Key<S::Backend>) -> Result<()> {
        if self.installed(&key) {
            return Ok(());
        }
        self.store.put(Entry::new(key))
    }

    /// Whether exactly this key material is installed under its KID.
    fn installed(&self, key: &Key<S::Backend>) -> bool {
        self.store
            .find(key.key_id())
            .is_some_and(|e| e.key.same_material(key))
    }

    /// Removes (and zeroizes) the key for `kid`; returns whether there was one. A member key
    /// derived from a kept MLS epoch (§5.2) stays removed: the epoch does not derive it again
    /// (with a fresh replay window) while it is kept; frames under it are
    /// [`Error::UnknownKeyId`]. Adding that key explicitly ([`Receiver::add_key`]) is allowed.
    pub fn remove_key(&mut self, kid: u64) -> bool {
        let epoch = match self.store.find(kid).map(|e| &e.origin) {
            Some(Origin::Mls(epoch)) => Some(*epoch),
            _ => None,
        };
        if let Some(e) = epoch.and_then(|e| self.mls.as_mut()?.epoch_mut(e)) {
            e.mark_removed(kid);
        }
        self.store.remove(kid)
    }

    /// Removes every key, and the secrets of kept MLS epochs (all zeroized). Settings (replay
    /// window, limits, look-ahead, MLS layout) stay.
    pub fn clear(&mut self) {
        self.store.clear_all();
        if let Some(mls) = self.mls.as_mut() {
            mls.epochs.iter_mut().for_each(|e| *e = None);
        }
    }

    /// Whether a key for `kid` is installed.
    pub fn has_key(&self, kid: u64) -> bool {
        self.store.find(kid).is_some()
    }

    /// Number of installed keys.
    pub fn key_count(&self) -> usize {
        self.store.count()
    }

    /// Usage counters of the key for `kid`.
    pub fn usage(&self, kid: u64) -> Option<KeyUsage> {
        self.store.find(kid).map(|e| e.usage)
    }

    /// Highest authenticated counter seen under `kid`.
    pub fn highest_counter(&self, kid: u64) -> Option<u64> {
        self.store.find(kid).and_then(|e| e.window.highest())
    }

    /// Largest plaintext a `frame_len`-byte frame can hold: size output buffers with this.
    pub fn max_plaintext_len(&self, frame_len: usize) -> usize {
        frame_len.saturating_sub(1 + self.suite.tag_len())
    }

    /// Sets how many ratchet steps (§5.1) the receiver derives forward for one frame; 0 turns
    /// forward derivation off. At most [`MAX_RATCHET_LOOKAHEAD`] (else
    /// [`Error::InvalidConfig`]); also never more than `2^(R-1) - 1` for a chain with `R`
    /// bits (step bits further ahead are read as an older step).
    pub fn set_max_ratchet_lookahead(&mut self, steps: u32) -> Result<()> {
        if steps > MAX_RATCHET_LOOKAHEAD {
            return Err(Error::InvalidConfig);
        }
        self.lookahead = steps;
        Ok(())
    }

    /// The ratchet look-ahead in force ([`DEFAULT_MAX_RATCHET_LOOKAHEAD`] unless set).
    pub fn max_ratchet_lookahead(&self) -> u32 {
        self.lookahead
    }

    /// Installs a ratcheting sender's key (§5.1): `kid` (built with `layout`, e.g.
    /// `layout.kid(generation, 0)`) and its `base_key`. Frames of that generation at a later
    /// ratchet step are then accepted once they authenticate under the key derived forward
    /// (see the [`ratchet`](crate::ratchet) module). Re-adding the chain in force, or a key of
    /// an earlier step of it (up to [`MAX_RATCHET_LOOKAHEAD`] steps back), changes nothing —
    /// replay windows and failure counts stay. Other material for the generation replaces
    /// its chain: the earlier chain state is removed (zeroized).
    ///
    /// ```
    /// use sframe_core::{CipherSuite, Receiver, Sender, ratchet::RatchetLayout};
    /// let suite = CipherSuite::AesGcm128Sha256;
    /// let layout = RatchetLayout::new(4)?;
    /// let mut tx = Sender::new(suite);
    /// let kid = tx.set_ratcheting_key(layout, 5, &[1; 16])?;
    /// let mut rx = Receiver::new(suite);
    /// rx.add_ratcheting_key(layout, kid, &[1; 16])?;
    ///
    /// let next_kid = tx.ratchet()?; // step 1: new KID, counter 0 again
    /// let frame = tx.protect_vec(b"", b"after ratchet")?;
    /// assert_eq!(rx.unprotect_vec(b"", &frame)?, b"after ratchet");
    /// assert!(rx.has_key(next_kid));
    /// # Ok::<(), sframe_core::Error>(())
    /// ```
    pub fn add_ratcheting_key(
        &mut self,
        layout: RatchetLayout,
        kid: u64,
        base_key: &[u8],
    ) -> Result<()> {
        let key = Key::derive_in(self.suite, kid, base_key)?;
        let chain = ReceiverChain {
            layout,
            step: layout.step_bits(kid),
            root: key.fingerprint(),
            state: ChainState::new(self.suite, base_key)?,
            previous: None,
        };
        let generation = layout.generation(kid);
        // Re-announcing the chain already in force, or one of its earlier steps, changes
        // nothing: a fresh chain state there would re-accept frames already seen.
        let head = self.store.find_by(&mut |e| match &e.origin {
            Origin::Ratchet(Some(c)) => {
                c.layout == layout && layout.generation(e.key.key_id()) == generation
            }
            _ => false,
        });
        if let Some(head) = head
            && let Origin::Ratchet(Some(c)) = &head.origin
        {
            let same_root = bool::from(c.root.ct_eq(&chain.root));
            if same_root
                || head.key.same_material(&key)
                || chain.state.reaches(self.suite, layout, kid, &head.key)?
            {
                return Ok(());
            }
        }
        let installed = self.installed(&key);
        if !installed && self.store.find(kid).is_none() && !self.store.vacancy() {
            return Err(Error::KeyStoreFull);
        }
        self.store.remove_where(&mut |e| {
            matches!(&e.origin, Origin::Ratchet(_))
                && e.key.key_id() != kid
                && layout.generation(e.key.key_id()) == generation
        });
        if installed {
            // The same key is installed (e.g. with add_key): make it the chain's head and keep
            // its replay window.
            if let Some(e) = self.store.find_mut(kid) {
                e.origin = Origin::Ratchet(Some(chain));
            }
            return Ok(());
        }
        self.store
            .put(Entry::with_origin(key, Origin::Ratchet(Some(chain))))
    }

    /// Configures MLS-based keys (§5.2) with the KID `layout` every member uses. Replaces any
    /// earlier MLS configuration: its epochs and member keys are removed (zeroized).
    pub fn set_mls_layout(&mut self, layout: MlsKidLayout) {
        self.store
            .remove_where(&mut |e| matches!(e.origin, Origin::Mls(_)));
        self.mls = Some(MlsState::new(layout, self.mls_keep));
    }

    /// How many MLS epochs to keep, 1..=[`MAX_MLS_EPOCHS`] (default
    /// [`DEFAULT_MLS_EPOCHS_KEPT`]); else [`Error::InvalidConfig`]. Lowering it forgets the
    /// oldest epochs now.
    pub fn set_mls_epochs_kept(&mut self, epochs: usize) -> Result<()> {
        if epochs == 0 || epochs > MAX_MLS_EPOCHS {
            return Err(Error::InvalidConfig);
        }
        self.mls_keep = epochs;
        if let Some(mls) = self.mls.as_mut() {
            mls.keep = epochs;
            let store = &mut self.store;
            mls.trim(|old| Self::forget_epoch_keys(store, old));
        }
        Ok(())
    }

    /// Adds the exported secret (`MLS-Exporter("SFrame 1.0 Base Key", "", Nk)`) of `epoch`.
    /// Member keys of that epoch are then derived when their first frame authenticates. If
    /// more than the configured number of epochs would be kept, the oldest is forgotten, and
    /// an epoch with the same low `E` bits is always replaced (§5.2): their secrets and
    /// member keys are zeroized. Adding a kept epoch again with the same secret changes
    /// nothing (replay windows stay); with another secret it replaces the epoch.
    /// Without [`Receiver::set_mls_layout`] first:
    /// [`Error::InvalidConfig`]; a secret shorter than 16 or longer than 64 bytes:
    /// [`Error::InvalidKey`].
    ///
    /// ```
    /// use sframe_core::{CipherSuite, Receiver, Sender, mls::MlsKidLayout};
    /// let suite = CipherSuite::AesGcm128Sha256;
    /// let layout = MlsKidLayout::new(4, 4)?;
    /// let epoch_secret = [0x11; 16]; // from MLS-Exporter in a real group
    /// let mut alice = Sender::new(suite);
    /// alice.set_mls_key(&layout, &epoch_secret, 7, 2)?; // epoch 7, leaf index 2
    ///
    /// let mut bob = Receiver::new(suite);
    /// bob.set_mls_layout(layout);
    /// bob.add_mls_epoch(7, &epoch_secret)?;
    /// let frame = alice.protect_vec(b"", b"hi")?;
    /// assert_eq!(bob.unprotect_vec(b"", &frame)?, b"hi");
    /// # Ok::<(), sframe_core::Error>(())
    /// ```
    pub fn add_mls_epoch(&mut self, epoch: u64, exported_secret: &[u8]) -> Result<()> {
        let secret = EpochSecret::new(epoch, exported_secret)?;
        let mls = self.mls.as_mut().ok_or(Error::InvalidConfig)?;
        let known = mls
            .epochs
            .iter()
            .flatten()
            .any(|e| e.epoch == epoch && bool::from(e.secret().ct_eq(exported_secret)));
        if known {
            // Idempotent: re-adding an epoch must not reset its members' replay windows.
            return Ok(());
        }
        for old in mls.insert(secret).into_iter().flatten() {
            Self::forget_epoch_keys(&mut self.store, old);
        }
        Ok(())
    }

    /// Forgets `epoch` now (its secret and member keys, zeroized); returns whether it was kept.
    pub fn remove_mls_epoch(&mut self, epoch: u64) -> bool {
        let Some(mls) = self.mls.as_mut() else {
            return false;
        };
        let found = match mls
            .epochs
            .iter_mut()
            .find(|s| s.as_ref().is_some_and(|e| e.epoch == epoch))
        {
            Some(slot) => {
                *slot = None; // dropped (zeroized) in place
                true
            }
            None => false,
        };
        Self::forget_epoch_keys(&mut self.store, epoch);
        found
    }

    /// Whether the exported secret of `epoch` is kept.
    pub fn has_mls_epoch(&self, epoch: u64) -> bool {
        self.mls
            .as_ref()
            .is_some_and(|m| m.epochs.iter().flatten().any(|e| e.epoch == epoch))
    }

    fn forget_epoch_keys(store: &mut S, epoch: u64) {
        store.remove_where(&mut |e| matches!(e.origin, Origin::Mls(x) if x == epoch));
    }

    /// Verifies and decrypts `frame` in place and returns the plaintext, a sub-slice of
    /// `frame` (after the header). `metadata` must be what the sender authenticated. No
    /// allocation. On error the frame bytes, the keys and the replay window are unchanged.
    pub fn unprotect<'f>(&mut self, metadata: &[u8], frame: &'f mut [u8]) -> Result<&'f mut [u8]> {
        let (header, header_len) = Header::parse(frame)?;
        let well_formed = self.well_formed(frame.len(), header_len);
        self.open_with(&header, well_formed, |key| {
            frame::open_in_place(key, &header, header_len, metadata, frame)
        })
    }

    /// Verifies and decrypts `frame` into `out` ([`Receiver::max_plaintext_len`] bytes suffice);
    /// returns the plaintext part of `out`. On error `out` holds no decrypted byte.
    pub fn unprotect_into<'o>(
        &mut self,
        metadata: &[u8],
        frame: &[u8],
        out: &'o mut [u8],
    ) -> Result<&'o mut [u8]> {
        let (header, header_len) = Header::parse(frame)?;
        let well_formed = self.well_formed(frame.len(), header_len);
        self.open_with(&header, well_formed, |key| {
            frame::open_into(key, &header, header_len, metadata, frame, out)
        })
    }

    /// Convenience: decrypts into a new `Vec`.
    #[cfg(feature = "alloc")]
    #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
    pub fn unprotect_vec(&mut self, metadata: &[u8], frame: &[u8]) -> Result<alloc::vec::Vec<u8>> {
        let mut out = alloc::vec![0u8; self.max_plaintext_len(frame.len())];
        let n = self.unprotect_into(metadata, frame, &mut out)?.len();
        out.truncate(n);
        Ok(out)
    }

    fn well_formed(&self, frame_len: usize, header_len: usize) -> bool {
        frame_len >= header_len.saturating_add(self.suite.tag_len())
    }

    /// Key lookup, limits, replay check, `open`, and — only if `open` authenticated — the
    /// state update. Frames under an unknown KID may be opened with a key derived on the spot
    /// (§5.1 ratchet, §5.2 MLS epoch), which is stored only after success.
    fn open_with<T>(
        &mut self,
        header: &Header,
        well_formed: bool,
        open: impl FnOnce(&Key<S::Backend>) -> Result<T>,
    ) -> Result<T> {
        let (kid, ctr) = (header.key_id(), header.counter());
        let window = self.window;
        let max_failures = self.limits.max_auth_failures;
        if let Some(entry) = self.store.find_mut(kid) {
            if entry.usage.auth_failures >= max_failures {
                return Err(Error::KeyUsageLimit);
            }
            if !well_formed {
                return Err(Error::MalformedFrame);
            }
            entry.window.check(ctr, window)?;
            let result = open(&entry.key);
            return Self::finish(entry, ctr, result);
        }
        let candidate = self.derive_candidate(kid)?;
        if !well_formed {
            return Err(Error::MalformedFrame);
        }
        // A new key comes with an empty replay window: nothing to check.
        let result = open(candidate.key());
        match &result {
            Ok(_) => self.commit(candidate, ctr)?,
            Err(Error::AuthenticationFailed) => self.count_derived_failure(&candidate),
            Err(_) => {}
        }
        result
    }

    /// A key for `kid` derived from a ratchet chain or an MLS epoch, without storing it.
    fn derive_candidate(&self, kid: u64) -> Result<Candidate<S::Backend>> {
        let max_failures = self.limits.max_auth_failures;
        let has_room = self.store.vacancy();
        let head = self.store.find_by(&mut |e| match &e.origin {
            Origin::Ratchet(Some(c)) => {
                c.layout.generation(e.key.key_id()) == c.layout.generation(kid)
            }
            _ => false,
        });
        if let Some(head) = head
            && let Origin::Ratchet(Some(chain)) = &head.origin
        {
            let distance = chain.layout.distance(chain.step, kid);
            if distance == 0
                || distance > u64::from(self.lookahead)
                || distance > chain.layout.max_ahead()
            {
                return Err(Error::UnknownKeyId);
            }
            if head.usage.auth_failures >= max_failures {
                return Err(Error::KeyUsageLimit);
            }
            // The old head stays for late frames. Its step bits are `2^R - distance` ahead of
            // the new head, more than `max_ahead` (< 2^(R-1)): it is never read as a newer step.
            let frees = chain.previous.is_some_and(|p| self.store.find(p).is_some());
            if !has_room && !frees {
                return Err(Error::KeyStoreFull);
            }
            let (state, key) = chain.state.step_n(self.suite, distance, kid)?;
            return Ok(Candidate::Ratchet {
                head: head.key.key_id(),
                key,
                chain: ReceiverChain {
                    layout: chain.layout,
                    step: chain.step.wrapping_add(distance),
                    root: chain.root,
                    state,
                    previous: Some(head.key.key_id()),
                },
                drop: chain.previous,
            });
        }
        if let Some(epoch) = self.mls.as_ref().and_then(|m| m.epoch_for(kid)) {
            if !epoch.may_derive(kid) {
                return Err(Error::UnknownKeyId);
            }
            if epoch.auth_failures >= max_failures {
                return Err(Error::KeyUsageLimit);
            }
            if !has_room {
                return Err(Error::KeyStoreFull);
            }
            return Ok(Candidate::Mls {
                epoch: epoch.epoch,
                key: Key::derive_in(self.suite, kid, epoch.secret())?,
            });
        }
        Err(Error::UnknownKeyId)
    }

    /// Stores an authenticated candidate key, with `ctr` recorded.
    fn commit(&mut self, candidate: Candidate<S::Backend>, ctr: u64) -> Result<()> {
        let mut entry = match candidate {
            Candidate::Ratchet {
                head,
                key,
                chain,
                drop,
            } => {
                if let Some(old) = drop {
                    self.store.remove(old);
                }
                if let Some(h) = self.store.find_mut(head) {
                    // Forget the older chain state (zeroized on drop): only the new head can
                    // derive further.
                    h.origin = Origin::Ratchet(None);
                }
                Entry::with_origin(key, Origin::Ratchet(Some(chain)))
            }
            Candidate::Mls { epoch, key } => Entry::with_origin(key, Origin::Mls(epoch)),
        };
        entry.window.accept(ctr);
        entry.usage.frames = 1;
        self.store.put(entry)
    }

    fn count_derived_failure(&mut self, candidate: &Candidate<S::Backend>) {
        match candidate {
            Candidate::Ratchet { head, .. } => {
                if let Some(h) = self.store.find_mut(*head) {
                    h.usage.auth_failures = h.usage.auth_failures.saturating_add(1);
                }
            }
            Candidate::Mls { epoch, .. } => {
                if let Some(e) = self.mls.as_mut().and_then(|m| m.epoch_mut(*epoch)) {
                    e.auth_failures = e.auth_failures.saturating_add(1);
                }
            }
        }
    }

    /// Records the outcome of authentication on the entry.
    fn finish<T>(entry: &mut Entry<S::Backend>, ctr: u64, result: Result<T>) -> Result<T> {
        match &result {
            Ok(_) => {
                entry.window.accept(ctr);
                entry.usage.frames = entry.usage.frames.saturating_add(1);
            }
            Err(Error::AuthenticationFailed) => {
                entry.usage.auth_failures = entry.usage.auth_failures.saturating_add(1);
            }
            Err(_) => {}
        }
        result
    }
}

/// A key derived for a frame whose KID was not installed; stored only if the frame authenticates.
enum Candidate<B: Backend> {
    Ratchet {
        /// KID of the chain's current head (keeps its key, loses its chain state).
        head: u64,
        key: Key<B>,
        chain: ReceiverChain,
        /// The head's retained predecessor, removed on commit.
        drop: Option<u64>,
    },
    Mls {
        epoch: u64,
        key: Key<B>,
    },
}

impl<B: Backend> Candidate<B> {
    fn key(&self) -> &Key<B> {
        match self {
            Candidate::Ratchet { key, .. } | Candidate::Mls { key, .. } => key,
        }
    }
}

impl<S: KeyStore> core::fmt::Debug for Receiver<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Receiver")
            .field("suite", &self.suite)
            .field("keys", &self.key_count())
            .field("replay_window", &self.window)
            .finish()
    }
}
