//! `sframe_receiver_*`: the receiving side (RFC 9605 §4.4 decryption, §9 replay protection)
//! over `sframe_core::Receiver`.

use sframe_core::{CipherSuite, Receiver};

use crate::{
    SframeKeyUsage, SframeStatus, guard, guard_value, input, input_apart_from, non_null, output,
    store,
};

/// Opaque receiver: holds keys by KID and unprotects frames from any number of senders
/// (create with `sframe_receiver_new`, free with `sframe_receiver_free`). Use from one thread
/// at a time (see the header comment).
pub struct SframeReceiver {
    inner: Receiver,
}

/// # Safety
/// `r` is NULL or a live pointer from `sframe_receiver_new`.
unsafe fn receiver<'a>(r: *const SframeReceiver) -> Result<&'a Receiver, SframeStatus> {
    // SAFETY: caller's contract.
    unsafe { r.as_ref() }
        .map(|r| &r.inner)
        .ok_or(SframeStatus::SFRAME_ERR_NULL_POINTER)
}

/// # Safety
/// `r` is NULL or a live pointer from `sframe_receiver_new`, not used concurrently.
unsafe fn receiver_mut<'a>(r: *mut SframeReceiver) -> Result<&'a mut Receiver, SframeStatus> {
    // SAFETY: caller's contract.
    unsafe { r.as_mut() }
        .map(|r| &mut r.inner)
        .ok_or(SframeStatus::SFRAME_ERR_NULL_POINTER)
}

/// A new receiver for `cipher_suite` (1..5) with no keys, a replay window of
/// `SFRAME_DEFAULT_REPLAY_WINDOW` and the suite's default usage limits. Returns NULL if the
/// suite is unknown. Free it with `sframe_receiver_free`.
#[unsafe(no_mangle)]
pub extern "C" fn sframe_receiver_new(cipher_suite: u16) -> *mut SframeReceiver {
    guard_value(std::ptr::null_mut(), || {
        match CipherSuite::from_id(cipher_suite) {
            Ok(suite) => Box::into_raw(Box::new(SframeReceiver {
                inner: Receiver::new(suite),
            })),
            Err(_) => std::ptr::null_mut(),
        }
    })
}

/// Frees a receiver and zeroizes its keys. NULL is a no-op. `r` must not be used afterwards.
///
/// # Safety
/// `r` is NULL or a pointer from `sframe_receiver_new` not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_receiver_free(r: *mut SframeReceiver) {
    guard_value((), || {
        if !r.is_null() {
            // SAFETY: caller's contract: `r` came from Box::into_raw in sframe_receiver_new.
            drop(unsafe { Box::from_raw(r) });
        }
    })
}

/// Derives and installs the key for `kid` from `base_key` (RFC 9605 §4.4.2). An existing key
/// for `kid` is replaced, with a fresh replay window and usage counters. Key rotation: add the
/// new KID, and remove the old one once its frames stop arriving.
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
        let (r, key) = unsafe { (receiver_mut(r)?, input(base_key, base_key_len)?) };
        Ok(r.add_key(kid, key)?)
    })
}

/// Removes (and zeroizes) the key for `kid`. Errors: NULL_POINTER, UNKNOWN_KEY_ID (no such
/// key; nothing changed).
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
        if unsafe { receiver_mut(r)? }.remove_key(kid) {
            Ok(())
        } else {
            Err(SframeStatus::SFRAME_ERR_UNKNOWN_KEY_ID)
        }
    })
}

/// Removes (and zeroizes) every key. Errors: NULL_POINTER.
///
/// # Safety
/// `r` is NULL or a live receiver.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_receiver_clear(r: *mut SframeReceiver) -> SframeStatus {
    guard(|| {
        // SAFETY: caller's contract.
        unsafe { receiver_mut(r)? }.clear();
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
        unsafe { receiver(r) }.is_ok_and(|r| r.has_key(kid))
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
        unsafe { receiver(r) }.map_or(0, |r| r.key_count())
    })
}

