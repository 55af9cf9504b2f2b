//! Frame encryption and decryption — RFC 9605 §4.4.3.
//!
//! ```text
//! nonce      = sframe_salt XOR BE(CTR, Nn)
//! aad        = header ‖ metadata
//! ciphertext = header ‖ AEAD.Encrypt(sframe_key, nonce, aad, plaintext)   (ct ‖ tag)
//! ```
//!
//! These functions hold no state: the counter comes from [`crate::Sender`], the replay window
//! and key lookup from [`crate::Receiver`]. They work on caller buffers and never allocate.

use crate::crypto::Backend;
use crate::error::{Error, Result};
use crate::header::Header;
use crate::key::Key;

/// Exact size of the protected frame for `plaintext_len` bytes with counter `ctr`.
pub(crate) fn protected_len<B: Backend>(
    key: &Key<B>,
    ctr: u64,
    plaintext_len: usize,
) -> Result<usize> {
    Header::new(key.key_id(), ctr)
        .encoded_len()
        .checked_add(key.suite().tag_len())
        .and_then(|n| n.checked_add(plaintext_len))
        .ok_or(Error::BufferTooSmall)
}

/// Splits `out` (at least `protected_len` long) into header, body and tag slots.
#[inline]
fn split_frame(
    out: &mut [u8],
    header_len: usize,
    body_len: usize,
    tag_len: usize,
) -> Result<(&mut [u8], &mut [u8], &mut [u8])> {
    let total = header_len + body_len + tag_len;
    let out = out.get_mut(..total).ok_or(Error::BufferTooSmall)?;
    let (header, rest) = out.split_at_mut(header_len);
    let (body, tag) = rest.split_at_mut(body_len);
    Ok((header, body, tag))
}

/// Protects `plaintext` under `key` with counter `ctr`, writing `header ‖ ct ‖ tag` to `out`.
/// Returns the number of bytes written. Nothing is written if `out` is too small.
pub(crate) fn seal_into<B: Backend>(
    key: &Key<B>,
    ctr: u64,
    metadata: &[u8],
    plaintext: &[u8],
    out: &mut [u8],
) -> Result<usize> {
    // One header computation; `split_frame` refuses a short `out` before anything is written.
    let header = Header::new(key.key_id(), ctr);
    let tag_len = key.suite().tag_len();
    let (hdr, body, tag) = split_frame(out, header.encoded_len(), plaintext.len(), tag_len)?;
    let total = hdr.len() + body.len() + tag.len();
    header.encode(hdr)?;
    // Encrypt while copying: one pass over the frame.
    key.aead()
        .seal_b2b(&key.nonce(ctr), hdr, metadata, plaintext, body, tag)?;
    Ok(total)
}

/// Like [`seal_into`], but the plaintext is `buf[..plaintext_len]`; it is moved behind the
/// header and encrypted in place. `buf` must have room for the whole protected frame.
pub(crate) fn seal_in_place<B: Backend>(
    key: &Key<B>,
    ctr: u64,
    metadata: &[u8],
    buf: &mut [u8],
    plaintext_len: usize,
) -> Result<usize> {
    let total = protected_len(key, ctr, plaintext_len)?;
    if buf.len() < total {
        return Err(Error::BufferTooSmall);
    }
    let header = Header::new(key.key_id(), ctr);
    let hlen = header.encoded_len();
    buf.copy_within(0..plaintext_len, hlen);
    let (hdr, body, tag) = split_frame(buf, hlen, plaintext_len, key.suite().tag_len())?;
    header.encode(hdr)?;
    key.aead().seal(&key.nonce(ctr), hdr, metadata, body, tag)?;
    Ok(total)
}

/// Splits a received frame (whose header of `header_len` bytes was already parsed) into
/// header, ciphertext and tag. Too short for the tag is [`Error::MalformedFrame`].
pub(crate) fn split_received(
    frame: &[u8],
    header_len: usize,
    tag_len: usize,
) -> Result<(&[u8], &[u8], &[u8])> {
    let (hdr, rest) = frame
        .split_at_checked(header_len)
        .ok_or(Error::MalformedFrame)?;
    let body_len = rest
        .len()
        .checked_sub(tag_len)
        .ok_or(Error::MalformedFrame)?;
    let (body, tag) = rest.split_at(body_len);
    Ok((hdr, body, tag))
}

/// Verifies and decrypts `frame` in place; returns the plaintext sub-slice.
/// On any error the frame bytes are unchanged.
pub(crate) fn open_in_place<'f, B: Backend>(
    key: &Key<B>,
    header: &Header,
    header_len: usize,
    metadata: &[u8],
    frame: &'f mut [u8],
) -> Result<&'f mut [u8]> {
    let tag_len = key.suite().tag_len();
    let (hdr, rest) = frame
        .split_at_mut_checked(header_len)
        .ok_or(Error::MalformedFrame)?;
    let body_len = rest
        .len()
        .checked_sub(tag_len)
        .ok_or(Error::MalformedFrame)?;
    let (body, tag) = rest.split_at_mut(body_len);
    key.aead()
        .open(&key.nonce(header.counter()), hdr, metadata, body, tag)?;
    Ok(body)
}

/// Verifies and decrypts `frame` into `out`; returns the plaintext sub-slice of `out`.
pub(crate) fn open_into<'o, B: Backend>(
    key: &Key<B>,
    header: &Header,
    header_len: usize,
    metadata: &[u8],
    frame: &[u8],
    out: &'o mut [u8],
) -> Result<&'o mut [u8]> {
    let (hdr, body, tag) = split_received(frame, header_len, key.suite().tag_len())?;
    let dst = out.get_mut(..body.len()).ok_or(Error::BufferTooSmall)?;
    // Decrypt while copying (the tag is checked first; `frame` is never written).
    match key
        .aead()
        .open_b2b(&key.nonce(header.counter()), hdr, metadata, body, dst, tag)
    {
        Ok(()) => Ok(dst),
        Err(e) => {
            // Leave no ciphertext-derived bytes behind in the caller's buffer.
            dst.fill(0);
            Err(e)
        }
    }
}
