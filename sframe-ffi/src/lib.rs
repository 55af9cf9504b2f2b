//! # sframe-ffi — the C ABI of sframe-core (RFC 9605 SFrame)
//!
//! Builds `libsframe.so` (cdylib) and `libsframe.a` (staticlib); the C declarations are in
//! `include/sframe.h`, generated from this crate by cbindgen (`cbindgen.toml`) and committed.
//! `tests/header.rs` fails when the committed header differs from a fresh generation.
//!
//! This layer only converts types and errors: every protocol decision (RFC 9605 §4.3 header,
//! §4.4 key derivation and frame protection, §9 replay and usage limits) is made by
//! `sframe-core`.
//!
//! ## Rules every function follows
//!
//! * No Rust panic crosses the boundary: each function body runs under
//!   [`std::panic::catch_unwind`]; a caught panic returns [`SframeStatus::SFRAME_ERR_PANIC`]
//!   (or `NULL` / `0` / `false` for functions that return no status).
//! * A `NULL` pointer where a value is needed returns [`SframeStatus::SFRAME_ERR_NULL_POINTER`].
//!   A `NULL` data pointer with length 0 is a valid empty input.
//! * Output is written only inside `out[0..out_cap]`. A too small `out` returns
//!   [`SframeStatus::SFRAME_ERR_BUFFER_TOO_SMALL`] and writes nothing (the `sframe_sdp_*`
//!   functions then write the size needed to `*out_len`).
//! * `out` should not overlap any input. If it does, the input is copied first (so the call is
//!   still correct, only slower); for in-place work use the `_in_place` functions.
//!
//! ## Threads
//!
//! An object (`SframeSender`, `SframeReceiver`) may be created, used and freed on any thread,
//! but calls taking a non-`const` pointer to it must not run concurrently with any other call
//! on the same object (guard it with a mutex if several threads share it). Calls taking a
//! `const` pointer may run concurrently with each other. Distinct objects are independent,
//! except for one safety check: `sframe-core` keeps one registry per process of the key
//! material that senders use, so that a second live sender (on any thread) given the same key
//! material and KID is refused with [`SframeStatus::SFRAME_ERR_KEY_IN_USE`] (one KID per
//! sender: two senders counting from 0 under one key would reuse every nonce), and a sender
//! given a key that a freed sender used resumes its counter. A sender leaves the registry,
//! leaving its keys' counters there, when it is freed. There is no other global mutable state.

#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

// Declaration order is the order of declarations in include/sframe.h.
mod status;

mod sender;

mod receiver;

mod keymgmt;

mod rtp;

mod sdp;
mod session;

mod util;

mod hazmat;

pub use hazmat::*;
pub use keymgmt::*;
pub use receiver::*;
pub use rtp::*;
pub use sdp::*;
pub use sender::*;
pub use session::*;
pub use status::*;
pub use util::*;

use std::panic::{AssertUnwindSafe, catch_unwind};

use sframe_core::CipherSuite;
use zeroize::Zeroizing;

/// `AES_128_CTR_HMAC_SHA256_80` (RFC 9605 §4.5, value 0x0001).
pub const SFRAME_AES_128_CTR_HMAC_SHA256_80: u16 = 1;
/// `AES_128_CTR_HMAC_SHA256_64` (0x0002).
pub const SFRAME_AES_128_CTR_HMAC_SHA256_64: u16 = 2;
/// `AES_128_CTR_HMAC_SHA256_32` (0x0003): 4-byte tag, only for very low bit-rate media.
pub const SFRAME_AES_128_CTR_HMAC_SHA256_32: u16 = 3;
/// `AES_128_GCM_SHA256_128` (0x0004).
pub const SFRAME_AES_128_GCM_SHA256_128: u16 = 4;
/// `AES_256_GCM_SHA512_128` (0x0005).
pub const SFRAME_AES_256_GCM_SHA512_128: u16 = 5;
/// `AES_256_CTR_HMAC_SHA512_80` (0x0006, draft-barnes-sframe-iana-256): AES-256-CTR +
/// HMAC-SHA512, HKDF-SHA512, 10-byte tag.
pub const SFRAME_AES_256_CTR_HMAC_SHA512_80: u16 = 6;
/// `AES_256_CTR_HMAC_SHA512_64` (0x0007): 8-byte tag.
pub const SFRAME_AES_256_CTR_HMAC_SHA512_64: u16 = 7;
/// `AES_256_CTR_HMAC_SHA512_32` (0x0008): 4-byte tag, only for very low bit-rate media.
pub const SFRAME_AES_256_CTR_HMAC_SHA512_32: u16 = 8;