/// Sets the replay window in counter values (RFC 9605 §9): 0 turns replay protection off,
/// at most `SFRAME_MAX_REPLAY_WINDOW`. Errors: NULL_POINTER, INVALID_CONFIG (too large;
/// nothing changed).
///
/// # Safety
/// `r` is NULL or a live receiver.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_receiver_set_replay_window(
    r: *mut SframeReceiver,
    size: u32,
) -> SframeStatus {
    guard(|| {
        // SAFETY: caller's contract.
        Ok(unsafe { receiver_mut(r)? }.set_replay_window(size)?)
    })
}

/// Writes the replay window in force to `*size`. Errors: NULL_POINTER.
///
/// # Safety
/// `r` is NULL or a live receiver; `size` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_receiver_replay_window(
    r: *const SframeReceiver,
    size: *mut u32,
) -> SframeStatus {
    guard(|| {
        non_null(size)?;
        // SAFETY: caller's contract.
        let value = unsafe { receiver(r)? }.replay_window();
        // SAFETY: non-NULL, caller's contract.
        unsafe { store(size, value) };
        Ok(())
    })
}

/// Sets how many failed authentications one key may see before the receiver refuses that
/// key with KEY_USAGE_LIMIT (RFC 9605 §9; defaults from 2^12 for the 4-byte tag suite to
/// 2^36). Errors: NULL_POINTER.
///
/// # Safety
/// `r` is NULL or a live receiver.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_receiver_set_max_auth_failures(
    r: *mut SframeReceiver,
    max_auth_failures: u64,
) -> SframeStatus {
    guard(|| {
        // SAFETY: caller's contract.
        let r = unsafe { receiver_mut(r)? };
        let mut limits = r.limits();
        limits.max_auth_failures = max_auth_failures;
        r.set_limits(limits);
        Ok(())
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
        let u = unsafe { receiver(r)? }
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
pub unsafe extern "C" fn sframe_receiver_max_plaintext_size(
    r: *const SframeReceiver,
    ciphertext_len: usize,
) -> usize {
    guard_value(0, || {
        // SAFETY: caller's contract.
        unsafe { receiver(r) }.map_or(0, |r| r.max_plaintext_len(ciphertext_len))
    })
}

/// Verifies and decrypts one frame (`header || ciphertext || tag`) into `out`, writing the
/// plaintext length to `*out_len`. The key is found by the KID in the header. `metadata` must
/// be the bytes the sender authenticated (NULL with length 0 for none).
/// `out` needs at most `sframe_receiver_max_plaintext_size(r, ciphertext_len)` bytes. On any
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
    // SAFETY: `out_len` is NULL or writable (caller's contract).
    unsafe { store(out_len, 0) };
    guard(|| {
        non_null(out_len)?;
        // SAFETY: caller's contract; inputs are read (copied if they overlap `out`) before
        // `out` is borrowed mutably.
        let (r, metadata, frame, out) = unsafe {
            let r = receiver_mut(r)?;
            let md = input_apart_from(metadata, metadata_len, out, out_cap)?;
            let ct = input_apart_from(ciphertext, ciphertext_len, out, out_cap)?;
            (r, md, ct, output(out, out_cap)?)
        };
        let n = r
            .unprotect_into(metadata.bytes(), frame.bytes(), out)?
            .len();
        // SAFETY: non-NULL, caller's contract.
        unsafe { store(out_len, n) };
        Ok(())
    })
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
            let r = receiver_mut(r)?;
            let md = input_apart_from(metadata, metadata_len, frame, frame_len)?;
            (r, md, output(frame, frame_len)?)
        };
        let start = buf.as_ptr() as usize;
        let pt = r.unprotect(metadata.bytes(), buf)?;
        let (offset, len) = ((pt.as_ptr() as usize).saturating_sub(start), pt.len());
        // SAFETY: non-NULL, caller's contract.
        unsafe {
            store(plaintext_offset, offset);
            store(plaintext_len, len);
        }
        Ok(())
    })
}
