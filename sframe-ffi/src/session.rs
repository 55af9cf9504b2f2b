//! `sframe_send_stream_*` and `sframe_receive_session_*`: native SFrame RTP sessions
//! (draft-ietf-avtcore-rtp-sframe §5.1 and §5.2 per SSRC, §7 per-SSRC keys, §8 their ratchet;
//! RFC 9605 §4.4.4 frames held until their key arrives) over `sframe_core::rtp::session`.
//! Types and errors only: every decision is the core's.

use sframe_core::ratchet::{Generation, RatchetLayout};
use sframe_core::rtp::Mode;
use sframe_core::rtp::session::{
    BoxedReceiveSession, Event, Failures, KidCounters, KidStats, Pushed, SendConfig, SendStream,
    SessionConfig, SessionStats, StreamStats,
};
use sframe_core::{CipherSuite, ReceiverConfig};

use crate::{
    SframeRtpPushed, SframeRtpStats, SframeStatus, found, free_handle, guard, guard_value, handle,
    handle_mut, input, input_apart_from, non_null, output, store,
};

// ------------------------------------------------------------------------------ send streams

/// The settings of a `SframeSendStream`, fixed at `sframe_send_stream_new`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SframeSendStreamConfig {
    /// The cipher suite, 1..8.
    pub cipher_suite: u16,
    /// The stream's SSRC: written in every packet, and the salt of its per-SSRC key (§7).
    pub ssrc: u32,
    /// The RTP payload type of the protected media, 0..127.
    pub payload_type: u8,
    /// Per-packet SFrame (§5.1.2, T bit set: `media` is one media RTP payload) instead of
    /// per-frame (§5.1.1: `media` is one encoded frame).
    pub per_packet: bool,
    /// Largest RTP payload, descriptor included (the MTU minus RTP header and transport).
    pub max_payload_len: usize,
    /// Whether keys given to the stream are session base keys from which it derives its own
    /// (§7: `HKDF(salt = BE32(ssrc), IKM = base_key, info = "SFrame 1.0 RTP Stream")`).
    pub per_ssrc_keys: bool,
    /// The sequence number of the first packet (RFC 3550 §5.1: a random value).
    pub first_sequence: u16,
}

/// Opaque send stream: one SSRC's sending side (an SFrame sender with one KID at a time, its
/// per-SSRC key derivation and ratchet, and an RTP packetizer that writes whole RTP packets
/// with sequence numbers). Create with `sframe_send_stream_new`, free with
/// `sframe_send_stream_free`. Use from one thread at a time. Key material is claimed as a
/// sender's is, process-wide: a second live stream or sender, on any thread, given the same
/// key (same base key, KID and, with per-SSRC keys, SSRC; or a plain sender given the
/// stream's per-SSRC key) is refused with KEY_IN_USE, and a stream freed releases its keys
/// with their counters, which the next stream or sender given them resumes.
pub struct SframeSendStream {
    inner: SendStream,
}

/// What `sframe_send_stream_send_frame` wrote.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SframeSentFrame {
    /// Bytes written to `out`: the packets, back to back.
    pub len: usize,
    /// Number of packets; their lengths are `packet_lens[0..packets]`.
    pub packets: usize,
    /// The KID the frame was protected under.
    pub kid: u64,
    /// The frame's SFrame counter.
    pub counter: u64,
    /// The sequence number of the first packet.
    pub first_sequence: u16,
}

/// Counters of a send stream.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SframeSendStats {
    /// Frames protected and packetized.
    pub frames: u64,
    /// RTP packets written.
    pub packets: u64,
    /// Media bytes protected.
    pub media_bytes: u64,
    /// RTP bytes written (headers included).
    pub rtp_bytes: u64,
    /// The sequence number of the next packet.
    pub next_sequence: u16,
}

impl SframeSendStreamConfig {
    fn to_core(self) -> Result<SendConfig, SframeStatus> {
        let suite = CipherSuite::from_id(self.cipher_suite)?;
        let mode = if self.per_packet {
            Mode::PerPacket
        } else {
            Mode::PerFrame
        };
        Ok(
            SendConfig::new(suite, self.ssrc, self.payload_type, self.max_payload_len)
                .with_mode(mode)
                .with_per_ssrc_keys(self.per_ssrc_keys)
                .with_first_sequence(self.first_sequence),
        )
    }
}

/// Creates a send stream with `*config` and no key: writes it to `*out` (NULL on error).
/// Errors: NULL_POINTER, UNSUPPORTED_CIPHER_SUITE, INVALID_CONFIG (payload type over 127, or
/// `max_payload_len` < 2).
///
/// # Safety
/// `config` is NULL or readable; `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_send_stream_new(
    config: *const SframeSendStreamConfig,
    out: *mut *mut SframeSendStream,
) -> SframeStatus {
    guard(|| {
        non_null(out)?;
        // SAFETY: non-NULL, caller's contract.
        unsafe { store(out, std::ptr::null_mut()) };
        // SAFETY: caller's contract.
        let config = unsafe { *handle(config)? }.to_core()?;
        let s = Box::into_raw(Box::new(SframeSendStream {
            inner: SendStream::new(config)?,
        }));
        // SAFETY: non-NULL, caller's contract.
        unsafe { store(out, s) };
        Ok(())
    })
}

