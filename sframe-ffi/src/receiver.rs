//! `sframe_receiver_*`: the receiving side (RFC 9605 §4.4.4 decryption, §9.3 replay protection)
//! over `sframe_core::Receiver`.

use sframe_core::{CipherSuite, Limits, Receiver, ReceiverConfig};

use crate::keymgmt::{SframeMlsKidLayout, mls_layout_value};

use crate::{
    SframeKeyUsage, SframeStatus, found, free_handle, guard, guard_len, guard_value, handle,
    handle_mut, input, input_apart_from, new_handle, non_null, output, store,
};

/// Opaque receiver: holds keys by KID and unprotects frames from any number of senders
/// (create with `sframe_receiver_new`, free with `sframe_receiver_free`). Use from one thread
/// at a time (see the header comment).
pub struct SframeReceiver {
    pub(crate) inner: Receiver,
}

/// A new receiver for `cipher_suite` (1..8) with no keys and the default configuration (as
/// `sframe_receiver_config_init` fills it). Returns NULL if the suite is unknown. Free it with
/// `sframe_receiver_free`.
#[unsafe(no_mangle)]
pub extern "C" fn sframe_receiver_new(cipher_suite: u16) -> *mut SframeReceiver {
    new_handle(cipher_suite, |suite| SframeReceiver {
        inner: Receiver::new(suite),
    })
}

/// A receiver's settings, fixed at creation (`sframe_receiver_new_with_config`). Fill it with
/// `sframe_receiver_config_init`, then change what you need.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SframeReceiverConfig {
    /// The cipher suite, 1..8.
    pub cipher_suite: u16,
    /// Replay window in counter values (RFC 9605 §9.3): 0 turns replay protection off; at most
    /// `SFRAME_MAX_REPLAY_WINDOW`. Default `SFRAME_DEFAULT_REPLAY_WINDOW`.
    pub replay_window: u32,
    /// Failed authentications one key may see before it is refused with KEY_USAGE_LIMIT
    /// (RFC 9605 §7; defaults from 2^12 for the 4-byte tag suites to 2^36).
    pub max_auth_failures: u64,
    /// Ratchet steps (§5.1) derived forward for one frame: 0 = none, at most
    /// `SFRAME_MAX_RATCHET_LOOKAHEAD`. Default `SFRAME_DEFAULT_MAX_RATCHET_LOOKAHEAD`.
    pub max_ratchet_lookahead: u32,
    /// Whether MLS epochs (§5.2) are used, with `mls_layout` and `mls_epochs_kept`.
    pub mls: bool,
    /// The group's KID layout (used when `mls` is true).
    pub mls_layout: SframeMlsKidLayout,
    /// MLS epochs kept, 1..`SFRAME_MAX_MLS_EPOCHS`. Default `SFRAME_DEFAULT_MLS_EPOCHS_KEPT`.
    pub mls_epochs_kept: usize,
}

impl SframeReceiverConfig {
    fn to_core(self) -> Result<ReceiverConfig, SframeStatus> {
        let suite = CipherSuite::from_id(self.cipher_suite)?;
        let mut limits = Limits::for_suite(suite);
        limits.max_auth_failures = self.max_auth_failures;
        let config = ReceiverConfig::new(suite)
            .with_replay_window(self.replay_window)?
            .with_limits(limits)
            .with_ratchet_lookahead(self.max_ratchet_lookahead)?;
        if !self.mls {
            return Ok(config);
        }
        Ok(config.with_mls(mls_layout_value(&self.mls_layout)?, self.mls_epochs_kept)?)
    }

    fn from_core(c: &ReceiverConfig) -> Self {
        let layout = c.mls_layout();
        SframeReceiverConfig {
            cipher_suite: c.suite().id(),
            replay_window: c.replay_window(),
            max_auth_failures: c.limits().max_auth_failures,
            max_ratchet_lookahead: c.ratchet_lookahead(),
            mls: layout.is_some(),
            mls_layout: layout.map_or_else(SframeMlsKidLayout::default, |l| SframeMlsKidLayout {
                epoch_bits: l.epoch_bits(),
                index_bits: l.index_bits(),
                context: l.context(),
            }),
            mls_epochs_kept: c.mls_epochs_kept(),
        }
    }
}

