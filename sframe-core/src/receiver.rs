//! The receiving side — RFC 9605 §4.4.4 (decryption) with replay protection (§7.4, §9.3),
//! sender key ratcheting (§5.1) and MLS epochs (§5.2).
//!
//! Each frame goes: parse the header (§4.3) → resolve the key by KID (installed, or derived on
//! the spot by [`ratchet`] / [`mls`](crate::mls)) → check the forgery limit and
//! the replay window (read-only) → verify and decrypt (§4.4.4) → only then record the counter.
//! A frame that fails any step changes nothing but the key's authentication-failure count,
//! which exists to enforce the forgery limit ([`Limits::max_auth_failures`]).
//!
//! A key derived on the spot (a later ratchet step within the look-ahead, or a member of a
//! kept MLS epoch) is stored only if its frame authenticates; failures count against the
//! chain's head key or the epoch. With the RustCrypto backend this allocates nothing; with
//! `AwsLc`, building the derived key inside aws-lc-rs does (frames under already installed
//! keys never allocate).
//!
//! Settings are fixed at construction by a [`ReceiverConfig`], validated as it is built.
//! Defaults: replay window [`DEFAULT_REPLAY_WINDOW`] (512 counter values), look-ahead
//! [`DEFAULT_MAX_RATCHET_LOOKAHEAD`] (8) ratchet steps, [`DEFAULT_MLS_EPOCHS_KEPT`] (3) MLS
//! epochs, [`Limits::for_suite`].

use crate::crypto::Backend;
use crate::error::{Error, Result};
use crate::frame;
use crate::header::Header;
use crate::key::Key;
use crate::keystore::{Candidate, DefaultKeyStore, Entry, KeyStore};
use crate::limits::{KeyUsage, Limits};
use crate::mls::{DEFAULT_MLS_EPOCHS_KEPT, MAX_MLS_EPOCHS, MlsKidLayout, MlsState};
use crate::ratchet::{self, DEFAULT_MAX_RATCHET_LOOKAHEAD, MAX_RATCHET_LOOKAHEAD, RatchetLayout};
use crate::replay::{DEFAULT_REPLAY_WINDOW, MAX_REPLAY_WINDOW};
use crate::suite::{CipherSuite, NONCE_LEN};
use subtle::ConstantTimeEq;

/// A receiver's settings, validated as they are set: a [`Receiver`] built from a config never
/// has an invalid one. Build with [`ReceiverConfig::new`] and the `with_*` methods;
/// `CipherSuite` converts into the default config.
///
/// ```
/// use sframe_core::{CipherSuite, Error, Receiver, ReceiverConfig, mls::MlsKidLayout};
/// let config = ReceiverConfig::new(CipherSuite::AesGcm128Sha256)
///     .with_replay_window(1024)?
///     .with_ratchet_lookahead(4)?
///     .with_mls(MlsKidLayout::new(4, 6)?, 2)?;
/// let rx = Receiver::with_config(config);
/// assert_eq!(rx.config().replay_window(), 1024);
/// assert_eq!(
///     ReceiverConfig::new(CipherSuite::AesGcm128Sha256).with_replay_window(1 << 20),
///     Err(Error::InvalidConfig)
/// );
/// # Ok::<(), Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReceiverConfig {
    suite: CipherSuite,
    replay_window: u32,
    limits: Limits,
    ratchet_lookahead: u32,
    mls: Option<MlsKidLayout>,
    mls_epochs_kept: usize,
}

impl From<CipherSuite> for ReceiverConfig {
    fn from(suite: CipherSuite) -> Self {
        ReceiverConfig::new(suite)
    }
}

impl ReceiverConfig {
    /// The defaults for `suite`: replay window [`DEFAULT_REPLAY_WINDOW`],
    /// [`Limits::for_suite`], ratchet look-ahead [`DEFAULT_MAX_RATCHET_LOOKAHEAD`], no MLS.
    pub const fn new(suite: CipherSuite) -> Self {
        ReceiverConfig {
            suite,
            replay_window: DEFAULT_REPLAY_WINDOW,
            limits: Limits::for_suite(suite),
            ratchet_lookahead: DEFAULT_MAX_RATCHET_LOOKAHEAD,
            mls: None,
            mls_epochs_kept: DEFAULT_MLS_EPOCHS_KEPT,
        }
    }

