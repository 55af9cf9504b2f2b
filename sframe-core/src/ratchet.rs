//! Sender-key ratcheting — RFC 9605 §5.1 ("Sender Keys").
//!
//! A sender's KID has two parts, a *key generation* (incremented each time the sender
//! distributes a fresh base key) and a *ratchet step* (incremented each time the sender hashes
//! its base key forward, for forward secrecy). Only the low `R` bits of the step are sent:
//!
//! ```text
//!    64-R bits         R bits
//! +----------------+--------------+
//! | Key Generation | Ratchet Step |       KID = (key_generation << R) + (ratchet_step % (1 << R))
//! +----------------+--------------+
//!
//! base_key[i+1] = HKDF-Expand(HKDF-Extract("", base_key[i]), "SFrame 1.0 Ratchet", CipherSuite.Nh)
//! ```
//!
//! `R` is chosen by the application ([`RatchetLayout::new`]; [`DEFAULT_RATCHET_BITS`] = 4) and
//! must be known to every receiver of that sender. It bounds reordering: no more than `2^R`
//! steps can be told apart at once.
//!
//! * [`crate::Sender::set_ratcheting_key`] installs generation `g` at step 0 and
//!   [`crate::Sender::ratchet`] moves to the next step: new KID, counter back to 0, and the old
//!   base key zeroized — the sender can no longer derive it.
//!   [`crate::Sender::ratchet_base_key`] gives the current step's base key for a receiver that
//!   joins mid-session (ratchet first, so it cannot read earlier media).
//! * [`crate::Receiver::add_ratcheting_key`] installs a generation at the step its KID shows.
//!   A frame whose KID shows a newer step of that generation makes the receiver derive forward
//!   — at most [`crate::ReceiverConfig::with_ratchet_lookahead`] steps
//!   ([`DEFAULT_MAX_RATCHET_LOOKAHEAD`] = 8) and never more than `2^(R-1) - 1`: step bits
//!   that are as far "ahead" as half the step space or further are read as an *older* step
//!   (serial-number arithmetic), never as a future one. So the previous step's key (kept for
//!   late frames) is never mistaken for a newer step, and a frame late by up to `2^(R-1)`
//!   steps is never misread as a future one. Choose `R` so that no frame is delayed by
//!   `2^(R-1)` ratchet steps or more (R = 2: one step; the default R = 4: eight): a frame
//!   later than that reads as a future step and fails authentication. The receiver keeps the new key **only once the frame
//!   authenticated**, so a forged header changes nothing. The previous step's key is kept for late frames; older steps are
//!   removed (zeroized), as §5.1 asks ("deleted promptly"). Steps skipped over by a jump of more
//!   than one are not stored: their late frames are refused with [`Error::UnknownKeyId`].
//!
//! Interop note: the label is the RFC's, byte for byte (`"SFrame 1.0 Ratchet"`). The crates.io
//! `sframe` crate 2.1 spells it `"Sframe 1.0 Ratchet"`, so its ratcheted keys differ from
//! these (its §4.4.2 keys and §5.2 MLS KIDs match).
//!
//! The receiver's state of a chain is the HKDF-Extract of the newest authenticated step's
//! base key, so memory per sender is constant and nothing allocates.

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::crypto::{Backend, Prk, hkdf_expand, hkdf_extract};
use crate::error::{Error, Result};
use crate::key::{Key, MIN_BASE_KEY_LEN};
use crate::keystore::sealed::Store;
use crate::keystore::{Candidate, Entry, Origin};
use crate::suite::CipherSuite;

/// The HKDF-Expand label of §5.1.
pub const RATCHET_LABEL: &[u8] = b"SFrame 1.0 Ratchet";
/// Default number of ratchet-step bits `R` in the KID.
pub const DEFAULT_RATCHET_BITS: u8 = 4;
/// Default bound on how many steps a receiver derives forward for one frame.
pub const DEFAULT_MAX_RATCHET_LOOKAHEAD: u32 = 8;
/// Largest accepted look-ahead: each step costs a few HMACs, and a forged header can make the
/// receiver walk the whole look-ahead once per frame.
pub const MAX_RATCHET_LOOKAHEAD: u32 = 1024;

/// A key generation of a §5.1 ratchet chain: the high `64 - R` bits of its KIDs. A newtype, so
/// a generation is never passed where a KID or a counter is meant.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Generation(pub u64);