/// Frees a send stream and zeroizes its keys. NULL is a no-op.
///
/// # Safety
/// `s` is NULL or a pointer from `sframe_send_stream_new` not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_send_stream_free(s: *mut SframeSendStream) {
    // SAFETY: caller's contract.
    unsafe { free_handle(s) }
}

/// Makes `kid` with `base_key` the current key (RFC 9605 §4.4.2; with per-SSRC keys the
/// stream's §7 key is derived from `base_key` first). Counter rules are the sender's
/// (`sframe_sender_set_key`): a new key starts at 0, a key this stream used before resumes.
/// Errors (nothing changed): NULL_POINTER, INVALID_KEY (under 16 bytes, or over 64 with
/// per-SSRC keys), KEY_IN_USE.
///
/// # Safety
/// `s` is NULL or a live send stream; `base_key` is NULL or readable for `base_key_len`
/// bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_send_stream_set_key(
    s: *mut SframeSendStream,
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

/// Starts a §5.1 ratchet chain (KID `generation << ratchet_bits`, step 0; written to `*kid`
/// if not NULL). With per-SSRC keys the chain starts from the stream's §7 key (draft §8):
/// every stream ratchets in step with the same KIDs and its own keys. Receivers add it with
/// `sframe_receive_session_add_ratcheting_key`. Errors: NULL_POINTER, INVALID_KEY,
/// KEY_IN_USE, INVALID_CONFIG (`ratchet_bits` not 2..63, generation too large).
///
/// # Safety
/// `s` is NULL or a live send stream; `base_key` is NULL or readable for `base_key_len`
/// bytes; `kid` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_send_stream_set_ratcheting_key(
    s: *mut SframeSendStream,
    ratchet_bits: u8,
    generation: u64,
    base_key: *const u8,
    base_key_len: usize,
    kid: *mut u64,
) -> SframeStatus {
    guard(|| {
        // SAFETY: caller's contract.
        let (s, key) = unsafe { (&mut handle_mut(s)?.inner, input(base_key, base_key_len)?) };
        let layout = RatchetLayout::new(ratchet_bits)?;
        let new_kid = s.set_ratcheting_key(layout, Generation(generation), key)?;
        // SAFETY: NULL or writable (caller's contract).
        unsafe { store(kid, new_kid) };
        Ok(())
    })
}

/// Ratchets the stream's chain one step (§5.1) and writes the new KID to `*kid` (if not
/// NULL). Errors: NULL_POINTER, NO_KEY (no chain), COUNTER_EXHAUSTED, KEY_IN_USE.
///
/// # Safety
/// `s` is NULL or a live send stream; `kid` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_send_stream_ratchet(
    s: *mut SframeSendStream,
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

/// Writes the current KID to `*kid`. Errors: NULL_POINTER, NO_KEY.
///
/// # Safety
/// `s` is NULL or a live send stream; `kid` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_send_stream_key_id(
    s: *const SframeSendStream,
    kid: *mut u64,
) -> SframeStatus {
    guard(|| {
        non_null(kid)?;
        // SAFETY: caller's contract.
        let value = unsafe { handle(s)? }
            .inner
            .key_id()
            .ok_or(SframeStatus::SFRAME_ERR_NO_KEY)?;
        // SAFETY: non-NULL, caller's contract.
        unsafe { store(kid, value) };
        Ok(())
    })
}

/// Writes the counter the next frame will carry to `*ctr`.
/// Errors: NULL_POINTER, NO_KEY, COUNTER_EXHAUSTED.
///
/// # Safety
/// `s` is NULL or a live send stream; `ctr` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_send_stream_next_counter(
    s: *const SframeSendStream,
    ctr: *mut u64,
) -> SframeStatus {
    guard(|| {
        non_null(ctr)?;
        // SAFETY: caller's contract.
        let sender = unsafe { handle(s)? }.inner.sender();
        sender.key_id().ok_or(SframeStatus::SFRAME_ERR_NO_KEY)?;
        let value = sender
            .next_counter()
            .ok_or(SframeStatus::SFRAME_ERR_COUNTER_EXHAUSTED)?;
        // SAFETY: non-NULL, caller's contract.
        unsafe { store(ctr, value) };
        Ok(())
    })
}

/// The bytes `out` of `sframe_send_stream_send_frame` needs for a `media_len`-byte frame.
/// 0 if `s` is NULL.
///
/// # Safety
/// `s` is NULL or a live send stream.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_send_stream_max_packets_len(
    s: *const SframeSendStream,
    media_len: usize,
) -> usize {
    guard_value(0, || {
        // SAFETY: caller's contract.
        unsafe { handle(s) }.map_or(0, |s| s.inner.max_packets_len(media_len))
    })
}

