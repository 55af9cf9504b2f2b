//! MLS-based key management — RFC 9605 §5.2 ("MLS").
//!
//! Every MLS epoch yields one SFrame base key through the MLS exporter, shared by the whole
//! group; each member encrypts under its own KID, and the §4.4.2 derivation binds key and salt
//! to that KID, so every member gets a distinct `sframe_key`/`sframe_salt`:
//!
//! ```text
//! base_key = MLS-Exporter("SFrame 1.0 Base Key", "", AEAD.Nk)
//!
//!    64-S-E bits   S bits   E bits
//! +-------------+--------+-------+
//! | Context ID  | Index  | Epoch |      KID = (context << (S + E)) + (sender_index << E) + (epoch % (1 << E))
//! +-------------+--------+-------+
//! ```
//!
//! `E` (epoch bits) and `S` (index bits, large enough that every leaf index is `< 2^S`) are
//! application choices, in [`MlsKidLayout`]; the context (default 0, the shortest KID) lets one
//! member send several uncoordinated streams. This crate has no MLS dependency: pass it the
//! exporter output as bytes ([`EXPORTER_LABEL`], [`EXPORTER_CONTEXT`], [`exporter_len`]).
//!
//! * Sender: [`crate::Sender::set_mls_key`] (or [`sender_key`] + `set_derived_key`).
//! * Receiver: the layout in its [`crate::ReceiverConfig::with_mls`], then
//!   [`crate::Receiver::add_mls_epoch`] for every epoch. Keys of members are derived on demand
//!   when a frame with an unknown KID of a known epoch arrives, and kept only once that frame
//!   authenticated. The receiver keeps the last [`DEFAULT_MLS_EPOCHS_KEPT`] = 3 epochs
//!   (configurable up to [`MAX_MLS_EPOCHS`] = 8, and never more than `2^E`) so late frames of a
//!   previous epoch still decrypt; adding a newer epoch forgets the oldest one — its exported
//!   secret and every member key derived from it are zeroized. As §5.2 requires, an epoch
//!   whose low `E` bits equal the new epoch's is always removed (epoch counter roll-over).
//! * An epoch never comes back: its member keys would return with empty replay windows
//!   (§9.3) and frames already accepted would be accepted again. The receiver remembers the
//!   newest epoch it dropped (one number) and refuses, with [`crate::Error::StaleEpoch`], any
//!   epoch it does not keep up to that one, an epoch older than the kept one with its low `E`
//!   bits, and an epoch older than every kept epoch when it keeps as many as configured.

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::crypto::Backend;
use crate::error::{Error, Result};
use crate::key::{Key, MIN_BASE_KEY_LEN};
use crate::keystore::sealed::Store;
use crate::keystore::{Candidate, Origin};
use crate::suite::CipherSuite;

/// The MLS exporter label of §5.2.
pub const EXPORTER_LABEL: &str = "SFrame 1.0 Base Key";
/// The MLS exporter context of §5.2 (empty).
pub const EXPORTER_CONTEXT: &[u8] = b"";
/// Epochs a receiver keeps by default (the current one and two before it).
pub const DEFAULT_MLS_EPOCHS_KEPT: usize = 3;
/// Most epochs a receiver can keep (inline storage, no allocation).
pub const MAX_MLS_EPOCHS: usize = 8;
/// Longest exported secret accepted, in bytes.
pub const MAX_EXPORTED_SECRET_LEN: usize = 64;
/// Member keys of one kept epoch that [`crate::Receiver::remove_key`] can remove while the
/// epoch stays: each is remembered so it is not derived again with a fresh replay window.
/// Removing more closes the epoch to members not yet derived (fail closed).
pub const MAX_REMOVED_MEMBERS: usize = 16;

/// The exporter output length §5.2 asks for: `AEAD.Nk` of the suite.
pub const fn exporter_len(suite: CipherSuite) -> usize {
    suite.key_len()
}

/// The KID layout of §5.2: `E` epoch bits, `S` index bits, and the sender's context value.
///
/// ```
/// use sframe_core::mls::MlsKidLayout;
/// // RFC 9605 Figure 6: 64 members (S = 6), E = 4.
/// let layout = MlsKidLayout::new(4, 6)?;
/// assert_eq!(layout.kid(14, 20)?, 0x14e);
/// assert_eq!(layout.kid(17, 51)?, 0x331);
/// assert_eq!(layout.with_context(2)?.kid(16, 2)?, 0x820);
/// assert_eq!(layout.split(0x14e), (0, 20, 14));
/// # Ok::<(), sframe_core::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MlsKidLayout {
    epoch_bits: u8,
    index_bits: u8,
    context: u64,
}

