//! The sending side — RFC 9605 §4.4 (encryption, counter management) and §4.4.1 (key IDs).
//!
//! A [`Sender`] holds the current key and a counter for it. Each protected frame uses the next
//! counter value, so no (key, nonce) pair repeats. When the counter space (or the configured
//! [`Limits::max_encryptions`]) is used up, [`Sender::protect`] refuses with
//! [`Error::CounterExhausted`] / [`Error::KeyUsageLimit`] instead of wrapping.

use zeroize::Zeroizing;

use crate::crypto::{Backend, DefaultBackend};
use crate::error::{Error, Result};
use crate::frame;
use crate::header::{Counter, Header, MAX_HEADER_LEN};
use crate::history::{History, Used};
use crate::key::Key;
use crate::limits::{KeyUsage, Limits};
use crate::mls::{MlsKidLayout, sender_key_in};
use crate::ratchet::{ChainState, Generation, RatchetLayout, SenderChain};
use crate::registry::Membership;
use crate::suite::CipherSuite;
use crate::suite::NONCE_LEN;

/// Without the `alloc` feature: how many earlier keys a [`Sender`] remembers the counters of
/// (8, inline). Once it had to forget one, it cannot tell a new key from a forgotten one: every
/// key it does not remember is then [`Error::CounterUnknown`] unless the next counter is given
/// ([`Sender::set_key_with_counter`]; 0 for a key the application knows is new), and ratchet
/// steps and MLS keys it does not remember fail the same way (fail closed). With `alloc` a
/// sender remembers every key it used (a 16-byte fingerprint and its counters, in a
/// `BTreeMap`) and never forgets; with `std` the keys of dropped senders are remembered
/// process-wide too, up to [`crate::registry::RELEASED_KEYS`], under the same rule.
pub const RETIRED_KIDS: usize = 8;

struct Current<B: Backend> {
    key: Key<B>,
    /// Next counter to use; `None` once `u64::MAX` was used.
    next_ctr: Option<u64>,
    usage: KeyUsage,
}

impl<B: Backend> Current<B> {
    /// Where this key's counters stand, for the history (or the registry).
    fn used(&self) -> Used {
        Used {
            fingerprint: self.key.fingerprint(),
            next_ctr: self.next_ctr,
            usage: self.usage,
        }
    }
}

/// What [`Sender::install`] did.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Installed {
    /// The key was already in force: nothing changed (a given counter may have moved it up).
    Unchanged,
    /// Another key became current.
    Switched,
}

/// `known` counter of a key used before, moved up to `given` if that is larger; never down.
fn resume(known: Option<u64>, given: Option<u64>) -> Option<u64> {
    match (known, given) {
        (Some(k), Some(g)) => Some(k.max(g)),
        (k, _) => k,
    }
}

/// One frame's parameters for an AEAD outside this crate, from [`Sender::protect_external`]:
/// its counter is already used.
#[derive(Clone, Copy)]
pub struct ExternalSeal {
    header: [u8; MAX_HEADER_LEN],
    header_len: usize,
    nonce: [u8; NONCE_LEN],
    kid: u64,
    ctr: u64,
}

impl ExternalSeal {
    /// The SFrame header (§4.3): the first bytes of the frame and the start of the AAD.
    pub fn header(&self) -> &[u8] {
        self.header.get(..self.header_len).unwrap_or(&[])
    }

    /// The AEAD nonce, `sframe_salt XOR CTR` (§4.4.3).
    pub fn nonce(&self) -> &[u8; NONCE_LEN] {
        &self.nonce
    }

    /// The key ID: whose key encrypts.
    pub fn key_id(&self) -> u64 {
        self.kid
    }

    /// The frame counter.
    pub fn counter(&self) -> u64 {
        self.ctr
    }
}

impl core::fmt::Debug for ExternalSeal {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ExternalSeal")
            .field("key_id", &self.kid)
            .field("counter", &self.ctr)
            .finish_non_exhaustive()
    }
}