/// Fills `*config` with the defaults for `cipher_suite`.
/// Errors: NULL_POINTER, UNSUPPORTED_CIPHER_SUITE.
///
/// # Safety
/// `config` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_receiver_config_init(
    config: *mut SframeReceiverConfig,
    cipher_suite: u16,
) -> SframeStatus {
    guard(|| {
        non_null(config)?;
        let suite = CipherSuite::from_id(cipher_suite)?;
        let value = SframeReceiverConfig::from_core(&ReceiverConfig::new(suite));
        // SAFETY: non-NULL, caller's contract.
        unsafe { store(config, value) };
        Ok(())
    })
}

/// Creates a receiver with `*config`, validated first: writes it to `*out` (NULL on error).
/// Errors: NULL_POINTER, UNSUPPORTED_CIPHER_SUITE, INVALID_CONFIG (a setting out of range).
///
/// # Safety
/// `config` is NULL or readable; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_receiver_new_with_config(
    config: *const SframeReceiverConfig,
    out: *mut *mut SframeReceiver,
) -> SframeStatus {
    guard(|| {
        non_null(out)?;
        // SAFETY: non-NULL, caller's contract.
        unsafe { store(out, std::ptr::null_mut()) };
        // SAFETY: caller's contract.
        let config = unsafe { *handle(config)? }.to_core()?;
        let r = Box::into_raw(Box::new(SframeReceiver {
            inner: Receiver::with_config(config),
        }));
        // SAFETY: non-NULL, caller's contract.
        unsafe { store(out, r) };
        Ok(())
    })
}

/// Writes the receiver's configuration to `*config`. Errors: NULL_POINTER.
///
/// # Safety
/// `r` is NULL or a live receiver; `config` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_receiver_config(
    r: *const SframeReceiver,
    config: *mut SframeReceiverConfig,
) -> SframeStatus {
    guard(|| {
        non_null(config)?;
        // SAFETY: caller's contract.
        let value = SframeReceiverConfig::from_core(unsafe { handle(r)? }.inner.config());
        // SAFETY: non-NULL, caller's contract.
        unsafe { store(config, value) };
        Ok(())
    })
}

/// Frees a receiver and zeroizes its keys. NULL is a no-op. `r` must not be used afterwards.
///
/// # Safety
/// `r` is NULL or a pointer from `sframe_receiver_new` not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_receiver_free(r: *mut SframeReceiver) {
    // SAFETY: caller's contract.
    unsafe { free_handle(r) }
}

/// Derives and installs the key for `kid` from `base_key` (RFC 9605 §4.4.2). The same key
/// again (identical base key for `kid`, compared in constant time) is a no-op: its replay
/// window and usage counters stay, so re-announcing a key never lets old frames replay. A
/// different base key for `kid` replaces the key, with a fresh replay window and usage
/// counters. Key rotation: add the new KID, and remove the old one once its frames stop
/// arriving.
/// Errors: NULL_POINTER, INVALID_KEY.
///
/// # Safety
/// `r` is NULL or a live receiver; `base_key` is NULL or readable for `base_key_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_receiver_add_key(
    r: *mut SframeReceiver,
    kid: u64,
    base_key: *const u8,
    base_key_len: usize,
) -> SframeStatus {
    guard(|| {
        // SAFETY: caller's contract.
        let (r, key) = unsafe { (&mut handle_mut(r)?.inner, input(base_key, base_key_len)?) };
        Ok(r.add_key(kid, key)?)
    })
}