/// The most packets a `media_len`-byte frame becomes: the entries `packet_lens` of
/// `sframe_send_stream_send_frame` needs. 0 if `s` is NULL.
///
/// # Safety
/// `s` is NULL or a live send stream.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_send_stream_max_packet_count(
    s: *const SframeSendStream,
    media_len: usize,
) -> usize {
    guard_value(0, || {
        // SAFETY: caller's contract.
        unsafe { handle(s) }.map_or(0, |s| s.inner.max_packet_count(media_len))
    })
}

/// SFrame bytes per-packet mode adds to a media payload (§5.1.2: descriptor, longest header,
/// tag). 0 if `s` is NULL.
///
/// # Safety
/// `s` is NULL or a live send stream.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_send_stream_overhead(s: *const SframeSendStream) -> usize {
    guard_value(0, || {
        // SAFETY: caller's contract.
        unsafe { handle(s) }.map_or(0, |s| s.inner.per_packet_overhead())
    })
}

/// The largest media payload a media packetizer should produce so that, protected per
/// packet, it fits one RTP payload of `max_payload_len` bytes (§5.1.2). 0 if `s` is NULL.
///
/// # Safety
/// `s` is NULL or a live send stream.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_send_stream_max_media_payload_len(
    s: *const SframeSendStream,
) -> usize {
    guard_value(0, || {
        // SAFETY: caller's contract.
        unsafe { handle(s) }.map_or(0, |s| s.inner.max_media_payload_len())
    })
}

/// Protects `media` under the current key and writes its RTP packets back to back into `out`
/// (the stream's payload type, SSRC and next sequence numbers, `timestamp`, and the marker
/// bit on the last packet if `marker`), and the length of each packet to
/// `packet_lens[0..sent->packets]`: send `out[0..packet_lens[0])`, then the next, in order.
/// No allocation. `out` needs `sframe_send_stream_max_packets_len(s, media_len)` bytes and
/// `packet_lens` `sframe_send_stream_max_packet_count(s, media_len)` entries, both checked
/// first: if either is short, BUFFER_TOO_SMALL with nothing written and no counter or
/// sequence number used. On any error `*sent` is zeroed.
/// Errors: NULL_POINTER, BUFFER_TOO_SMALL, NO_KEY, COUNTER_EXHAUSTED, KEY_USAGE_LIMIT,
/// INVALID_ARGUMENT.
///
/// # Safety
/// `s` is NULL or a live send stream; `media` is NULL or readable for `media_len` bytes;
/// `out` is NULL or writable for `out_cap` bytes; `packet_lens` is NULL or writable for
/// `packet_lens_cap` entries and does not overlap `out`; `sent` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_send_stream_send_frame(
    s: *mut SframeSendStream,
    media: *const u8,
    media_len: usize,
    timestamp: u32,
    marker: bool,
    out: *mut u8,
    out_cap: usize,
    packet_lens: *mut usize,
    packet_lens_cap: usize,
    sent: *mut SframeSentFrame,
) -> SframeStatus {
    // SAFETY: NULL or writable (caller's contract).
    unsafe { store(sent, SframeSentFrame::default()) };
    guard(|| {
        non_null(sent)?;
        // SAFETY: caller's contract; `media` is copied first if it overlaps `out`.
        let (s, media, out) = unsafe {
            let s = &mut handle_mut(s)?.inner;
            let media = input_apart_from(media, media_len, out, out_cap)?;
            (s, media, output(out, out_cap)?)
        };
        if packet_lens_cap < s.max_packet_count(media.bytes().len()) {
            return Err(SframeStatus::SFRAME_ERR_BUFFER_TOO_SMALL);
        }
        if packet_lens_cap > 0 {
            non_null(packet_lens)?;
        }
        let packets = s.send_frame(media.bytes(), timestamp, marker, out)?;
        let mut value = SframeSentFrame {
            len: packets.as_bytes().len(),
            packets: packets.len(),
            kid: packets.key_id(),
            counter: packets.counter(),
            first_sequence: packets.first_sequence(),
        };
        for (i, packet) in packets.enumerate() {
            if i >= packet_lens_cap {
                // Unreachable: checked above. Report nothing rather than a partial list.
                value = SframeSentFrame::default();
                break;
            }
            // SAFETY: `i < packet_lens_cap` entries are writable (caller's contract).
            unsafe { store(packet_lens.add(i), packet.len()) };
        }
        // SAFETY: non-NULL, caller's contract.
        unsafe { store(sent, value) };
        Ok(())
    })
}

/// Writes the stream's counters and next sequence number to `*stats`. Errors: NULL_POINTER.
///
/// # Safety
/// `s` is NULL or a live send stream; `stats` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_send_stream_stats(
    s: *const SframeSendStream,
    stats: *mut SframeSendStats,
) -> SframeStatus {
    guard(|| {
        non_null(stats)?;
        // SAFETY: caller's contract.
        let s = unsafe { &handle(s)?.inner };
        let st = s.stats();
        let value = SframeSendStats {
            frames: st.frames,
            packets: st.packets,
            media_bytes: st.media_bytes,
            rtp_bytes: st.rtp_bytes,
            next_sequence: s.next_sequence(),
        };
        // SAFETY: non-NULL, caller's contract.
        unsafe { store(stats, value) };
        Ok(())
    })
}

