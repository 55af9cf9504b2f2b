//! Key management over the core: the sender-key ratchet of RFC 9605 §5.1 and MLS epochs of
//! §5.2 (`sframe_core::ratchet`, `sframe_core::mls`).

use sframe_core::mls::MlsKidLayout;
use sframe_core::ratchet::RatchetLayout;

use crate::{
    SframeReceiver, SframeSender, SframeStatus, found, guard, handle, handle_mut, input, store,
};

/// Default number of ratchet bits `R` in a KID (RFC 9605 §5.1): the low `R` bits carry the
/// ratchet step.
pub const SFRAME_DEFAULT_RATCHET_BITS: u8 = 4;
/// Default number of ratchet steps a receiver derives forward for one frame.
pub const SFRAME_DEFAULT_MAX_RATCHET_LOOKAHEAD: u32 = 8;
/// Largest value for `SframeReceiverConfig.max_ratchet_lookahead`.
pub const SFRAME_MAX_RATCHET_LOOKAHEAD: u32 = 1024;
/// MLS epochs a receiver keeps by default (the current one and two before it).
pub const SFRAME_DEFAULT_MLS_EPOCHS_KEPT: usize = 3;
/// Largest value for `SframeReceiverConfig.mls_epochs_kept`.
pub const SFRAME_MAX_MLS_EPOCHS: usize = 8;
/// Longest MLS exported secret accepted, in bytes.
pub const SFRAME_MAX_EXPORTED_SECRET_LEN: usize = 64;

/// The KID layout of RFC 9605 §5.2 (MLS):
/// `KID = (context << (index_bits + epoch_bits)) | (leaf_index << epoch_bits) | (epoch mod 2^epoch_bits)`.
/// `epoch_bits` is 1..32, `index_bits` 0..32 (every leaf index must be below
/// `2^index_bits`), and `context` must fit in the remaining bits (usually 0).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SframeMlsKidLayout {
    /// `E`: bits of the epoch in the KID.
    pub epoch_bits: u8,
    /// `S`: bits of the sender's leaf index in the KID.
    pub index_bits: u8,
    /// Context value above index and epoch: lets one member send several streams, e.g. the
    /// track (0 = audio, 1 = video), each from its own sender.
    pub context: u64,
}

/// # Safety
/// `layout` is NULL or readable.
unsafe fn mls_layout(layout: *const SframeMlsKidLayout) -> Result<MlsKidLayout, SframeStatus> {
    // SAFETY: caller's contract.
    mls_layout_value(unsafe { handle(layout)? })
}

/// The core layout of `l`, validated (INVALID_CONFIG out of range).
pub(crate) fn mls_layout_value(l: &SframeMlsKidLayout) -> Result<MlsKidLayout, SframeStatus> {
    Ok(MlsKidLayout::new(l.epoch_bits, l.index_bits)?.with_context(l.context)?)
}

/// Starts a §5.1 ratchet chain on the sender: installs `base_key` as key generation
/// `generation`, step 0, with `ratchet_bits` low KID bits for the step
/// (`SFRAME_DEFAULT_RATCHET_BITS` is usual). Writes the KID to `*kid` if `kid` is not NULL.
/// Receivers install the same KID and base key with `sframe_receiver_add_ratcheting_key`.
/// If this sender already used that step-0 key (or reaches, by ratcheting, a step key it
/// used), its counter resumes where it stood; giving the chain in force again (same
/// `ratchet_bits`, generation and base key) changes nothing and writes the current step's KID.
/// The generation bits can carry participant and track (one generation per sending
/// track, see the README's KID scheme).
/// Errors: NULL_POINTER, INVALID_KEY, KEY_IN_USE (another live sender uses that key),
/// COUNTER_UNKNOWN (see `sframe_sender_set_key`), INVALID_CONFIG (`ratchet_bits` not 2..63 or
/// generation too large for the KID).
///
/// # Safety
/// `s` is NULL or a live sender; `base_key` is NULL or readable for `base_key_len` bytes;
/// `kid` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_sender_set_ratcheting_key(
    s: *mut SframeSender,
    ratchet_bits: u8,
    generation: u64,
    base_key: *const u8,
    base_key_len: usize,
    kid: *mut u64,
) -> SframeStatus {
    guard(|| {
        // SAFETY: caller's contract.
        let (s, key) = unsafe { (&mut handle_mut(s)?.inner, input(base_key, base_key_len)?) };
        let new_kid = s.set_ratcheting_key(
            RatchetLayout::new(ratchet_bits)?,
            sframe_core::ratchet::Generation(generation),
            key,
        )?;
        // SAFETY: NULL or writable (caller's contract).
        unsafe { store(kid, new_kid) };
        Ok(())
    })
}

