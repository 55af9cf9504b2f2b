//! `sframe_rtp_*`: SFrame over RTP (draft-ietf-avtcore-rtp-sframe) over `sframe_core::rtp`:
//! fragmenting a protected frame into RTP payloads or packets (§5.1), reassembling and
//! decrypting received packets (§5.2), per-SSRC keys (§7).

use sframe_core::CipherSuite;
use sframe_core::rtp::{BoxedDepacketizer, Fragment, Mode, Packetizer, Pushed, RtpHeader};

use crate::{
    SframeReceiver, SframeStatus, free_handle, guard, guard_len, guard_value, handle, handle_mut,
    input, input_apart_from, non_null, output, store,
};

/// Packets a `SframeRtpDepacketizer` stores at most (older ones are evicted to make room).
pub const SFRAME_RTP_MAX_PACKETS: usize = 512;
/// Payload bytes a `SframeRtpDepacketizer` stores at most; also the largest reassembled frame,
/// so an output buffer of this size always suffices for `sframe_rtp_depacketizer_pop`.
pub const SFRAME_RTP_MAX_FRAME_SIZE: usize = 512 * 1024;
/// Length of the SFrame payload descriptor that starts every RTP payload (draft §4).
pub const SFRAME_RTP_DESCRIPTOR_LEN: usize = 1;
/// Sequence validation (RFC 3550 A.1), reordering: a packet this many sequence numbers or more
/// behind the newest is refused (`SFRAME_RTP_LATE`) unless it re-synchronises.
pub const SFRAME_RTP_SEQUENCE_WINDOW: usize = 1024;
/// Sequence validation (RFC 3550 A.1), jumps: a packet this many sequence numbers or more
/// ahead of the newest is refused (`SFRAME_RTP_TOO_FAR_AHEAD`) unless it re-synchronises.
pub const SFRAME_RTP_MAX_DROPOUT: usize = 3000;
/// A sequence number used in a frame is refused (`SFRAME_RTP_DUPLICATE`) for at least this
/// many pushes (at most twice as many), whatever they carry: no frame comes out twice from the
/// same packets, however injected packets move the sequence validation.
pub const SFRAME_RTP_CONSUMED_MEMORY: usize = 8192;

/// Opaque depacketizer for one SSRC: stores received SFrame RTP packets in fixed memory
/// (`SFRAME_RTP_MAX_PACKETS` packets, `SFRAME_RTP_MAX_FRAME_SIZE` bytes), in any order, with
/// duplicates and losses, and hands out complete frames once they authenticate. Create with
/// `sframe_rtp_depacketizer_new`, free with `sframe_rtp_depacketizer_free`. Use from one
/// thread at a time.
pub struct SframeRtpDepacketizer {
    inner: BoxedDepacketizer,
}

/// The RTP header fields an SFrame packet copies from the media packetizer's output (draft
/// §4). Packets written by this library have no CSRCs and no header extension; to send those,
/// write payloads only (`header` NULL) and build the packet with your RTP stack.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SframeRtpHeader {
    /// The media frame's marker bit: set on the last packet of the frame only.
    pub marker: bool,
    /// The payload type of the protected media format, 0..127.
    pub payload_type: u8,
    /// The sequence number of this packet.
    pub sequence_number: u16,
    /// The RTP timestamp.
    pub timestamp: u32,
    /// The SSRC.
    pub ssrc: u32,
}

