//! `sframe_sender_*`: the sending side (RFC 9605 §4.4 encryption, §4.4.1 key IDs) over
//! `sframe_core::Sender`.

use sframe_core::Sender;

use crate::{
    Input, SframeKeyUsage, SframeStatus, free_handle, guard, guard_len, guard_value, handle,
    handle_mut, input, input_apart_from, new_handle, non_null, output, store,
};

/// Opaque sender: protects frames under one key at a time (create with `sframe_sender_new`,
/// free with `sframe_sender_free`). Use from one thread at a time (see the header comment).
/// One sender per sending track, each with its own KID: a second live sender of the process
/// given the same key material and KID is refused (KEY_IN_USE), never silently allowed to
/// reuse nonces.
pub struct SframeSender {
    pub(crate) inner: Sender,
}

/// A new sender for `cipher_suite` (1..8, the `SFRAME_AES_*` constants) with no key.
/// Returns NULL if the suite is unknown. Free it with `sframe_sender_free`.
#[unsafe(no_mangle)]
pub extern "C" fn sframe_sender_new(cipher_suite: u16) -> *mut SframeSender {
    new_handle(cipher_suite, |suite| SframeSender {
        inner: Sender::new(suite),
    })
}

/// Frees a sender and zeroizes its key. NULL is a no-op. `s` must not be used afterwards.
/// Its key material is then free for another sender, which resumes where this one's counters
/// stood (the process keeps them; see `sframe_sender_set_key`).
///
/// # Safety
/// `s` is NULL or a pointer from `sframe_sender_new` not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_sender_free(s: *mut SframeSender) {
    // SAFETY: caller's contract.
    unsafe { free_handle(s) }
}

/// Derives the key for `kid` from `base_key` (RFC 9605 §4.4.2; at least
/// `SFRAME_MIN_BASE_KEY_LEN` bytes) and makes it current. Key rotation: call again with a new
/// KID; a key this sender never used starts at counter 0. Key material this sender used
/// before (the current key or any earlier one) resumes where its counter stood, so no call
/// sequence makes a sender reuse a nonce; setting the key in force again changes nothing.
///
/// One KID per sender: each sender (each sending track, e.g. audio and video) needs its own
/// KID. Key material (base key + KID + suite) that another live sender of the process (on any
/// thread) already uses is refused with KEY_IN_USE, and this sender keeps its previous key.
/// Key material of a freed sender resumes where that sender's counter stood. The process
/// remembers the last 16384 keys of freed senders; once it had to forget one, key material
/// neither this sender nor the process knows is COUNTER_UNKNOWN (it may be the forgotten one):
/// install it with `sframe_sender_set_key_with_counter` (0 for a key known to be new). Across
/// processes and restarts, resume from a persisted counter with
/// `sframe_sender_set_key_with_counter`. Never reuse a KID with another base key.
/// Errors: NULL_POINTER, INVALID_KEY, KEY_IN_USE, COUNTER_UNKNOWN.
///
/// # Safety
/// `s` is NULL or a live sender; `base_key` is NULL or readable for `base_key_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_sender_set_key(
    s: *mut SframeSender,
    kid: u64,
    base_key: *const u8,
    base_key_len: usize,
) -> SframeStatus {
    guard(|| {
        // SAFETY: caller's contract.
        let (s, key) = unsafe { (&mut handle_mut(s)?.inner, input(base_key, base_key_len)?) };
        Ok(s.set_key(kid, key)?)
    })
}

/// Like `sframe_sender_set_key`, with the first counter given: for a sender resuming from a
/// persisted counter after a restart (persist the counter before protecting with it). If this
/// sender or the process (a freed sender's key) knows the key, its counter never moves
/// backwards: the next counter is the larger of `next_counter` and the one it knows. A counter
/// a sender of an earlier or another process already used with this key reuses nonces: only
/// resume from a persisted value. Errors: NULL_POINTER, INVALID_KEY, KEY_IN_USE.
///
/// # Safety
/// As `sframe_sender_set_key`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_sender_set_key_with_counter(
    s: *mut SframeSender,
    kid: u64,
    base_key: *const u8,
    base_key_len: usize,
    next_counter: u64,
) -> SframeStatus {
    guard(|| {
        // SAFETY: caller's contract.
        let (s, key) = unsafe { (&mut handle_mut(s)?.inner, input(base_key, base_key_len)?) };
        Ok(s.set_key_with_counter(kid, key, sframe_core::Counter(next_counter))?)
    })
}

/// Writes the current key ID to `*kid`. Errors: NULL_POINTER, NO_KEY.
///
/// # Safety
/// `s` is NULL or a live sender; `kid` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_sender_key_id(
    s: *const SframeSender,
    kid: *mut u64,
) -> SframeStatus {
    guard(|| {
        non_null(kid)?;
        // SAFETY: caller's contract.
        let value = unsafe { &handle(s)?.inner }
            .key_id()
            .ok_or(SframeStatus::SFRAME_ERR_NO_KEY)?;
        // SAFETY: non-NULL, caller's contract.
        unsafe { store(kid, value) };
        Ok(())
    })
}

/// Writes the counter the next protected frame will carry to `*ctr`.
/// Errors: NULL_POINTER, NO_KEY, COUNTER_EXHAUSTED.
///
/// # Safety
/// `s` is NULL or a live sender; `ctr` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_sender_next_counter(
    s: *const SframeSender,
    ctr: *mut u64,
) -> SframeStatus {
    guard(|| {
        non_null(ctr)?;
        // SAFETY: caller's contract.
        let s = unsafe { &handle(s)?.inner };
        s.key_id().ok_or(SframeStatus::SFRAME_ERR_NO_KEY)?;
        let value = s
            .next_counter()
            .ok_or(SframeStatus::SFRAME_ERR_COUNTER_EXHAUSTED)?;
        // SAFETY: non-NULL, caller's contract.
        unsafe { store(ctr, value) };
        Ok(())
    })
}