    /// The replay window in counter values: for each key, a frame is accepted if its counter
    /// is above the highest one authenticated so far, or at most `size - 1` below it and not
    /// seen yet (§7.4, §9.3). 0 turns replay protection off (e.g. to play a recording twice).
    /// At most [`MAX_REPLAY_WINDOW`], else [`Error::InvalidConfig`].
    pub const fn with_replay_window(self, size: u32) -> Result<Self> {
        if size > MAX_REPLAY_WINDOW {
            return Err(Error::InvalidConfig);
        }
        Ok(ReceiverConfig {
            replay_window: size,
            ..self
        })
    }

    /// Usage limits (forgery limit per key); default [`Limits::for_suite`].
    pub const fn with_limits(self, limits: Limits) -> Self {
        ReceiverConfig { limits, ..self }
    }

    /// How many ratchet steps (§5.1) the receiver derives forward for one frame; 0 turns
    /// forward derivation off. At most [`MAX_RATCHET_LOOKAHEAD`] (else
    /// [`Error::InvalidConfig`]); a chain with `R` step bits also never looks further than
    /// `2^(R-1) - 1` (step bits further ahead are read as an older step).
    pub const fn with_ratchet_lookahead(self, steps: u32) -> Result<Self> {
        if steps > MAX_RATCHET_LOOKAHEAD {
            return Err(Error::InvalidConfig);
        }
        Ok(ReceiverConfig {
            ratchet_lookahead: steps,
            ..self
        })
    }

    /// MLS-based keys (§5.2): the KID `layout` every member uses, and how many epochs to keep
    /// (1..=[`MAX_MLS_EPOCHS`], else [`Error::InvalidConfig`]; [`DEFAULT_MLS_EPOCHS_KEPT`] is
    /// the usual choice). A newer epoch replaces a kept one with the same low `E` bits (an
    /// older one is refused), so at most `2^E` are ever kept.
    pub const fn with_mls(self, layout: MlsKidLayout, epochs_kept: usize) -> Result<Self> {
        if epochs_kept == 0 || epochs_kept > MAX_MLS_EPOCHS {
            return Err(Error::InvalidConfig);
        }
        Ok(ReceiverConfig {
            mls: Some(layout),
            mls_epochs_kept: epochs_kept,
            ..self
        })
    }

    /// The cipher suite.
    pub const fn suite(&self) -> CipherSuite {
        self.suite
    }

    /// The replay window, in counter values (0: off).
    pub const fn replay_window(&self) -> u32 {
        self.replay_window
    }

    /// The usage limits.
    pub const fn limits(&self) -> Limits {
        self.limits
    }

    /// The ratchet look-ahead, in steps.
    pub const fn ratchet_lookahead(&self) -> u32 {
        self.ratchet_lookahead
    }

    /// The MLS KID layout, if MLS keys are configured.
    pub const fn mls_layout(&self) -> Option<MlsKidLayout> {
        self.mls
    }

    /// How many MLS epochs are kept.
    pub const fn mls_epochs_kept(&self) -> usize {
        self.mls_epochs_kept
    }
}

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
/// assert_eq!(rx.unprotect_in_place(b"", &mut b)?, b"from bob");
/// let mut out = [0u8; 64];
/// assert_eq!(rx.unprotect(b"", &a, &mut out)?, b"from alice");
/// assert_eq!(rx.unprotect_vec(b"", &replay), Err(Error::Replay));
/// # Ok::<(), Error>(())
/// ```
pub struct Receiver<S: KeyStore = DefaultKeyStore> {
    config: ReceiverConfig,
    store: S,
    mls: Option<MlsState>,
}