/// Ratchets the sender's key one step forward (§5.1): new KID (written to `*kid` if not
/// NULL), counter 0 for a step key this sender never used (else where its counter stood), and
/// the previous step's secret is erased (forward secrecy).
/// Errors: NULL_POINTER, NO_KEY (no ratchet chain: use `sframe_sender_set_ratcheting_key`),
/// COUNTER_EXHAUSTED (no more steps), KEY_IN_USE (another live sender uses the next step's
/// key; nothing changed), COUNTER_UNKNOWN (see `sframe_sender_set_key`; nothing changed).
///
/// # Safety
/// `s` is NULL or a live sender; `kid` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_sender_ratchet(
    s: *mut SframeSender,
    kid: *mut u64,
) -> SframeStatus {
    guard(|| {
        // SAFETY: caller's contract.
        let new_kid = unsafe { handle_mut(s)? }.inner.ratchet()?;
        // SAFETY: NULL or writable (caller's contract).
        unsafe { store(kid, new_kid) };
        Ok(())
    })
}

/// Installs this member's key for MLS epoch `epoch` (§5.2): KID from `layout`, `epoch` and
/// `leaf_index` (written to `*kid` if not NULL); key derived from the epoch's
/// `exported_secret` = MLS-Exporter("SFrame 1.0 Base Key", "", Nk). The counter starts at 0
/// (or resumes, if this sender used that key before). A member sending several tracks gives
/// each its own `layout.context` (e.g. 0 = audio, 1 = video) and one sender per track.
/// Errors: NULL_POINTER, INVALID_KEY (secret not 16..64 bytes), INVALID_CONFIG (layout out
/// of range or `leaf_index` too large for it), KEY_IN_USE (another live sender uses that
/// KID of that epoch), COUNTER_UNKNOWN (see `sframe_sender_set_key`; the member key is
/// `sframe_sender_set_key_with_counter` with that KID and `exported_secret` as base key).
///
/// # Safety
/// `s` is NULL or a live sender; `layout` is NULL or readable; `exported_secret` is NULL or
/// readable for `exported_secret_len` bytes; `kid` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_sender_set_mls_key(
    s: *mut SframeSender,
    layout: *const SframeMlsKidLayout,
    exported_secret: *const u8,
    exported_secret_len: usize,
    epoch: u64,
    leaf_index: u32,
    kid: *mut u64,
) -> SframeStatus {
    guard(|| {
        // SAFETY: caller's contract.
        let (s, layout, secret) = unsafe {
            (
                &mut handle_mut(s)?.inner,
                mls_layout(layout)?,
                input(exported_secret, exported_secret_len)?,
            )
        };
        let new_kid = s.set_mls_key(&layout, secret, epoch, leaf_index)?;
        // SAFETY: NULL or writable (caller's contract).
        unsafe { store(kid, new_kid) };
        Ok(())
    })
}

/// Installs a ratcheting sender's key (§5.1): its current `kid` (with `ratchet_bits` step
/// bits) and `base_key`. Frames at later ratchet steps of that generation are accepted once
/// they authenticate under the key derived forward (at most the look-ahead). An earlier chain
/// of the same generation is replaced; the same chain again (identical KID and base key) is a
/// no-op that keeps replay windows and failure counts. Errors: NULL_POINTER, INVALID_KEY,
/// INVALID_CONFIG (`ratchet_bits` not 2..63).
///
/// # Safety
/// `r` is NULL or a live receiver; `base_key` is NULL or readable for `base_key_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_receiver_add_ratcheting_key(
    r: *mut SframeReceiver,
    ratchet_bits: u8,
    kid: u64,
    base_key: *const u8,
    base_key_len: usize,
) -> SframeStatus {
    guard(|| {
        // SAFETY: caller's contract.
        let (r, key) = unsafe { (&mut handle_mut(r)?.inner, input(base_key, base_key_len)?) };
        Ok(r.add_ratcheting_key(RatchetLayout::new(ratchet_bits)?, kid, key)?)
    })
}