/// What `sframe_rtp_depacketizer_push` did with a packet.
#[repr(u32)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SframeRtpPushed {
    /// Stored; no frame complete through it yet.
    SFRAME_RTP_BUFFERED = 0,
    /// Stored, and a frame is complete: pop it.
    SFRAME_RTP_FRAME_READY = 1,
    /// Ignored: a packet with this sequence number is stored, or the sequence number was used
    /// within the last `SFRAME_RTP_CONSUMED_MEMORY` pushes (whatever they carried).
    SFRAME_RTP_DUPLICATE = 2,
    /// Ignored: `SFRAME_RTP_SEQUENCE_WINDOW` or more sequence numbers behind the newest, and
    /// not a re-synchronisation (RFC 3550 A.1: a packet out of range right after the one before
    /// it in sequence, also out of range, re-synchronises to it and drops what is stored).
    SFRAME_RTP_LATE = 3,
    /// Ignored: `SFRAME_RTP_MAX_DROPOUT` or more sequence numbers ahead of the newest, and not
    /// a re-synchronisation.
    SFRAME_RTP_TOO_FAR_AHEAD = 4,
    /// Ignored by `sframe_receive_session_push_packet` only: a packet of a new SSRC while
    /// every stream slot of the session holds a stream that authenticated a frame.
    SFRAME_RTP_STREAM_REFUSED = 5,
}

/// The C value of the core's depacketizer outcome.
pub(crate) fn pushed(p: Pushed) -> SframeRtpPushed {
    match p {
        Pushed::Buffered => SframeRtpPushed::SFRAME_RTP_BUFFERED,
        Pushed::FrameReady => SframeRtpPushed::SFRAME_RTP_FRAME_READY,
        Pushed::Duplicate => SframeRtpPushed::SFRAME_RTP_DUPLICATE,
        Pushed::Late => SframeRtpPushed::SFRAME_RTP_LATE,
        Pushed::TooFarAhead => SframeRtpPushed::SFRAME_RTP_TOO_FAR_AHEAD,
    }
}

/// A decrypted frame from `sframe_rtp_depacketizer_pop`: the plaintext is `out[0..len]`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SframeRtpFrame {
    /// Plaintext length at the start of `out`.
    pub len: usize,
    /// The SSRC.
    pub ssrc: u32,
    /// The RTP timestamp of the last packet.
    pub timestamp: u32,
    /// Sequence number of the first packet.
    pub first_sequence: u16,
    /// Number of packets.
    pub packets: u16,
    /// The payload type.
    pub payload_type: u8,
    /// The marker bit of the last packet.
    pub marker: bool,
    /// The T bit: true if the plaintext is one media RTP payload (per-packet SFrame, for the
    /// media depacketizer), false if it is a whole media frame (per-frame SFrame).
    pub per_packet: bool,
}

/// Counters of a depacketizer.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SframeRtpStats {
    /// Packets stored.
    pub packets: u64,
    /// Packets ignored as duplicates.
    pub duplicates: u64,
    /// Packets ignored as too old (`SFRAME_RTP_LATE`).
    pub late: u64,
    /// Stored packets evicted unused (no room, out of the sequence window, or dropped at a
    /// re-synchronisation).
    pub evicted: u64,
    /// Complete frames taken (before decryption).
    pub frames: u64,
    /// Complete packet lists dropped (T bits or payload types differ, or `out` too small).
    pub dropped_frames: u64,
    /// Packets ignored as too far ahead (`SFRAME_RTP_TOO_FAR_AHEAD`).
    pub too_far_ahead: u64,
    /// Re-synchronisations of the sequence validation (two packets in sequence out of range).
    pub resyncs: u64,
}

fn mode(per_packet: bool) -> Mode {
    if per_packet {
        Mode::PerPacket
    } else {
        Mode::PerFrame
    }
}

/// SFrame bytes per-packet mode adds to a media RTP payload: the descriptor, the longest
/// SFrame header and the tag (draft §5.1.2). A media packetizer whose payloads are at most
/// `max_payload_len - sframe_rtp_per_packet_overhead(suite)` bytes gives one SFrame packet
/// per media packet. 0 if the suite is unknown.
#[unsafe(no_mangle)]
pub extern "C" fn sframe_rtp_per_packet_overhead(cipher_suite: u16) -> usize {
    guard_value(0, || {
        CipherSuite::from_id(cipher_suite).map_or(0, sframe_core::rtp::per_packet_overhead)
    })
}