impl MlsKidLayout {
    /// `E = epoch_bits` (1..=32) and `S = index_bits` (0..=32), context 0.
    /// Out of range is [`Error::InvalidConfig`].
    pub const fn new(epoch_bits: u8, index_bits: u8) -> Result<Self> {
        if epoch_bits == 0 || epoch_bits > 32 || index_bits > 32 {
            return Err(Error::InvalidConfig);
        }
        Ok(MlsKidLayout {
            epoch_bits,
            index_bits,
            context: 0,
        })
    }

    /// `S` is the smallest value with `group_size <= 2^S` (leaf indices `0..group_size`).
    pub const fn for_group_size(epoch_bits: u8, group_size: u32) -> Result<Self> {
        let mut s = 0u8;
        while s < 32 && (1u64 << s) < group_size as u64 {
            s += 1;
        }
        Self::new(epoch_bits, s)
    }

    /// The same layout with another context value; it must fit in `64 - S - E` bits.
    pub const fn with_context(self, context: u64) -> Result<Self> {
        let used = self.epoch_bits as u32 + self.index_bits as u32;
        let max = if used >= 64 { 0 } else { u64::MAX >> used };
        if context > max {
            return Err(Error::InvalidConfig);
        }
        Ok(MlsKidLayout { context, ..self })
    }

    /// `E`.
    pub const fn epoch_bits(&self) -> u8 {
        self.epoch_bits
    }

    /// `S`.
    pub const fn index_bits(&self) -> u8 {
        self.index_bits
    }

    /// The context value.
    pub const fn context(&self) -> u64 {
        self.context
    }

    /// Epochs that can be told apart by KID: `2^E`.
    pub const fn distinct_epochs(&self) -> u64 {
        1u64 << self.epoch_bits
    }

    /// The KID of member `leaf_index` in `epoch`. An index that does not fit in `S` bits is
    /// [`Error::InvalidConfig`].
    pub const fn kid(&self, epoch: u64, leaf_index: u32) -> Result<u64> {
        if (leaf_index as u64) >> self.index_bits != 0 {
            return Err(Error::InvalidConfig);
        }
        let e = self.epoch_bits as u32;
        let s = self.index_bits as u32;
        let ctx = if e + s >= 64 {
            0
        } else {
            self.context << (e + s)
        };
        Ok(ctx | ((leaf_index as u64) << e) | self.epoch_low(epoch))
    }

    /// `epoch % 2^E`.
    pub const fn epoch_low(&self, epoch: u64) -> u64 {
        epoch & (self.distinct_epochs() - 1)
    }

    /// `(context, sender_index, epoch % 2^E)` of `kid`.
    pub const fn split(&self, kid: u64) -> (u64, u64, u64) {
        let e = self.epoch_bits as u32;
        let s = self.index_bits as u32;
        let ctx = if e + s >= 64 { 0 } else { kid >> (e + s) };
        let index = (kid >> e) & ((1u64 << s) - 1);
        (ctx, index, self.epoch_low(kid))
    }
}

/// The sender key of member `leaf_index` in `epoch` (§5.2): KID from `layout`, and the
/// §4.4.2 key derived from `exported_secret` (the epoch's base key) for that KID.
///
/// ```
/// use sframe_core::{CipherSuite, mls::{MlsKidLayout, sender_key}};
/// let layout = MlsKidLayout::new(4, 6)?;
/// let key = sender_key(CipherSuite::AesGcm128Sha256, &layout, &[9; 16], 14, 3)?;
/// assert_eq!(key.key_id(), 0x3e);
/// # Ok::<(), sframe_core::Error>(())
/// ```
pub fn sender_key(
    suite: CipherSuite,
    layout: &MlsKidLayout,
    exported_secret: &[u8],
    epoch: u64,
    leaf_index: u32,
) -> Result<Key> {
    sender_key_in(suite, layout, exported_secret, epoch, leaf_index)
}

/// [`sender_key`] for any backend.
pub(crate) fn sender_key_in<B: Backend>(
    suite: CipherSuite,
    layout: &MlsKidLayout,
    exported_secret: &[u8],
    epoch: u64,
    leaf_index: u32,
) -> Result<Key<B>> {
    let kid = layout.kid(epoch, leaf_index)?;
    Key::derive_in(suite, kid, exported_secret)
}