/// Adds MLS epoch `epoch` with its exported secret; every member's key of that epoch is
/// derived on demand from the KID of its first authenticated frame. When `mls_epochs_kept`
/// epochs are kept, adding a newer one forgets (zeroizes) the oldest; an epoch with the same
/// low E bits is always replaced by the newer one (RFC 9605 §5.2). Adding a kept epoch again
/// with the same secret changes nothing (replay windows stay).
///
/// An epoch never comes back once dropped (its member keys would return with empty replay
/// windows and accept frames already accepted): the receiver remembers the newest epoch it
/// dropped (forgotten as the oldest, replaced by its twin, removed, cleared) and refuses with
/// STALE_EPOCH, changing nothing, an epoch it does not keep that is not newer than that one,
/// an epoch older than the kept one with its low E bits, and an epoch older than every kept
/// epoch when `mls_epochs_kept` are kept. A late or duplicated MLS message can ignore
/// STALE_EPOCH. Errors: NULL_POINTER, INVALID_KEY (secret not 16..64 bytes), INVALID_CONFIG
/// (no layout set), STALE_EPOCH.
///
/// # Safety
/// `r` is NULL or a live receiver; `exported_secret` is NULL or readable for
/// `exported_secret_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_receiver_add_mls_epoch(
    r: *mut SframeReceiver,
    epoch: u64,
    exported_secret: *const u8,
    exported_secret_len: usize,
) -> SframeStatus {
    guard(|| {
        // SAFETY: caller's contract.
        let (r, secret) = unsafe {
            (
                &mut handle_mut(r)?.inner,
                input(exported_secret, exported_secret_len)?,
            )
        };
        Ok(r.add_mls_epoch(epoch, secret)?)
    })
}

/// Removes MLS epoch `epoch`, its secret and every key derived from it (zeroized). It cannot
/// be added again (STALE_EPOCH, see `sframe_receiver_add_mls_epoch`).
/// Errors: NULL_POINTER, UNKNOWN_KEY_ID (no such epoch; nothing changed).
///
/// # Safety
/// `r` is NULL or a live receiver.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_receiver_remove_mls_epoch(
    r: *mut SframeReceiver,
    epoch: u64,
) -> SframeStatus {
    guard(|| {
        // SAFETY: caller's contract.
        found(unsafe { handle_mut(r)? }.inner.remove_mls_epoch(epoch))
    })
}

/// Whether MLS epoch `epoch` is kept (false if `r` is NULL).
///
/// # Safety
/// `r` is NULL or a live receiver.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_receiver_has_mls_epoch(
    r: *const SframeReceiver,
    epoch: u64,
) -> bool {
    crate::guard_value(false, || {
        // SAFETY: caller's contract.
        unsafe { handle(r) }.is_ok_and(|r| r.inner.has_mls_epoch(epoch))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_match_core() {
        use sframe_core::{mls, ratchet};
        assert_eq!(SFRAME_DEFAULT_RATCHET_BITS, ratchet::DEFAULT_RATCHET_BITS);
        assert_eq!(
            SFRAME_DEFAULT_MAX_RATCHET_LOOKAHEAD,
            ratchet::DEFAULT_MAX_RATCHET_LOOKAHEAD
        );
        assert_eq!(SFRAME_MAX_RATCHET_LOOKAHEAD, ratchet::MAX_RATCHET_LOOKAHEAD);
        assert_eq!(SFRAME_DEFAULT_MLS_EPOCHS_KEPT, mls::DEFAULT_MLS_EPOCHS_KEPT);
        assert_eq!(SFRAME_MAX_MLS_EPOCHS, mls::MAX_MLS_EPOCHS);
        assert_eq!(SFRAME_MAX_EXPORTED_SECRET_LEN, mls::MAX_EXPORTED_SECRET_LEN);
    }
}