/// Removes (and zeroizes) the key for `kid`. A member key derived from a kept MLS epoch is
/// not derived again afterwards: frames under that KID get UNKNOWN_KEY_ID until the epoch is
/// removed (so a removed key never comes back with a fresh replay window).
/// Errors: NULL_POINTER, UNKNOWN_KEY_ID (no such key; nothing changed).
///
/// # Safety
/// `r` is NULL or a live receiver.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_receiver_remove_key(
    r: *mut SframeReceiver,
    kid: u64,
) -> SframeStatus {
    guard(|| {
        // SAFETY: caller's contract.
        found(unsafe { handle_mut(r)? }.inner.remove_key(kid))
    })
}

/// Removes (and zeroizes) every key and MLS epoch secret. MLS epochs it drops cannot be added
/// again (STALE_EPOCH, see `sframe_receiver_add_mls_epoch`). Errors: NULL_POINTER.
///
/// # Safety
/// `r` is NULL or a live receiver.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_receiver_clear(r: *mut SframeReceiver) -> SframeStatus {
    guard(|| {
        // SAFETY: caller's contract.
        unsafe { handle_mut(r)? }.inner.clear();
        Ok(())
    })
}

/// Whether a key for `kid` is installed (false if `r` is NULL).
///
/// # Safety
/// `r` is NULL or a live receiver.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_receiver_has_key(r: *const SframeReceiver, kid: u64) -> bool {
    guard_value(false, || {
        // SAFETY: caller's contract.
        unsafe { handle(r) }.is_ok_and(|r| r.inner.has_key(kid))
    })
}

/// Number of installed keys (0 if `r` is NULL).
///
/// # Safety
/// `r` is NULL or a live receiver.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_receiver_key_count(r: *const SframeReceiver) -> usize {
    guard_value(0, || {
        // SAFETY: caller's contract.
        unsafe { handle(r) }.map_or(0, |r| r.inner.key_count())
    })
}

/// Writes the usage counters of the key for `kid` to `*usage` (`frames` = frames
/// unprotected, `auth_failures` = frames that failed authentication).
/// Errors: NULL_POINTER, UNKNOWN_KEY_ID.
///
/// # Safety
/// `r` is NULL or a live receiver; `usage` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_receiver_usage(
    r: *const SframeReceiver,
    kid: u64,
    usage: *mut SframeKeyUsage,
) -> SframeStatus {
    guard(|| {
        non_null(usage)?;
        // SAFETY: caller's contract.
        let u = unsafe { &handle(r)?.inner }
            .usage(kid)
            .ok_or(SframeStatus::SFRAME_ERR_UNKNOWN_KEY_ID)?;
        // SAFETY: non-NULL, caller's contract.
        unsafe { store(usage, u.into()) };
        Ok(())
    })
}

/// The largest plaintext a `ciphertext_len`-byte frame can hold: size `out` with this.
/// Returns 0 if `r` is NULL.
///
/// # Safety
/// `r` is NULL or a live receiver.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_receiver_max_output_len(
    r: *const SframeReceiver,
    ciphertext_len: usize,
) -> usize {
    guard_value(0, || {
        // SAFETY: caller's contract.
        unsafe { handle(r) }.map_or(0, |r| r.inner.max_output_len(ciphertext_len))
    })
}