/// How a ratcheting sender's KID is split (§5.1): the low `R` bits carry the ratchet step, the
/// other `64 - R` the key generation.
///
/// ```
/// use sframe_core::ratchet::{Generation, RatchetLayout};
/// let layout = RatchetLayout::new(4)?;
/// let kid = layout.kid(Generation(3), 18)?; // step 18 → 18 % 16 = 2 on the wire
/// assert_eq!(kid, (3 << 4) + 2);
/// assert_eq!(layout.generation(kid), Generation(3));
/// assert_eq!(layout.step_bits(kid), 2);
/// # Ok::<(), sframe_core::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RatchetLayout {
    bits: u8,
}

impl Default for RatchetLayout {
    fn default() -> Self {
        RatchetLayout {
            bits: DEFAULT_RATCHET_BITS,
        }
    }
}

impl RatchetLayout {
    /// `ratchet_bits` is `R`, 2..=63 (otherwise [`Error::InvalidConfig`]).
    ///
    /// `R = 1` cannot work: a receiver keeps the previous step's key for late frames, and with
    /// one step bit that key's KID is also the KID of the next step, so the next step's frames
    /// would be tried (and fail) under the old key forever.
    pub const fn new(ratchet_bits: u8) -> Result<Self> {
        if ratchet_bits < 2 || ratchet_bits > 63 {
            return Err(Error::InvalidConfig);
        }
        Ok(RatchetLayout { bits: ratchet_bits })
    }

    /// `R`.
    pub const fn ratchet_bits(&self) -> u8 {
        self.bits
    }

    const fn mask(&self) -> u64 {
        (1u64 << self.bits) - 1
    }

    /// The KID of `generation` at ratchet step `step` (only `step % 2^R` is encoded). A
    /// generation that does not fit in `64 - R` bits is [`Error::InvalidConfig`].
    pub const fn kid(&self, generation: Generation, step: u64) -> Result<u64> {
        if generation.0 > (u64::MAX >> self.bits) {
            return Err(Error::InvalidConfig);
        }
        Ok((generation.0 << self.bits) | (step & self.mask()))
    }

    /// The key generation encoded in `kid`.
    pub const fn generation(&self, kid: u64) -> Generation {
        Generation(kid >> self.bits)
    }

    /// The low `R` bits of the ratchet step encoded in `kid`.
    pub const fn step_bits(&self, kid: u64) -> u64 {
        kid & self.mask()
    }

    /// How many steps forward `to_kid`'s step is from full step `from_step`, modulo `2^R`.
    pub(crate) const fn distance(&self, from_step: u64, to_kid: u64) -> u64 {
        self.step_bits(to_kid).wrapping_sub(from_step) & self.mask()
    }

    /// The largest distance read as "ahead": `2^(R-1) - 1`, less than half the step space, so
    /// that the kept previous step (`2^R - d` ahead after a jump of `d`) is never read as ahead.
    pub(crate) const fn max_ahead(&self) -> u64 {
        (1u64 << (self.bits - 1)) - 1
    }
}

/// One position in a ratchet chain: `HKDF-Extract("", base_key[i])`, zeroized on drop. This is
/// also the `sframe_secret` of §4.4.2, so holding it does not widen what can be derived.
pub(crate) struct ChainState {
    secret: Prk,
}

impl ChainState {
    /// Starts a chain at a caller-supplied base key.
    pub(crate) fn new(suite: CipherSuite, base_key: &[u8]) -> Result<Self> {
        if base_key.len() < MIN_BASE_KEY_LEN {
            return Err(Error::InvalidKey);
        }
        Ok(ChainState {
            secret: hkdf_extract(suite.hash(), &[], base_key),
        })
    }

    /// §5.1: derives `base_key[i+1]`, returns its chain state and the [`Key`] for `next_kid`.
    /// `self` is left untouched (the caller drops it to forget step `i`).
    pub(crate) fn step<B: Backend>(
        &self,
        suite: CipherSuite,
        next_kid: u64,
    ) -> Result<(ChainState, Key<B>)> {
        let mut next = Zeroizing::new([0u8; 64]);
        self.step_into(suite, next_kid, &mut next[..])
    }