/// Number of RTP payloads of at most `max_payload_len` bytes (descriptor included) that a
/// `frame_len`-byte SFrame frame is cut into (draft §5.1): `*count`.
/// Errors: NULL_POINTER, INVALID_CONFIG (`max_payload_len` < 2), MALFORMED_FRAME
/// (`frame_len` 0).
///
/// # Safety
/// `count` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_rtp_fragment_count(
    frame_len: usize,
    max_payload_len: usize,
    count: *mut usize,
) -> SframeStatus {
    guard(|| {
        non_null(count)?;
        let n = sframe_core::rtp::fragment_count(frame_len, max_payload_len)?;
        // SAFETY: non-NULL, caller's contract.
        unsafe { store(count, n) };
        Ok(())
    })
}

/// Writes fragment `index` (0-based, below `sframe_rtp_fragment_count`) of the SFrame frame
/// `frame` (a `sframe_sender_protect` output) to `out`: with `header` NULL the RTP payload
/// (descriptor with S, E and T — T set if `per_packet` — then the fragment), otherwise a whole
/// RTP packet with `header` (marker kept only on the last fragment, draft §5.1). `*out_len` is
/// the length written. Give each packet its own sequence number in `header`.
/// Errors: NULL_POINTER, INVALID_CONFIG (`max_payload_len` < 2, `index` out of range, payload
/// type over 127), MALFORMED_FRAME (empty frame), BUFFER_TOO_SMALL (nothing written),
/// INVALID_ARGUMENT.
///
/// # Safety
/// `frame` is NULL or readable for `frame_len` bytes; `header` is NULL or readable; `out` is
/// NULL or writable for `out_cap` bytes and does not overlap `frame`; `out_len` is NULL or
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_rtp_write_fragment(
    frame: *const u8,
    frame_len: usize,
    per_packet: bool,
    max_payload_len: usize,
    index: usize,
    header: *const SframeRtpHeader,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> SframeStatus {
    let run = || {
        // SAFETY: caller's contract; `frame` is copied first if it overlaps `out`.
        let (frame, header, out) = unsafe {
            let f = input_apart_from(frame, frame_len, out, out_cap)?;
            (f, header.as_ref().copied(), output(out, out_cap)?)
        };
        let fragment: Fragment<'_> =
            Packetizer::new(frame.bytes(), mode(per_packet), max_payload_len)?
                .nth(index)
                .ok_or(SframeStatus::SFRAME_ERR_INVALID_CONFIG)?;
        Ok(match header {
            None => fragment.write_payload(out)?,
            Some(h) => {
                let mut rtp =
                    RtpHeader::new(h.payload_type, h.sequence_number, h.timestamp, h.ssrc);
                rtp.marker = h.marker;
                fragment.write_packet(&rtp, out)?
            }
        })
    };
    // SAFETY: `out_len` is NULL or writable (caller's contract).
    unsafe { guard_len(out_len, run) }
}

/// A new, empty depacketizer; it binds to the SSRC of the first packet pushed. Its storage
/// is allocated on the heap directly, so this also works on threads with small stacks. NULL
/// only if memory runs out. Free it with `sframe_rtp_depacketizer_free`.
#[unsafe(no_mangle)]
pub extern "C" fn sframe_rtp_depacketizer_new() -> *mut SframeRtpDepacketizer {
    guard_value(std::ptr::null_mut(), || {
        BoxedDepacketizer::with_capacity(SFRAME_RTP_MAX_PACKETS, SFRAME_RTP_MAX_FRAME_SIZE)
            .map_or(std::ptr::null_mut(), |inner| {
                Box::into_raw(Box::new(SframeRtpDepacketizer { inner }))
            })
    })
}

/// Frees a depacketizer. NULL is a no-op.
///
/// # Safety
/// `d` is NULL or a pointer from `sframe_rtp_depacketizer_new` not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_rtp_depacketizer_free(d: *mut SframeRtpDepacketizer) {
    // SAFETY: caller's contract.
    unsafe { free_handle(d) }
}