/// Verifies and decrypts one frame (`header || ciphertext || tag`) into `out`, writing the
/// plaintext length to `*out_len`. The key is found by the KID in the header. `metadata` must
/// be the bytes the sender authenticated (NULL with length 0 for none).
/// `out` needs at most `sframe_receiver_max_output_len(r, ciphertext_len)` bytes. On any
/// error `out` holds no decrypted byte (after a failed authentication the plaintext-sized
/// front of `out` is zeroed), `*out_len` is 0 and the replay window is unchanged.
/// `out` should not overlap `metadata` or `ciphertext` (if it does, they are copied first;
/// use `sframe_receiver_unprotect_in_place` to decrypt in place).
/// Errors: NULL_POINTER, MALFORMED_FRAME, UNKNOWN_KEY_ID, AUTHENTICATION_FAILED, REPLAY,
/// BUFFER_TOO_SMALL, KEY_USAGE_LIMIT, INVALID_ARGUMENT.
///
/// # Safety
/// `r` is NULL or a live receiver; each buffer is NULL or valid for its length.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_receiver_unprotect(
    r: *mut SframeReceiver,
    metadata: *const u8,
    metadata_len: usize,
    ciphertext: *const u8,
    ciphertext_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> SframeStatus {
    let run = || {
        // SAFETY: caller's contract; inputs are read (copied if they overlap `out`) before
        // `out` is borrowed mutably.
        let (r, metadata, frame, out) = unsafe {
            let r = &mut handle_mut(r)?.inner;
            let md = input_apart_from(metadata, metadata_len, out, out_cap)?;
            let ct = input_apart_from(ciphertext, ciphertext_len, out, out_cap)?;
            (r, md, ct, output(out, out_cap)?)
        };
        Ok(r.unprotect(metadata.bytes(), frame.bytes(), out)?.len())
    };
    // SAFETY: `out_len` is NULL or writable (caller's contract).
    unsafe { guard_len(out_len, run) }
}