/// Protects frames under one key at a time.
///
/// ```
/// use sframe_core::{CipherSuite, Receiver, Sender};
/// let mut tx = Sender::new(CipherSuite::AesGcm128Sha256);
/// tx.set_key(3, b"a base key of 16+ bytes")?;
/// let mut out = [0u8; 64];
/// let frame = tx.protect(b"", b"hello", &mut out)?;
///
/// let mut rx = Receiver::new(CipherSuite::AesGcm128Sha256);
/// rx.add_key(3, b"a base key of 16+ bytes")?;
/// let mut plain = [0u8; 64];
/// assert_eq!(rx.unprotect(b"", frame, &mut plain)?, b"hello");
/// # Ok::<(), sframe_core::Error>(())
/// ```
///
/// `B` is the crypto backend ([`DefaultBackend`] unless named: [`Sender::with_backend`]).
pub struct Sender<B: Backend = DefaultBackend> {
    suite: CipherSuite,
    limits: Limits,
    current: Option<Current<B>>,
    /// Set while the current key is a step of a §5.1 ratchet chain.
    chain: Option<SenderChain>,
    /// Counters of keys used before (by fingerprint).
    history: History,
    /// This sender's claims on key material (see [`crate::registry`]).
    membership: Membership,
}

impl Sender {
    /// A sender for `suite` with no key yet, the suite's default [`Limits`] and the
    /// [`DefaultBackend`].
    pub fn new(suite: CipherSuite) -> Self {
        Self::with_backend(DefaultBackend::default(), suite)
    }
}

impl<B: Backend> Sender<B> {
    /// [`Sender::new`] with the crypto backend `backend` (`RustCrypto`, `AwsLc`): pins the
    /// backend whatever the default is in this build.
    ///
    /// ```
    /// use sframe_core::{CipherSuite, RustCrypto, Sender};
    /// let tx = Sender::with_backend(RustCrypto, CipherSuite::AesGcm128Sha256);
    /// assert_eq!(tx.backend(), "rustcrypto");
    /// ```
    pub fn with_backend(backend: B, suite: CipherSuite) -> Self {
        let _ = backend;
        Sender {
            suite,
            limits: Limits::for_suite(suite),
            current: None,
            chain: None,
            history: History::for_sender(),
            membership: Membership::join(),
        }
    }