/// Longest SFrame header in bytes (config byte + 8-byte KID + 8-byte CTR), RFC 9605 §4.3.
pub const SFRAME_MAX_HEADER_LEN: usize = 17;
/// Shortest accepted base key, in bytes.
pub const SFRAME_MIN_BASE_KEY_LEN: usize = 16;
/// Largest replay window accepted in `SframeReceiverConfig.replay_window`.
pub const SFRAME_MAX_REPLAY_WINDOW: u32 = 1024;
/// Replay window of a new receiver.
pub const SFRAME_DEFAULT_REPLAY_WINDOW: u32 = 512;

/// Runs `f` and turns its result (or a panic) into a status.
fn guard(f: impl FnOnce() -> Result<(), SframeStatus>) -> SframeStatus {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => SframeStatus::SFRAME_OK,
        Ok(Err(status)) => status,
        Err(_) => SframeStatus::SFRAME_ERR_PANIC,
    }
}

/// Runs `f` for functions that return a plain value; a panic gives `on_panic`.
fn guard_value<T>(on_panic: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(on_panic)
}

/// Runs `f` for a function that reports a length through `out_len`: `*out_len` is 0 on any
/// error (if `out_len` is not NULL) and the length on success; NULL `out_len` is an error.
///
/// # Safety
/// `out_len` is NULL or valid for a write of `usize`.
unsafe fn guard_len(
    out_len: *mut usize,
    f: impl FnOnce() -> Result<usize, SframeStatus>,
) -> SframeStatus {
    // SAFETY: caller's contract; NULL is skipped.
    unsafe { store(out_len, 0) };
    guard(|| {
        non_null(out_len)?;
        let n = f()?;
        // SAFETY: non-NULL, caller's contract.
        unsafe { store(out_len, n) };
        Ok(())
    })
}

/// Boxes a new object for `cipher_suite` and hands ownership to C; NULL if the suite is
/// unknown (or on a panic).
fn new_handle<T>(cipher_suite: u16, make: impl FnOnce(CipherSuite) -> T) -> *mut T {
    guard_value(std::ptr::null_mut(), || {
        CipherSuite::from_id(cipher_suite).map_or(std::ptr::null_mut(), |suite| {
            Box::into_raw(Box::new(make(suite)))
        })
    })
}

/// Takes back and drops an object from [`new_handle`]; NULL is a no-op.
///
/// # Safety
/// `p` is NULL or came from [`new_handle`] and was not freed before.
unsafe fn free_handle<T>(p: *mut T) {
    guard_value((), || {
        if !p.is_null() {
            // SAFETY: caller's contract: `p` came from Box::into_raw.
            drop(unsafe { Box::from_raw(p) });
        }
    })
}

/// Borrows a C object, NULL being `SFRAME_ERR_NULL_POINTER`.
///
/// # Safety
/// `p` is NULL or a live object from [`new_handle`].
unsafe fn handle<'a, T>(p: *const T) -> Result<&'a T, SframeStatus> {
    // SAFETY: caller's contract.
    unsafe { p.as_ref() }.ok_or(SframeStatus::SFRAME_ERR_NULL_POINTER)
}

/// Mutably borrows a C object, NULL being `SFRAME_ERR_NULL_POINTER`.
///
/// # Safety
/// `p` is NULL or a live object from [`new_handle`], not in use by another call.
unsafe fn handle_mut<'a, T>(p: *mut T) -> Result<&'a mut T, SframeStatus> {
    // SAFETY: caller's contract.
    unsafe { p.as_mut() }.ok_or(SframeStatus::SFRAME_ERR_NULL_POINTER)
}