// -------------------------------------------------------------------------- receive sessions

/// Packets one stream of a `SframeReceiveSession` stores for reassembly.
pub const SFRAME_SESSION_MAX_PACKETS: usize = 1024;
/// Payload bytes one stream stores for reassembly; also the largest frame, so an `out` of this
/// size always suffices for `sframe_receive_session_poll`.
pub const SFRAME_SESSION_MAX_FRAME_SIZE: usize = 1024 * 1024;
/// Frames one stream keeps while they wait for their key (RFC 9605 §4.4.4).
pub const SFRAME_SESSION_WAIT_FRAMES: usize = 64;
/// Bytes one stream keeps while frames wait for their key.
pub const SFRAME_SESSION_WAIT_BYTES: usize = 1024 * 1024;
/// KIDs a session remembers: keys in use plus removed KIDs (whose frames then fail).
pub const SFRAME_SESSION_MAX_KIDS: usize = 16;
/// Most streams (SSRCs) `sframe_receive_session_new` accepts as `max_streams`.
pub const SFRAME_SESSION_MAX_STREAMS: usize = 64;
/// `max_wait_ms` for no age limit: waiting frames leave only when pushed out by newer ones.
pub const SFRAME_SESSION_NO_MAX_WAIT: u64 = u64::MAX;

type Session = BoxedReceiveSession<
    SFRAME_SESSION_MAX_PACKETS,
    SFRAME_SESSION_MAX_FRAME_SIZE,
    SFRAME_SESSION_WAIT_FRAMES,
    SFRAME_SESSION_WAIT_BYTES,
    SFRAME_SESSION_MAX_KIDS,
>;

/// Opaque receive session: RTP packets of any SSRC in (up to `max_streams` streams), events
/// and decrypted frames out; keys by KID added and removed at any time; frames that arrive
/// before their key wait for it. Memory is fixed at creation: per stream slot a reassembly
/// buffer of `SFRAME_SESSION_MAX_PACKETS` packets and `SFRAME_SESSION_MAX_FRAME_SIZE` bytes
/// and a wait buffer of `SFRAME_SESSION_WAIT_FRAMES` frames and `SFRAME_SESSION_WAIT_BYTES`
/// bytes (`sframe_receive_session_stats` reports `slot_bytes`, the exact size of one slot),
/// and a table of `SFRAME_SESSION_MAX_KIDS` KIDs: about 2.1 MiB per stream slot (2,160,152
/// bytes measured on x86_64 Linux with the default backend). A packet of a new SSRC when all slots are
/// taken evicts the stream that never authenticated a frame and was quiet longest, or is
/// refused (`SFRAME_RTP_STREAM_REFUSED`) if every stream authenticated. One cipher suite per
/// session: where audio and video use different suites, use one session per media section.
/// Create with `sframe_receive_session_new`, free with `sframe_receive_session_free`. Use from
/// one thread at a time.
pub struct SframeReceiveSession {
    inner: Session,
}

/// What `sframe_receive_session_poll` reports.
#[repr(u32)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SframeSessionEventKind {
    /// Nothing to do: poll again after the next packet or key.
    SFRAME_SESSION_NONE = 0,
    /// A frame authenticated: its plaintext is `out[0..len]`.
    SFRAME_SESSION_FRAME = 1,
    /// The first frame of stream `ssrc` that authenticated under the key added as `kid`;
    /// `first` if it is the first stream of the session to do so (once every peer's SSRCs
    /// reported it, an older key can be removed).
    SFRAME_SESSION_KEY_AUTHENTICATED = 2,
    /// A complete frame of `ssrc` waits for the key `kid` (unauthenticated: whatever the
    /// packet says), counter `counter`: the application may ask for that key.
    SFRAME_SESSION_AWAITING_KEY = 3,
    /// A frame of `ssrc` was dropped; `error` says why (AUTHENTICATION_FAILED, REPLAY,
    /// UNKNOWN_KEY_ID for a removed KID or a frame that cannot wait, MALFORMED_FRAME,
    /// BUFFER_TOO_SMALL for an `out` shorter than the frame, KEY_USAGE_LIMIT); `kid` is the
    /// frame's if `has_kid`.
    SFRAME_SESSION_FAILED = 4,
}

/// One event of `sframe_receive_session_poll`; which fields are set depends on `kind`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SframeSessionEvent {
    /// What happened.
    pub kind: SframeSessionEventKind,
    /// The stream (every kind but NONE).
    pub ssrc: u32,
    /// FRAME: the KID it authenticated under; KEY_AUTHENTICATED: the KID the key was added
    /// as; AWAITING_KEY: the KID it waits for; FAILED: the frame's KID if `has_kid`.
    pub kid: u64,
    /// Whether `kid` is set (false only for FAILED frames without an SFrame header, and NONE).
    pub has_kid: bool,
    /// FRAME, AWAITING_KEY: the frame's SFrame counter.
    pub counter: u64,
    /// FRAME: plaintext length at the start of `out`.
    pub len: usize,
    /// FRAME: the RTP timestamp.
    pub timestamp: u32,
    /// FRAME: the sequence number of its first packet.
    pub first_sequence: u16,
    /// FRAME: the payload type.
    pub payload_type: u8,
    /// FRAME: the marker bit of its last packet.
    pub marker: bool,
    /// FRAME: the T bit (the plaintext is one media RTP payload).
    pub per_packet: bool,
    /// FRAME: whether it waited for its key.
    pub from_buffer: bool,
    /// KEY_AUTHENTICATED: the first stream of the session under this key.
    pub first: bool,
    /// FAILED: why; SFRAME_OK for the other kinds.
    pub error: SframeStatus,
}