/// One epoch's exported secret, zeroized on drop.
#[derive(Zeroize, ZeroizeOnDrop)]
pub(crate) struct EpochSecret {
    pub(crate) epoch: u64,
    /// Frames that failed authentication under keys derived on demand from this epoch.
    pub(crate) auth_failures: u64,
    bytes: [u8; MAX_EXPORTED_SECRET_LEN],
    len: usize,
    /// KIDs of member keys removed while the epoch is kept: never derived again.
    removed: [u64; MAX_REMOVED_MEMBERS],
    removed_len: usize,
    /// Set when more than [`MAX_REMOVED_MEMBERS`] were removed: no member is derived anymore.
    closed: bool,
}

impl EpochSecret {
    pub(crate) fn new(epoch: u64, secret: &[u8]) -> Result<Self> {
        if secret.len() < MIN_BASE_KEY_LEN || secret.len() > MAX_EXPORTED_SECRET_LEN {
            return Err(Error::InvalidKey);
        }
        let mut bytes = [0u8; MAX_EXPORTED_SECRET_LEN];
        if let Some(dst) = bytes.get_mut(..secret.len()) {
            dst.copy_from_slice(secret);
        }
        Ok(EpochSecret {
            epoch,
            auth_failures: 0,
            bytes,
            len: secret.len(),
            removed: [0; MAX_REMOVED_MEMBERS],
            removed_len: 0,
            closed: false,
        })
    }

    /// Remembers that the member key `kid` was removed, so it is not derived again.
    pub(crate) fn mark_removed(&mut self, kid: u64) {
        if self.may_derive(kid) {
            match self.removed.get_mut(self.removed_len) {
                Some(slot) => {
                    *slot = kid;
                    self.removed_len += 1;
                }
                None => self.closed = true,
            }
        }
    }

    /// Whether the member key `kid` may be derived (not removed, epoch not closed).
    pub(crate) fn may_derive(&self, kid: u64) -> bool {
        !self.closed
            && !self
                .removed
                .get(..self.removed_len)
                .unwrap_or(&[])
                .contains(&kid)
    }

    pub(crate) fn secret(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or(&[])
    }
}

/// A receiver's MLS state: the layout, the secrets of the kept epochs, and the newest epoch
/// it ever dropped.
pub(crate) struct MlsState {
    pub(crate) layout: MlsKidLayout,
    pub(crate) keep: usize,
    pub(crate) epochs: [Option<EpochSecret>; MAX_MLS_EPOCHS],
    /// The newest epoch dropped so far (forgotten as the oldest, replaced by its roll-over
    /// twin, removed, cleared). Every epoch the receiver held and no longer holds is at most
    /// this, so refusing those (unless kept) means no epoch ever comes back with empty
    /// replay windows and a fresh forgery budget.
    pub(crate) retired: Option<u64>,
}

impl MlsState {
    pub(crate) fn new(layout: MlsKidLayout, keep: usize) -> Self {
        MlsState {
            layout,
            keep,
            epochs: core::array::from_fn(|_| None),
            retired: None,
        }
    }

    /// The kept epoch whose low bits match `kid`'s.
    pub(crate) fn epoch_for(&self, kid: u64) -> Option<&EpochSecret> {
        let low = self.layout.epoch_low(kid);
        self.epochs
            .iter()
            .flatten()
            .find(|e| self.layout.epoch_low(e.epoch) == low)
    }

    pub(crate) fn epoch_mut(&mut self, epoch: u64) -> Option<&mut EpochSecret> {
        self.epochs.iter_mut().flatten().find(|e| e.epoch == epoch)
    }

    fn is_kept(&self, epoch: u64) -> bool {
        self.epochs.iter().flatten().any(|e| e.epoch == epoch)
    }

    fn retire(&mut self, epoch: u64) {
        self.retired = Some(self.retired.map_or(epoch, |r| r.max(epoch)));
    }