    /// The name of the crypto backend (`"rustcrypto"`, `"aws-lc"`).
    pub fn backend(&self) -> &'static str {
        B::NAME
    }

    /// The cipher suite.
    pub fn suite(&self) -> CipherSuite {
        self.suite
    }

    /// Replaces the usage limits (checked on every protect).
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// The usage limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Derives and installs the key for `kid` from `base_key` (§4.4.2) and makes it current.
    ///
    /// Counters never restart for key material this sender already used: a new key starts at
    /// counter 0; re-supplying the key in force changes nothing; going back to a key used
    /// before resumes where its counter stood (with `alloc`, for every key this sender ever
    /// used; without it, for the last [`RETIRED_KIDS`], and an older one is
    /// [`Error::CounterUnknown`]). On error nothing changes.
    ///
    /// With `std`, across senders of the process (on any thread; see [`crate::registry`]):
    /// key material another live sender uses is [`Error::KeyInUse`] — give each sender, each
    /// sending track, its own KID; a key a dropped sender used resumes where that sender's
    /// counter stood; and once the registry had to forget a released key (more than
    /// [`crate::registry::RELEASED_KEYS`]), a key neither this sender nor the registry knows
    /// is [`Error::CounterUnknown`] unless its counter is given
    /// ([`Sender::set_key_with_counter`]). Still the application's job: other processes and
    /// restarts (persist the counter, resume with [`Sender::set_key_with_counter`]), other
    /// wasm instances, and everything without `std`.
    ///
    /// ```
    /// use sframe_core::{CipherSuite, Error, Sender};
    /// let suite = CipherSuite::AesGcm128Sha256;
    /// let mut audio = Sender::new(suite);
    /// audio.set_key(0x10, &[7; 16])?; // participant 1, track 0
    /// audio.protect_vec(b"", b"frame")?;
    /// audio.set_key(0x10, &[7; 16])?; // again: changes nothing
    /// assert_eq!(audio.next_counter(), Some(1));
    ///
    /// let mut video = Sender::new(suite);
    /// assert_eq!(video.set_key(0x10, &[7; 16]), Err(Error::KeyInUse)); // same key and KID
    /// video.set_key(0x11, &[7; 16])?; // participant 1, track 1: its own KID
    ///
    /// drop(audio); // a new sender with its key resumes, it never repeats counter 0
    /// let mut audio = Sender::new(suite);
    /// audio.set_key(0x10, &[7; 16])?;
    /// assert_eq!(audio.next_counter(), Some(1));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn set_key(&mut self, kid: u64, base_key: &[u8]) -> Result<()> {
        let key = Key::derive_in(self.suite, kid, base_key)?;
        self.install_plain(key, None)
    }

    /// Installs an already derived [`Key`] (see [`Sender::set_key`] for counter rules).
    /// A key derived for another cipher suite is refused with [`Error::SuiteMismatch`].
    pub fn set_derived_key(&mut self, key: Key<B>) -> Result<()> {
        if key.suite() != self.suite {
            return Err(Error::SuiteMismatch);
        }
        self.install_plain(key, None)
    }

    /// Like [`Sender::set_key`], with the next counter given — for a sender that persisted
    /// its counter and resumes after a restart (or going back to a key that a build without
    /// `alloc`, or the process's registry, forgot: [`Error::CounterUnknown`]). If this sender
    /// or, with `std`, the registry already knows the key, its counter only moves up
    /// (`max(next_counter, known)`), never back. Giving a counter that a sender of a previous
    /// run (or of another process) already used with this key reuses nonces: only resume from
    /// a value persisted *after* the last frame was sent.
    ///
    /// ```
    /// use sframe_core::{CipherSuite, Counter, Sender};
    /// let mut tx = Sender::new(CipherSuite::AesGcm128Sha256);
    /// tx.set_key_with_counter(7, &[1; 16], Counter(1000))?; // persisted after frame 999
    /// assert_eq!(tx.next_counter(), Some(1000));
    /// # Ok::<(), sframe_core::Error>(())
    /// ```
    pub fn set_key_with_counter(
        &mut self,
        kid: u64,
        base_key: &[u8],
        next_counter: Counter,
    ) -> Result<()> {
        let key = Key::derive_in(self.suite, kid, base_key)?;
        self.install_plain(key, Some(next_counter.0))
    }

    /// Starts a §5.1 ratchet chain: installs `base_key` as key generation `generation`, step 0,
    /// and returns its KID (`layout.kid(generation, 0)`). [`Sender::ratchet`] then moves
    /// forward. Receivers need the same `layout` and this KID and base key
    /// ([`crate::Receiver::add_ratcheting_key`]). If this chain (same layout, generation and
    /// base key) is already in force, nothing changes and the current KID is returned; if it
    /// was used before, its keys resume their counters (as with [`Sender::set_key`]).
    pub fn set_ratcheting_key(
        &mut self,
        layout: RatchetLayout,
        generation: Generation,
        base_key: &[u8],
    ) -> Result<u64> {
        let kid = layout.kid(generation, 0)?;
        let key = Key::derive_in(self.suite, kid, base_key)?;
        let root = key.fingerprint();
        if let Some(chain) = self.chain.as_ref()
            && chain.layout == layout
            && chain.root == root
        {
            return self.key_id().ok_or(Error::NoKey);
        }
        let state = ChainState::new(self.suite, base_key)?;
        let mut base = Zeroizing::new([0u8; 64]);
        let base_len = match base.get_mut(..base_key.len()) {
            Some(dst) => {
                dst.copy_from_slice(base_key);
                base_key.len()
            }
            None => 0,
        };
        self.install(key, None)?;
        self.chain = Some(SenderChain {
            layout,
            generation,
            step: 0,
            root,
            state,
            base,
            base_len,
        });
        Ok(kid)
    }

    /// Ratchets the key forward one step (§5.1): `base_key[i+1] = HKDF-Expand(HKDF-Extract("",
    /// base_key[i]), "SFrame 1.0 Ratchet", Nh)`. The new KID carries step `i+1` (mod `2^R`),
    /// its counter starts at 0 (or resumes, if this sender used that step's key before), and
    /// step `i`'s secret is zeroized: this sender can no longer derive it (forward secrecy).
    /// Returns the new KID. Without a chain ([`Sender::set_ratcheting_key`]):
    /// [`Error::NoKey`]. On error nothing changes.
    pub fn ratchet(&mut self) -> Result<u64> {
        let chain = self.chain.as_ref().ok_or(Error::NoKey)?;
        let step = chain.step.checked_add(1).ok_or(Error::CounterExhausted)?;
        let kid = chain.layout.kid(chain.generation, step)?;
        let mut base = Zeroizing::new([0u8; 64]);
        let (state, key) = chain.state.step_into(self.suite, kid, &mut base[..])?;
        let next = SenderChain {
            layout: chain.layout,
            generation: chain.generation,
            step,
            root: chain.root,
            state,
            base,
            base_len: self.suite.hash_len(),
        };
        self.install(key, None)?;
        // Replacing the chain drops (zeroizes) step i's secret.
        self.chain = Some(next);
        Ok(kid)
    }

    /// The full ratchet step of the current key, if it belongs to a ratchet chain.
    pub fn ratchet_step(&self) -> Option<u64> {
        self.chain.as_ref().map(|c| c.step)
    }

    /// Copies the current step's base key (`base_key[i]`) into `out` and returns its length —
    /// what a receiver joining mid-session needs, with [`Sender::key_id`] (§5.1:
    /// "the current sender key for that sender and the current KID value"). Ratchet first, so
    /// the newcomer cannot derive earlier steps' keys and read media sent before it joined.
    /// Without a chain: [`Error::NoKey`]; `out` too small: [`Error::BufferTooSmall`]; at step
    /// 0 with a base key longer than 64 bytes (not kept; the caller has it):
    /// [`Error::InvalidKey`].
    ///
    /// ```
    /// use sframe_core::{CipherSuite, Error, Receiver, Sender, ratchet::{Generation, RatchetLayout}};
    /// let suite = CipherSuite::AesGcm128Sha256;
    /// let layout = RatchetLayout::default();
    /// let mut tx = Sender::new(suite);
    /// tx.set_ratcheting_key(layout, Generation(0), &[4; 16])?;
    /// let before = tx.protect_vec(b"", b"before the join")?;
    ///
    /// let kid = tx.ratchet()?; // a receiver joins: ratchet, then share the new step's key
    /// let mut base = [0u8; 64];
    /// let n = tx.ratchet_base_key(&mut base)?;
    /// let mut newcomer = Receiver::new(suite);
    /// newcomer.add_ratcheting_key(layout, kid, &base[..n])?;
    ///
    /// let after = tx.protect_vec(b"", b"after the join")?;
    /// assert_eq!(newcomer.unprotect_vec(b"", &after)?, b"after the join");
    /// assert!(newcomer.unprotect_vec(b"", &before).is_err());
    /// # Ok::<(), Error>(())
    /// ```
    pub fn ratchet_base_key(&self, out: &mut [u8]) -> Result<usize> {
        let chain = self.chain.as_ref().ok_or(Error::NoKey)?;
        let base = chain.base_key().ok_or(Error::InvalidKey)?;
        let dst = out.get_mut(..base.len()).ok_or(Error::BufferTooSmall)?;
        dst.copy_from_slice(base);
        Ok(base.len())
    }

    /// Installs this member's key for an MLS epoch (§5.2): KID `layout.kid(epoch,
    /// leaf_index)`, key derived from the epoch's `exported_secret`
    /// (`MLS-Exporter("SFrame 1.0 Base Key", "", Nk)`). Returns the KID. A new epoch means a
    /// new KID and key, so the counter starts at 0; counter rules as in [`Sender::set_key`].
    pub fn set_mls_key(
        &mut self,
        layout: &MlsKidLayout,
        exported_secret: &[u8],
        epoch: u64,
        leaf_index: u32,
    ) -> Result<u64> {
        let key = sender_key_in(self.suite, layout, exported_secret, epoch, leaf_index)?;
        let kid = key.key_id();
        self.install_plain(key, None)?;
        Ok(kid)
    }

    /// Installs a key that is not a ratchet step: a switch ends any chain (zeroizing its
    /// secret); re-supplying the key in force keeps everything.
    fn install_plain(&mut self, key: Key<B>, counter: Option<u64>) -> Result<()> {
        if self.install(key, counter)? == Installed::Switched {
            self.chain = None;
        }
        Ok(())
    }

    /// Makes `key` current. Every check comes first, so an error changes nothing.
    fn install(&mut self, key: Key<B>, counter: Option<u64>) -> Result<Installed> {
        if let Some(cur) = self.current.as_mut()
            && cur.key.same_material(&key)
        {
            cur.next_ctr = resume(cur.next_ctr, counter);
            cur.key.upgrade(key);
            return Ok(Installed::Unchanged);
        }
        let fingerprint = key.fingerprint();
        let (next_ctr, usage) = match self.history.find(&fingerprint) {
            Some(used) => (resume(used.next_ctr, counter), used.usage),
            None if counter.is_none() && self.history.forgot_any() => {
                return Err(Error::CounterUnknown);
            }
            // Last fallible step, with `std` under the process-wide lock: claim the key and take
            // the counters a dropped sender left for it. An error above or here changes nothing.
            None => match self.membership.claim(fingerprint, counter.is_some())? {
                Some(released) => (resume(released.next_ctr, counter), released.usage),
                None => (Some(counter.unwrap_or(0)), KeyUsage::default()),
            },
        };
        self.history.take(&fingerprint);
        // Record the outgoing key's counter; the key itself is dropped (zeroized) in place
        // when `self.current` is overwritten below, never moved out first.
        if let Some(used) = self.current.as_ref().map(Current::used) {
            self.history.push(used);
        }
        self.current = Some(Current {
            key,
            next_ctr,
            usage,
        });
        Ok(Installed::Switched)
    }

    /// The current key ID, if a key is installed.
    pub fn key_id(&self) -> Option<u64> {
        self.current.as_ref().map(|c| c.key.key_id())
    }

    /// The counter the next frame will carry (`None` without a key or once exhausted).
    pub fn next_counter(&self) -> Option<u64> {
        self.current.as_ref().and_then(|c| c.next_ctr)
    }

    /// Usage counters of the current key.
    pub fn usage(&self) -> Option<KeyUsage> {
        self.current.as_ref().map(|c| c.usage)
    }

    /// Largest output of protecting a `plaintext_len`-byte frame (header, ciphertext, tag):
    /// size output buffers with this. The counterpart of
    /// [`Receiver::max_output_len`](crate::Receiver::max_output_len).
    pub fn max_output_len(&self, plaintext_len: usize) -> usize {
        plaintext_len.saturating_add(self.suite.max_overhead())
    }

    /// The key and next counter for an in-crate protect (not an external key), or why not.
    fn next(&self) -> Result<(&Key<B>, u64)> {
        let (key, ctr) = self.next_any()?;
        if key.is_external() {
            return Err(Error::ExternalKey);
        }
        Ok((key, ctr))
    }

    /// The key and next counter, or says why the key cannot protect another frame.
    fn next_any(&self) -> Result<(&Key<B>, u64)> {
        let cur = self.current.as_ref().ok_or(Error::NoKey)?;
        let ctr = cur.next_ctr.ok_or(Error::CounterExhausted)?;
        if cur.usage.frames >= self.limits.max_encryptions {
            return Err(Error::KeyUsageLimit);
        }
        Ok((&cur.key, ctr))
    }

    /// Protects the next frame with an AEAD outside this crate (e.g. WebCrypto AES-GCM in a
    /// browser, whose hardware AES-GCM is several times faster than wasm for video frames):
    /// uses the next counter *now* and returns the header to send and the
    /// nonce (§4.4.3). The caller encrypts the plaintext with the key of [`Sender::key_id`]
    /// under that nonce with AAD `header ‖ metadata` and sends `header ‖ ciphertext ‖ tag`
    /// (the tag truncated to `Nt` bytes). Works with a full key and with a
    /// [`Key::external`] one; counters, limits and the key-reuse rules are exactly those of
    /// [`Sender::protect`], so a counter is never handed out twice.
    ///
    /// ```
    /// use sframe_core::{CipherSuite, Receiver, Sender, hazmat::{Aead, derive_key_and_salt}};
    /// let suite = CipherSuite::AesGcm128Sha256;
    /// let mut tx = Sender::new(suite);
    /// tx.set_key(3, &[9; 16])?;
    /// let seal = tx.protect_external()?;
    /// // The external AEAD (here the crate's own, standing in for WebCrypto):
    /// let (key, _) = derive_key_and_salt(suite, 3, &[9; 16])?;
    /// let mut frame = seal.header().to_vec();
    /// let mut body = b"frame".to_vec();
    /// let mut tag = [0u8; 16];
    /// Aead::new(suite, &key[..suite.key_len()])?.seal(seal.nonce(), seal.header(), &mut body, &mut tag)?;
    /// frame.extend_from_slice(&body);
    /// frame.extend_from_slice(&tag);
    ///
    /// let mut rx = Receiver::new(suite);
    /// rx.add_key(3, &[9; 16])?;
    /// assert_eq!(rx.unprotect_vec(b"", &frame)?, b"frame");
    /// # Ok::<(), sframe_core::Error>(())
    /// ```
    pub fn protect_external(&mut self) -> Result<ExternalSeal> {
        let (key, ctr) = self.next_any()?;
        let header = Header::new(key.key_id(), ctr);
        let mut bytes = [0u8; MAX_HEADER_LEN];
        let header_len = header.encode(&mut bytes)?;
        let seal = ExternalSeal {
            header: bytes,
            header_len,
            nonce: key.nonce(ctr),
            kid: key.key_id(),
            ctr,
        };
        self.consume();
        Ok(seal)
    }

    fn consume(&mut self) {
        if let Some(cur) = self.current.as_mut() {
            cur.next_ctr = cur.next_ctr.and_then(|c| c.checked_add(1));
            cur.usage.frames = cur.usage.frames.saturating_add(1);
        }
    }

    /// Protects `plaintext`, writing `header ‖ ciphertext ‖ tag` to `out`; returns the written
    /// part of `out`. `metadata` is authenticated but not sent (§4.4.3); the receiver must
    /// pass the same bytes. No allocation. If `out` is too small ([`Sender::max_output_len`])
    /// nothing is written and no counter is used.
    pub fn protect<'o>(
        &mut self,
        metadata: &[u8],
        plaintext: &[u8],
        out: &'o mut [u8],
    ) -> Result<&'o mut [u8]> {
        let (key, ctr) = self.next()?;
        let n = frame::seal_into(key, ctr, metadata, plaintext, out)?;
        self.consume();
        out.get_mut(..n).ok_or(Error::BufferTooSmall)
    }

    /// In-place variant: `buf[..plaintext_len]` holds the plaintext, and `buf` has room for the
    /// protected frame ([`Sender::max_output_len`]). The frame is written from `buf[0]`;
    /// returns it (a prefix of `buf`).
    ///
    /// ```
    /// # use sframe_core::{CipherSuite, Sender};
    /// let mut tx = Sender::new(CipherSuite::AesCtr128HmacSha256_80);
    /// tx.set_key(1, &[7; 16])?;
    /// let mut buf = [0u8; 5 + 17 + 10];
    /// buf[..5].copy_from_slice(b"frame");
    /// let frame = tx.protect_in_place(b"", &mut buf, 5)?;
    /// assert_eq!(frame.len(), 1 + 5 + 10); // 1-byte header for KID 1, CTR 0
    /// # Ok::<(), sframe_core::Error>(())
    /// ```
    pub fn protect_in_place<'b>(
        &mut self,
        metadata: &[u8],
        buf: &'b mut [u8],
        plaintext_len: usize,
    ) -> Result<&'b mut [u8]> {
        if plaintext_len > buf.len() {
            return Err(Error::BufferTooSmall);
        }
        let (key, ctr) = self.next()?;
        let n = frame::seal_in_place(key, ctr, metadata, buf, plaintext_len)?;
        self.consume();
        buf.get_mut(..n).ok_or(Error::BufferTooSmall)
    }

    /// Convenience: protects into a new `Vec` of exactly the frame's size.
    #[cfg(feature = "alloc")]
    #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
    pub fn protect_vec(
        &mut self,
        metadata: &[u8],
        plaintext: &[u8],
    ) -> Result<alloc::vec::Vec<u8>> {
        let (key, ctr) = self.next()?;
        let mut out = alloc::vec![0u8; frame::protected_len(key, ctr, plaintext.len())?];
        let n = frame::seal_into(key, ctr, metadata, plaintext, &mut out)?;
        self.consume();
        out.truncate(n);
        Ok(out)
    }
}