impl SframeSessionEvent {
    const NONE: SframeSessionEvent = SframeSessionEvent {
        kind: SframeSessionEventKind::SFRAME_SESSION_NONE,
        ssrc: 0,
        kid: 0,
        has_kid: false,
        counter: 0,
        len: 0,
        timestamp: 0,
        first_sequence: 0,
        payload_type: 0,
        marker: false,
        per_packet: false,
        from_buffer: false,
        first: false,
        error: SframeStatus::SFRAME_OK,
    };

    fn from_core(event: Option<Event>) -> Self {
        use SframeSessionEventKind::*;
        let none = Self::NONE;
        match event {
            None => none,
            Some(Event::Frame(f)) => SframeSessionEvent {
                kind: SFRAME_SESSION_FRAME,
                ssrc: f.ssrc,
                kid: f.kid,
                has_kid: true,
                counter: f.counter,
                len: f.len,
                timestamp: f.timestamp,
                first_sequence: f.first_sequence,
                payload_type: f.payload_type,
                marker: f.marker,
                per_packet: f.mode == Mode::PerPacket,
                from_buffer: f.from_buffer,
                ..none
            },
            Some(Event::KeyAuthenticated { kid, ssrc, first }) => SframeSessionEvent {
                kind: SFRAME_SESSION_KEY_AUTHENTICATED,
                ssrc,
                kid,
                has_kid: true,
                first,
                ..none
            },
            Some(Event::AwaitingKey { ssrc, kid, counter }) => SframeSessionEvent {
                kind: SFRAME_SESSION_AWAITING_KEY,
                ssrc,
                kid,
                has_kid: true,
                counter,
                ..none
            },
            Some(Event::Failed { ssrc, kid, error }) => SframeSessionEvent {
                kind: SFRAME_SESSION_FAILED,
                ssrc,
                kid: kid.unwrap_or(0),
                has_kid: kid.is_some(),
                error: error.into(),
                ..none
            },
        }
    }
}

/// Frames that failed, by reason.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SframeSessionFailures {
    /// AUTHENTICATION_FAILED.
    pub authentication: u64,
    /// REPLAY.
    pub replay: u64,
    /// UNKNOWN_KEY_ID: under a removed KID, or no key and no room to wait.
    pub unknown_key: u64,
    /// MALFORMED_FRAME.
    pub malformed: u64,
    /// KEY_USAGE_LIMIT.
    pub usage_limit: u64,
    /// Anything else (e.g. BUFFER_TOO_SMALL).
    pub other: u64,
}

impl From<Failures> for SframeSessionFailures {
    fn from(f: Failures) -> Self {
        SframeSessionFailures {
            authentication: f.authentication,
            replay: f.replay,
            unknown_key: f.unknown_key,
            malformed: f.malformed,
            usage_limit: f.usage_limit,
            other: f.other,
        }
    }
}

/// Frame counters of one KID, or of the KIDs the session has no entry for.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SframeKidCounters {
    /// Complete frames that arrived under the KID.
    pub frames_in: u64,
    /// Their SFrame bytes.
    pub bytes_in: u64,
    /// Frames authenticated and delivered.
    pub frames: u64,
    /// Plaintext bytes delivered.
    pub bytes: u64,
    /// Frames that failed.
    pub failures: SframeSessionFailures,
    /// Frames that went to wait for the key.
    pub waited: u64,
    /// Waiting frames released once the key came.
    pub released: u64,
    /// Waiting frames dropped (pushed out, too old, too big, key or stream removed).
    pub dropped: u64,
}

impl From<KidCounters> for SframeKidCounters {
    fn from(c: KidCounters) -> Self {
        SframeKidCounters {
            frames_in: c.frames_in,
            bytes_in: c.bytes_in,
            frames: c.frames,
            bytes: c.bytes,
            failures: c.failures.into(),
            waited: c.waited,
            released: c.released,
            dropped: c.dropped,
        }
    }
}

/// What a session knows about one KID of its table.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SframeKidStats {
    /// The KID the key was added as.
    pub kid: u64,
    /// Whether the key is in use (false: removed, remembered so that its frames fail).
    pub active: bool,
    /// Whether it is a ratcheting key (added with `sframe_receive_session_add_ratcheting_key`).
    pub ratcheting: bool,
    /// Whether a frame authenticated under it.
    pub authenticated: bool,
    /// On how many of the current streams a frame authenticated under it.
    pub streams_authenticated: u32,
    /// Frames waiting for it now, over all streams.
    pub waiting: usize,
    /// The counters.
    pub counters: SframeKidCounters,
}