/// Writes the usage counters of the current key to `*usage` (`frames` = frames protected).
/// Errors: NULL_POINTER, NO_KEY.
///
/// # Safety
/// `s` is NULL or a live sender; `usage` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_sender_usage(
    s: *const SframeSender,
    usage: *mut SframeKeyUsage,
) -> SframeStatus {
    guard(|| {
        non_null(usage)?;
        // SAFETY: caller's contract.
        let u = unsafe { &handle(s)?.inner }
            .usage()
            .ok_or(SframeStatus::SFRAME_ERR_NO_KEY)?;
        // SAFETY: non-NULL, caller's contract.
        unsafe { store(usage, u.into()) };
        Ok(())
    })
}

/// Sets how many frames one key may protect before `sframe_sender_protect` returns
/// KEY_USAGE_LIMIT (default: 2^48 for the CTR suites, 2^32 for GCM; RFC 9605 §9).
/// Errors: NULL_POINTER.
///
/// # Safety
/// `s` is NULL or a live sender.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_sender_set_max_encryptions(
    s: *mut SframeSender,
    max_encryptions: u64,
) -> SframeStatus {
    guard(|| {
        // SAFETY: caller's contract.
        let s = unsafe { &mut handle_mut(s)?.inner };
        let mut limits = s.limits();
        limits.max_encryptions = max_encryptions;
        s.set_limits(limits);
        Ok(())
    })
}

/// The largest protected size of a `plaintext_len`-byte frame (plaintext + longest header +
/// tag): size `out` with this. Returns 0 if `s` is NULL.
///
/// # Safety
/// `s` is NULL or a live sender.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_sender_max_output_len(
    s: *const SframeSender,
    plaintext_len: usize,
) -> usize {
    guard_value(0, || {
        // SAFETY: caller's contract.
        unsafe { handle(s) }.map_or(0, |s| s.inner.max_output_len(plaintext_len))
    })
}

/// Protects one frame: writes `header || ciphertext || tag` to `out` and its length to
/// `*out_len`. `metadata` is authenticated but not sent (the receiver passes the same bytes);
/// it may be NULL with length 0. Uses the next counter of the current key.
/// `out` needs at most `sframe_sender_max_output_len(s, plaintext_len)` bytes; if it is
/// smaller than the frame, BUFFER_TOO_SMALL is returned, nothing is written and no counter is
/// used. `out` should not overlap `metadata` or `plaintext` (if it does, they are copied
/// first; use `sframe_sender_protect_in_place` to encrypt in place).
/// On any error `*out_len` is set to 0 (if `out_len` is not NULL).
/// Errors: NULL_POINTER, BUFFER_TOO_SMALL, NO_KEY, COUNTER_EXHAUSTED, KEY_USAGE_LIMIT,
/// INVALID_ARGUMENT.
///
/// # Safety
/// `s` is NULL or a live sender; each buffer is NULL or valid for its length.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_sender_protect(
    s: *mut SframeSender,
    metadata: *const u8,
    metadata_len: usize,
    plaintext: *const u8,
    plaintext_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> SframeStatus {
    let run = || {
        // SAFETY: caller's contract; inputs are read (copied if they overlap `out`) before
        // `out` is borrowed mutably.
        let (s, metadata, plaintext, out) = unsafe {
            let s = &mut handle_mut(s)?.inner;
            let md = input_apart_from(metadata, metadata_len, out, out_cap)?;
            let pt = input_apart_from(plaintext, plaintext_len, out, out_cap)?;
            (s, md, pt, output(out, out_cap)?)
        };
        Ok(s.protect(metadata.bytes(), plaintext.bytes(), out)?.len())
    };
    // SAFETY: `out_len` is NULL or writable (caller's contract).
    unsafe { guard_len(out_len, run) }
}

/// Protects in place: `buf[0..plaintext_len]` holds the plaintext and `buf` has room for
/// `buf_cap` bytes; the protected frame is written from `buf[0]` and its length to
/// `*out_len`. `buf_cap >= sframe_sender_max_output_len(s, plaintext_len)` always
/// suffices. On error `*out_len` is 0; with BUFFER_TOO_SMALL `buf` is unchanged.
/// Errors: as `sframe_sender_protect`.
///
/// # Safety
/// `s` is NULL or a live sender; `buf` is NULL or valid for `buf_cap` bytes; `metadata` is
/// NULL or readable for `metadata_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_sender_protect_in_place(
    s: *mut SframeSender,
    metadata: *const u8,
    metadata_len: usize,
    buf: *mut u8,
    buf_cap: usize,
    plaintext_len: usize,
    out_len: *mut usize,
) -> SframeStatus {
    let run = || {
        // SAFETY: caller's contract; metadata is copied first if it overlaps `buf`.
        let (s, metadata, buf): (_, Input<'_>, _) = unsafe {
            let s = &mut handle_mut(s)?.inner;
            let md = input_apart_from(metadata, metadata_len, buf, buf_cap)?;
            (s, md, output(buf, buf_cap)?)
        };
        Ok(s.protect_in_place(metadata.bytes(), buf, plaintext_len)?
            .len())
    };
    // SAFETY: `out_len` is NULL or writable (caller's contract).
    unsafe { guard_len(out_len, run) }
}