    /// [`ChainState::step`], also writing `base_key[i+1]` to the first `Nh` bytes of `next`.
    pub(crate) fn step_into<B: Backend>(
        &self,
        suite: CipherSuite,
        next_kid: u64,
        next: &mut [u8],
    ) -> Result<(ChainState, Key<B>)> {
        let next = next.get_mut(..suite.hash_len()).ok_or(Error::InvalidKey)?;
        hkdf_expand(suite.hash(), &self.secret, &[RATCHET_LABEL], next)?;
        let key = Key::derive_in(suite, next_kid, next)?;
        Ok((ChainState::new(suite, next)?, key))
    }

    /// Steps forward `n >= 1` times; returns the final state and the key for `kid`.
    pub(crate) fn step_n<B: Backend>(
        &self,
        suite: CipherSuite,
        n: u64,
        kid: u64,
    ) -> Result<(ChainState, Key<B>)> {
        let mut buf = Zeroizing::new([0u8; 64]);
        let out = buf.get_mut(..suite.hash_len()).ok_or(Error::InvalidKey)?;
        let mut state: Option<ChainState> = None;
        for _ in 1..n {
            let cur = state.as_ref().unwrap_or(self);
            hkdf_expand(suite.hash(), &cur.secret, &[RATCHET_LABEL], out)?;
            state = Some(ChainState::new(suite, out)?);
        }
        state.as_ref().unwrap_or(self).step(suite, kid)
    }
}

impl ChainState {
    /// Whether stepping forward from this position (the chain key of KID `from_kid`) reaches
    /// `target` (a key of the same generation) within [`MAX_RATCHET_LOOKAHEAD`] steps: then
    /// `from_kid`'s key is an earlier step of `target`'s chain. Compares in constant time.
    pub(crate) fn reaches<B: Backend>(
        &self,
        suite: CipherSuite,
        layout: RatchetLayout,
        from_kid: u64,
        target: &Key<B>,
    ) -> Result<bool> {
        let mut buf = Zeroizing::new([0u8; 64]);
        let out = buf.get_mut(..suite.hash_len()).ok_or(Error::InvalidKey)?;
        let target_kid = target.key_id();
        let mut state: Option<ChainState> = None;
        let mut found = false;
        for d in 1..=u64::from(MAX_RATCHET_LOOKAHEAD) {
            let cur = state.as_ref().unwrap_or(self);
            hkdf_expand(suite.hash(), &cur.secret, &[RATCHET_LABEL], out)?;
            if layout.distance(layout.step_bits(from_kid), target_kid) == d & layout.mask() {
                found |= Key::<B>::derive_in(suite, target_kid, out)?.same_material(target);
            }
            state = Some(ChainState::new(suite, out)?);
        }
        Ok(found)
    }
}

/// §5.1 in full, for interop checks: `base_key[i+1]` from `base_key[i]`. Writes
/// `CipherSuite::hash_len` bytes to `out` and returns that length.
///
/// ```
/// use sframe_core::{CipherSuite, ratchet::next_base_key};
/// let mut next = [0u8; 64];
/// let n = next_base_key(CipherSuite::AesGcm128Sha256, &[7; 16], &mut next)?;
/// assert_eq!(n, 32);
/// # Ok::<(), sframe_core::Error>(())
/// ```
pub fn next_base_key(suite: CipherSuite, base_key: &[u8], out: &mut [u8]) -> Result<usize> {
    let state = ChainState::new(suite, base_key)?;
    let nh = suite.hash_len();
    let dst = out.get_mut(..nh).ok_or(Error::BufferTooSmall)?;
    hkdf_expand(suite.hash(), &state.secret, &[RATCHET_LABEL], dst)?;
    Ok(nh)
}

/// A sender's position in its chain.
pub(crate) struct SenderChain {
    pub(crate) layout: RatchetLayout,
    pub(crate) generation: Generation,
    pub(crate) step: u64,
    /// Fingerprint of the chain's step-0 key: identifies the chain.
    pub(crate) root: [u8; 16],
    pub(crate) state: ChainState,
    /// `base_key[step]`, to hand to a receiver joining mid-session (§5.1); `base_len` 0 if
    /// the generation's initial base key was longer than 64 bytes.
    pub(crate) base: Zeroizing<[u8; 64]>,
    pub(crate) base_len: usize,
}

impl SenderChain {
    pub(crate) fn base_key(&self) -> Option<&[u8]> {
        self.base.get(..self.base_len).filter(|b| !b.is_empty())
    }
}

