//! The sending side — RFC 9605 §4.4 (encryption, counter management) and §4.4.1 (key IDs).
//!
//! A [`Sender`] holds the current key and a counter for it. Each protected frame uses the next
//! counter value, so no (key, nonce) pair repeats. When the counter space (or the configured
//! [`Limits::max_encryptions`]) is used up, [`Sender::protect`] refuses with
//! [`Error::CounterExhausted`] / [`Error::KeyUsageLimit`] instead of wrapping.

use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::frame;
use crate::key::Key;
use crate::limits::{KeyUsage, Limits};
use crate::mls::{MlsKidLayout, sender_key};
use crate::ratchet::{ChainState, RatchetLayout, SenderChain};
use crate::suite::CipherSuite;

/// How many replaced KIDs a [`Sender`] remembers the counters of (8, inline).
pub const RETIRED_KIDS: usize = 8;

#[derive(Clone, Copy)]
struct Retired {
    kid: u64,
    next_ctr: Option<u64>,
    usage: KeyUsage,
}

struct Current {
    key: Key,
    /// Next counter to use; `None` once `u64::MAX` was used.
    next_ctr: Option<u64>,
    usage: KeyUsage,
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
/// assert_eq!(rx.unprotect(b"", frame)?, b"hello");
/// # Ok::<(), sframe_core::Error>(())
/// ```
pub struct Sender {
    suite: CipherSuite,
    limits: Limits,
    current: Option<Current>,
    /// Set while the current key is a step of a §5.1 ratchet chain.
    chain: Option<SenderChain>,
    /// Counters of recently replaced keys, oldest first.
    retired: [Option<Retired>; RETIRED_KIDS],
}

impl Sender {
    /// A sender for `suite` with no key yet and the suite's default [`Limits`].
    pub fn new(suite: CipherSuite) -> Self {
        Sender {
            suite,
            limits: Limits::for_suite(suite),
            current: None,
            chain: None,
            retired: [None; RETIRED_KIDS],
        }
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
    /// Rotating to a new KID starts its counter at 0. Re-installing the *current* KID keeps
    /// its counter running, so re-sending the same key never rewinds a nonce; so does going
    /// back to one of the last [`RETIRED_KIDS`] KIDs this sender used (their counters and
    /// usage are remembered). Each KID should still be used with one base key only (§4.4.1):
    /// ratcheting and MLS epochs produce fresh KIDs for exactly this reason.
    pub fn set_key(&mut self, kid: u64, base_key: &[u8]) -> Result<()> {
        let key = Key::derive(self.suite, kid, base_key)?;
        self.install(key, None);
        Ok(())
    }

    /// Installs an already derived [`Key`] (see [`Sender::set_key`] for counter rules).
    pub fn set_derived_key(&mut self, key: Key) -> Result<()> {
        if key.suite() != self.suite {
            return Err(Error::UnsupportedCipherSuite);
        }
        self.install(key, None);
        Ok(())
    }

    /// Like [`Sender::set_key`], with the first counter to use given explicitly — for a sender
    /// that persisted its counter and resumes after a restart. Choosing a counter that was
    /// already used with this key reuses nonces: only resume from a persisted value.
    pub fn set_key_with_counter(
        &mut self,
        kid: u64,
        base_key: &[u8],
        next_counter: u64,
    ) -> Result<()> {
        let key = Key::derive(self.suite, kid, base_key)?;
        self.install(key, Some(next_counter));
        Ok(())
    }

    /// Starts a §5.1 ratchet chain: installs `base_key` as key generation `generation`, step 0,
    /// and returns its KID (`layout.kid(generation, 0)`), counter 0 (or where it stood, if
    /// this KID was used recently, as with [`Sender::set_key`]). [`Sender::ratchet`] then
    /// moves forward. Receivers need the same `layout` and this KID and base key
    /// ([`crate::Receiver::add_ratcheting_key`]).
    pub fn set_ratcheting_key(
        &mut self,
        layout: RatchetLayout,
        generation: u64,
        base_key: &[u8],
    ) -> Result<u64> {
        let kid = layout.kid(generation, 0)?;
        let key = Key::derive(self.suite, kid, base_key)?;
        let state = ChainState::new(self.suite, base_key)?;
        let mut base = Zeroizing::new([0u8; 64]);
        let base_len = match base.get_mut(..base_key.len()) {
            Some(dst) => {
                dst.copy_from_slice(base_key);
                base_key.len()
            }
            None => 0,
        };
        // `None`: installing the same generation again must not rewind its counter.
        self.install(key, None);
        self.chain = Some(SenderChain {
            layout,
            generation,
            step: 0,
            state,
            base,
            base_len,
        });
        Ok(kid)
    }

    /// Ratchets the key forward one step (§5.1): `base_key[i+1] = HKDF-Expand(HKDF-Extract("",
    /// base_key[i]), "SFrame 1.0 Ratchet", Nh)`. The new KID carries step `i+1` (mod `2^R`),
    /// its counter starts at 0, and step `i`'s secret is zeroized: this sender can no longer
    /// derive it (forward secrecy). Returns the new KID. Without a chain
    /// ([`Sender::set_ratcheting_key`]): [`Error::NoKey`].
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
            state,
            base,
            base_len: self.suite.hash_len(),
        };
        // `install` drops the previous chain, zeroizing step i's secret.
        self.install(key, Some(0));
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
    /// use sframe_core::{CipherSuite, Error, Receiver, Sender, ratchet::RatchetLayout};
    /// let suite = CipherSuite::AesGcm128Sha256;
    /// let layout = RatchetLayout::default();
    /// let mut tx = Sender::new(suite);
    /// tx.set_ratcheting_key(layout, 0, &[4; 16])?;
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
    /// new KID and key, so the counter starts at 0.
    pub fn set_mls_key(
        &mut self,
        layout: &MlsKidLayout,
        exported_secret: &[u8],
        epoch: u64,
        leaf_index: u32,
    ) -> Result<u64> {
        let key = sender_key(self.suite, layout, exported_secret, epoch, leaf_index)?;
        let kid = key.key_id();
        self.install(key, None);
        self.chain = None;
        Ok(kid)
    }