impl From<KidStats> for SframeKidStats {
    fn from(k: KidStats) -> Self {
        SframeKidStats {
            kid: k.kid,
            active: k.active,
            ratcheting: k.ratchet.is_some(),
            authenticated: k.authenticated,
            streams_authenticated: k.streams_authenticated,
            waiting: k.waiting,
            counters: k.counters.into(),
        }
    }
}

/// The state and counters of one stream (SSRC) of a session.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SframeStreamStats {
    /// The SSRC.
    pub ssrc: u32,
    /// Whether a frame authenticated on it (such a stream is never evicted).
    pub authenticated: bool,
    /// The reassembly counters (packets, duplicates, late, evicted, frames, ...).
    pub packets: SframeRtpStats,
    /// Packets stored for reassembly now.
    pub stored_packets: usize,
    /// Payload bytes stored for reassembly now.
    pub stored_bytes: usize,
    /// Complete frames reassembled.
    pub frames_in: u64,
    /// Their SFrame bytes.
    pub bytes_in: u64,
    /// Frames authenticated and delivered.
    pub frames_out: u64,
    /// Plaintext bytes delivered.
    pub bytes_out: u64,
    /// Frames that failed.
    pub failures: SframeSessionFailures,
    /// Frames that went to wait for their key.
    pub waited: u64,
    /// Waiting frames released once their key came.
    pub released: u64,
    /// Waiting frames pushed out by newer ones.
    pub dropped_overflow: u64,
    /// Waiting frames older than `max_wait_ms`.
    pub dropped_expired: u64,
    /// Frames too big to wait.
    pub dropped_too_big: u64,
    /// Waiting frames dropped because their key was removed.
    pub dropped_removed: u64,
    /// Frames waiting now.
    pub waiting: usize,
    /// Bytes waiting now.
    pub waiting_bytes: usize,
    /// Keys the stream decrypts with.
    pub keys: usize,
}

impl From<StreamStats> for SframeStreamStats {
    fn from(s: StreamStats) -> Self {
        let p = s.packets;
        SframeStreamStats {
            ssrc: s.ssrc,
            authenticated: s.authenticated,
            packets: SframeRtpStats {
                packets: p.packets,
                duplicates: p.duplicates,
                late: p.late,
                evicted: p.evicted,
                frames: p.frames,
                dropped_frames: p.dropped_frames,
                too_far_ahead: p.too_far_ahead,
                resyncs: p.resyncs,
            },
            stored_packets: s.stored_packets,
            stored_bytes: s.stored_bytes,
            frames_in: s.frames_in,
            bytes_in: s.bytes_in,
            frames_out: s.frames_out,
            bytes_out: s.bytes_out,
            failures: s.failures.into(),
            waited: s.waited,
            released: s.released,
            dropped_overflow: s.dropped_overflow,
            dropped_expired: s.dropped_expired,
            dropped_too_big: s.dropped_too_big,
            dropped_removed: s.dropped_removed,
            waiting: s.waiting,
            waiting_bytes: s.waiting_bytes,
            keys: s.keys,
        }
    }
}

/// Session-wide counters.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SframeSessionStats {
    /// Streams now.
    pub streams: usize,
    /// Stream slots (`max_streams`).
    pub capacity: usize,
    /// Bytes of one stream slot (reassembly and wait buffers, records, receiver), allocated
    /// `capacity` times at creation.
    pub slot_bytes: usize,
    /// Keys in use.
    pub keys_active: usize,
    /// Removed KIDs still remembered.
    pub keys_removed: usize,
    /// Packets of new SSRCs refused because every slot held an authenticated stream.
    pub ssrcs_refused: u64,
    /// Streams that never authenticated a frame, evicted for a new SSRC.
    pub streams_evicted: u64,
    /// Packets that were not RTP, had no descriptor, or a payload too large.
    pub packets_malformed: u64,
    /// Keys a new stream could not install.
    pub key_install_failures: u64,
    /// Frames under KIDs the session has no entry for.
    pub unknown_kids: SframeKidCounters,
}

impl From<SessionStats> for SframeSessionStats {
    fn from(s: SessionStats) -> Self {
        SframeSessionStats {
            streams: s.streams,
            capacity: s.capacity,
            slot_bytes: SLOT_BYTES,
            keys_active: s.keys_active,
            keys_removed: s.keys_removed,
            ssrcs_refused: s.ssrcs_refused,
            streams_evicted: s.streams_evicted,
            packets_malformed: s.packets_malformed,
            key_install_failures: s.key_install_failures,
            unknown_kids: s.unknown_kids.into(),
        }
    }
}

/// The size of one stream slot of [`Session`]: the slot value and the buffers it allocates
/// on the heap (packet records, reassembly bytes, frame records, wait bytes).
const SLOT_BYTES: usize = std::mem::size_of::<
    sframe_core::rtp::session::BoxedStreamSlot<
        SFRAME_SESSION_MAX_PACKETS,
        SFRAME_SESSION_MAX_FRAME_SIZE,
        SFRAME_SESSION_WAIT_FRAMES,
        SFRAME_SESSION_WAIT_BYTES,
    >,