/// The ratchet state a receiver keeps on the newest key of a chain.
pub(crate) struct ReceiverChain {
    pub(crate) layout: RatchetLayout,
    /// Full step number of the key holding this state.
    pub(crate) step: u64,
    /// Fingerprint of the key the chain was installed with ([`crate::Receiver::add_ratcheting_key`]).
    pub(crate) root: [u8; 16],
    pub(crate) state: ChainState,
    /// The previous step's KID, kept for late frames; removed at the next step.
    pub(crate) previous: Option<u64>,
}

/// §5.1 on the receiving side: installs the chain of `layout`'s generation of `kid` at the step
/// `kid` shows, in `store`. Re-announcing the chain in force, or an earlier step of it, changes
/// nothing (a fresh chain state there would re-accept frames already seen); other material for
/// the generation replaces its chain, removing (zeroizing) the earlier one.
pub(crate) fn install_chain<S: Store>(
    store: &mut S,
    suite: CipherSuite,
    layout: RatchetLayout,
    kid: u64,
    base_key: &[u8],
) -> Result<()> {
    let key = Key::<S::Backend>::derive_in(suite, kid, base_key)?;
    let chain = ReceiverChain {
        layout,
        step: layout.step_bits(kid),
        root: key.fingerprint(),
        state: ChainState::new(suite, base_key)?,
        previous: None,
    };
    let generation = layout.generation(kid);
    let head = store.find_by(&mut |e| match &e.origin {
        Origin::Ratchet(Some(c)) => {
            c.layout == layout && layout.generation(e.key.key_id()) == generation
        }
        _ => false,
    });
    if let Some(head) = head
        && let Origin::Ratchet(Some(c)) = &head.origin
    {
        let same_root = bool::from(c.root.ct_eq(&chain.root));
        let same_key = head.key.same_material(&key);
        if same_root || same_key || chain.state.reaches(suite, layout, kid, &head.key)? {
            let head_kid = head.key.key_id();
            if same_key && let Some(e) = store.find_mut(head_kid) {
                e.key.upgrade(key);
            }
            return Ok(());
        }
    }
    let installed = store.find(kid).is_some_and(|e| e.key.same_material(&key));
    if !installed && store.find(kid).is_none() && !store.vacancy() {
        return Err(Error::KeyStoreFull);
    }
    store.remove_where(&mut |e| {
        matches!(&e.origin, Origin::Ratchet(_))
            && e.key.key_id() != kid
            && layout.generation(e.key.key_id()) == generation
    });
    if installed {
        // The same key is installed (e.g. with add_key): make it the chain's head and keep
        // its replay window.
        if let Some(e) = store.find_mut(kid) {
            e.origin = Origin::Ratchet(Some(chain));
            e.key.upgrade(key);
        }
        return Ok(());
    }
    store.put(Entry::with_origin(key, Origin::Ratchet(Some(chain))))
}

/// The installed chain of a KID's generation, and how far ahead of it the KID is.
struct Reach<'s, B: Backend> {
    /// The entry of the chain's newest key, which holds the chain state.
    head: &'s Entry<B>,
    chain: &'s ReceiverChain,
    /// Steps from the head to the KID, if in reach: at most the look-ahead, and less than
    /// half the step space.
    distance: Option<u64>,
}

/// The chain of `kid`'s generation and whether `kid` is within `lookahead` steps of it.
/// `None`: no chain of `kid`'s generation is installed.
fn reach<S: Store>(store: &S, kid: u64, lookahead: u32) -> Option<Reach<'_, S::Backend>> {
    let head = store.find_by(&mut |e| match &e.origin {
        Origin::Ratchet(Some(c)) => c.layout.generation(e.key.key_id()) == c.layout.generation(kid),
        _ => false,
    })?;
    let Origin::Ratchet(Some(chain)) = &head.origin else {
        return None;
    };
    let distance = chain.layout.distance(chain.step, kid);
    let in_reach =
        distance != 0 && distance <= u64::from(lookahead) && distance <= chain.layout.max_ahead();
    Some(Reach {
        head,
        chain,
        distance: in_reach.then_some(distance),
    })
}