    fn install(&mut self, key: Key, counter: Option<u64>) {
        // Any key not installed through the ratchet ends the chain (and zeroizes its secret);
        // the ratchet methods set it again right after.
        self.chain = None;
        let kid = key.key_id();
        let (next_ctr, usage) = match (&self.current, counter) {
            (_, Some(c)) => (Some(c), KeyUsage::default()),
            (Some(cur), None) if cur.key.key_id() == kid => (cur.next_ctr, cur.usage),
            _ => self
                .retired
                .iter()
                .flatten()
                .find(|r| r.kid == kid)
                .map_or((Some(0), KeyUsage::default()), |r| (r.next_ctr, r.usage)),
        };
        // Record the outgoing key's counter; the key itself is dropped (zeroized) in place
        // when `self.current` is overwritten below, never moved out first.
        if let Some(entry) = self.current.as_ref().map(|cur| Retired {
            kid: cur.key.key_id(),
            next_ctr: cur.next_ctr,
            usage: cur.usage,
        }) {
            self.retire(entry);
        }
        self.retired.iter_mut().for_each(|r| {
            if r.is_some_and(|r| r.kid == kid) {
                *r = None;
            }
        });
        self.current = Some(Current {
            key,
            next_ctr,
            usage,
        });
    }

    /// Remembers the counter of a key being replaced, so going back to its KID resumes it.
    fn retire(&mut self, entry: Retired) {
        let slot = match self
            .retired
            .iter()
            .position(|r| r.is_none_or(|r| r.kid == entry.kid))
        {
            Some(i) => i,
            None => {
                // Full: forget the oldest (slot 0) and shift.
                self.retired.rotate_left(1);
                RETIRED_KIDS - 1
            }
        };
        if let Some(r) = self.retired.get_mut(slot) {
            *r = Some(entry);
        }
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

    /// Largest protected size of a `plaintext_len`-byte frame: size output buffers with this.
    pub fn max_protected_len(&self, plaintext_len: usize) -> usize {
        plaintext_len.saturating_add(self.suite.max_overhead())
    }

    /// Reserves the next counter, or says why the key cannot protect another frame.
    fn next(&self) -> Result<(&Key, u64)> {
        let cur = self.current.as_ref().ok_or(Error::NoKey)?;
        let ctr = cur.next_ctr.ok_or(Error::CounterExhausted)?;
        if cur.usage.frames >= self.limits.max_encryptions {
            return Err(Error::KeyUsageLimit);
        }
        Ok((&cur.key, ctr))
    }

    fn consume(&mut self) {
        if let Some(cur) = self.current.as_mut() {
            cur.next_ctr = cur.next_ctr.and_then(|c| c.checked_add(1));
            cur.usage.frames = cur.usage.frames.saturating_add(1);
        }
    }

    /// Protects `plaintext`, writing `header ‖ ciphertext ‖ tag` to `out`; returns the written
    /// part of `out`. `metadata` is authenticated but not sent (§4.4.3); the receiver must
    /// pass the same bytes. No allocation. If `out` is too small ([`Sender::max_protected_len`])
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
    /// protected frame. The frame is written from `buf[0]`; returns its length.
    ///
    /// ```
    /// # use sframe_core::{CipherSuite, Sender};
    /// let mut tx = Sender::new(CipherSuite::AesCtr128HmacSha256_80);
    /// tx.set_key(1, &[7; 16])?;
    /// let mut buf = [0u8; 5 + 17 + 10];
    /// buf[..5].copy_from_slice(b"frame");
    /// let n = tx.protect_in_place(b"", &mut buf, 5)?;
    /// assert_eq!(n, 1 + 5 + 10); // 1-byte header for KID 1, CTR 0
    /// # Ok::<(), sframe_core::Error>(())
    /// ```
    pub fn protect_in_place(
        &mut self,
        metadata: &[u8],
        buf: &mut [u8],
        plaintext_len: usize,
    ) -> Result<usize> {
        if plaintext_len > buf.len() {
            return Err(Error::BufferTooSmall);
        }
        let (key, ctr) = self.next()?;
        let n = frame::seal_in_place(key, ctr, metadata, buf, plaintext_len)?;
        self.consume();
        Ok(n)
    }

    /// Convenience: protects into a new `Vec` of exactly the frame's size.
    #[cfg(feature = "alloc")]
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

impl core::fmt::Debug for Sender {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Sender")
            .field("suite", &self.suite)
            .field("key_id", &self.key_id())
            .field("next_counter", &self.next_counter())
            .finish()
    }
}