/// Checks a C (pointer, length) pair: a NULL pointer is only valid with length 0.
fn check_span(ptr: *const u8, len: usize) -> Result<(), SframeStatus> {
    if len == 0 {
        return Ok(());
    }
    if ptr.is_null() {
        return Err(SframeStatus::SFRAME_ERR_NULL_POINTER);
    }
    // `slice::from_raw_parts` needs len <= isize::MAX and no wrap-around.
    if len > isize::MAX as usize || (ptr as usize).checked_add(len).is_none() {
        return Err(SframeStatus::SFRAME_ERR_INVALID_ARGUMENT);
    }
    Ok(())
}

/// Borrows a C input buffer.
///
/// # Safety
/// Unless NULL or `len == 0`, `ptr` must be valid for reads of `len` bytes for `'a`.
unsafe fn input<'a>(ptr: *const u8, len: usize) -> Result<&'a [u8], SframeStatus> {
    check_span(ptr, len)?;
    if len == 0 {
        return Ok(&[]);
    }
    // SAFETY: non-NULL, length checked above, validity is the caller's contract.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Borrows a C output buffer.
///
/// # Safety
/// Unless NULL or `cap == 0`, `ptr` must be valid for writes of `cap` bytes for `'a`, and no
/// other live reference may point into it.
unsafe fn output<'a>(ptr: *mut u8, cap: usize) -> Result<&'a mut [u8], SframeStatus> {
    check_span(ptr, cap)?;
    if cap == 0 {
        return Ok(&mut []);
    }
    // SAFETY: non-NULL, length checked above, validity is the caller's contract.
    Ok(unsafe { std::slice::from_raw_parts_mut(ptr, cap) })
}

/// Whether two byte ranges share at least one byte.
fn overlaps(a: *const u8, a_len: usize, b: *const u8, b_len: usize) -> bool {
    if a_len == 0 || b_len == 0 {
        return false;
    }
    let (a, b) = (a as usize, b as usize);
    a < b.saturating_add(b_len) && b < a.saturating_add(a_len)
}

/// An input that may overlap the output buffer: borrowed when it does not, copied (and the
/// copy zeroized on drop) when it does, so no shared and mutable reference ever alias.
enum Input<'a> {
    Borrowed(&'a [u8]),
    Copied(Zeroizing<Vec<u8>>),
}

impl Input<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            Input::Borrowed(b) => b,
            Input::Copied(v) => v,
        }
    }
}

/// Reads an input that must not alias `out[0..out_cap]`; copies it if it does. Call before
/// creating the output slice.
///
/// # Safety
/// As [`input`].
unsafe fn input_apart_from<'a>(
    ptr: *const u8,
    len: usize,
    out: *const u8,
    out_cap: usize,
) -> Result<Input<'a>, SframeStatus> {
    // SAFETY: forwarded contract.
    let bytes = unsafe { input(ptr, len) }?;
    if overlaps(bytes.as_ptr(), bytes.len(), out, out_cap) {
        Ok(Input::Copied(Zeroizing::new(bytes.to_vec())))
    } else {
        Ok(Input::Borrowed(bytes))
    }
}

/// Writes `value` through a C out-pointer if it is not NULL.
///
/// # Safety
/// Unless NULL, `ptr` must be valid for a write of `T`.
unsafe fn store<T>(ptr: *mut T, value: T) {
    // SAFETY: caller's contract; NULL is skipped.
    if let Some(slot) = unsafe { ptr.as_mut() } {
        *slot = value;
    }
}

/// A removal's outcome: nothing found to remove is `SFRAME_ERR_UNKNOWN_KEY_ID`.
fn found(removed: bool) -> Result<(), SframeStatus> {
    if removed {
        Ok(())
    } else {
        Err(SframeStatus::SFRAME_ERR_UNKNOWN_KEY_ID)
    }
}