/// Verifies and decrypts `frame[0..frame_len]` in place. On success the plaintext is
/// `frame[*plaintext_offset .. *plaintext_offset + *plaintext_len]` (right after the header).
/// On error the frame bytes are unchanged and both outputs are 0.
/// Errors: as `sframe_receiver_unprotect` (no BUFFER_TOO_SMALL).
///
/// # Safety
/// `r` is NULL or a live receiver; `frame` is NULL or valid for `frame_len` bytes; `metadata`
/// is NULL or readable for `metadata_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_receiver_unprotect_in_place(
    r: *mut SframeReceiver,
    metadata: *const u8,
    metadata_len: usize,
    frame: *mut u8,
    frame_len: usize,
    plaintext_offset: *mut usize,
    plaintext_len: *mut usize,
) -> SframeStatus {
    // SAFETY: outputs are NULL or writable (caller's contract).
    unsafe {
        store(plaintext_offset, 0);
        store(plaintext_len, 0);
    }
    guard(|| {
        non_null(plaintext_offset)?;
        non_null(plaintext_len)?;
        // SAFETY: caller's contract; metadata is copied first if it overlaps `frame`.
        let (r, metadata, buf) = unsafe {
            let r = &mut handle_mut(r)?.inner;
            let md = input_apart_from(metadata, metadata_len, frame, frame_len)?;
            (r, md, output(frame, frame_len)?)
        };
        let start = buf.as_ptr() as usize;
        let pt = r.unprotect_in_place(metadata.bytes(), buf)?;
        let (offset, len) = ((pt.as_ptr() as usize).saturating_sub(start), pt.len());
        // SAFETY: non-NULL, caller's contract.
        unsafe {
            store(plaintext_offset, offset);
            store(plaintext_len, len);
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::*;
    use std::ptr::{null, null_mut};

    const KEY: &[u8; 16] = b"0123456789abcdef";

    /// Calls the C entry points from Rust: round trip, in place, misuse.
    #[test]
    fn round_trip_through_the_c_entry_points() {
        let s = sframe_sender_new(SFRAME_AES_128_CTR_HMAC_SHA256_80);
        let r = sframe_receiver_new(SFRAME_AES_128_CTR_HMAC_SHA256_80);
        assert!(!s.is_null() && !r.is_null());
        // SAFETY: live objects and valid buffers throughout.
        unsafe {
            assert_eq!(
                sframe_sender_set_key(s, 9, KEY.as_ptr(), KEY.len()),
                SframeStatus::SFRAME_OK
            );
            assert_eq!(
                sframe_receiver_add_key(r, 9, KEY.as_ptr(), KEY.len()),
                SframeStatus::SFRAME_OK
            );
            let pt = b"frame";
            let mut out = vec![0u8; sframe_sender_max_output_len(s, pt.len())];
            let protect = |out: &mut [u8]| {
                let mut n = 0usize;
                let st = sframe_sender_protect(
                    s,
                    null(),
                    0,
                    pt.as_ptr(),
                    pt.len(),
                    out.as_mut_ptr(),
                    out.len(),
                    &mut n,
                );
                assert_eq!(st, SframeStatus::SFRAME_OK);
                n
            };
            let n = protect(&mut out);
            assert_eq!(n, 2 + pt.len() + 10); // KID 9 takes an extra header byte
            let mut plain = vec![0u8; sframe_receiver_max_output_len(r, n)];
            let mut m = 7usize;
            let unprotect = |plain: &mut [u8], m: &mut usize| {
                sframe_receiver_unprotect(
                    r,
                    null(),
                    0,
                    out.as_ptr(),
                    n,
                    plain.as_mut_ptr(),
                    plain.len(),
                    m,
                )
            };
            let st = unprotect(&mut plain, &mut m);
            assert_eq!(st, SframeStatus::SFRAME_OK);
            assert_eq!(&plain[..m], pt);
            // Replay, then the next frame in place.
            let st = unprotect(&mut plain, &mut m);
            assert_eq!((st, m), (SframeStatus::SFRAME_ERR_REPLAY, 0));
            // The next frame, in place.
            let n = protect(&mut out);
            let (mut off, mut len) = (0usize, 0usize);
            let st = sframe_receiver_unprotect_in_place(
                r,
                null(),
                0,
                out.as_mut_ptr(),
                n,
                &mut off,
                &mut len,
            );
            assert_eq!(st, SframeStatus::SFRAME_OK);
            assert_eq!(&out[off..off + len], pt);
            // Misuse.
            assert_eq!(
                sframe_receiver_unprotect(r, null(), 0, null(), 3, null_mut(), 0, &mut m),
                SframeStatus::SFRAME_ERR_NULL_POINTER
            );
            assert_eq!(
                sframe_receiver_remove_key(r, 10),
                SframeStatus::SFRAME_ERR_UNKNOWN_KEY_ID
            );
            let mut config = std::mem::zeroed::<SframeReceiverConfig>();
            assert_eq!(
                sframe_receiver_config(r, &mut config),
                SframeStatus::SFRAME_OK
            );
            config.replay_window = SFRAME_MAX_REPLAY_WINDOW + 1;
            let mut bad = r;
            assert_eq!(
                sframe_receiver_new_with_config(&config, &mut bad),
                SframeStatus::SFRAME_ERR_INVALID_CONFIG
            );
            assert!(bad.is_null());
            sframe_sender_free(s);
            sframe_receiver_free(r);
        }
    }

    /// `out` overlapping the input is handled by copying: the result equals the non-aliased one.
    #[test]
    fn aliasing_output_is_copied_not_miscompiled() {
        let s = sframe_sender_new(SFRAME_AES_128_GCM_SHA256_128);
        let r = sframe_receiver_new(SFRAME_AES_128_GCM_SHA256_128);
        // SAFETY: live objects; `buf` is valid for its whole length.
        unsafe {
            assert_eq!(
                sframe_sender_set_key(s, 1, KEY.as_ptr(), KEY.len()),
                SframeStatus::SFRAME_OK
            );
            assert_eq!(
                sframe_receiver_add_key(r, 1, KEY.as_ptr(), KEY.len()),
                SframeStatus::SFRAME_OK
            );
            let mut buf = [0u8; 64];
            buf[..5].copy_from_slice(b"alias");
            let p = buf.as_mut_ptr();
            let mut n = 0;
            let st = sframe_sender_protect(s, null(), 0, p, 5, p, buf.len(), &mut n);
            assert_eq!(st, SframeStatus::SFRAME_OK);
            let mut m = 0;
            let st = sframe_receiver_unprotect(r, null(), 0, p, n, p, buf.len(), &mut m);
            assert_eq!(st, SframeStatus::SFRAME_OK);
            assert_eq!(&buf[..m], b"alias");
            sframe_sender_free(s);
            sframe_receiver_free(r);
        }
    }
}
