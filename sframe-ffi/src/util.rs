//! Key-free helpers: header codec (RFC 9605 §4.3), cipher suite facts (§4.5), version.

use std::ffi::{CStr, c_char};

use sframe_core::{CipherSuite, Header, KeyUsage};

use crate::{SframeStatus, guard, guard_len, guard_value, input, non_null, output, store};

/// Usage counters of one key.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SframeKeyUsage {
    /// Frames protected (sender) or successfully unprotected (receiver) with the key.
    pub frames: u64,
    /// Frames that failed authentication under the key (receiver only; 0 for a sender).
    pub auth_failures: u64,
}

impl From<KeyUsage> for SframeKeyUsage {
    fn from(u: KeyUsage) -> Self {
        SframeKeyUsage {
            frames: u.frames,
            auth_failures: u.auth_failures,
        }
    }
}

/// Sizes of one cipher suite (RFC 9605 §4.5, Table 1).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SframeSuiteInfo {
    /// The suite value (1..8).
    pub id: u16,
    /// Static NUL-terminated registry name, e.g. "AES_128_GCM_SHA256_128". Do not free.
    pub name: *const c_char,
    /// Nk: AEAD key size in bytes.
    pub key_len: usize,
    /// Nn: nonce size in bytes.
    pub nonce_len: usize,
    /// Nt: authentication tag size in bytes.
    pub tag_len: usize,
    /// Largest per-frame expansion: longest header + tag.
    pub max_overhead: usize,
}

/// Writes the sizes of `cipher_suite` to `*info`.
/// Errors: NULL_POINTER, UNSUPPORTED_CIPHER_SUITE (not 1..8; `*info` unchanged).
///
/// # Safety
/// `info` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_cipher_suite_info(
    cipher_suite: u16,
    info: *mut SframeSuiteInfo,
) -> SframeStatus {
    guard(|| {
        non_null(info)?;
        let suite = CipherSuite::from_id(cipher_suite)?;
        let value = SframeSuiteInfo {
            id: suite.id(),
            name: suite.c_name().as_ptr(),
            key_len: suite.key_len(),
            nonce_len: suite.nonce_len(),
            tag_len: suite.tag_len(),
            max_overhead: suite.max_overhead(),
        };
        // SAFETY: non-NULL, caller's contract.
        unsafe { store(info, value) };
        Ok(())
    })
}

/// Parses the SFrame header at the front of `frame` (RFC 9605 §4.3) without any key, as a
/// media server does: writes the key ID, the counter and the header's length in bytes.
/// Errors: NULL_POINTER, MALFORMED_FRAME (truncated or non-minimal header; outputs
/// unchanged).
///
/// # Safety
/// `frame` is NULL or readable for `frame_len` bytes; each output is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_header_parse(
    frame: *const u8,
    frame_len: usize,
    kid: *mut u64,
    ctr: *mut u64,
    header_len: *mut usize,
) -> SframeStatus {
    guard(|| {
        non_null(kid)?;
        non_null(ctr)?;
        non_null(header_len)?;
        // SAFETY: caller's contract.
        let frame = unsafe { input(frame, frame_len)? };
        let (header, len) = Header::parse(frame)?;
        // SAFETY: non-NULL, caller's contract.
        unsafe {
            store(kid, header.key_id());
            store(ctr, header.counter());
            store(header_len, len);
        }
        Ok(())
    })
}

/// Encodes the header for (`kid`, `ctr`) into `out` (at most `SFRAME_MAX_HEADER_LEN` bytes)
/// and writes its length to `*out_len` (0 on error).
/// Errors: NULL_POINTER, BUFFER_TOO_SMALL (nothing written).
///
/// # Safety
/// `out` is NULL or writable for `out_cap` bytes; `out_len` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_header_encode(
    kid: u64,
    ctr: u64,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> SframeStatus {
    let run = || {
        // SAFETY: caller's contract.
        let out = unsafe { output(out, out_cap)? };
        Ok(Header::new(kid, ctr).encode(out)?)
    };
    // SAFETY: `out_len` is NULL or writable (caller's contract).
    unsafe { guard_len(out_len, run) }
}

/// The library version, e.g. "0.1.0" (static, never NULL).
#[unsafe(no_mangle)]
pub extern "C" fn sframe_version() -> *const c_char {
    VERSION.as_ptr()
}

/// The crypto backend compiled in: "rustcrypto" or "aws-lc" (static, never NULL).
#[unsafe(no_mangle)]
pub extern "C" fn sframe_backend() -> *const c_char {
    guard_value(c"unknown".as_ptr(), || backend_name().as_ptr())
}

const VERSION: &CStr =
    match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
        Ok(v) => v,
        Err(_) => c"unknown",
    };

fn backend_name() -> &'static CStr {
    match sframe_core::BACKEND {
        "aws-lc" => c"aws-lc",
        "rustcrypto" => c"rustcrypto",
        _ => c"unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suite_info_matches_core() {
        for suite in CipherSuite::ALL {
            let mut info = SframeSuiteInfo {
                id: 0,
                name: std::ptr::null(),
                key_len: 0,
                nonce_len: 0,
                tag_len: 0,
                max_overhead: 0,
            };
            // SAFETY: valid out pointer.
            let st = unsafe { sframe_cipher_suite_info(suite.id(), &mut info) };
            assert_eq!(st, SframeStatus::SFRAME_OK);
            assert_eq!(info.id, suite.id());
            // SAFETY: static C string.
            let name = unsafe { CStr::from_ptr(info.name) };
            assert_eq!(name.to_str(), Ok(suite.name()));
            assert_eq!(info.tag_len, suite.tag_len());
            assert_eq!(info.key_len, suite.key_len());
            assert_eq!(info.nonce_len, suite.nonce_len());
            assert_eq!(info.max_overhead, suite.max_overhead());
        }
        for id in [0, 9, u16::MAX] {
            let mut info = SframeSuiteInfo {
                id: 77,
                name: std::ptr::null(),
                key_len: 0,
                nonce_len: 0,
                tag_len: 0,
                max_overhead: 0,
            };
            // SAFETY: valid out pointer.
            let st = unsafe { sframe_cipher_suite_info(id, &mut info) };
            assert_eq!(st, SframeStatus::SFRAME_ERR_UNSUPPORTED_CIPHER_SUITE);
            assert_eq!(info.id, 77, "unchanged on error");
        }
    }

    #[test]
    fn version_and_backend() {
        // SAFETY: static C strings.
        let v = unsafe { CStr::from_ptr(sframe_version()) };
        assert_eq!(v.to_str(), Ok(env!("CARGO_PKG_VERSION")));
        // SAFETY: as above.
        let b = unsafe { CStr::from_ptr(sframe_backend()) };
        assert_eq!(b.to_str(), Ok(sframe_core::BACKEND));
    }
}