>() + SFRAME_SESSION_MAX_PACKETS
    * std::mem::size_of::<sframe_core::rtp::PacketSlot>()
    + SFRAME_SESSION_MAX_FRAME_SIZE
    + SFRAME_SESSION_WAIT_FRAMES * std::mem::size_of::<sframe_core::keywait::WaitSlot>()
    + SFRAME_SESSION_WAIT_BYTES;

/// Creates a receive session for `cipher_suite` (1..8, default receiver settings: replay
/// window `SFRAME_DEFAULT_REPLAY_WINDOW`) with `max_streams` stream slots
/// (1..`SFRAME_SESSION_MAX_STREAMS`), per-SSRC keys (§7) if `per_ssrc_keys`, and frames
/// waiting at most `max_wait_ms` for their key (in the unit of the `now_ms` arguments;
/// `SFRAME_SESSION_NO_MAX_WAIT` for no limit). Writes it to `*out` (NULL on error). All its
/// memory is allocated here, on the heap (see `SframeReceiveSession`); nothing after. Each
/// slot's buffers are allocated in place on the heap, never on the caller's stack, so this
/// works from threads with small stacks (128 KiB, in debug builds too).
/// Errors: NULL_POINTER, UNSUPPORTED_CIPHER_SUITE, INVALID_CONFIG (`max_streams` out of
/// range).
///
/// # Safety
/// `out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_receive_session_new(
    cipher_suite: u16,
    per_ssrc_keys: bool,
    max_streams: usize,
    max_wait_ms: u64,
    out: *mut *mut SframeReceiveSession,
) -> SframeStatus {
    guard(|| {
        non_null(out)?;
        // SAFETY: non-NULL, caller's contract.
        unsafe { store(out, std::ptr::null_mut()) };
        let suite = CipherSuite::from_id(cipher_suite)?;
        if !(1..=SFRAME_SESSION_MAX_STREAMS).contains(&max_streams) {
            return Err(SframeStatus::SFRAME_ERR_INVALID_CONFIG);
        }
        let config = SessionConfig::new(ReceiverConfig::new(suite))
            .with_per_ssrc_keys(per_ssrc_keys)
            .with_max_wait(max_wait_ms);
        let r = Box::into_raw(Box::new(SframeReceiveSession {
            inner: Session::with_capacity(config, max_streams),
        }));
        // SAFETY: non-NULL, caller's contract.
        unsafe { store(out, r) };
        Ok(())
    })
}

/// Frees a receive session, zeroizing its keys. NULL is a no-op.
///
/// # Safety
/// `r` is NULL or a pointer from `sframe_receive_session_new` not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_receive_session_free(r: *mut SframeReceiveSession) {
    // SAFETY: caller's contract.
    unsafe { free_handle(r) }
}

/// Adds the key `base_key` for `kid` (with per-SSRC keys, each stream derives its own). Frames
/// waiting for `kid` come out of the next polls. The same key again changes nothing; other
/// material under a KID in use replaces it (give new material a new KID).
/// Errors (nothing changed): NULL_POINTER, INVALID_KEY (under 16 bytes, or over 64 with
/// per-SSRC keys), STALE_EPOCH (a KID this session removed: use a new KID), KEY_STORE_FULL
/// (`SFRAME_SESSION_MAX_KIDS` KIDs in use).
///
/// # Safety
/// `r` is NULL or a live session; `base_key` is NULL or readable for `base_key_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_receive_session_add_key(
    r: *mut SframeReceiveSession,
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

/// Adds a ratcheting sender's key (§5.1; with per-SSRC keys, draft §8): `kid` built with
/// `ratchet_bits` and the base key of that step; frames of later steps of its generation
/// decrypt too and count as this key's. Errors: as `sframe_receive_session_add_key`, and
/// INVALID_CONFIG (`ratchet_bits` not 2..63).
///
/// # Safety
/// As `sframe_receive_session_add_key`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_receive_session_add_ratcheting_key(
    r: *mut SframeReceiveSession,
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

/// Removes the key added as `kid` (zeroized): later frames under it fail (UNKNOWN_KEY_ID
/// events), frames waiting for it are dropped, and the KID cannot be added again while the
/// session remembers it. Errors: NULL_POINTER, UNKNOWN_KEY_ID (no key in use under `kid`).
///
/// # Safety
/// `r` is NULL or a live session.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_receive_session_remove_key(
    r: *mut SframeReceiveSession,
    kid: u64,
) -> SframeStatus {
    guard(|| {
        // SAFETY: caller's contract.
        found(unsafe { handle_mut(r)? }.inner.remove_key(kid))
    })
}