    /// Stores `secret` for `epoch`. Returns the epochs dropped (at most two: the roll-over
    /// twin and the oldest beyond `keep`), so the caller can remove their member keys.
    /// [`Error::StaleEpoch`], with nothing changed, for an epoch that is not kept and not
    /// newer than [`MlsState::retired`], older than the kept epoch with its low bits (the
    /// newer twin holds those KIDs), or older than every kept epoch when `keep` are kept (it
    /// would be the oldest to forget). A kept epoch is replaced in place (another secret).
    pub(crate) fn insert(&mut self, secret: EpochSecret) -> Result<[Option<u64>; 2]> {
        let epoch = secret.epoch;
        if self.retired.is_some_and(|r| epoch <= r) && !self.is_kept(epoch) {
            return Err(Error::StaleEpoch);
        }
        let low = self.layout.epoch_low(epoch);
        // The same epoch (another secret), or a roll-over twin: replaced if older.
        let twin = self
            .epochs
            .iter()
            .flatten()
            .find(|e| self.layout.epoch_low(e.epoch) == low)
            .map(|e| e.epoch);
        if twin.is_some_and(|t| t > epoch) {
            return Err(Error::StaleEpoch);
        }
        let keep = self.keep.clamp(1, MAX_MLS_EPOCHS);
        let others = self
            .epochs
            .iter()
            .flatten()
            .filter(|e| Some(e.epoch) != twin)
            .count();
        let oldest = if others >= keep {
            self.epochs
                .iter()
                .flatten()
                .filter(|e| Some(e.epoch) != twin)
                .map(|e| e.epoch)
                .min()
        } else {
            None
        };
        if oldest.is_some_and(|o| o > epoch) {
            return Err(Error::StaleEpoch);
        }
        // Checked: now drop (zeroize in place, not moved out first) and store.
        let mut dropped = [None, None];
        for (out, gone) in dropped.iter_mut().zip([twin, oldest]) {
            if let Some(gone) = gone {
                if let Some(slot) = self
                    .epochs
                    .iter_mut()
                    .find(|s| s.as_ref().is_some_and(|e| e.epoch == gone))
                {
                    *slot = None;
                }
                if gone != epoch {
                    self.retire(gone);
                }
                *out = Some(gone);
            }
        }
        if let Some(slot) = self.epochs.iter_mut().find(|s| s.is_none()) {
            *slot = Some(secret);
        }
        Ok(dropped)
    }
}

impl MlsState {
    /// Adds `epoch`'s exported secret (idempotent for the same secret), forgetting the epochs
    /// it displaces and their member keys in `store`; [`Error::StaleEpoch`] (nothing changed)
    /// for an epoch that could only come back with empty replay windows (see
    /// [`MlsState::insert`]).
    pub(crate) fn add_epoch<S: Store>(
        &mut self,
        store: &mut S,
        epoch: u64,
        exported_secret: &[u8],
    ) -> Result<()> {
        let secret = EpochSecret::new(epoch, exported_secret)?;
        let known = self
            .epochs
            .iter()
            .flatten()
            .any(|e| e.epoch == epoch && bool::from(e.secret().ct_eq(exported_secret)));
        if known {
            // Idempotent: re-adding an epoch must not reset its members' replay windows.
            return Ok(());
        }
        for old in self.insert(secret)?.into_iter().flatten() {
            forget_epoch_keys(store, old);
        }
        Ok(())
    }

    /// Forgets `epoch` (secret and member keys); returns whether it was kept.
    pub(crate) fn remove_epoch<S: Store>(&mut self, store: &mut S, epoch: u64) -> bool {
        let found = match self
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
        if found {
            self.retire(epoch);
        }
        forget_epoch_keys(store, epoch);
        found
    }

    /// Drops every kept epoch secret (zeroized); they stay retired.
    pub(crate) fn clear(&mut self) {
        if let Some(newest) = self.epochs.iter().flatten().map(|e| e.epoch).max() {
            self.retire(newest);
        }
        self.epochs.iter_mut().for_each(|e| *e = None);
    }

    /// §5.2 on the receiving side: the key of member `kid` of a kept epoch, derived but not
    /// stored. `None`: no kept epoch has `kid`'s epoch bits.
    pub(crate) fn derive_member<S: Store>(
        &self,
        store: &S,
        suite: CipherSuite,
        kid: u64,
        max_failures: u64,
    ) -> Option<Result<Candidate<S::Backend>>> {
        let epoch = self.epoch_for(kid)?;
        if !epoch.may_derive(kid) {
            return Some(Err(Error::UnknownKeyId));
        }
        if epoch.auth_failures >= max_failures {
            return Some(Err(Error::KeyUsageLimit));
        }
        if !store.vacancy() {
            return Some(Err(Error::KeyStoreFull));
        }
        Some(
            Key::derive_in(suite, kid, epoch.secret()).map(|key| Candidate::Mls {
                epoch: epoch.epoch,
                key,
            }),
        )
    }

    /// Remembers that the member key `kid` was removed by the application.
    pub(crate) fn mark_removed(&mut self, kid: u64, origin: &Origin) {
        if let Origin::Mls(epoch) = origin
            && let Some(e) = self.epoch_mut(*epoch)
        {
            e.mark_removed(kid);
        }
    }
}