impl Receiver {
    /// A receiver for `suite` with the default key store, backend and [`ReceiverConfig`].
    pub fn new(suite: CipherSuite) -> Self {
        Self::with_store(suite)
    }

    /// A receiver with the default key store and backend, and `config`.
    pub fn with_config(config: ReceiverConfig) -> Self {
        Self::with_store(config)
    }
}

impl<B: Backend> Receiver<DefaultKeyStore<B>> {
    /// [`Receiver::with_config`] with the crypto backend `backend` (`RustCrypto`, `AwsLc`):
    /// pins the backend whatever the default is in this build. `config` may be a suite.
    ///
    /// ```
    /// use sframe_core::{CipherSuite, Receiver, RustCrypto};
    /// let rx = Receiver::with_backend(RustCrypto, CipherSuite::AesGcm128Sha256);
    /// assert_eq!(rx.backend(), "rustcrypto");
    /// ```
    pub fn with_backend(backend: B, config: impl Into<ReceiverConfig>) -> Self {
        let _ = backend;
        Self::with_store(config)
    }
}

impl<S: KeyStore> Receiver<S> {
    /// A receiver using key store `S`, e.g. `Receiver::<FixedKeyStore<4>>::with_store(suite)`
    /// (the store's second parameter names the backend: `FixedKeyStore<4, RustCrypto>`).
    /// `config` may be a suite (default settings) or a [`ReceiverConfig`].
    pub fn with_store(config: impl Into<ReceiverConfig>) -> Self {
        let config = config.into();
        Receiver {
            config,
            store: S::default(),
            mls: config
                .mls
                .map(|layout| MlsState::new(layout, config.mls_epochs_kept)),
        }
    }