/// Stores one received RTP packet (whole packet: header, payload, padding) and writes what
/// happened to `*result` (if not NULL). Errors, nothing stored: NULL_POINTER, MALFORMED_FRAME
/// (not an RTP packet, or an empty payload), INVALID_CONFIG (another SSRC than the first
/// packet's), BUFFER_TOO_SMALL (payload over `SFRAME_RTP_MAX_FRAME_SIZE`), INVALID_ARGUMENT.
///
/// # Safety
/// `d` is NULL or a live depacketizer; `packet` is NULL or readable for `packet_len` bytes;
/// `result` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_rtp_depacketizer_push(
    d: *mut SframeRtpDepacketizer,
    packet: *const u8,
    packet_len: usize,
    result: *mut SframeRtpPushed,
) -> SframeStatus {
    guard(|| {
        // SAFETY: caller's contract.
        let (d, packet) = unsafe { (handle_mut(d)?, input(packet, packet_len)?) };
        let pushed = pushed(d.inner.push(packet)?);
        // SAFETY: NULL or writable (caller's contract).
        unsafe { store(result, pushed) };
        Ok(())
    })
}

/// Takes the next complete frame (draft §5.2), decrypts it with `r` and writes the plaintext
/// to `out` (`SFRAME_RTP_MAX_FRAME_SIZE` bytes always suffice). Returns SFRAME_OK with
/// `*has_frame` true and `*frame` filled, or SFRAME_OK with `*has_frame` false when no frame
/// is complete. A frame that fails (AUTHENTICATION_FAILED, REPLAY, UNKNOWN_KEY_ID,
/// MALFORMED_FRAME, BUFFER_TOO_SMALL, ...) is consumed and its status returned with
/// `*has_frame` false; `out` then holds no decrypted byte. Call until SFRAME_OK with
/// `*has_frame` false. `metadata` is what the sender authenticated (NULL, 0 for none).
///
/// # Safety
/// `d` and `r` are NULL or live objects; `metadata` is NULL or readable for `metadata_len`
/// bytes; `out` is NULL or writable for `out_cap` bytes; `frame` and `has_frame` are NULL or
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_rtp_depacketizer_pop(
    d: *mut SframeRtpDepacketizer,
    r: *mut SframeReceiver,
    metadata: *const u8,
    metadata_len: usize,
    out: *mut u8,
    out_cap: usize,
    frame: *mut SframeRtpFrame,
    has_frame: *mut bool,
) -> SframeStatus {
    // SAFETY: NULL or writable (caller's contract).
    unsafe { store(has_frame, false) };
    guard(|| {
        non_null(frame)?;
        non_null(has_frame)?;
        // SAFETY: caller's contract; metadata is copied first if it overlaps `out`.
        let (d, r, metadata, out) = unsafe {
            let d = handle_mut(d)?;
            let r = &mut handle_mut(r)?.inner;
            let md = input_apart_from(metadata, metadata_len, out, out_cap)?;
            (d, r, md, output(out, out_cap)?)
        };
        let Some(popped) = d.inner.pop_decrypted(r, metadata.bytes(), out) else {
            return Ok(());
        };
        let f = popped?;
        let value = SframeRtpFrame {
            len: f.len,
            ssrc: f.ssrc,
            timestamp: f.timestamp,
            first_sequence: f.first_sequence,
            packets: f.packets,
            payload_type: f.payload_type,
            marker: f.marker,
            per_packet: f.mode == Mode::PerPacket,
        };
        // SAFETY: non-NULL, caller's contract.
        unsafe {
            store(frame, value);
            store(has_frame, true);
        }
        Ok(())
    })
}

/// Writes the depacketizer's counters to `*stats`. Errors: NULL_POINTER.
///
/// # Safety
/// `d` is NULL or a live depacketizer; `stats` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_rtp_depacketizer_stats(
    d: *const SframeRtpDepacketizer,
    stats: *mut SframeRtpStats,
) -> SframeStatus {
    guard(|| {
        non_null(stats)?;
        // SAFETY: caller's contract.
        let s = unsafe { handle(d)? }.inner.stats();
        let value = SframeRtpStats {
            packets: s.packets,
            duplicates: s.duplicates,
            late: s.late,
            evicted: s.evicted,
            frames: s.frames,
            dropped_frames: s.dropped_frames,
            too_far_ahead: s.too_far_ahead,
            resyncs: s.resyncs,
        };
        // SAFETY: non-NULL, caller's contract.
        unsafe { store(stats, value) };
        Ok(())
    })
}