/// Removes (zeroizes) the member keys derived from `epoch`.
pub(crate) fn forget_epoch_keys<S: Store>(store: &mut S, epoch: u64) {
    store.remove_where(&mut |e| matches!(e.origin, Origin::Mls(x) if x == epoch));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_figure_kids() -> Result<()> {
        let l = MlsKidLayout::new(4, 6)?;
        assert_eq!(l.kid(14, 3), Ok(0x3e));
        assert_eq!(l.kid(14, 7), Ok(0x7e));
        assert_eq!(l.kid(15, 3), Ok(0x3f));
        assert_eq!(l.kid(15, 5), Ok(0x5f));
        assert_eq!(l.kid(17, 33), Ok(0x211));
        assert_eq!(l.with_context(3)?.kid(16, 2), Ok(0xc20));
        assert_eq!(l.kid(1, 64), Err(Error::InvalidConfig));
        Ok(())
    }

    #[test]
    fn group_size_to_index_bits() -> Result<()> {
        assert_eq!(MlsKidLayout::for_group_size(4, 1)?.index_bits(), 0);
        assert_eq!(MlsKidLayout::for_group_size(4, 2)?.index_bits(), 1);
        assert_eq!(MlsKidLayout::for_group_size(4, 64)?.index_bits(), 6);
        assert_eq!(MlsKidLayout::for_group_size(4, 65)?.index_bits(), 7);
        Ok(())
    }

    #[test]
    fn context_must_fit() -> Result<()> {
        let l = MlsKidLayout::new(32, 32)?;
        assert_eq!(l.with_context(1), Err(Error::InvalidConfig));
        assert_eq!(l.kid(u64::MAX, u32::MAX), Ok(u64::MAX));
        assert_eq!(
            l.split(u64::MAX),
            (0, u64::from(u32::MAX), u64::from(u32::MAX))
        );
        Ok(())
    }

    #[test]
    fn ring_keeps_newest_and_drops_twins() -> Result<()> {
        let l = MlsKidLayout::new(2, 4)?;
        let mut st = MlsState::new(l, 3);
        for e in 0..3 {
            assert_eq!(
                st.insert(EpochSecret::new(e, &[e as u8; 16])?),
                Ok([None, None])
            );
        }
        assert_eq!(
            st.insert(EpochSecret::new(3, &[3; 16])?),
            Ok([None, Some(0)])
        );
        // Epoch 5 has the low bits of epoch 1: the twin goes, and with room left nothing else.
        assert_eq!(
            st.insert(EpochSecret::new(5, &[5; 16])?),
            Ok([Some(1), None])
        );
        let kept: [bool; 6] =
            core::array::from_fn(|e| st.epochs.iter().flatten().any(|s| s.epoch == e as u64));
        assert_eq!(kept, [false, false, true, true, false, true]);
        assert_eq!(st.epoch_for(l.kid(5, 9)?).map(|e| e.epoch), Some(5));
        assert!(st.epoch_for(l.kid(4, 9)?).is_none());
        assert_eq!(st.retired, Some(1));
        Ok(())
    }

    /// Every refusal of [`MlsState::insert`] leaves the state as it was.
    #[test]
    fn stale_epochs_are_refused_and_change_nothing() -> Result<()> {
        let l = MlsKidLayout::new(2, 4)?;
        let mut st = MlsState::new(l, 3);
        let kept = |st: &MlsState| {
            let mut v: [u64; MAX_MLS_EPOCHS] = [u64::MAX; MAX_MLS_EPOCHS];
            for (d, e) in v.iter_mut().zip(st.epochs.iter().flatten()) {
                *d = e.epoch;
            }
            v.sort_unstable();
            (v, st.retired)
        };
        for e in [4, 5, 6] {
            st.insert(EpochSecret::new(e, &[e as u8; 16])?)?;
        }
        let before = kept(&st);
        // 2 and 1 are older than their kept twins 6 and 5; 3 is older than every kept epoch
        // with three kept (it would be the one to forget).
        for e in [1, 2, 3] {
            assert_eq!(
                st.insert(EpochSecret::new(e, &[e as u8; 16])?),
                Err(Error::StaleEpoch),
                "{e}"
            );
            assert_eq!(kept(&st), before);
        }
        // 8 replaces its twin 4; 4 (and anything up to it not kept) never comes back.
        assert_eq!(
            st.insert(EpochSecret::new(8, &[8; 16])?),
            Ok([Some(4), None])
        );
        assert_eq!(st.retired, Some(4));
        let before = kept(&st);
        for e in [0, 3, 4] {
            assert_eq!(
                st.insert(EpochSecret::new(e, &[9; 16])?),
                Err(Error::StaleEpoch)
            );
            assert_eq!(kept(&st), before);
        }
        // A kept epoch with another secret is replaced in place, not retired.
        assert_eq!(
            st.insert(EpochSecret::new(5, &[7; 16])?),
            Ok([Some(5), None])
        );
        assert_eq!(st.retired, Some(4));
        Ok(())
    }
}