/// Fails with `SFRAME_ERR_NULL_POINTER` if `ptr` is NULL.
fn non_null<T>(ptr: *mut T) -> Result<(), SframeStatus> {
    if ptr.is_null() {
        Err(SframeStatus::SFRAME_ERR_NULL_POINTER)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_turns_a_panic_into_a_status() {
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let status = guard(|| panic!("boom"));
        let value = guard_value(7u32, || panic!("boom"));
        std::panic::set_hook(prev);
        assert_eq!(status, SframeStatus::SFRAME_ERR_PANIC);
        assert_eq!(value, 7);
        assert_eq!(guard(|| Ok(())), SframeStatus::SFRAME_OK);
        assert_eq!(
            guard(|| Err(SframeStatus::SFRAME_ERR_REPLAY)),
            SframeStatus::SFRAME_ERR_REPLAY
        );
    }

    #[test]
    fn spans() {
        assert_eq!(check_span(std::ptr::null(), 0), Ok(()));
        assert_eq!(
            check_span(std::ptr::null(), 1),
            Err(SframeStatus::SFRAME_ERR_NULL_POINTER)
        );
        let b = [0u8; 4];
        assert_eq!(
            check_span(b.as_ptr(), usize::MAX),
            Err(SframeStatus::SFRAME_ERR_INVALID_ARGUMENT)
        );
        assert_eq!(
            check_span(usize::MAX as *const u8, 2),
            Err(SframeStatus::SFRAME_ERR_INVALID_ARGUMENT)
        );
    }

    #[test]
    fn overlap_detection() {
        let b = [0u8; 8];
        let p = b.as_ptr();
        assert!(overlaps(p, 4, p, 4));
        assert!(overlaps(p, 4, p.wrapping_add(3), 4));
        assert!(!overlaps(p, 4, p.wrapping_add(4), 4));
        assert!(!overlaps(p, 0, p, 4));
        assert!(!overlaps(p.wrapping_add(4), 4, p, 4));
    }

    /// The thread-safety promise of the header holds only if the core types are Send + Sync.
    #[test]
    fn core_objects_are_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<sframe_core::Sender>();
        assert_send_sync::<sframe_core::Receiver>();
    }

    #[test]
    fn constants_match_core() {
        use sframe_core::CipherSuite;
        assert_eq!(SFRAME_MAX_HEADER_LEN, sframe_core::MAX_HEADER_LEN);
        assert_eq!(SFRAME_MIN_BASE_KEY_LEN, sframe_core::MIN_BASE_KEY_LEN);
        assert_eq!(SFRAME_MAX_REPLAY_WINDOW, sframe_core::MAX_REPLAY_WINDOW);
        assert_eq!(
            SFRAME_DEFAULT_REPLAY_WINDOW,
            sframe_core::DEFAULT_REPLAY_WINDOW
        );
        // Every suite of the core has its constant, with the core's value, named after it.
        macro_rules! named {
            ($($c:ident),* $(,)?) => { [$(($c, stringify!($c))),*] };
        }
        let ids = named![
            SFRAME_AES_128_CTR_HMAC_SHA256_80,
            SFRAME_AES_128_CTR_HMAC_SHA256_64,
            SFRAME_AES_128_CTR_HMAC_SHA256_32,
            SFRAME_AES_128_GCM_SHA256_128,
            SFRAME_AES_256_GCM_SHA512_128,
            SFRAME_AES_256_CTR_HMAC_SHA512_80,
            SFRAME_AES_256_CTR_HMAC_SHA512_64,
            SFRAME_AES_256_CTR_HMAC_SHA512_32,
        ];
        assert_eq!(ids.len(), CipherSuite::ALL.len());
        for ((id, constant), suite) in ids.into_iter().zip(CipherSuite::ALL) {
            assert_eq!(id, suite.id(), "{constant}");
            assert_eq!(constant.strip_prefix("SFRAME_"), Some(suite.name()));
        }
    }
}