/// The per-SSRC base key of draft §7: `HKDF-Expand(HKDF-Extract(BE32(ssrc), base_key),
/// "SFrame 1.0 RTP Stream", Nh)` with the suite's hash. Writes Nh bytes (32 for suites 1-4,
/// 64 for 5-8) to `out` and Nh to `*out_len`; use them as the stream's base key.
/// Errors: NULL_POINTER, UNSUPPORTED_CIPHER_SUITE, INVALID_KEY (base key under 16 bytes),
/// BUFFER_TOO_SMALL, INVALID_ARGUMENT.
///
/// # Safety
/// `base_key` is NULL or readable for `base_key_len` bytes; `out` is NULL or writable for
/// `out_cap` bytes; `out_len` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_rtp_ssrc_base_key(
    cipher_suite: u16,
    base_key: *const u8,
    base_key_len: usize,
    ssrc: u32,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> SframeStatus {
    let run = || {
        let suite = CipherSuite::from_id(cipher_suite)?;
        // SAFETY: caller's contract; the key is copied first if it overlaps `out`.
        let (key, out) = unsafe {
            let k = input_apart_from(base_key, base_key_len, out, out_cap)?;
            (k, output(out, out_cap)?)
        };
        Ok(sframe_core::key::ssrc_base_key(
            suite,
            key.bytes(),
            ssrc,
            out,
        )?)
    };
    // SAFETY: `out_len` is NULL or writable (caller's contract).
    unsafe { guard_len(out_len, run) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::*;
    use std::ptr::{null, null_mut};

    /// The header's literals (cbindgen needs them) are the core's values.
    #[test]
    fn descriptor_len_and_sequence_bounds_are_the_cores() {
        use sframe_core::rtp::{CONSUMED_MEMORY, DESCRIPTOR_LEN, MAX_DROPOUT, SEQUENCE_WINDOW};
        assert_eq!(SFRAME_RTP_DESCRIPTOR_LEN, DESCRIPTOR_LEN);
        assert_eq!(SFRAME_RTP_SEQUENCE_WINDOW, SEQUENCE_WINDOW);
        assert_eq!(SFRAME_RTP_MAX_DROPOUT, MAX_DROPOUT);
        assert_eq!(SFRAME_RTP_CONSUMED_MEMORY, CONSUMED_MEMORY);
        let d = BoxedDepacketizer::with_capacity(SFRAME_RTP_MAX_PACKETS, SFRAME_RTP_MAX_FRAME_SIZE);
        let d = d.expect("allocate");
        assert_eq!(d.packet_capacity(), SFRAME_RTP_MAX_PACKETS);
        assert_eq!(d.byte_capacity(), SFRAME_RTP_MAX_FRAME_SIZE);
    }

    /// Finding 4 (Security 2): `sframe_rtp_depacketizer_new` built its ~540 KB depacketizer
    /// on the caller's stack before boxing it, so in a debug build it aborted on a thread with
    /// a stack of 1 MiB or less. Every constructor of the C ABI, and a first use of each
    /// object, must run on a 128 KiB stack, in the debug build `cargo test` makes. The receive
    /// session (2 MiB slots) is built right on this thread (no helper thread), and reuses its
    /// slots here: packets of new SSRCs evict the streams that never authenticated.
    #[test]
    fn finding4_constructors_run_on_a_128_kib_stack() {
        let worker = std::thread::Builder::new()
            .stack_size(128 * 1024)
            .spawn(|| {
                let d = sframe_rtp_depacketizer_new();
                assert!(!d.is_null());
                let packet = [0x80, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 5, 0x80, 1];
                let mut pushed = SframeRtpPushed::SFRAME_RTP_LATE;
                let mut stats = SframeRtpStats::default();
                // SAFETY: a live depacketizer and valid buffers.
                unsafe {
                    assert_eq!(
                        sframe_rtp_depacketizer_push(d, packet.as_ptr(), packet.len(), &mut pushed),
                        SframeStatus::SFRAME_OK
                    );
                    assert_eq!(pushed, SframeRtpPushed::SFRAME_RTP_BUFFERED);
                    assert_eq!(
                        sframe_rtp_depacketizer_stats(d, &mut stats),
                        SframeStatus::SFRAME_OK
                    );
                    sframe_rtp_depacketizer_free(d);
                }
                assert_eq!(stats.packets, 1);
                // The session constructors and a first use of each: a send stream sends a
                // frame, a receive session (its slots are 2 MiB each) takes its packet, adds
                // the key and decrypts.
                let mut rs = null_mut();
                let mut ss = null_mut();
                let config = SframeSendStreamConfig {
                    cipher_suite: 6,
                    ssrc: 5,
                    payload_type: 96,
                    per_packet: false,
                    max_payload_len: 1200,
                    per_ssrc_keys: true,
                    first_sequence: 9,
                };
                let key = [4u8; 32];
                let mut wire = vec![0u8; 2048];
                let mut lens = [0usize; 2];
                let mut sent = SframeSentFrame::default();
                let mut out = vec![0u8; 64];
                let mut event = std::mem::MaybeUninit::<SframeSessionEvent>::uninit();
                // SAFETY: live objects and valid buffers.
                unsafe {
                    assert_eq!(
                        sframe_receive_session_new(6, true, 4, 1000, &mut rs),
                        SframeStatus::SFRAME_OK
                    );
                    assert_eq!(
                        sframe_send_stream_new(&config, &mut ss),
                        SframeStatus::SFRAME_OK
                    );
                    assert_eq!(
                        sframe_send_stream_set_key(ss, 1, key.as_ptr(), key.len()),
                        SframeStatus::SFRAME_OK
                    );
                    let media = b"media";
                    let st = sframe_send_stream_send_frame(
                        ss,
                        media.as_ptr(),
                        media.len(),
                        90,
                        true,
                        wire.as_mut_ptr(),
                        wire.len(),
                        lens.as_mut_ptr(),
                        lens.len(),
                        &mut sent,
                    );
                    assert_eq!(st, SframeStatus::SFRAME_OK);
                    assert_eq!((sent.packets, sent.first_sequence), (1, 9));
                    assert_eq!(
                        sframe_receive_session_push_packet(
                            rs,
                            wire.as_ptr(),
                            lens[0],
                            0,
                            &mut pushed
                        ),
                        SframeStatus::SFRAME_OK
                    );
                    assert_eq!(pushed, SframeRtpPushed::SFRAME_RTP_FRAME_READY);
                    assert_eq!(
                        sframe_receive_session_add_key(rs, 1, key.as_ptr(), key.len()),
                        SframeStatus::SFRAME_OK
                    );
                    assert_eq!(
                        sframe_receive_session_poll(
                            rs,
                            out.as_mut_ptr(),
                            out.len(),
                            0,
                            event.as_mut_ptr()
                        ),
                        SframeStatus::SFRAME_OK
                    );
                    let event = event.assume_init();
                    assert_eq!(event.kind, SframeSessionEventKind::SFRAME_SESSION_FRAME);
                    assert_eq!(&out[..event.len], media);
                    // Junk SSRCs fill the 3 free slots, then evict one another (each slot
                    // reused is reset in place).
                    for ssrc in 100..110u8 {
                        let junk = [0x80, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, ssrc, 0x80, 1];
                        assert_eq!(
                            sframe_receive_session_push_packet(
                                rs,
                                junk.as_ptr(),
                                junk.len(),
                                1,
                                &mut pushed
                            ),
                            SframeStatus::SFRAME_OK
                        );
                    }
                    let mut session = crate::session::SframeSessionStats::default();
                    assert_eq!(
                        sframe_receive_session_stats(rs, &mut session),
                        SframeStatus::SFRAME_OK
                    );
                    assert_eq!((session.streams, session.streams_evicted), (4, 7));
                    sframe_send_stream_free(ss);
                    sframe_receive_session_free(rs);
                }
                for suite in 1..=8u16 {
                    let s = sframe_sender_new(suite);
                    let r = sframe_receiver_new(suite);
                    let mut config = std::mem::MaybeUninit::<SframeReceiverConfig>::uninit();
                    let mut rc = null_mut();
                    // SAFETY: valid pointers; `config` is initialised by the first call.
                    unsafe {
                        assert_eq!(
                            sframe_receiver_config_init(config.as_mut_ptr(), suite),
                            SframeStatus::SFRAME_OK
                        );
                        assert_eq!(
                            sframe_receiver_new_with_config(config.as_ptr(), &mut rc),
                            SframeStatus::SFRAME_OK
                        );
                        assert!(!s.is_null() && !r.is_null() && !rc.is_null());
                        let key = [3u8; 16];
                        assert_eq!(
                            sframe_sender_set_key(s, 1, key.as_ptr(), key.len()),
                            SframeStatus::SFRAME_OK
                        );
                        assert_eq!(
                            sframe_receiver_add_key(r, 1, key.as_ptr(), key.len()),
                            SframeStatus::SFRAME_OK
                        );
                        sframe_sender_free(s);
                        sframe_receiver_free(r);
                        sframe_receiver_free(rc);
                    }
                }
            })
            .expect("spawn a thread with a 128 KiB stack");
        assert!(worker.join().is_ok(), "the constructors' thread failed");
    }

    #[test]
    fn packetize_push_pop_through_the_c_entry_points() {
        let suite = SFRAME_AES_128_GCM_SHA256_128;
        let s = sframe_sender_new(suite);
        let r = sframe_receiver_new(suite);
        let d = sframe_rtp_depacketizer_new();
        assert!(!s.is_null() && !r.is_null() && !d.is_null());
        let key = [7u8; 16];
        // SAFETY: live objects and valid buffers throughout.
        unsafe {
            assert_eq!(
                sframe_sender_set_key(s, 1, key.as_ptr(), 16),
                SframeStatus::SFRAME_OK
            );
            assert_eq!(
                sframe_receiver_add_key(r, 1, key.as_ptr(), 16),
                SframeStatus::SFRAME_OK
            );
            let pt = vec![0x5au8; 3000];
            let mut ct = vec![0u8; 4000];
            let mut n = 0;
            let st = sframe_sender_protect(
                s,
                null(),
                0,
                pt.as_ptr(),
                pt.len(),
                ct.as_mut_ptr(),
                ct.len(),
                &mut n,
            );
            assert_eq!(st, SframeStatus::SFRAME_OK);
            let mut count = 0;
            assert_eq!(
                sframe_rtp_fragment_count(n, 1000, &mut count),
                SframeStatus::SFRAME_OK
            );
            assert_eq!(count, 4);
            let mut out = vec![0u8; SFRAME_RTP_MAX_FRAME_SIZE];
            for i in (0..count).rev() {
                let header = SframeRtpHeader {
                    marker: true,
                    payload_type: 100,
                    sequence_number: 65534u16.wrapping_add(i as u16),
                    timestamp: 90,
                    ssrc: 5,
                };
                let mut packet = [0u8; 1100];
                let mut len = 0;
                let st = sframe_rtp_write_fragment(
                    ct.as_ptr(),
                    n,
                    false,
                    1000,
                    i,
                    &header,
                    packet.as_mut_ptr(),
                    packet.len(),
                    &mut len,
                );
                assert_eq!(st, SframeStatus::SFRAME_OK);
                assert!(len <= 12 + 1000);
                let mut pushed = SframeRtpPushed::SFRAME_RTP_LATE;
                assert_eq!(
                    sframe_rtp_depacketizer_push(d, packet.as_ptr(), len, &mut pushed),
                    SframeStatus::SFRAME_OK
                );
                let want = if i == 0 {
                    SframeRtpPushed::SFRAME_RTP_FRAME_READY
                } else {
                    SframeRtpPushed::SFRAME_RTP_BUFFERED
                };
                assert_eq!(pushed, want);
            }
            // Pops the next frame into `out`: (status, a frame came, its description).
            let pop = |out: &mut [u8]| {
                let mut frame = SframeRtpFrame::default();
                let mut has = true;
                let st = sframe_rtp_depacketizer_pop(
                    d,
                    r,
                    null(),
                    0,
                    out.as_mut_ptr(),
                    out.len(),
                    &mut frame,
                    &mut has,
                );
                (st, has, frame)
            };
            let (st, has, frame) = pop(&mut out);
            assert_eq!((st, has), (SframeStatus::SFRAME_OK, true));
            assert_eq!(
                (frame.len, frame.packets, frame.first_sequence, frame.marker),
                (3000, 4, 65534, true)
            );
            assert_eq!(&out[..3000], &pt[..]);
            let (st, has, _) = pop(&mut out);
            assert_eq!((st, has), (SframeStatus::SFRAME_OK, false));
            // Misuse.
            assert_eq!(
                sframe_rtp_depacketizer_push(null_mut(), null(), 0, null_mut()),
                SframeStatus::SFRAME_ERR_NULL_POINTER
            );
            assert_eq!(
                sframe_rtp_depacketizer_push(d, null(), 0, null_mut()),
                SframeStatus::SFRAME_ERR_MALFORMED_FRAME
            );
            let mut stats = SframeRtpStats::default();
            assert_eq!(
                sframe_rtp_depacketizer_stats(d, &mut stats),
                SframeStatus::SFRAME_OK
            );
            assert_eq!((stats.packets, stats.frames), (4, 1));
            // Sequence validation: a packet 3000 or more ahead is refused; the one after it in
            // sequence re-synchronises (RFC 3550 A.1).
            for (seq, want) in [
                (30_000u16, SframeRtpPushed::SFRAME_RTP_TOO_FAR_AHEAD),
                (30_002, SframeRtpPushed::SFRAME_RTP_TOO_FAR_AHEAD),
                (30_003, SframeRtpPushed::SFRAME_RTP_BUFFERED),
                (30_003, SframeRtpPushed::SFRAME_RTP_DUPLICATE),
                (
                    30_003 - SFRAME_RTP_SEQUENCE_WINDOW as u16,
                    SframeRtpPushed::SFRAME_RTP_LATE,
                ),
            ] {
                let header = SframeRtpHeader {
                    marker: false,
                    payload_type: 100,
                    sequence_number: seq,
                    timestamp: 180,
                    ssrc: 5,
                };
                let mut packet = [0u8; 1100];
                let mut len = 0;
                let st = sframe_rtp_write_fragment(
                    ct.as_ptr(),
                    n,
                    false,
                    1000,
                    1,
                    &header,
                    packet.as_mut_ptr(),
                    packet.len(),
                    &mut len,
                );
                assert_eq!(st, SframeStatus::SFRAME_OK);
                let mut pushed = SframeRtpPushed::SFRAME_RTP_FRAME_READY;
                assert_eq!(
                    sframe_rtp_depacketizer_push(d, packet.as_ptr(), len, &mut pushed),
                    SframeStatus::SFRAME_OK
                );
                assert_eq!(pushed, want, "sequence number {seq}");
            }
            assert_eq!(
                sframe_rtp_depacketizer_stats(d, &mut stats),
                SframeStatus::SFRAME_OK
            );
            assert_eq!(
                (
                    stats.too_far_ahead,
                    stats.resyncs,
                    stats.late,
                    stats.duplicates
                ),
                (2, 1, 1, 1)
            );
            sframe_rtp_depacketizer_free(d);
            sframe_receiver_free(r);
            sframe_sender_free(s);
        }
    }
}