    /// The name of the crypto backend (`"rustcrypto"`, `"aws-lc"`).
    pub fn backend(&self) -> &'static str {
        <S::Backend as Backend>::NAME
    }

    /// The cipher suite.
    pub fn suite(&self) -> CipherSuite {
        self.config.suite
    }

    /// The settings in force.
    pub fn config(&self) -> &ReceiverConfig {
        &self.config
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
        self.put_key(Key::derive_in(self.config.suite, kid, base_key)?)
    }

    /// Installs an already derived [`Key`], as [`Receiver::add_key`] does.
    /// A key derived for another cipher suite is refused with [`Error::SuiteMismatch`].
    pub fn add_derived_key(&mut self, key: Key<S::Backend>) -> Result<()> {
        if key.suite() != self.config.suite {
            return Err(Error::SuiteMismatch);
        }
        self.put_key(key)
    }

    fn put_key(&mut self, key: Key<S::Backend>) -> Result<()> {
        if let Some(entry) = self.store.find_mut(key.key_id())
            && entry.key.same_material(&key)
        {
            entry.key.upgrade(key);
            return Ok(());
        }
        self.store.put(Entry::new(key))
    }

    /// Removes (and zeroizes) the key for `kid`; returns whether there was one. A member key
    /// derived from a kept MLS epoch (§5.2) stays removed: the epoch does not derive it again
    /// (with a fresh replay window) while it is kept; frames under it are
    /// [`Error::UnknownKeyId`]. Adding that key explicitly ([`Receiver::add_key`]) is allowed.
    pub fn remove_key(&mut self, kid: u64) -> bool {
        if let (Some(entry), Some(mls)) = (self.store.find(kid), self.mls.as_mut()) {
            mls.mark_removed(kid, &entry.origin);
        }
        self.store.remove(kid)
    }

    /// Removes (and zeroizes) every installed key whose KID `which` selects, as
    /// [`Receiver::remove_key`] does for each; returns how many. E.g. every step of a §5.1
    /// ratchet generation, whose KIDs the receiver derived itself:
    ///
    /// ```
    /// use sframe_core::{CipherSuite, Receiver, Sender, ratchet::{Generation, RatchetLayout}};
    /// let suite = CipherSuite::AesGcm128Sha256;
    /// let layout = RatchetLayout::new(4)?;
    /// let mut tx = Sender::new(suite);
    /// tx.set_ratcheting_key(layout, Generation(3), &[1; 16])?;
    /// tx.ratchet()?;
    /// let mut rx = Receiver::new(suite);
    /// rx.add_ratcheting_key(layout, layout.kid(Generation(3), 0)?, &[1; 16])?;
    /// rx.add_key(99, &[2; 16])?;
    /// rx.unprotect_vec(b"", &tx.protect_vec(b"", b"step 1")?)?; // step 1's key is derived
    /// assert_eq!(rx.key_count(), 3);
    /// let n = rx.remove_keys_where(|kid| layout.generation(kid) == Generation(3));
    /// assert_eq!((n, rx.key_count()), (2, 1));
    /// # Ok::<(), sframe_core::Error>(())
    /// ```
    pub fn remove_keys_where(&mut self, mut which: impl FnMut(u64) -> bool) -> usize {
        let mut removed = 0;
        while let Some(kid) = self
            .store
            .find_by(&mut |e| which(e.key.key_id()))
            .map(|e| e.key.key_id())
        {
            if !self.remove_key(kid) {
                break;
            }
            removed += 1;
        }
        removed
    }

    /// Removes every key, and the secrets of kept MLS epochs (all zeroized). The
    /// [`ReceiverConfig`] stays, and so does what the receiver knows of dropped MLS epochs:
    /// those it kept cannot be added again ([`Error::StaleEpoch`], see
    /// [`Receiver::add_mls_epoch`]).
    pub fn clear(&mut self) {
        self.store.clear_all();
        if let Some(mls) = self.mls.as_mut() {
            mls.clear();
        }
    }

    /// Whether a key for `kid` is installed.
    pub fn has_key(&self, kid: u64) -> bool {
        self.store.find(kid).is_some()
    }

    /// Whether a frame under `kid` finds a key, checked without decrypting or deriving
    /// anything: a key is installed for `kid` ([`Receiver::has_key`]), or the receiver derives
    /// it for the frame (a ratchet step within the look-ahead, §5.1; a member of a kept MLS
    /// epoch, §5.2). When `false`, [`Receiver::unprotect`] of the frame fails with
    /// [`Error::UnknownKeyId`] and changes nothing: the frame can wait for its key in a
    /// [`KeyWaitBuffer`](crate::keywait::KeyWaitBuffer) (RFC 9605 §4.4.4). With an external
    /// AEAD ([`Receiver::unprotect_external`]) only installed keys count: use
    /// [`Receiver::has_key`] there.
    ///
    /// ```
    /// use sframe_core::{CipherSuite, Receiver, ratchet::{Generation, RatchetLayout}};
    /// let layout = RatchetLayout::new(4)?;
    /// let mut rx = Receiver::new(CipherSuite::AesGcm128Sha256);
    /// rx.add_ratcheting_key(layout, layout.kid(Generation(3), 0)?, &[1; 16])?;
    /// let step_2 = layout.kid(Generation(3), 2)?;
    /// assert!(rx.has_key_for(step_2)); // derived when its frame comes
    /// assert!(!rx.has_key(step_2));
    /// assert!(!rx.has_key_for(layout.kid(Generation(4), 0)?)); // the next key: not yet
    /// # Ok::<(), sframe_core::Error>(())
    /// ```
    pub fn has_key_for(&self, kid: u64) -> bool {
        if self.store.find(kid).is_some() {
            return true;
        }
        // The order of `derive`: a chain of `kid`'s generation decides alone.
        match ratchet::in_reach(&self.store, kid, self.config.ratchet_lookahead) {
            Some(in_reach) => in_reach,
            None => self
                .mls
                .as_ref()
                .and_then(|mls| mls.epoch_for(kid))
                .is_some_and(|epoch| epoch.may_derive(kid)),
        }
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

    /// Largest output of unprotecting a `frame_len`-byte frame (its plaintext): size output
    /// buffers with this. The counterpart of [`Sender::max_output_len`](crate::Sender::max_output_len).
    pub fn max_output_len(&self, frame_len: usize) -> usize {
        frame_len.saturating_sub(1 + self.config.suite.tag_len())
    }

    /// Installs a ratcheting sender's key (§5.1): `kid` (built with `layout`, e.g.
    /// `layout.kid(generation, 0)`) and its `base_key`. Frames of that generation at a later
    /// ratchet step are then accepted once they authenticate under the key derived forward
    /// (see the [`ratchet`] module). Re-adding the chain in force, or a key of
    /// an earlier step of it (up to [`MAX_RATCHET_LOOKAHEAD`] steps back), changes nothing —
    /// replay windows and failure counts stay. Other material for the generation replaces
    /// its chain: the earlier chain state is removed (zeroized).
    ///
    /// ```
    /// use sframe_core::{CipherSuite, Receiver, Sender, ratchet::{Generation, RatchetLayout}};
    /// let suite = CipherSuite::AesGcm128Sha256;
    /// let layout = RatchetLayout::new(4)?;
    /// let mut tx = Sender::new(suite);
    /// let kid = tx.set_ratcheting_key(layout, Generation(5), &[1; 16])?;
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
        ratchet::install_chain(&mut self.store, self.config.suite, layout, kid, base_key)
    }

    /// Adds the exported secret (`MLS-Exporter("SFrame 1.0 Base Key", "", Nk)`) of `epoch`.
    /// Member keys of that epoch are then derived when their first frame authenticates. If
    /// more than the configured number of epochs would be kept, the oldest is forgotten, and
    /// an epoch with the same low `E` bits is always replaced (§5.2): their secrets and
    /// member keys are zeroized. Adding a kept epoch again with the same secret changes
    /// nothing (replay windows stay); with another secret it replaces the epoch.
    ///
    /// An epoch never comes back once dropped: its members' keys would return with empty
    /// replay windows and accept frames already accepted (§9.3), e.g. after a late or
    /// duplicated MLS message or a resync. The receiver remembers the newest epoch it dropped
    /// (forgotten as the oldest, replaced by its roll-over twin, removed with
    /// [`Receiver::remove_mls_epoch`] or [`Receiver::clear`]) and refuses with
    /// [`Error::StaleEpoch`], changing nothing, an epoch it does not keep that is not newer
    /// than that one, an epoch older than the kept epoch with the same low `E` bits, and an
    /// epoch older than every kept epoch when the configured number are kept (forgetting the
    /// oldest would forget it). An older epoch never seen before is added if there is room.
    /// A receiver that must take epochs of a new group starting over from 0 is a new
    /// `Receiver`.
    ///
    /// Without MLS in the [`ReceiverConfig`] ([`ReceiverConfig::with_mls`]):
    /// [`Error::InvalidConfig`]; a secret shorter than 16 or longer than 64 bytes:
    /// [`Error::InvalidKey`].
    ///
    /// ```
    /// use sframe_core::{CipherSuite, Error, Receiver, ReceiverConfig, Sender, mls::MlsKidLayout};
    /// let suite = CipherSuite::AesGcm128Sha256;
    /// let layout = MlsKidLayout::new(4, 4)?;
    /// let epoch_secret = [0x11; 16]; // from MLS-Exporter in a real group
    /// let mut alice = Sender::new(suite);
    /// alice.set_mls_key(&layout, &epoch_secret, 7, 2)?; // epoch 7, leaf index 2
    ///
    /// let mut bob = Receiver::with_config(ReceiverConfig::new(suite).with_mls(layout, 2)?);
    /// bob.add_mls_epoch(7, &epoch_secret)?;
    /// let frame = alice.protect_vec(b"", b"hi")?;
    /// assert_eq!(bob.unprotect_vec(b"", &frame)?, b"hi");
    ///
    /// bob.add_mls_epoch(7, &epoch_secret)?; // again: nothing changes
    /// assert_eq!(bob.unprotect_vec(b"", &frame), Err(Error::Replay));
    /// bob.add_mls_epoch(8, &[0x22; 16])?;
    /// bob.add_mls_epoch(9, &[0x33; 16])?; // two kept: epoch 7 is forgotten
    /// assert!(!bob.has_mls_epoch(7));
    /// // ...and never comes back with an empty replay window.
    /// assert_eq!(bob.add_mls_epoch(7, &epoch_secret), Err(Error::StaleEpoch));
    /// assert_eq!(bob.unprotect_vec(b"", &frame), Err(Error::UnknownKeyId));
    /// # Ok::<(), sframe_core::Error>(())
    /// ```
    pub fn add_mls_epoch(&mut self, epoch: u64, exported_secret: &[u8]) -> Result<()> {
        let mls = self.mls.as_mut().ok_or(Error::InvalidConfig)?;
        mls.add_epoch(&mut self.store, epoch, exported_secret)
    }

    /// Forgets `epoch` now (its secret and member keys, zeroized); returns whether it was kept.
    /// A removed epoch, and every epoch not kept up to it, cannot be added again
    /// ([`Error::StaleEpoch`], see [`Receiver::add_mls_epoch`]).
    pub fn remove_mls_epoch(&mut self, epoch: u64) -> bool {
        match self.mls.as_mut() {
            Some(mls) => mls.remove_epoch(&mut self.store, epoch),
            None => false,
        }
    }

    /// Whether the exported secret of `epoch` is kept.
    pub fn has_mls_epoch(&self, epoch: u64) -> bool {
        self.mls
            .as_ref()
            .is_some_and(|m| m.epochs.iter().flatten().any(|e| e.epoch == epoch))
    }

    /// Verifies and decrypts `frame` into `out` ([`Receiver::max_output_len`] bytes suffice)
    /// and returns the plaintext part of `out`. `metadata` must be what the sender
    /// authenticated. No allocation. On error `out` holds no decrypted byte, and the keys and
    /// replay windows are unchanged (only a failed authentication is counted).
    pub fn unprotect<'o>(
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

    /// In-place variant: verifies and decrypts `frame` where it is and returns the plaintext,
    /// a sub-slice of `frame` (after the header). On error the frame bytes are unchanged.
    pub fn unprotect_in_place<'f>(
        &mut self,
        metadata: &[u8],
        frame: &'f mut [u8],
    ) -> Result<&'f mut [u8]> {
        let (header, header_len) = Header::parse(frame)?;
        let well_formed = self.well_formed(frame.len(), header_len);
        self.open_with(&header, well_formed, |key| {
            frame::open_in_place(key, &header, header_len, metadata, frame)
        })
    }

    /// Convenience: decrypts into a new `Vec`.
    #[cfg(feature = "alloc")]
    #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
    pub fn unprotect_vec(&mut self, metadata: &[u8], frame: &[u8]) -> Result<alloc::vec::Vec<u8>> {
        let mut out = alloc::vec![0u8; self.max_output_len(frame.len())];
        let n = self.unprotect(metadata, frame, &mut out)?.len();
        out.truncate(n);
        Ok(out)
    }

    /// First half of unprotecting `frame` with an AEAD outside this crate (e.g. WebCrypto
    /// AES-GCM in a browser, which keeps the AES key in a non-extractable `CryptoKey`). Parses the header, finds the installed key of its KID (a full key
    /// or a [`Key::external`] one; keys the receiver would derive — ratchet steps ahead, MLS
    /// members — are [`Error::UnknownKeyId`] here: use [`Receiver::unprotect`] for them) and
    /// checks the forgery limit and the replay window. Changes nothing. The caller then
    /// decrypts `frame[header_len..]` (ciphertext ‖ tag) under [`ExternalOpen::nonce`] with
    /// AAD `frame[..header_len] ‖ metadata`, and reports the outcome with
    /// [`Receiver::commit_external`] (tag verified) or [`Receiver::reject_external`] (not).
    ///
    /// The forgery limit ([`Limits::max_auth_failures`]) is checked here, but a failure only
    /// counts once [`Receiver::reject_external`] reports it, so frames opened at the same time
    /// all pass the check. If at most `k` frames of one key are opened and not yet committed
    /// or rejected at any time, at most `max_auth_failures + k - 1` frames that fail
    /// authentication are verified under the key before it is refused with
    /// [`Error::KeyUsageLimit`]: the forgery chance of the [`limits`](crate::limits) table
    /// grows by the factor `(max_auth_failures + k - 1) / max_auth_failures`. Finishing each
    /// frame before opening the next (`k = 1`) keeps exactly the limit of
    /// [`Receiver::unprotect`]; a caller that verifies frames in parallel must bound how many
    /// of one key it has open (the attacker chooses how many frames arrive at once), or lower
    /// the limit by `k - 1`. A frame whose tag did not verify and that is never rejected is
    /// not counted at all.
    ///
    /// ```
    /// use sframe_core::{CipherSuite, Error, Receiver, Sender, hazmat::{Aead, derive_key_and_salt}};
    /// let suite = CipherSuite::AesGcm128Sha256;
    /// let mut tx = Sender::new(suite);
    /// tx.set_key(3, &[9; 16])?;
    /// let frame = tx.protect_vec(b"", b"frame")?;
    /// let mut rx = Receiver::new(suite);
    /// rx.add_key(3, &[9; 16])?;
    ///
    /// let open = rx.unprotect_external(&frame)?;
    /// let (key, _) = derive_key_and_salt(suite, 3, &[9; 16])?; // WebCrypto's key, in a browser
    /// let (header, body) = frame.split_at(open.header_len());
    /// let (ct, tag) = body.split_at(body.len() - open.tag_len());
    /// let mut pt = ct.to_vec();
    /// Aead::new(suite, &key[..suite.key_len()])?.open(open.nonce(), header, &mut pt, tag)?;
    /// rx.commit_external(&open)?;
    /// assert_eq!(pt, b"frame");
    /// assert_eq!(rx.unprotect_external(&frame).map(|_| ()), Err(Error::Replay));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn unprotect_external(&self, frame: &[u8]) -> Result<ExternalOpen> {
        let (header, header_len) = Header::parse(frame)?;
        let well_formed = self.well_formed(frame.len(), header_len);
        let (kid, ctr) = (header.key_id(), header.counter());
        let entry = self.store.find(kid).ok_or(Error::UnknownKeyId)?;
        let config = &self.config;
        entry.check(
            ctr,
            well_formed,
            config.replay_window,
            config.limits.max_auth_failures,
        )?;
        Ok(ExternalOpen {
            kid,
            ctr,
            header_len,
            tag_len: config.suite.tag_len(),
            nonce: entry.key.nonce(ctr),
            fingerprint: entry.key.fingerprint(),
        })
    }

    /// Second half, after the external AEAD verified the tag: records the frame's counter
    /// (and counts the frame) under its key. The replay window is checked again, so of two
    /// copies of a frame opened concurrently only the first commit succeeds
    /// ([`Error::Replay`]); if the KID's key was removed or replaced since
    /// [`Receiver::unprotect_external`], nothing is recorded ([`Error::UnknownKeyId`]). Only
    /// call it for a frame whose tag verified: this is what makes the frame authentic to
    /// the receiver.
    pub fn commit_external(&mut self, open: &ExternalOpen) -> Result<()> {
        let window = self.config.replay_window;
        let entry = self.external_entry(open)?;
        entry.window.check(open.ctr, window)?;
        entry.record(open.ctr, &Ok(()));
        Ok(())
    }

    /// Second half, after the external AEAD rejected the tag: counts one authentication
    /// failure against the key (as a failed [`Receiver::unprotect`] does). Nothing else
    /// changes.
    pub fn reject_external(&mut self, open: &ExternalOpen) {
        if let Ok(entry) = self.external_entry(open) {
            entry.record::<()>(open.ctr, &Err(Error::AuthenticationFailed));
        }
    }

    /// The entry `open` was made with, if its key is still installed.
    fn external_entry(&mut self, open: &ExternalOpen) -> Result<&mut Entry<S::Backend>> {
        self.store
            .find_mut(open.kid)
            .filter(|e| bool::from(e.key.fingerprint().ct_eq(&open.fingerprint)))
            .ok_or(Error::UnknownKeyId)
    }

    fn well_formed(&self, frame_len: usize, header_len: usize) -> bool {
        frame_len >= header_len.saturating_add(self.config.suite.tag_len())
    }

    /// Resolve the key → check (limits, shape, replay) → `open` → record, the last only for
    /// the outcome `open` reports.
    fn open_with<T>(
        &mut self,
        header: &Header,
        well_formed: bool,
        open: impl FnOnce(&Key<S::Backend>) -> Result<T>,
    ) -> Result<T> {
        let (kid, ctr) = (header.key_id(), header.counter());
        let max_failures = self.config.limits.max_auth_failures;
        if let Some(entry) = self.store.find_mut(kid) {
            if entry.key.is_external() {
                return Err(Error::ExternalKey);
            }
            entry.check(ctr, well_formed, self.config.replay_window, max_failures)?;
            let result = open(&entry.key);
            entry.record(ctr, &result);
            return result;
        }
        let candidate = self.derive(kid)?;
        if !well_formed {
            return Err(Error::MalformedFrame);
        }
        // A derived key comes with an empty replay window: nothing to check.
        let result = open(candidate.key());
        match &result {
            Ok(_) => candidate.commit(&mut self.store, ctr)?,
            Err(Error::AuthenticationFailed) => {
                candidate.count_failure(&mut self.store, self.mls.as_mut())
            }
            Err(_) => {}
        }
        result
    }

    /// The key for an uninstalled `kid`, derived by the key-management modules: a later step
    /// of a ratchet chain (§5.1), else a member of a kept MLS epoch (§5.2).
    fn derive(&self, kid: u64) -> Result<Candidate<S::Backend>> {
        let (suite, max_failures) = (self.config.suite, self.config.limits.max_auth_failures);
        let lookahead = self.config.ratchet_lookahead;
        ratchet::derive_ahead(&self.store, suite, kid, lookahead, max_failures)
            .or_else(|| {
                self.mls
                    .as_ref()?
                    .derive_member(&self.store, suite, kid, max_failures)
            })
            .unwrap_or(Err(Error::UnknownKeyId))
    }
}