/// Whether [`derive_ahead`] finds `kid` in reach of a chain, without deriving anything.
/// `None`: no chain of `kid`'s generation is installed.
pub(crate) fn in_reach<S: Store>(store: &S, kid: u64, lookahead: u32) -> Option<bool> {
    reach(store, kid, lookahead).map(|r| r.distance.is_some())
}

/// §5.1 on the receiving side: the key for `kid` when it is a later step (at most `lookahead`
/// ahead, and less than half the step space) of an installed chain, derived but not stored.
/// `None`: no chain of `kid`'s generation is installed.
pub(crate) fn derive_ahead<S: Store>(
    store: &S,
    suite: CipherSuite,
    kid: u64,
    lookahead: u32,
    max_failures: u64,
) -> Option<Result<Candidate<S::Backend>>> {
    let Reach {
        head,
        chain,
        distance,
    } = reach(store, kid, lookahead)?;
    let Some(distance) = distance else {
        return Some(Err(Error::UnknownKeyId));
    };
    if head.usage.auth_failures >= max_failures {
        return Some(Err(Error::KeyUsageLimit));
    }
    // The old head stays for late frames. Its step bits are `2^R - distance` ahead of the new
    // head, more than `max_ahead` (< 2^(R-1)): it is never read as a newer step.
    let frees = chain.previous.is_some_and(|p| store.find(p).is_some());
    if !store.vacancy() && !frees {
        return Some(Err(Error::KeyStoreFull));
    }
    Some(
        chain
            .state
            .step_n(suite, distance, kid)
            .map(|(state, key)| Candidate::Ratchet {
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
            }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::RustCrypto;
    use crate::hazmat::derive_key_and_salt;

    #[test]
    fn layout_bounds() -> Result<()> {
        assert_eq!(RatchetLayout::new(0), Err(Error::InvalidConfig));
        assert_eq!(RatchetLayout::new(1), Err(Error::InvalidConfig));
        assert_eq!(RatchetLayout::new(64), Err(Error::InvalidConfig));
        let l = RatchetLayout::new(63)?;
        assert_eq!(l.kid(Generation(1), 5), Ok((1 << 63) | 5));
        assert_eq!(l.kid(Generation(2), 0), Err(Error::InvalidConfig));
        let l = RatchetLayout::new(2)?;
        assert_eq!(l.kid(Generation(1), 5), Ok(0b101));
        assert_eq!(l.distance(3, l.kid(Generation(1), 5)?), 2);
        assert_eq!(l.distance(5, l.kid(Generation(1), 4)?), 3); // wraps: 4 is 3 ahead of 5 mod 4
        assert_eq!(l.max_ahead(), 1);
        assert_eq!(RatchetLayout::new(4)?.max_ahead(), 7);
        assert_eq!(RatchetLayout::new(63)?.max_ahead(), (1 << 62) - 1);
        Ok(())
    }

    #[test]
    fn step_n_matches_repeated_steps() -> Result<()> {
        let suite = CipherSuite::AesGcm256Sha512;
        let s0 = ChainState::new(suite, &[1; 20])?;
        let (s1, _) = s0.step::<RustCrypto>(suite, 1)?;
        let (s2, _) = s1.step::<RustCrypto>(suite, 2)?;
        let (_, k3) = s2.step::<RustCrypto>(suite, 3)?;
        let (direct, k3b) = s0.step_n::<RustCrypto>(suite, 3, 3)?;
        assert_eq!(k3.nonce(0), k3b.nonce(0));
        let (_, k4a) = direct.step::<RustCrypto>(suite, 4)?;
        let (_, k4b) = s0.step_n::<RustCrypto>(suite, 4, 4)?;
        assert_eq!(k4a.nonce(9), k4b.nonce(9));
        Ok(())
    }

    #[test]
    fn chain_key_is_the_rfc_formula() -> Result<()> {
        // base_key[1] via the public helper, then §4.4.2 on it, must equal the chain's key.
        let suite = CipherSuite::AesCtr128HmacSha256_80;
        let mut bk1 = [0u8; 64];
        let n = next_base_key(suite, &[0x33; 16], &mut bk1)?;
        let (_, salt) = derive_key_and_salt(suite, 17, &bk1[..n])?;
        let (_, key) = ChainState::new(suite, &[0x33; 16])?.step::<RustCrypto>(suite, 17)?;
        assert_eq!(key.nonce(0), *salt);
        Ok(())
    }
}