/// Takes one received RTP packet (whole: header, payload, padding) at time `now_ms`, and
/// writes what happened to `*result` (if not NULL). Then call `sframe_receive_session_poll`
/// until it reports NONE. Errors, nothing stored: NULL_POINTER, MALFORMED_FRAME (not RTP, or
/// no descriptor), BUFFER_TOO_SMALL (payload over `SFRAME_SESSION_MAX_FRAME_SIZE`),
/// INVALID_ARGUMENT.
///
/// # Safety
/// `r` is NULL or a live session; `packet` is NULL or readable for `packet_len` bytes;
/// `result` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_receive_session_push_packet(
    r: *mut SframeReceiveSession,
    packet: *const u8,
    packet_len: usize,
    now_ms: u64,
    result: *mut SframeRtpPushed,
) -> SframeStatus {
    guard(|| {
        // SAFETY: caller's contract.
        let (r, packet) = unsafe { (&mut handle_mut(r)?.inner, input(packet, packet_len)?) };
        let pushed = match r.push_packet(packet, now_ms)? {
            Pushed::Packet(p) => crate::rtp::pushed(p),
            Pushed::StreamRefused => SframeRtpPushed::SFRAME_RTP_STREAM_REFUSED,
        };
        // SAFETY: NULL or writable (caller's contract).
        unsafe { store(result, pushed) };
        Ok(())
    })
}

/// Does at most one frame's work and writes the event to `*event`: kind NONE when there is
/// nothing to do. A FRAME's plaintext is `out[0..event->len]` (`SFRAME_SESSION_MAX_FRAME_SIZE`
/// bytes always suffice; a shorter `out` fails larger frames with a FAILED event, error
/// BUFFER_TOO_SMALL). A frame that fails is an event, not an error status. Frames that waited
/// longer than `max_wait_ms` at `now_ms` are dropped first. Call until NONE after every
/// packet and key change. Errors: NULL_POINTER, INVALID_ARGUMENT.
///
/// # Safety
/// `r` is NULL or a live session; `out` is NULL or writable for `out_cap` bytes; `event` is
/// NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_receive_session_poll(
    r: *mut SframeReceiveSession,
    out: *mut u8,
    out_cap: usize,
    now_ms: u64,
    event: *mut SframeSessionEvent,
) -> SframeStatus {
    // SAFETY: NULL or writable (caller's contract).
    unsafe { store(event, SframeSessionEvent::NONE) };
    guard(|| {
        non_null(event)?;
        // SAFETY: caller's contract.
        let (r, out) = unsafe { (&mut handle_mut(r)?.inner, output(out, out_cap)?) };
        let value = SframeSessionEvent::from_core(r.poll(out, now_ms));
        // SAFETY: non-NULL, caller's contract.
        unsafe { store(event, value) };
        Ok(())
    })
}

/// Writes the state and counters of stream `ssrc` to `*stats` and whether there is such a
/// stream to `*found` (`*stats` unchanged if not). Errors: NULL_POINTER.
///
/// # Safety
/// `r` is NULL or a live session; `stats` and `found` are NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_receive_session_stream_stats(
    r: *const SframeReceiveSession,
    ssrc: u32,
    stats: *mut SframeStreamStats,
    found: *mut bool,
) -> SframeStatus {
    guard(|| {
        non_null(stats)?;
        non_null(found)?;
        // SAFETY: caller's contract.
        let value = unsafe { handle(r)? }.inner.stream_stats(ssrc);
        // SAFETY: non-NULL, caller's contract.
        unsafe {
            store(found, value.is_some());
            if let Some(v) = value {
                store(stats, v.into());
            }
        }
        Ok(())
    })
}

/// Writes what the session knows about `kid` (a key in use or a removed KID it remembers) to
/// `*stats` and whether it knows it to `*found` (`*stats` unchanged if not).
/// Errors: NULL_POINTER.
///
/// # Safety
/// `r` is NULL or a live session; `stats` and `found` are NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_receive_session_kid_stats(
    r: *const SframeReceiveSession,
    kid: u64,
    stats: *mut SframeKidStats,
    found: *mut bool,
) -> SframeStatus {
    guard(|| {
        non_null(stats)?;
        non_null(found)?;
        // SAFETY: caller's contract.
        let value = unsafe { handle(r)? }.inner.kid_stats(kid);
        // SAFETY: non-NULL, caller's contract.
        unsafe {
            store(found, value.is_some());
            if let Some(v) = value {
                store(stats, v.into());
            }
        }
        Ok(())
    })
}

/// Writes the session-wide counters to `*stats`. Errors: NULL_POINTER.
///
/// # Safety
/// `r` is NULL or a live session; `stats` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sframe_receive_session_stats(
    r: *const SframeReceiveSession,
    stats: *mut SframeSessionStats,
) -> SframeStatus {
    guard(|| {
        non_null(stats)?;
        // SAFETY: caller's contract.
        let value = unsafe { handle(r)? }.inner.stats();
        // SAFETY: non-NULL, caller's contract.
        unsafe { store(stats, value.into()) };
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One stream slot is its reassembly and wait buffers, and not much more: the figure
    /// `sframe.h` and the README give per stream.
    #[test]
    fn slot_size_is_the_buffers_and_little_more() {
        let buffers = SFRAME_SESSION_MAX_FRAME_SIZE + SFRAME_SESSION_WAIT_BYTES;
        eprintln!("slot: {SLOT_BYTES} bytes");
        assert!(SLOT_BYTES >= buffers);
        assert!(SLOT_BYTES < buffers + 128 * 1024, "{SLOT_BYTES}");
    }
}