/// One frame's parameters for an AEAD outside this crate, from
/// [`Receiver::unprotect_external`]; give it back to [`Receiver::commit_external`] or
/// [`Receiver::reject_external`].
#[derive(Clone, Copy)]
pub struct ExternalOpen {
    kid: u64,
    ctr: u64,
    header_len: usize,
    tag_len: usize,
    nonce: [u8; NONCE_LEN],
    /// Which key material the frame was checked against (a replaced key is not committed).
    fingerprint: [u8; 16],
}

impl ExternalOpen {
    /// The frame's key ID: whose key decrypts.
    pub fn key_id(&self) -> u64 {
        self.kid
    }

    /// The frame counter.
    pub fn counter(&self) -> u64 {
        self.ctr
    }

    /// Length of the header: `frame[..header_len]` starts the AAD, `frame[header_len..]` is
    /// ciphertext ‖ tag.
    pub fn header_len(&self) -> usize {
        self.header_len
    }

    /// Length of the tag at the end of the frame (`Nt`).
    pub fn tag_len(&self) -> usize {
        self.tag_len
    }

    /// The AEAD nonce, `sframe_salt XOR CTR` (§4.4.3).
    pub fn nonce(&self) -> &[u8; NONCE_LEN] {
        &self.nonce
    }
}

impl core::fmt::Debug for ExternalOpen {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ExternalOpen")
            .field("key_id", &self.kid)
            .field("counter", &self.ctr)
            .finish_non_exhaustive()
    }
}

impl<S: KeyStore> core::fmt::Debug for Receiver<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Receiver")
            .field("config", &self.config)
            .field("keys", &self.key_count())
            .finish()
    }
}
