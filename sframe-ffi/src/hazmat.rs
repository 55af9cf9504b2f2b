//! `sframe_hazmat_*`: one frame at an explicit base key, KID and counter (RFC 9605 §4.4.2,
//! §4.4.3) over `sframe_core::hazmat`, for test vectors and interop harnesses. Never for media.

use sframe_core::{CipherSuite, Counter, hazmat};

use crate::{SframeStatus, guard_len, input_apart_from, output};

/// HAZMAT, NOT FOR SENDING MEDIA. Protects one frame with an explicit base key, KID and
/// counter and writes `header || ciphertext || tag` to `out` and its length to `*out_len`:
/// for test-vector files and byte-for-byte interop harnesses, which must make the frame of a
/// chosen (key, KID, CTR) — again, and at counters a sender already used. Nothing is
/// remembered: no counter, no sender registry (a live sender with the same key is neither
/// refused nor moved). Calling it twice with the same base key, KID and counter on two
/// plaintexts reuses a nonce (for AES-GCM that also allows forgeries): send media with
/// `sframe_sender_protect`. The frame is the one a sender writes for that key at that counter.
/// `out` needs at most `plaintext_len + max_overhead` bytes (`sframe_cipher_suite_info`);
/// if it is smaller, BUFFER_TOO_SMALL is returned and nothing is written. The key is derived
/// on every call (slow by design). On any error `*out_len` is 0 (if `out_len` is not NULL).
/// Errors: NULL_POINTER, UNSUPPORTED_CIPHER_SUITE, INVALID_KEY, BUFFER_TOO_SMALL,
/// METADATA_TOO_LONG, INVALID_ARGUMENT.
///
/// # Safety
/// `base_key`, `metadata` and `plaintext` are NULL or readable for their lengths; `out` is
/// NULL or writable for `out_cap` bytes; `out_len` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_hazmat_protect_frame(
    cipher_suite: u16,
    kid: u64,
    ctr: u64,
    base_key: *const u8,
    base_key_len: usize,
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
        let (key, md, pt, out) = unsafe {
            let key = input_apart_from(base_key, base_key_len, out, out_cap)?;
            let md = input_apart_from(metadata, metadata_len, out, out_cap)?;
            let pt = input_apart_from(plaintext, plaintext_len, out, out_cap)?;
            (key, md, pt, output(out, out_cap)?)
        };
        let suite = CipherSuite::from_id(cipher_suite)?;
        Ok(hazmat::protect_frame(
            suite,
            kid,
            Counter(ctr),
            key.bytes(),
            md.bytes(),
            pt.bytes(),
            out,
        )?)
    };
    // SAFETY: `out_len` is NULL or writable (caller's contract).
    unsafe { guard_len(out_len, run) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        sframe_sender_free, sframe_sender_new, sframe_sender_protect, sframe_sender_set_key,
    };

    fn protect(
        suite: u16,
        ctr: u64,
        key: &[u8],
        pt: &[u8],
        out: &mut [u8],
    ) -> (SframeStatus, usize) {
        let mut n = 99;
        // SAFETY: valid buffers with their lengths.
        let st = unsafe {
            sframe_hazmat_protect_frame(
                suite,
                0x42,
                ctr,
                key.as_ptr(),
                key.len(),
                b"md".as_ptr(),
                2,
                pt.as_ptr(),
                pt.len(),
                out.as_mut_ptr(),
                out.len(),
                &mut n,
            )
        };
        (st, n)
    }

    /// The same frame as the core's hazmat call and, at counter 0, as a live sender's first
    /// frame (which it does not disturb); again and again at one counter.
    #[test]
    fn matches_the_core_and_a_sender_and_repeats() {
        let key = [0x71u8; 16];
        let s = sframe_sender_new(4);
        let mut sent = [0u8; 64];
        let mut sent_len = 0;
        // SAFETY: live sender, valid buffers.
        unsafe {
            assert_eq!(
                sframe_sender_set_key(s, 0x42, key.as_ptr(), key.len()),
                SframeStatus::SFRAME_OK
            );
            let st = sframe_sender_protect(
                s,
                b"md".as_ptr(),
                2,
                b"pt".as_ptr(),
                2,
                sent.as_mut_ptr(),
                64,
                &mut sent_len,
            );
            assert_eq!(st, SframeStatus::SFRAME_OK);
        }
        let mut out = [0u8; 64];
        for _ in 0..2 {
            let (st, n) = protect(4, 0, &key, b"pt", &mut out);
            assert_eq!(st, SframeStatus::SFRAME_OK);
            assert_eq!(out[..n], sent[..sent_len]);
        }
        let (st, n) = protect(4, 17767, &key, b"pt", &mut out);
        assert_eq!(st, SframeStatus::SFRAME_OK);
        let mut core = [0u8; 64];
        let m = hazmat::protect_frame(
            CipherSuite::AesGcm128Sha256,
            0x42,
            Counter(17767),
            &key,
            b"md",
            b"pt",
            &mut core,
        );
        assert_eq!(Ok(&out[..n]), m.map(|m| &core[..m]));
        // SAFETY: from sframe_sender_new, freed once.
        unsafe { sframe_sender_free(s) };
    }

    #[test]
    fn errors_write_nothing_and_zero_out_len() {
        let key = [0x72u8; 16];
        let mut out = [0xeeu8; 64];
        let exact = 2 + 2 + 16; // header: config byte + 1-byte KID 0x42 (CTR 5 inline); pt; tag
        assert_eq!(
            protect(4, 5, &key, b"pt", &mut out[..exact - 1]),
            (SframeStatus::SFRAME_ERR_BUFFER_TOO_SMALL, 0)
        );
        assert!(out.iter().all(|&b| b == 0xee));
        assert_eq!(
            protect(4, 5, &key, b"pt", &mut out[..exact]),
            (SframeStatus::SFRAME_OK, exact)
        );
        assert_eq!(
            protect(9, 5, &key, b"pt", &mut out),
            (SframeStatus::SFRAME_ERR_UNSUPPORTED_CIPHER_SUITE, 0)
        );
        assert_eq!(
            protect(4, 5, &key[..15], b"pt", &mut out),
            (SframeStatus::SFRAME_ERR_INVALID_KEY, 0)
        );
        let mut n = 7;
        // SAFETY: NULL key with a length is refused before any read; `out` is valid.
        let st = unsafe {
            sframe_hazmat_protect_frame(
                4,
                1,
                0,
                std::ptr::null(),
                16,
                std::ptr::null(),
                0,
                std::ptr::null(),
                0,
                out.as_mut_ptr(),
                64,
                &mut n,
            )
        };
        assert_eq!((st, n), (SframeStatus::SFRAME_ERR_NULL_POINTER, 0));
        // SAFETY: NULL out_len is refused; the buffers are valid.
        let st = unsafe {
            sframe_hazmat_protect_frame(
                4,
                1,
                0,
                key.as_ptr(),
                16,
                std::ptr::null(),
                0,
                std::ptr::null(),
                0,
                out.as_mut_ptr(),
                64,
                std::ptr::null_mut(),
            )
        };
        assert_eq!(st, SframeStatus::SFRAME_ERR_NULL_POINTER);
    }
}