impl<B: Backend> core::fmt::Debug for Sender<B> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Sender")
            .field("suite", &self.suite)
            .field("key_id", &self.key_id())
            .field("next_counter", &self.next_counter())
            .finish()
    }
}

/// A dropped sender releases its keys to the registry with their counters (with `std`; see
/// [`crate::registry`]): a sender that installs one of them later resumes it.
impl<B: Backend> Drop for Sender<B> {
    fn drop(&mut self) {
        let current = self.current.as_ref().map(Current::used);
        self.membership
            .release(current.into_iter().chain(self.history.iter()));
    }
}

/// Without `alloc` (run by stage 10 with `--no-default-features --lib`): going back
/// to a key forgotten beyond [`RETIRED_KIDS`] fails closed.
#[cfg(all(test, not(feature = "alloc")))]
mod no_alloc_tests {
    use super::*;

    #[test]
    fn forgotten_key_is_counter_unknown() -> Result<()> {
        let mut tx = Sender::new(CipherSuite::AesGcm128Sha256);
        let mut out = [0u8; 64];
        tx.set_key(1, &[1; 16])?;
        tx.protect(b"", b"x", &mut out)?;
        for kid in 2..2 + RETIRED_KIDS as u64 {
            tx.set_key(kid, &[1; 16])?;
        }
        tx.set_key(1, &[1; 16])?;
        assert_eq!(tx.next_counter(), Some(1), "still remembered");
        // The history is full (keys 2..=9 and 1): one more key makes the sender forget key 2.
        // From then on it cannot tell a new key from a forgotten one, so every key it does
        // not remember needs an explicit counter (0 for a key the application knows is new).
        tx.set_key(100, &[1; 16])?;
        assert_eq!(tx.set_key(200, &[1; 16]), Err(Error::CounterUnknown));
        tx.set_key_with_counter(200, &[1; 16], crate::Counter(0))?;
        assert_eq!(tx.set_key(2, &[1; 16]), Err(Error::CounterUnknown));
        assert_eq!(tx.key_id(), Some(200), "nothing changed");
        tx.set_key(1, &[1; 16])?; // still remembered: resumes
        assert_eq!(tx.next_counter(), Some(1));
        Ok(())
    }
}
