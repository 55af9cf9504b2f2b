//! The receive side of an SFrame RTP session: a [`ReceiveSession`] over any number of SSRCs up
//! to a bound — draft-ietf-avtcore-rtp-sframe §5.2 (depacketization, one depacketizer per
//! SSRC), §7 (per-SSRC keys) and §8 (ratcheting with them); RFC 9605 §4.4.4 (decryption, and
//! frames held until their key arrives, with §6.2), §5.1 (ratchet), §9.3 (replay).

use crate::error::{Error, Result};
use crate::header::Header;
use crate::key::Key;
use crate::key::MIN_BASE_KEY_LEN;
use crate::keystore::{DefaultKeyStore, KeyStore};
use crate::keywait::{
    DropReason, GenericKeyWaitBuffer, Held, KeyWaitBuffer, KeyWaitLimits, WaitSlot, Waiting,
};
use crate::ratchet::RatchetLayout;
use crate::receiver::{Receiver, ReceiverConfig};
use crate::rtp::{
    self, Depacketizer, DepacketizerStats, GenericDepacketizer, Mode, PacketSlot, RtpFrame,
    RtpHeader, RtpPacket,
};

use super::send::MAX_SSRC_KEY_LEN;

/// Most KIDs a [`ReceiveSession`] keeps in its table (its `KIDS` parameter, 1..=64): each
/// stream marks the KIDs it authenticated in a 64-bit set.
pub const MAX_SESSION_KIDS: usize = 64;

/// The settings of a [`ReceiveSession`], fixed at construction.
///
/// ```
/// use sframe_core::{CipherSuite, ReceiverConfig};
/// use sframe_core::rtp::session::SessionConfig;
/// let config = SessionConfig::new(ReceiverConfig::new(CipherSuite::AesCtr256HmacSha512_80))
///     .with_per_ssrc_keys(true)
///     .with_max_wait(1500); // ms, if `now` is in ms
/// assert!(config.per_ssrc_keys());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionConfig {
    receiver: ReceiverConfig,
    per_ssrc_keys: bool,
    max_wait: u64,
}

impl SessionConfig {
    /// Every stream decrypts with `receiver`'s settings (suite, replay window, limits, ratchet
    /// look-ahead; its MLS settings are not used). Keys are used as given, and frames wait
    /// for their key until pushed out by newer ones (no age limit).
    pub const fn new(receiver: ReceiverConfig) -> Self {
        SessionConfig {
            receiver,
            per_ssrc_keys: false,
            max_wait: u64::MAX,
        }
    }

    /// With per-SSRC keys (draft §7) on or off. On: each stream derives its own key from every
    /// session key for its SSRC, once (when the key is added, or when the stream appears),
    /// and has its own key store and replay windows; a frame authenticates only on the SSRC
    /// it was sent on. Off: the streams share one [`Receiver`], so one replay window per key
    /// covers all SSRCs (a frame comes out once, whatever SSRC it arrives under), but nothing
    /// binds a frame to its SSRC: the SSRC is not authenticated (RFC 9605 authenticates the
    /// SFrame header and metadata only), and a frame re-sent under another SSRC comes out
    /// under that one. Prefer per-SSRC keys where the peer supports them.
    pub const fn with_per_ssrc_keys(self, per_ssrc_keys: bool) -> Self {
        SessionConfig {
            per_ssrc_keys,
            ..self
        }
    }

    /// With the longest time a frame waits for its key, in the unit of the `now` values given
    /// to [`ReceiveSession::poll`] and [`ReceiveSession::push_packet`].
    pub const fn with_max_wait(self, max_wait: u64) -> Self {
        SessionConfig { max_wait, ..self }
    }

    /// The receivers' settings.
    pub const fn receiver(&self) -> &ReceiverConfig {
        &self.receiver
    }

    /// Whether keys are per SSRC.
    pub const fn per_ssrc_keys(&self) -> bool {
        self.per_ssrc_keys
    }

    /// The longest wait for a key.
    pub const fn max_wait(&self) -> u64 {
        self.max_wait
    }
}

// ---------------------------------------------------------------------------------------------
// Events and statistics
// ---------------------------------------------------------------------------------------------

/// What [`ReceiveSession::push_packet`] did with a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Pushed {
    /// Given to its SSRC's depacketizer, which said this.
    Packet(rtp::Pushed),
    /// Ignored: a new SSRC, and every stream slot holds a stream that authenticated a frame
    /// (counted in [`SessionStats::ssrcs_refused`]).
    StreamRefused,
}

/// A decrypted frame, written to the start of the buffer given to [`ReceiveSession::poll`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ReceivedFrame {
    /// The SSRC.
    pub ssrc: u32,
    /// The payload type.
    pub payload_type: u8,
    /// The RTP timestamp.
    pub timestamp: u32,
    /// The marker bit of its last packet.
    pub marker: bool,
    /// Per-frame or per-packet SFrame (the T bit). Per-packet: the plaintext is a media RTP
    /// payload for the media depacketizer.
    pub mode: Mode,
    /// The sequence number of its first packet.
    pub first_sequence: u16,
    /// The KID it authenticated under.
    pub kid: u64,
    /// Its SFrame counter.
    pub counter: u64,
    /// Length of the plaintext.
    pub len: usize,
    /// Whether it waited for its key.
    pub from_buffer: bool,
}

/// What [`ReceiveSession::poll`] reports. Every complete frame gives exactly one `Frame`,
/// `AwaitingKey` or `Failed`; a frame that waited gives a second one when it leaves the wait
/// (or is counted as dropped, see [`StreamStats`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Event {
    /// A frame authenticated: its plaintext is `out[..frame.len]`.
    Frame(ReceivedFrame),
    /// The first frame that authenticated under the key added as `kid` on stream `ssrc`
    /// (for a ratcheting key, under any of its steps). `first` is set for the first stream
    /// of the session: every peer has switched once each of their SSRCs has reported it,
    /// and an older key can be removed. Reported after that frame, at most once per stream
    /// and key.
    KeyAuthenticated {
        /// The KID the key was added under.
        kid: u64,
        /// The stream.
        ssrc: u32,
        /// The first stream of the session to authenticate a frame under this key.
        first: bool,
    },
    /// A complete frame whose KID has no key yet now waits for it (RFC 9605 §4.4.4): the
    /// application may want to ask for that key.
    AwaitingKey {
        /// The stream.
        ssrc: u32,
        /// The KID it waits for (unauthenticated: whatever the packet says).
        kid: u64,
        /// Its counter (unauthenticated).
        counter: u64,
    },
    /// A frame was dropped: `error` says why ([`Error::AuthenticationFailed`],
    /// [`Error::Replay`], [`Error::UnknownKeyId`] for a removed KID or a frame that cannot
    /// wait, [`Error::MalformedFrame`], [`Error::BufferTooSmall`] for an output buffer
    /// shorter than the frame, [`Error::KeyUsageLimit`]).
    Failed {
        /// The stream.
        ssrc: u32,
        /// The frame's KID, if its SFrame header parsed.
        kid: Option<u64>,
        /// Why.
        error: Error,
    },
}

/// Frames that failed, by reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Failures {
    /// [`Error::AuthenticationFailed`].
    pub authentication: u64,
    /// [`Error::Replay`].
    pub replay: u64,
    /// [`Error::UnknownKeyId`]: under a removed KID, or no key and no room to wait.
    pub unknown_key: u64,
    /// [`Error::MalformedFrame`]: no SFrame header, or shorter than header and tag.
    pub malformed: u64,
    /// [`Error::KeyUsageLimit`]: the key's forgery limit is reached.
    pub usage_limit: u64,
    /// Anything else (e.g. [`Error::BufferTooSmall`]).
    pub other: u64,
}

impl Failures {
    const ZERO: Failures = Failures {
        authentication: 0,
        replay: 0,
        unknown_key: 0,
        malformed: 0,
        usage_limit: 0,
        other: 0,
    };

    fn count(&mut self, error: Error) {
        let n = match error {
            Error::AuthenticationFailed => &mut self.authentication,
            Error::Replay => &mut self.replay,
            Error::UnknownKeyId => &mut self.unknown_key,
            Error::MalformedFrame => &mut self.malformed,
            Error::KeyUsageLimit => &mut self.usage_limit,
            _ => &mut self.other,
        };
        *n = n.saturating_add(1);
    }

    /// All failures.
    pub fn total(&self) -> u64 {
        self.authentication
            .saturating_add(self.replay)
            .saturating_add(self.unknown_key)
            .saturating_add(self.malformed)
            .saturating_add(self.usage_limit)
            .saturating_add(self.other)
    }
}

/// Frame counters of one KID (in [`KidStats`]) or of the KIDs the session has no entry for
/// ([`SessionStats::unknown_kids`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct KidCounters {
    /// Complete frames that arrived under the KID (each once, whether it then waited or not).
    pub frames_in: u64,
    /// Their SFrame bytes.
    pub bytes_in: u64,
    /// Frames authenticated and delivered.
    pub frames: u64,
    /// Plaintext bytes delivered.
    pub bytes: u64,
    /// Frames that failed.
    pub failures: Failures,
    /// Frames that went to wait for the key.
    pub waited: u64,
    /// Waiting frames released to be decrypted once the key came.
    pub released: u64,
    /// Waiting frames dropped (pushed out by newer ones, too old, too big, or their key or
    /// stream removed).
    pub dropped: u64,
}

impl KidCounters {
    const ZERO: KidCounters = KidCounters {
        frames_in: 0,
        bytes_in: 0,
        frames: 0,
        bytes: 0,
        failures: Failures::ZERO,
        waited: 0,
        released: 0,
        dropped: 0,
    };
}

/// What the session knows about one KID of its table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KidStats {
    /// The KID the key was added under.
    pub kid: u64,
    /// Whether the key is in use (false: removed, remembered so that its frames fail and it
    /// is not added again).
    pub active: bool,
    /// The ratchet layout of a ratcheting key.
    pub ratchet: Option<RatchetLayout>,
    /// Whether a frame authenticated under it.
    pub authenticated: bool,
    /// On how many of the current streams a frame authenticated under it.
    pub streams_authenticated: u32,
    /// Frames waiting for it now, over all streams.
    pub waiting: usize,
    /// The counters.
    pub counters: KidCounters,
}

/// The state and counters of one stream (SSRC).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct StreamStats {
    /// The SSRC.
    pub ssrc: u32,
    /// Whether a frame authenticated on it (such a stream is never evicted for a new SSRC).
    pub authenticated: bool,
    /// The depacketizer's counters (packets, duplicates, late, evicted, frames, dropped).
    pub packets: DepacketizerStats,
    /// Packets stored in the depacketizer now (at most its `PACKETS`).
    pub stored_packets: usize,
    /// Payload bytes stored in the depacketizer now (at most its `BYTES`).
    pub stored_bytes: usize,
    /// Complete frames taken from the depacketizer.
    pub frames_in: u64,
    /// Their SFrame bytes.
    pub bytes_in: u64,
    /// Frames authenticated and delivered.
    pub frames_out: u64,
    /// Plaintext bytes delivered.
    pub bytes_out: u64,
    /// Frames that failed.
    pub failures: Failures,
    /// Frames that went to wait for their key.
    pub waited: u64,
    /// Waiting frames released once their key came.
    pub released: u64,
    /// Waiting frames pushed out by newer ones.
    pub dropped_overflow: u64,
    /// Waiting frames older than [`SessionConfig::max_wait`].
    pub dropped_expired: u64,
    /// Frames too big to wait.
    pub dropped_too_big: u64,
    /// Waiting frames dropped because their key was removed.
    pub dropped_removed: u64,
    /// Frames waiting now (at most `WAIT_FRAMES`).
    pub waiting: usize,
    /// Bytes waiting now (at most `WAIT_BYTES`).
    pub waiting_bytes: usize,
    /// Keys in the stream's key store (with per-SSRC keys; else the shared receiver's).
    pub keys: usize,
}

impl StreamStats {
    const ZERO: StreamStats = StreamStats {
        ssrc: 0,
        authenticated: false,
        packets: DepacketizerStats {
            packets: 0,
            duplicates: 0,
            late: 0,
            evicted: 0,
            frames: 0,
            dropped_frames: 0,
            too_far_ahead: 0,
            resyncs: 0,
        },
        stored_packets: 0,
        stored_bytes: 0,
        frames_in: 0,
        bytes_in: 0,
        frames_out: 0,
        bytes_out: 0,
        failures: Failures::ZERO,
        waited: 0,
        released: 0,
        dropped_overflow: 0,
        dropped_expired: 0,
        dropped_too_big: 0,
        dropped_removed: 0,
        waiting: 0,
        waiting_bytes: 0,
        keys: 0,
    };
}

/// Session-wide counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SessionStats {
    /// Streams now.
    pub streams: usize,
    /// Stream slots (the bound on streams).
    pub capacity: usize,
    /// Keys in use.
    pub keys_active: usize,
    /// Removed KIDs still remembered.
    pub keys_removed: usize,
    /// Packets from new SSRCs ignored because every slot held an authenticated stream.
    pub ssrcs_refused: u64,
    /// Streams that never authenticated a frame, evicted for a new SSRC.
    pub streams_evicted: u64,
    /// Packets that were not RTP, or had no SFrame descriptor, or a payload larger than a
    /// depacketizer holds.
    pub packets_malformed: u64,
    /// Keys a new stream could not install (its key store was full).
    pub key_install_failures: u64,
    /// Frames under KIDs the session has no entry for.
    pub unknown_kids: KidCounters,
}

impl SessionStats {
    const ZERO: SessionStats = SessionStats {
        streams: 0,
        capacity: 0,
        keys_active: 0,
        keys_removed: 0,
        ssrcs_refused: 0,
        streams_evicted: 0,
        packets_malformed: 0,
        key_install_failures: 0,
        unknown_kids: KidCounters::ZERO,
    };
}

// ---------------------------------------------------------------------------------------------
// The KID table
// ---------------------------------------------------------------------------------------------

/// A session base key, zeroized when dropped or overwritten.
struct KeyBytes {
    bytes: [u8; MAX_SSRC_KEY_LEN],
    len: usize,
}

impl KeyBytes {
    const EMPTY: KeyBytes = KeyBytes {
        bytes: [0; MAX_SSRC_KEY_LEN],
        len: 0,
    };

    fn get(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or(&[])
    }

    fn set(&mut self, key: &[u8]) -> Result<()> {
        let dst = self.bytes.get_mut(..key.len()).ok_or(Error::InvalidKey)?;
        dst.copy_from_slice(key);
        self.len = key.len();
        Ok(())
    }

    fn clear(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.bytes);
        self.len = 0;
    }
}

impl Drop for KeyBytes {
    fn drop(&mut self) {
        self.clear();
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum KidState {
    Free,
    Active,
    /// Removed; the number orders removals (the oldest is forgotten first).
    Removed(u64),
}

struct KidSlot {
    kid: u64,
    state: KidState,
    ratchet: Option<RatchetLayout>,
    /// The session base key (kept only with per-SSRC keys: new streams derive from it).
    base: KeyBytes,
    /// The application holds the base key ([`ReceiveSession::add_external_key`]): `base` is
    /// empty and each stream's key comes from [`ReceiveSession::add_stream_key`].
    external: bool,
    authenticated: bool,
    counters: KidCounters,
}

impl KidSlot {
    const EMPTY: KidSlot = KidSlot {
        kid: 0,
        state: KidState::Free,
        ratchet: None,
        base: KeyBytes::EMPTY,
        external: false,
        authenticated: false,
        counters: KidCounters::ZERO,
    };

    /// Whether frames under `frame_kid` use this key: its KID, or for a ratcheting key any
    /// step of its generation.
    fn covers(&self, frame_kid: u64) -> bool {
        match self.ratchet {
            None => self.kid == frame_kid,
            Some(layout) => layout.generation(self.kid) == layout.generation(frame_kid),
        }
    }
}

/// The table index of the key that frames under `frame_kid` use: a key in use before a
/// removed one, and the exact KID before a ratcheting key's generation.
fn kid_index(kids: &[KidSlot], frame_kid: u64) -> Option<usize> {
    let find = |active: bool, exact: bool| {
        kids.iter().position(|s| {
            let state = if active {
                s.state == KidState::Active
            } else {
                matches!(s.state, KidState::Removed(_))
            };
            state
                && if exact {
                    s.kid == frame_kid
                } else {
                    s.covers(frame_kid)
                }
        })
    };
    find(true, true)
        .or_else(|| find(true, false))
        .or_else(|| find(false, true))
        .or_else(|| find(false, false))
}

/// The counters of `frame_kid`: its table entry's, or the unknown bucket.
fn counters_of<'a>(
    kids: &'a mut [KidSlot],
    unknown: &'a mut KidCounters,
    frame_kid: u64,
) -> &'a mut KidCounters {
    match kid_index(kids, frame_kid) {
        Some(i) => match kids.get_mut(i) {
            Some(slot) => &mut slot.counters,
            None => unknown,
        },
        None => unknown,
    }
}

fn bump(n: &mut u64) {
    *n = n.saturating_add(1);
}

fn add(n: &mut u64, by: usize) {
    *n = n.saturating_add(by as u64);
}

// ---------------------------------------------------------------------------------------------
// Streams
// ---------------------------------------------------------------------------------------------

/// A stream's bookkeeping (apart from its buffers, so that both can be borrowed at once).
struct Track {
    authenticated: bool,
    last_packet: u64,
    /// Table entries (bit i: KID table index i) a frame authenticated under on this stream.
    auth_kids: u64,
    /// `KeyAuthenticated` events to report, and which of them are the session's first.
    pending_auth: u64,
    pending_first: u64,
    /// A key was added: waiting frames may have theirs now.
    recheck: bool,
    /// Table entries of external keys whose key this stream was given
    /// ([`ReceiveSession::add_stream_key`]) since the KID was last added.
    external_keys: u64,
    stats: StreamStats,
}

impl Track {
    const EMPTY: Track = Track {
        authenticated: false,
        last_packet: 0,
        auth_kids: 0,
        pending_auth: 0,
        pending_first: 0,
        recheck: false,
        external_keys: 0,
        stats: StreamStats::ZERO,
    };
}

/// How a [`GenericStreamSlot`] stores its buffers: inline arrays ([`InlineSlots`], for a
/// `static` in `no_std`) or heap slices allocated in place ([`BoxedSlots`], feature `alloc`),
/// of `PACKETS` packets and `BYTES` payload bytes in reassembly and `WAIT_FRAMES` frames and
/// `WAIT_BYTES` bytes waiting for a key. Sealed: only these two.
pub trait SlotStorage: sealed::Sealed + 'static {
    /// The depacketizer's packet records.
    type Packets: AsRef<[PacketSlot]> + AsMut<[PacketSlot]>;
    /// The depacketizer's payload bytes.
    type Bytes: AsRef<[u8]> + AsMut<[u8]>;
    /// The key-wait buffer's frame records.
    type WaitSlots: AsRef<[WaitSlot]> + AsMut<[WaitSlot]>;
    /// The key-wait buffer's frame bytes.
    type WaitBytes: AsRef<[u8]> + AsMut<[u8]>;
    /// The depacketizer's payload bytes: the largest frame.
    const BYTES: usize;
}

/// [`SlotStorage`]: every buffer inline in the slot (arrays).
#[derive(Debug)]
pub enum InlineSlots<
    const PACKETS: usize,
    const BYTES: usize,
    const WAIT_FRAMES: usize,
    const WAIT_BYTES: usize,
> {}

impl<const PACKETS: usize, const BYTES: usize, const WAIT_FRAMES: usize, const WAIT_BYTES: usize>
    sealed::Sealed for InlineSlots<PACKETS, BYTES, WAIT_FRAMES, WAIT_BYTES>
{
}

impl<const PACKETS: usize, const BYTES: usize, const WAIT_FRAMES: usize, const WAIT_BYTES: usize>
    SlotStorage for InlineSlots<PACKETS, BYTES, WAIT_FRAMES, WAIT_BYTES>
{
    type Packets = [PacketSlot; PACKETS];
    type Bytes = [u8; BYTES];
    type WaitSlots = [WaitSlot; WAIT_FRAMES];
    type WaitBytes = [u8; WAIT_BYTES];
    const BYTES: usize = BYTES;
}

/// [`SlotStorage`]: every buffer of the slot on the heap, allocated in place (feature
/// `alloc`), so that no slot's buffers ever pass through the stack.
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
#[derive(Debug)]
pub enum BoxedSlots<
    const PACKETS: usize,
    const BYTES: usize,
    const WAIT_FRAMES: usize,
    const WAIT_BYTES: usize,
> {}

#[cfg(feature = "alloc")]
impl<const PACKETS: usize, const BYTES: usize, const WAIT_FRAMES: usize, const WAIT_BYTES: usize>
    sealed::Sealed for BoxedSlots<PACKETS, BYTES, WAIT_FRAMES, WAIT_BYTES>
{
}

#[cfg(feature = "alloc")]
impl<const PACKETS: usize, const BYTES: usize, const WAIT_FRAMES: usize, const WAIT_BYTES: usize>
    SlotStorage for BoxedSlots<PACKETS, BYTES, WAIT_FRAMES, WAIT_BYTES>
{
    type Packets = alloc::boxed::Box<[PacketSlot]>;
    type Bytes = alloc::boxed::Box<[u8]>;
    type WaitSlots = alloc::boxed::Box<[WaitSlot]>;
    type WaitBytes = alloc::boxed::Box<[u8]>;
    const BYTES: usize = BYTES;
}

/// The state of one stream (SSRC) of a [`ReceiveSession`]: a depacketizer of `PACKETS`
/// packets and `BYTES` payload bytes (§5.2, [`GenericDepacketizer`]), a buffer of frames
/// waiting for their key of `WAIT_FRAMES` frames and `WAIT_BYTES` bytes
/// ([`GenericKeyWaitBuffer`]; with `WAIT_FRAMES = 0` nothing waits: such frames fail), and
/// with per-SSRC keys its own [`Receiver`] with key store `S` (which names the crypto
/// backend, e.g. `FixedKeyStore<8, RustCrypto>`). Its buffers are stored as `K` says:
/// inline ([`StreamSlot`]) or on the heap ([`BoxedStreamSlot`]).
pub struct GenericStreamSlot<K: SlotStorage, S: KeyStore = DefaultKeyStore> {
    ssrc: Option<u32>,
    depacketizer: GenericDepacketizer<K::Packets, K::Bytes>,
    waiting: Option<GenericKeyWaitBuffer<K::WaitSlots, K::WaitBytes>>,
    /// With per-SSRC keys: the stream's own receiver (made when the slot is taken).
    receiver: Option<Receiver<S>>,
    track: Track,
}

/// A stream slot with its buffers inline (see [`GenericStreamSlot`]): `BYTES + WAIT_BYTES`
/// bytes plus the packet and frame records, 16 KiB of sequence history and the receiver
/// (`core::mem::size_of` tells exactly). An [`InlineReceiveSession`] holds one per stream
/// slot, so put the session in a `static` in `no_std`, or use a [`BoxedReceiveSession`].
pub type StreamSlot<
    const PACKETS: usize,
    const BYTES: usize,
    const WAIT_FRAMES: usize,
    const WAIT_BYTES: usize,
    S = DefaultKeyStore,
> = GenericStreamSlot<InlineSlots<PACKETS, BYTES, WAIT_FRAMES, WAIT_BYTES>, S>;

/// A stream slot with its reassembly and wait buffers on the heap, allocated in place (see
/// [`GenericStreamSlot`]; feature `alloc`): what a [`BoxedReceiveSession`] holds. The slot
/// value itself is its 16 KiB of sequence history, the receiver and a few words.
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub type BoxedStreamSlot<
    const PACKETS: usize,
    const BYTES: usize,
    const WAIT_FRAMES: usize,
    const WAIT_BYTES: usize,
    S = DefaultKeyStore,
> = GenericStreamSlot<BoxedSlots<PACKETS, BYTES, WAIT_FRAMES, WAIT_BYTES>, S>;

/// The limits of a slot's key-wait buffer: the session applies its own age limit; the
/// buffer's bounds are its capacity.
const fn wait_limits<const WAIT_FRAMES: usize, const WAIT_BYTES: usize>() -> KeyWaitLimits {
    KeyWaitLimits::capacity::<WAIT_FRAMES, WAIT_BYTES>(u64::MAX)
}

impl<const PACKETS: usize, const BYTES: usize, const WAIT_FRAMES: usize, const WAIT_BYTES: usize, S>
    StreamSlot<PACKETS, BYTES, WAIT_FRAMES, WAIT_BYTES, S>
where
    S: KeyStore,
{
    const EMPTY: Self = GenericStreamSlot {
        ssrc: None,
        depacketizer: Depacketizer::new(),
        waiting: match KeyWaitBuffer::new(wait_limits::<WAIT_FRAMES, WAIT_BYTES>()) {
            Ok(buffer) => Some(buffer),
            Err(_) => None,
        },
        receiver: None,
        track: Track::EMPTY,
    };

    /// An empty slot.
    pub const fn new() -> Self {
        Self::EMPTY
    }
}

impl<const PACKETS: usize, const BYTES: usize, const WAIT_FRAMES: usize, const WAIT_BYTES: usize, S>
    Default for StreamSlot<PACKETS, BYTES, WAIT_FRAMES, WAIT_BYTES, S>
where
    S: KeyStore,
{
    fn default() -> Self {
        Self::EMPTY
    }
}

#[cfg(feature = "alloc")]
impl<const PACKETS: usize, const BYTES: usize, const WAIT_FRAMES: usize, const WAIT_BYTES: usize, S>
    BoxedStreamSlot<PACKETS, BYTES, WAIT_FRAMES, WAIT_BYTES, S>
where
    S: KeyStore,
{
    /// An empty slot, its buffers allocated on the heap in place: the stack holds only the
    /// slot value (sequence history, receiver, counters), never its buffers.
    pub fn new() -> Self {
        let waiting = GenericKeyWaitBuffer::with_storage(
            wait_limits::<WAIT_FRAMES, WAIT_BYTES>(),
            alloc::vec![WaitSlot::EMPTY; WAIT_FRAMES].into_boxed_slice(),
            alloc::vec![0u8; WAIT_BYTES].into_boxed_slice(),
        );
        GenericStreamSlot {
            ssrc: None,
            depacketizer: GenericDepacketizer::with_storage(
                alloc::vec![PacketSlot::EMPTY; PACKETS].into_boxed_slice(),
                alloc::vec![0u8; BYTES].into_boxed_slice(),
            ),
            waiting: waiting.ok(),
            receiver: None,
            track: Track::EMPTY,
        }
    }
}

#[cfg(feature = "alloc")]
impl<const PACKETS: usize, const BYTES: usize, const WAIT_FRAMES: usize, const WAIT_BYTES: usize, S>
    Default for BoxedStreamSlot<PACKETS, BYTES, WAIT_FRAMES, WAIT_BYTES, S>
where
    S: KeyStore,
{
    fn default() -> Self {
        Self::new()
    }
}

impl<K: SlotStorage, S: KeyStore> GenericStreamSlot<K, S> {
    fn stats(&self, shared: Option<&Receiver<S>>) -> StreamStats {
        let receiver = self.receiver.as_ref().or(shared);
        StreamStats {
            ssrc: self.ssrc.unwrap_or(0),
            authenticated: self.track.authenticated,
            packets: self.depacketizer.stats(),
            stored_packets: self.depacketizer.len(),
            stored_bytes: self.depacketizer.bytes_used(),
            waiting: self.waiting.as_ref().map_or(0, |w| w.len()),
            waiting_bytes: self.waiting.as_ref().map_or(0, |w| w.waiting_bytes()),
            keys: receiver.map_or(0, Receiver::key_count),
            ..self.track.stats
        }
    }
}

mod sealed {
    pub trait Sealed {}
}

/// Where a [`ReceiveSession`] keeps its [`GenericStreamSlot`]s: an array of inline slots
/// (`[StreamSlot<…>; N]`, for `no_std`) or, with `alloc`, a `Box<[BoxedStreamSlot<…>]>`.
/// The number of slots is the bound on streams. Sealed: only these two.
pub trait StreamStorage: sealed::Sealed {
    /// The slot type.
    type Slot;
    /// The key store of the receivers.
    type Store: KeyStore;
    /// The slots.
    fn slots(&self) -> &[Self::Slot];
    /// The slots.
    fn slots_mut(&mut self) -> &mut [Self::Slot];
}

impl<
    const N: usize,
    const PACKETS: usize,
    const BYTES: usize,
    const WAIT_FRAMES: usize,
    const WAIT_BYTES: usize,
    S: KeyStore,
> sealed::Sealed for [StreamSlot<PACKETS, BYTES, WAIT_FRAMES, WAIT_BYTES, S>; N]
{
}

impl<
    const N: usize,
    const PACKETS: usize,
    const BYTES: usize,
    const WAIT_FRAMES: usize,
    const WAIT_BYTES: usize,
    S: KeyStore,
> StreamStorage for [StreamSlot<PACKETS, BYTES, WAIT_FRAMES, WAIT_BYTES, S>; N]
{
    type Slot = StreamSlot<PACKETS, BYTES, WAIT_FRAMES, WAIT_BYTES, S>;
    type Store = S;
    fn slots(&self) -> &[Self::Slot] {
        self
    }
    fn slots_mut(&mut self) -> &mut [Self::Slot] {
        self
    }
}

#[cfg(feature = "alloc")]
impl<
    const PACKETS: usize,
    const BYTES: usize,
    const WAIT_FRAMES: usize,
    const WAIT_BYTES: usize,
    S: KeyStore,
> sealed::Sealed
    for alloc::boxed::Box<[BoxedStreamSlot<PACKETS, BYTES, WAIT_FRAMES, WAIT_BYTES, S>]>
{
}

#[cfg(feature = "alloc")]
impl<
    const PACKETS: usize,
    const BYTES: usize,
    const WAIT_FRAMES: usize,
    const WAIT_BYTES: usize,
    S: KeyStore,
> StreamStorage
    for alloc::boxed::Box<[BoxedStreamSlot<PACKETS, BYTES, WAIT_FRAMES, WAIT_BYTES, S>]>
{
    type Slot = BoxedStreamSlot<PACKETS, BYTES, WAIT_FRAMES, WAIT_BYTES, S>;
    type Store = S;
    fn slots(&self) -> &[Self::Slot] {
        self
    }
    fn slots_mut(&mut self) -> &mut [Self::Slot] {
        self
    }
}

/// A [`ReceiveSession`] with `N` stream slots inline: for a `static` (its constructor is a
/// `const fn`) or a `Box`.
pub type InlineReceiveSession<
    const N: usize,
    const PACKETS: usize,
    const BYTES: usize,
    const WAIT_FRAMES: usize,
    const WAIT_BYTES: usize,
    const KIDS: usize,
    S = DefaultKeyStore,
> = ReceiveSession<[StreamSlot<PACKETS, BYTES, WAIT_FRAMES, WAIT_BYTES, S>; N], KIDS>;

/// A [`ReceiveSession`] whose stream slots are on the heap, as many as given to
/// [`ReceiveSession::with_capacity`] (feature `alloc`).
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub type BoxedReceiveSession<
    const PACKETS: usize,
    const BYTES: usize,
    const WAIT_FRAMES: usize,
    const WAIT_BYTES: usize,
    const KIDS: usize,
    S = DefaultKeyStore,
> = ReceiveSession<
    alloc::boxed::Box<[BoxedStreamSlot<PACKETS, BYTES, WAIT_FRAMES, WAIT_BYTES, S>]>,
    KIDS,
>;

// ---------------------------------------------------------------------------------------------
// The session
// ---------------------------------------------------------------------------------------------

/// The receiving side of an SFrame RTP session: RTP packets of any SSRC in, decrypted frames
/// and events out, with keys added and removed by KID at any time. See the
/// [module docs](super) for an example.
///
/// ## Bounds
///
/// Everything that grows with what the network sends is bounded at construction:
///
/// * **Streams**: one [`StreamSlot`] per SSRC, made by its first packet, at most as many as
///   the storage `T` has slots ([`InlineReceiveSession`]: `N`; [`BoxedReceiveSession`]: the
///   number given to [`ReceiveSession::with_capacity`]). A packet of a new SSRC when all are
///   taken evicts, of the streams that never authenticated a frame, the one whose last
///   packet is oldest; if every stream authenticated a frame, the packet is refused
///   ([`Pushed::StreamRefused`], counted in [`SessionStats::ssrcs_refused`]). So packets
///   injected under made-up SSRCs never push out a stream that authenticates; they can push
///   out one that has not authenticated yet (e.g. whose key has not come). Otherwise a
///   stream leaves only by [`ReceiveSession::remove_stream`].
/// * **Packets and frames of a stream**: its depacketizer (`PACKETS` packets, `BYTES` bytes;
///   [`Depacketizer`]) and its frames waiting for a key (`WAIT_FRAMES` frames, `WAIT_BYTES`
///   bytes, and [`SessionConfig::max_wait`]; the oldest dropped first, counted). Each stream
///   has its own, so one stream's junk does not push out another's frames.
/// * **KIDs**: a table of `KIDS` (1..=[`MAX_SESSION_KIDS`]) entries, for keys in use and for
///   removed KIDs, remembered so that their frames fail instead of waiting and so that they
///   cannot be added again (which would accept replayed frames anew). A new key takes a free
///   entry, else the entry of the KID removed longest ago. KIDs that frames carry but the
///   table does not know are counted together ([`SessionStats::unknown_kids`]), never
///   stored. Events are not queued: each stream keeps two 64-bit sets of pending
///   [`Event::KeyAuthenticated`].
///
/// ## Keys
///
/// With per-SSRC keys each stream derives its keys once, when the key is added or when the
/// stream appears (a new SSRC costs one §7 derivation and one RFC 9605 §4.4.2 derivation per
/// key in use), never per frame, and each stream has its own receiver and key store `S`,
/// which must hold the keys in use plus one per ratcheting key. Without per-SSRC keys one
/// receiver serves every stream.
///
/// ## Memory and work
///
/// Memory is fixed at construction: the slots (see [`StreamSlot`]) and the KID table
/// (`KIDS` entries of a base key and counters each; `core::mem::size_of` tells exactly).
/// Per packet: an RTP parse, a depacketizer push and, for a new SSRC, a scan of the slots and
/// the derivations above. Per poll: an expiry scan of the waiting frames and at most one
/// frame taken and decrypted. Nothing allocates after construction (keys added to a
/// growable key store excepted).
///
/// Call [`ReceiveSession::poll`] until it returns `None` after every
/// [`ReceiveSession::push_packet`] and after adding a key: a complete frame left in a
/// depacketizer can be evicted by later packets.
pub struct ReceiveSession<T: StreamStorage, const KIDS: usize = 8> {
    config: SessionConfig,
    streams: T,
    kids: [KidSlot; KIDS],
    /// Without per-SSRC keys: the receiver every stream uses (made at the first key).
    shared: Option<Receiver<T::Store>>,
    /// Where the next poll starts looking for a complete frame (round robin).
    next_poll: usize,
    removals: u64,
    stats: SessionStats,
}

impl<
    const N: usize,
    const PACKETS: usize,
    const BYTES: usize,
    const WAIT_FRAMES: usize,
    const WAIT_BYTES: usize,
    const KIDS: usize,
    S: KeyStore,
> ReceiveSession<[StreamSlot<PACKETS, BYTES, WAIT_FRAMES, WAIT_BYTES, S>; N], KIDS>
{
    /// A session with `N` stream slots inline and no key. A `const fn`, so that a `no_std`
    /// application can place it in a `static`; natively, use [`ReceiveSession::with_capacity`]
    /// (slots on the heap, made one at a time). `KIDS` must be 1..=[`MAX_SESSION_KIDS`]
    /// (checked at compile time).
    pub const fn new(config: SessionConfig) -> Self {
        const { assert!(KIDS >= 1 && KIDS <= MAX_SESSION_KIDS, "KIDS must be 1..=64") };
        ReceiveSession {
            config,
            streams: [const { StreamSlot::EMPTY }; N],
            kids: [const { KidSlot::EMPTY }; KIDS],
            shared: None,
            next_poll: 0,
            removals: 0,
            stats: SessionStats::ZERO,
        }
    }
}

#[cfg(feature = "alloc")]
impl<
    const PACKETS: usize,
    const BYTES: usize,
    const WAIT_FRAMES: usize,
    const WAIT_BYTES: usize,
    const KIDS: usize,
    S: KeyStore,
> BoxedReceiveSession<PACKETS, BYTES, WAIT_FRAMES, WAIT_BYTES, KIDS, S>
{
    /// A session with `streams` stream slots on the heap (feature `alloc`). Each slot's
    /// buffers are allocated on the heap in place ([`BoxedStreamSlot`]), so the stack never
    /// holds them, in unoptimized builds too: only slot values (16 KiB of sequence history,
    /// the receiver and counters), one at a time. The session value itself is small.
    /// `KIDS` must be 1..=[`MAX_SESSION_KIDS`] (checked at compile time).
    #[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
    pub fn with_capacity(config: SessionConfig, streams: usize) -> Self {
        const { assert!(KIDS >= 1 && KIDS <= MAX_SESSION_KIDS, "KIDS must be 1..=64") };
        let mut slots = alloc::vec::Vec::with_capacity(streams);
        slots.resize_with(streams, BoxedStreamSlot::new);
        ReceiveSession {
            config,
            streams: slots.into_boxed_slice(),
            kids: [const { KidSlot::EMPTY }; KIDS],
            shared: None,
            next_poll: 0,
            removals: 0,
            stats: SessionStats::ZERO,
        }
    }
}

/// A frame's RTP metadata, packed into a [`Waiting::tag`] while it waits: timestamp (bits
/// 32-63), first sequence number (16-31), T bit (8), marker (7), payload type (0-6).
fn pack(frame: &RtpFrame) -> u64 {
    let mode = match frame.mode {
        Mode::PerFrame => 0,
        Mode::PerPacket => 1u64 << 8,
    };
    (u64::from(frame.timestamp) << 32)
        | (u64::from(frame.first_sequence) << 16)
        | mode
        | (u64::from(frame.marker) << 7)
        | u64::from(frame.payload_type & 0x7f)
}

/// The metadata [`pack`] stored, as a [`ReceivedFrame`] (length 0).
fn unpack(ssrc: u32, tag: u64, kid: u64, counter: u64) -> ReceivedFrame {
    ReceivedFrame {
        ssrc,
        payload_type: (tag & 0x7f) as u8,
        timestamp: (tag >> 32) as u32,
        marker: tag & 0x80 != 0,
        mode: if tag & 0x100 != 0 {
            Mode::PerPacket
        } else {
            Mode::PerFrame
        },
        first_sequence: (tag >> 16) as u16,
        kid,
        counter,
        len: 0,
        from_buffer: true,
    }
}

/// Installs a session key in one receiver.
fn add_to<S: KeyStore>(
    rx: &mut Receiver<S>,
    kid: u64,
    ratchet: Option<RatchetLayout>,
    key: &[u8],
) -> Result<()> {
    match ratchet {
        None => rx.add_key(kid, key),
        Some(layout) => rx.add_ratcheting_key(layout, kid, key),
    }
}

/// Removes a session key from one receiver: `kid`, or every step of a ratcheting key's
/// generation except the KIDs `keep` names (plain keys of the table).
fn remove_from<S: KeyStore>(
    rx: &mut Receiver<S>,
    kid: u64,
    ratchet: Option<RatchetLayout>,
    keep: &dyn Fn(u64) -> bool,
) {
    match ratchet {
        None => {
            rx.remove_key(kid);
        }
        Some(layout) => {
            let generation = layout.generation(kid);
            rx.remove_keys_where(|k| layout.generation(k) == generation && !keep(k));
        }
    }
}

/// The outcome of decrypting a frame of a stream: counted, and turned into its event.
fn finish(
    track: &mut Track,
    kids: &mut [KidSlot],
    unknown: &mut KidCounters,
    mut frame: ReceivedFrame,
    result: Result<usize>,
    now: u64,
) -> Event {
    let kid = frame.kid;
    match result {
        Ok(len) => {
            frame.len = len;
            track.authenticated = true;
            track.last_packet = track.last_packet.max(now);
            bump(&mut track.stats.frames_out);
            add(&mut track.stats.bytes_out, len);
            let index = kid_index(kids, kid);
            let counters = counters_of(kids, unknown, kid);
            bump(&mut counters.frames);
            add(&mut counters.bytes, len);
            if let Some(i) = index {
                let bit = 1u64.checked_shl(i as u32).unwrap_or(0);
                if track.auth_kids & bit == 0 {
                    track.auth_kids |= bit;
                    track.pending_auth |= bit;
                    if let Some(slot) = kids.get_mut(i)
                        && !slot.authenticated
                    {
                        slot.authenticated = true;
                        track.pending_first |= bit;
                    }
                }
            }
            Event::Frame(frame)
        }
        Err(error) => {
            track.stats.failures.count(error);
            counters_of(kids, unknown, kid).failures.count(error);
            Event::Failed {
                ssrc: frame.ssrc,
                kid: Some(kid),
                error,
            }
        }
    }
}

impl<T, const KIDS: usize, K, S> ReceiveSession<T, KIDS>
where
    K: SlotStorage,
    S: KeyStore,
    T: StreamStorage<Slot = GenericStreamSlot<K, S>, Store = S>,
{
    /// The settings.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// The number of stream slots: the most streams at once.
    pub fn capacity(&self) -> usize {
        self.streams.slots().len()
    }

    // --- keys ----------------------------------------------------------------------------

    /// Adds the receive key `base_key` for `kid` (RFC 9605 §4.4.2; with per-SSRC keys, each
    /// stream derives its §7 key from it now, and streams that appear later do when they
    /// appear). Frames waiting for `kid` are decrypted, oldest first, by the next
    /// [`ReceiveSession::poll`]s.
    ///
    /// Adding a key in use again with the same material changes nothing (replay windows
    /// stay); with other material it replaces the key, with fresh replay windows (as
    /// [`Receiver::add_key`] does: give new material a new KID, or frames of material that
    /// comes back under a KID are accepted again). Errors, with nothing changed:
    /// [`Error::StaleEpoch`] for a KID the session removed and still remembers (it would come
    /// back with empty replay windows, so replayed frames would be accepted again: use a new
    /// KID); [`Error::KeyStoreFull`] if the KID table has no free or removed entry, or a
    /// stream's key store is full; [`Error::InvalidKey`] for a key shorter than
    /// [`MIN_BASE_KEY_LEN`] (or, with per-SSRC keys, longer than 64 bytes).
    pub fn add_key(&mut self, kid: u64, base_key: &[u8]) -> Result<()> {
        self.install(kid, None, base_key)
    }

    /// Adds a ratcheting sender's key (RFC 9605 §5.1; with per-SSRC keys, draft §8: each
    /// stream ratchets its own §7 key): `kid` as built by `layout`, and the base key of that
    /// step. Frames of later steps of its generation are decrypted as with
    /// [`Receiver::add_ratcheting_key`], and count as this key's; [`ReceiveSession::remove_key`]
    /// of `kid` removes every step. Errors as [`ReceiveSession::add_key`].
    pub fn add_ratcheting_key(
        &mut self,
        layout: RatchetLayout,
        kid: u64,
        base_key: &[u8],
    ) -> Result<()> {
        self.install(kid, Some(layout), base_key)
    }

    fn install(&mut self, kid: u64, ratchet: Option<RatchetLayout>, base_key: &[u8]) -> Result<()> {
        if base_key.len() < MIN_BASE_KEY_LEN
            || (self.config.per_ssrc_keys && base_key.len() > MAX_SSRC_KEY_LEN)
        {
            return Err(Error::InvalidKey);
        }
        let existing = self
            .kids
            .iter()
            .position(|s| s.state != KidState::Free && s.kid == kid);
        let index = match existing {
            Some(i) => {
                if matches!(
                    self.kids.get(i).map(|s| s.state),
                    Some(KidState::Removed(_))
                ) {
                    return Err(Error::StaleEpoch);
                }
                i
            }
            None => self.free_kid_slot().ok_or(Error::KeyStoreFull)?,
        };
        let fresh = existing.is_none();
        // The receivers first (fallible, rolled back on error), the table last.
        self.install_in_receivers(kid, ratchet, base_key, fresh)?;
        let per_ssrc = self.config.per_ssrc_keys;
        self.activate(index, kid, fresh, false);
        let Some(slot) = self.kids.get_mut(index) else {
            return Err(Error::KeyStoreFull);
        };
        slot.ratchet = ratchet;
        if per_ssrc {
            slot.base.set(base_key)?;
        }
        for stream in self.streams.slots_mut() {
            stream.track.recheck = stream.ssrc.is_some();
        }
        Ok(())
    }

    /// Adds `kid` with a base key the application keeps (e.g. a non-extractable WebCrypto
    /// key, which no one can read): per-SSRC sessions only (draft §7), where each stream needs
    /// its own key. The session cannot derive those: [`ReceiveSession::missing_stream_keys`]
    /// lists the streams (existing ones at once, new ones when they appear) still without
    /// `kid`'s key, and the application derives each (§7 per-SSRC key, then §4.4.2) and gives
    /// it with [`ReceiveSession::add_stream_key`]. Until then the stream's frames under `kid`
    /// wait as for a missing key (RFC 9605 §4.4.4). Not for ratcheting keys (a receiver
    /// ratchets the key bytes: use [`ReceiveSession::add_ratcheting_key`]).
    ///
    /// For a KID in use, every stream is listed again; until its key is given it keeps the
    /// one it has (the same material given again keeps its replay windows, as with
    /// [`ReceiveSession::add_key`]; other material replaces it, with fresh ones). Errors,
    /// with nothing changed:
    /// [`Error::InvalidConfig`] without per-SSRC keys, [`Error::StaleEpoch`] and
    /// [`Error::KeyStoreFull`] as [`ReceiveSession::add_key`].
    ///
    /// ```
    /// use sframe_core::{CipherSuite, Key, ReceiverConfig};
    /// use sframe_core::rtp;
    /// use sframe_core::rtp::session::{BoxedReceiveSession, Event, SendConfig, SendStream, SessionConfig};
    /// let suite = CipherSuite::AesGcm256Sha512;
    /// let (ssrc, kid, base) = (77, 5, [4u8; 32]);
    /// let mut camera = SendStream::new(SendConfig::new(suite, ssrc, 96, 1200).with_per_ssrc_keys(true))?;
    /// camera.set_key(kid, &base)?;
    ///
    /// let config = SessionConfig::new(ReceiverConfig::new(suite)).with_per_ssrc_keys(true).with_max_wait(1000);
    /// let mut viewer = BoxedReceiveSession::<16, 4096, 4, 4096, 4>::with_capacity(config, 2);
    /// viewer.add_external_key(kid)?;
    /// let mut wire = [0u8; 1500];
    /// for packet in camera.send_frame(b"hello", 0, true, &mut wire)? {
    ///     viewer.push_packet(packet, 0)?;
    /// }
    /// let mut out = [0u8; 4096];
    /// assert!(matches!(viewer.poll(&mut out, 0), Some(Event::AwaitingKey { .. })));
    /// // The new stream needs kid's key: derived where the base key lives.
    /// assert_eq!(viewer.missing_stream_keys().collect::<Vec<_>>(), [(ssrc, kid)]);
    /// let mut ssrc_key = [0u8; 64];
    /// let n = rtp::ssrc_base_key(suite, &base, ssrc, &mut ssrc_key)?;
    /// assert!(viewer.add_stream_key(ssrc, Key::derive(suite, kid, &ssrc_key[..n])?)?);
    /// assert_eq!(viewer.missing_stream_keys().count(), 0);
    /// assert!(matches!(viewer.poll(&mut out, 1), Some(Event::Frame(f)) if &out[..f.len] == b"hello"));
    /// # Ok::<(), sframe_core::Error>(())
    /// ```
    pub fn add_external_key(&mut self, kid: u64) -> Result<()> {
        if !self.config.per_ssrc_keys {
            return Err(Error::InvalidConfig);
        }
        let (index, fresh) = self.kid_entry(kid)?;
        if !fresh && let Some(ratchet) = self.kids.get(index).and_then(|s| s.ratchet) {
            // A ratcheting key of this KID gives way: its steps' keys go.
            for stream in self.streams.slots_mut() {
                if let Some(rx) = stream.receiver.as_mut() {
                    remove_from(rx, kid, Some(ratchet), &|_| false);
                }
            }
        }
        self.activate(index, kid, fresh, true);
        // Every stream needs the key again; the one it has stays until then (and, if the
        // material is the same, keeps its replay windows when given again).
        let keep = !1u64.checked_shl(index as u32).unwrap_or(0);
        for stream in self.streams.slots_mut() {
            stream.track.external_keys &= keep;
        }
        Ok(())
    }

    /// Adds the key of `kid` derived elsewhere (RFC 9605 §4.4.2 `sframe_key` and
    /// `sframe_salt`, e.g. by WebCrypto from a base key no one can read): sessions without
    /// per-SSRC keys, where every stream uses it as given. Otherwise as
    /// [`ReceiveSession::add_key`] (same material again changes nothing, other material
    /// replaces, the same errors); [`Error::InvalidConfig`] with per-SSRC keys (see
    /// [`ReceiveSession::add_external_key`]), [`Error::SuiteMismatch`] for a key of another
    /// suite.
    ///
    /// ```
    /// use sframe_core::{CipherSuite, Key, ReceiverConfig};
    /// use sframe_core::rtp::session::{BoxedReceiveSession, SessionConfig};
    /// let suite = CipherSuite::AesGcm128Sha256;
    /// let mut rx = BoxedReceiveSession::<16, 4096, 4, 4096, 4>::with_capacity(
    ///     SessionConfig::new(ReceiverConfig::new(suite)),
    ///     2,
    /// );
    /// rx.add_derived_key(Key::derive(suite, 9, &[1; 16])?)?;
    /// assert!(rx.has_key(9));
    /// # Ok::<(), sframe_core::Error>(())
    /// ```
    pub fn add_derived_key(&mut self, key: Key<S::Backend>) -> Result<()> {
        if self.config.per_ssrc_keys {
            return Err(Error::InvalidConfig);
        }
        let kid = key.key_id();
        let (index, fresh) = self.kid_entry(kid)?;
        let config = self.config;
        let rx = self
            .shared
            .get_or_insert_with(|| Receiver::with_store(config.receiver));
        if !fresh && let Some(ratchet) = self.kids.get(index).and_then(|s| s.ratchet) {
            // A ratcheting key of this KID gives way to a plain one.
            remove_from(rx, kid, Some(ratchet), &|_| false);
        }
        rx.add_derived_key(key)?;
        self.activate(index, kid, fresh, false);
        for stream in self.streams.slots_mut() {
            stream.track.recheck = stream.ssrc.is_some();
        }
        Ok(())
    }

    /// The table entry for a new key of `kid` and whether it is fresh (not `kid`'s in use):
    /// [`Error::StaleEpoch`] for a removed KID still remembered, [`Error::KeyStoreFull`].
    fn kid_entry(&self, kid: u64) -> Result<(usize, bool)> {
        match self
            .kids
            .iter()
            .position(|s| s.state != KidState::Free && s.kid == kid)
        {
            Some(i) => match self.kids.get(i).map(|s| s.state) {
                Some(KidState::Removed(_)) => Err(Error::StaleEpoch),
                _ => Ok((i, false)),
            },
            None => Ok((self.free_kid_slot().ok_or(Error::KeyStoreFull)?, true)),
        }
    }

    /// Makes entry `index` `kid`'s plain key (no base bytes kept), external or not; a fresh
    /// entry forgets what it said about the KID it held before.
    fn activate(&mut self, index: usize, kid: u64, fresh: bool, external: bool) {
        let Some(slot) = self.kids.get_mut(index) else {
            return;
        };
        if fresh {
            *slot = KidSlot::EMPTY;
            let keep = !1u64.checked_shl(index as u32).unwrap_or(0);
            for stream in self.streams.slots_mut() {
                stream.track.auth_kids &= keep;
                stream.track.pending_auth &= keep;
                stream.track.pending_first &= keep;
                stream.track.external_keys &= keep;
            }
        }
        slot.kid = kid;
        slot.state = KidState::Active;
        slot.ratchet = None;
        slot.base.clear();
        slot.external = external;
    }

    /// The streams not yet given their key of a KID since it was added with
    /// [`ReceiveSession::add_external_key`], as `(ssrc, kid)`: at most
    /// [`ReceiveSession::capacity`] times `KIDS` pairs. Check after pushing packets (a new
    /// SSRC) and after adding an external key.
    pub fn missing_stream_keys<'a>(&'a self) -> impl Iterator<Item = (u32, u64)> + 'a
    where
        S: 'a,
    {
        let kids = &self.kids;
        self.streams
            .slots()
            .iter()
            .filter_map(|s| Some((s.ssrc?, s.track.external_keys)))
            .flat_map(move |(ssrc, given)| {
                kids.iter()
                    .enumerate()
                    .filter(move |(i, k)| {
                        let bit = 1u64.checked_shl(*i as u32).unwrap_or(0);
                        k.state == KidState::Active && k.external && given & bit == 0
                    })
                    .map(move |(_, k)| (ssrc, k.kid))
            })
    }

    /// Installs stream `ssrc`'s key of a KID added with [`ReceiveSession::add_external_key`]:
    /// `key` derived (RFC 9605 §4.4.2) from that stream's §7 key. Frames of the stream
    /// waiting for it are decrypted by the next [`ReceiveSession::poll`]s. Returns `false`
    /// if there is no stream `ssrc` (it went meanwhile: nothing to do). Errors, with nothing
    /// changed: [`Error::UnknownKeyId`] if `key`'s KID is not an external key in use (removed,
    /// or replaced by key bytes meanwhile), [`Error::SuiteMismatch`], [`Error::KeyStoreFull`]
    /// as [`Receiver::add_derived_key`]. The session cannot check that `key` was derived for
    /// `ssrc`: a wrong key fails the stream's frames.
    pub fn add_stream_key(&mut self, ssrc: u32, key: Key<S::Backend>) -> Result<bool> {
        let kid = key.key_id();
        let Some(entry) = self
            .kids
            .iter()
            .position(|s| s.state == KidState::Active && s.external && s.kid == kid)
        else {
            return Err(Error::UnknownKeyId);
        };
        let Some(index) = self.stream_index(ssrc) else {
            return Ok(false);
        };
        let Some(stream) = self.streams.slots_mut().get_mut(index) else {
            return Ok(false);
        };
        let Some(rx) = stream.receiver.as_mut() else {
            return Ok(false);
        };
        rx.add_derived_key(key)?;
        stream.track.external_keys |= 1u64.checked_shl(entry as u32).unwrap_or(0);
        stream.track.recheck = true;
        Ok(true)
    }

    /// A free table entry, or the one of the KID removed longest ago.
    fn free_kid_slot(&self) -> Option<usize> {
        if let Some(i) = self.kids.iter().position(|s| s.state == KidState::Free) {
            return Some(i);
        }
        self.kids
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match s.state {
                KidState::Removed(order) => Some((order, i)),
                _ => None,
            })
            .min()
            .map(|(_, i)| i)
    }

    fn install_in_receivers(
        &mut self,
        kid: u64,
        ratchet: Option<RatchetLayout>,
        base_key: &[u8],
        fresh: bool,
    ) -> Result<()> {
        let config = self.config;
        if !config.per_ssrc_keys {
            let rx = self
                .shared
                .get_or_insert_with(|| Receiver::with_store(config.receiver));
            return add_to(rx, kid, ratchet, base_key);
        }
        let suite = config.receiver.suite();
        let mut result = Ok(());
        let mut done = 0;
        for stream in self.streams.slots_mut() {
            if let (Some(ssrc), Some(rx)) = (stream.ssrc, stream.receiver.as_mut()) {
                let mut key = zeroize::Zeroizing::new([0u8; MAX_SSRC_KEY_LEN]);
                result = rtp::ssrc_base_key(suite, base_key, ssrc, &mut key[..])
                    .and_then(|n| add_to(rx, kid, ratchet, key.get(..n).unwrap_or(&[])));
                if result.is_err() {
                    break;
                }
            }
            done += 1;
        }
        if result.is_err() && fresh {
            for stream in self.streams.slots_mut().iter_mut().take(done) {
                if let Some(rx) = stream.receiver.as_mut() {
                    remove_from(rx, kid, ratchet, &|_| false);
                }
            }
        }
        result
    }

    /// Removes the key added as `kid` from every stream (zeroized): frames under it then fail
    /// with [`Error::UnknownKeyId`] ([`Event::Failed`]), and frames waiting for it are
    /// dropped. For a ratcheting key, every step of its generation goes. The KID stays in the
    /// table as removed (until its entry is taken for a new key, oldest removal first) and
    /// cannot be added again meanwhile. Returns whether the key was in use.
    pub fn remove_key(&mut self, kid: u64) -> bool {
        let Some(index) = self
            .kids
            .iter()
            .position(|s| s.state == KidState::Active && s.kid == kid)
        else {
            return false;
        };
        let ratchet = self.kids.get(index).and_then(|s| s.ratchet);
        {
            // Plain keys of the table that share a ratcheting key's generation stay.
            let kids: &[KidSlot] = &self.kids;
            let keep = |k: u64| {
                kids.iter()
                    .enumerate()
                    .any(|(i, s)| i != index && s.state == KidState::Active && s.kid == k)
            };
            if let Some(rx) = self.shared.as_mut() {
                remove_from(rx, kid, ratchet, &keep);
            }
            for stream in self.streams.slots_mut() {
                if let Some(rx) = stream.receiver.as_mut() {
                    remove_from(rx, kid, ratchet, &keep);
                }
            }
        }
        self.removals = self.removals.saturating_add(1);
        let order = self.removals;
        if let Some(slot) = self.kids.get_mut(index) {
            slot.state = KidState::Removed(order);
            slot.base.clear();
        }
        // Drop what waits for it.
        let kids = &mut self.kids;
        for stream in self.streams.slots_mut() {
            let GenericStreamSlot { waiting, track, .. } = stream;
            let Some(w) = waiting.as_mut() else {
                continue;
            };
            let covered = |h: &Held| kid_index(kids, h.kid) == Some(index);
            let dropped = w.drop_where(covered, |_, _| {});
            add(&mut track.stats.dropped_removed, dropped);
            if let Some(slot) = kids.get_mut(index) {
                add(&mut slot.counters.dropped, dropped);
            }
        }
        true
    }

    /// Whether a key added as `kid` is in use.
    pub fn has_key(&self, kid: u64) -> bool {
        self.kids
            .iter()
            .any(|s| s.state == KidState::Active && s.kid == kid)
    }

    /// The KIDs of the keys in use.
    pub fn key_ids<'a>(&'a self) -> impl Iterator<Item = u64> + 'a
    where
        S: 'a,
    {
        self.kids
            .iter()
            .filter(|s| s.state == KidState::Active)
            .map(|s| s.kid)
    }

    // --- streams -------------------------------------------------------------------------

    /// The SSRCs of the current streams.
    pub fn ssrcs<'a>(&'a self) -> impl Iterator<Item = u32> + 'a
    where
        S: 'a,
    {
        self.streams.slots().iter().filter_map(|s| s.ssrc)
    }

    /// Removes the stream `ssrc` (e.g. after an RTCP BYE), dropping its stored packets and
    /// waiting frames; returns whether there was one. With per-SSRC keys its receiver goes
    /// too, so a later stream of that SSRC starts with empty replay windows: remove a stream
    /// once its keys are retired, or where replayed old packets do not matter.
    pub fn remove_stream(&mut self, ssrc: u32) -> bool {
        let Some(index) = self.stream_index(ssrc) else {
            return false;
        };
        self.clear_slot(index);
        true
    }

    fn stream_index(&self, ssrc: u32) -> Option<usize> {
        self.streams
            .slots()
            .iter()
            .position(|s| s.ssrc == Some(ssrc))
    }

    /// Empties slot `index`: its packets, its waiting frames (counted as dropped under their
    /// KIDs), its receiver and state.
    fn clear_slot(&mut self, index: usize) {
        let (kids, unknown) = (&mut self.kids, &mut self.stats.unknown_kids);
        let Some(stream) = self.streams.slots_mut().get_mut(index) else {
            return;
        };
        if let Some(w) = stream.waiting.as_mut() {
            w.drop_where(
                |_| true,
                |h, _| bump(&mut counters_of(kids, unknown, h.kid).dropped),
            );
        }
        // Reset in place: no new depacketizer value (nor its storage) on the stack.
        stream.depacketizer.reset_all();
        stream.receiver = None;
        stream.ssrc = None;
        stream.track = Track::EMPTY;
    }

    /// The slot for a new SSRC: a free one, else the stream that never authenticated a frame
    /// and whose last packet is oldest (evicted). `None`: refused.
    fn admit(&mut self, ssrc: u32, now: u64) -> Option<usize> {
        let slots = self.streams.slots();
        let index = match slots.iter().position(|s| s.ssrc.is_none()) {
            Some(i) => i,
            None => {
                let victim = slots
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| !s.track.authenticated)
                    .min_by_key(|(_, s)| s.track.last_packet)
                    .map(|(i, _)| i)?;
                self.clear_slot(victim);
                bump(&mut self.stats.streams_evicted);
                victim
            }
        };
        self.open_slot(index, ssrc, now);
        Some(index)
    }

    /// Binds slot `index` to `ssrc`; with per-SSRC keys, makes its receiver and derives its
    /// keys (§7).
    fn open_slot(&mut self, index: usize, ssrc: u32, now: u64) {
        let config = self.config;
        let (kids, stats) = (&self.kids, &mut self.stats);
        let Some(stream) = self.streams.slots_mut().get_mut(index) else {
            return;
        };
        stream.ssrc = Some(ssrc);
        stream.track.last_packet = now;
        stream.track.stats.ssrc = ssrc;
        if !config.per_ssrc_keys {
            return;
        }
        let suite = config.receiver.suite();
        let rx = stream
            .receiver
            .insert(Receiver::with_store(config.receiver));
        for slot in kids
            .iter()
            .filter(|s| s.state == KidState::Active && !s.external)
        {
            let mut key = zeroize::Zeroizing::new([0u8; MAX_SSRC_KEY_LEN]);
            let added = rtp::ssrc_base_key(suite, slot.base.get(), ssrc, &mut key[..])
                .and_then(|n| add_to(rx, slot.kid, slot.ratchet, key.get(..n).unwrap_or(&[])));
            if added.is_err() {
                bump(&mut stats.key_install_failures);
            }
        }
    }

    // --- packets in, events out ----------------------------------------------------------

    /// Takes one received RTP packet (RFC 3550, with an SFrame payload: draft §4) at time
    /// `now` (any unit: the one of [`SessionConfig::max_wait`]). Then call
    /// [`ReceiveSession::poll`] until `None`.
    ///
    /// Errors, with nothing stored and no stream made (counted in
    /// [`SessionStats::packets_malformed`]): [`Error::MalformedFrame`] for bytes that are not
    /// an RTP packet or a payload without descriptor, [`Error::BufferTooSmall`] for a payload
    /// larger than a depacketizer holds (`BYTES`).
    pub fn push_packet(&mut self, packet: &[u8], now: u64) -> Result<Pushed> {
        match RtpPacket::parse(packet) {
            Ok(p) => self.push_payload(&p.header, p.payload, now),
            Err(e) => {
                bump(&mut self.stats.packets_malformed);
                Err(e)
            }
        }
    }

    /// [`ReceiveSession::push_packet`] for a packet an RTP stack already parsed: its header
    /// and its payload (descriptor first, padding removed).
    pub fn push_payload(
        &mut self,
        header: &RtpHeader<'_>,
        payload: &[u8],
        now: u64,
    ) -> Result<Pushed> {
        if payload.is_empty() || payload.len() > K::BYTES.saturating_add(rtp::DESCRIPTOR_LEN) {
            bump(&mut self.stats.packets_malformed);
            return Err(if payload.is_empty() {
                Error::MalformedFrame
            } else {
                Error::BufferTooSmall
            });
        }
        let index = match self.stream_index(header.ssrc) {
            Some(i) => i,
            None => match self.admit(header.ssrc, now) {
                Some(i) => i,
                None => {
                    bump(&mut self.stats.ssrcs_refused);
                    return Ok(Pushed::StreamRefused);
                }
            },
        };
        let Some(stream) = self.streams.slots_mut().get_mut(index) else {
            return Ok(Pushed::StreamRefused);
        };
        stream.track.last_packet = now;
        match stream.depacketizer.push_payload(header, payload) {
            Ok(p) => Ok(Pushed::Packet(p)),
            Err(e) => {
                bump(&mut self.stats.packets_malformed);
                Err(e)
            }
        }
    }

    /// The next event, doing at most one frame's work: a pending
    /// [`Event::KeyAuthenticated`]; else a waiting frame whose key has come (decrypted;
    /// oldest first in each stream); else the next complete frame of a depacketizer (streams
    /// in turn), decrypted ([`Event::Frame`]), held for its key ([`Event::AwaitingKey`]) or
    /// failed ([`Event::Failed`]). `None` when there is nothing to do. Frames that waited
    /// longer than [`SessionConfig::max_wait`] at `now` are dropped first.
    ///
    /// A decrypted frame's plaintext is `out[..frame.len]`. `out` needs room for the largest
    /// frame: `BYTES` bytes always suffice (a shorter `out` fails larger frames with
    /// [`Error::BufferTooSmall`]). Call until `None`.
    pub fn poll(&mut self, out: &mut [u8], now: u64) -> Option<Event> {
        if let Some(event) = self.pending_event() {
            return Some(event);
        }
        self.expire(now);
        let count = self.streams.slots().len();
        for index in 0..count {
            if let Some(event) = self.release(index, out, now) {
                return Some(event);
            }
        }
        let start = self.next_poll;
        for k in 0..count {
            let index = start.saturating_add(k) % count;
            if let Some(event) = self.next_frame(index, out, now) {
                self.next_poll = index.saturating_add(1) % count;
                return Some(event);
            }
        }
        None
    }

    fn pending_event(&mut self) -> Option<Event> {
        let kids = &self.kids;
        for stream in self.streams.slots_mut() {
            let track = &mut stream.track;
            while track.pending_auth != 0 {
                let bit = track.pending_auth.trailing_zeros();
                let mask = 1u64.checked_shl(bit).unwrap_or(0);
                track.pending_auth &= !mask;
                let first = track.pending_first & mask != 0;
                track.pending_first &= !mask;
                if let (Some(ssrc), Some(slot)) = (stream.ssrc, kids.get(bit as usize)) {
                    return Some(Event::KeyAuthenticated {
                        kid: slot.kid,
                        ssrc,
                        first,
                    });
                }
            }
        }
        None
    }

    /// Drops the frames that waited longer than [`SessionConfig::max_wait`].
    fn expire(&mut self, now: u64) {
        let max_wait = self.config.max_wait;
        let (kids, unknown) = (&mut self.kids, &mut self.stats.unknown_kids);
        for stream in self.streams.slots_mut() {
            let GenericStreamSlot { waiting, track, .. } = stream;
            let Some(w) = waiting.as_mut().filter(|w| !w.is_empty()) else {
                continue;
            };
            let n = w.drop_where(
                |h| now.saturating_sub(h.arrival) > max_wait,
                |h, _| bump(&mut counters_of(kids, unknown, h.kid).dropped),
            );
            add(&mut track.stats.dropped_expired, n);
        }
    }

    /// Releases and decrypts the oldest waiting frame of stream `index` whose key is there.
    fn release(&mut self, index: usize, out: &mut [u8], now: u64) -> Option<Event> {
        let ReceiveSession {
            streams,
            kids,
            shared,
            stats,
            ..
        } = self;
        let GenericStreamSlot {
            ssrc,
            waiting,
            receiver,
            track,
            ..
        } = streams.slots_mut().get_mut(index)?;
        if !track.recheck {
            return None;
        }
        let ssrc = (*ssrc)?;
        let (Some(rx), Some(w)) = (receiver.as_mut().or(shared.as_mut()), waiting.as_mut()) else {
            track.recheck = false;
            return None;
        };
        let Some(kid) = w.iter().find(|h| rx.has_key_for(h.kid)).map(|h| h.kid) else {
            track.recheck = false;
            return None;
        };
        let (held, counter, result) = w.release_with(kid, |held, frame| {
            let counter = Header::parse(frame).map_or(0, |(h, _)| h.counter());
            (
                held,
                counter,
                rx.unprotect(b"", frame, out).map(|p| p.len()),
            )
        })?;
        bump(&mut track.stats.released);
        let unknown = &mut stats.unknown_kids;
        bump(&mut counters_of(kids, unknown, held.kid).released);
        let frame = unpack(ssrc, held.tag, held.kid, counter);
        Some(finish(track, kids, unknown, frame, result, now))
    }

    /// Takes the next complete frame of stream `index` and decrypts it, holds it for its key,
    /// or fails it.
    fn next_frame(&mut self, index: usize, out: &mut [u8], now: u64) -> Option<Event> {
        let ReceiveSession {
            streams,
            kids,
            shared,
            stats,
            ..
        } = self;
        let unknown = &mut stats.unknown_kids;
        let GenericStreamSlot {
            ssrc,
            depacketizer,
            waiting,
            receiver,
            track,
        } = streams.slots_mut().get_mut(index)?;
        let ssrc = (*ssrc)?;
        let frame = match depacketizer.pop_frame(out)? {
            Ok(frame) => frame,
            Err(error) => {
                track.stats.failures.count(error);
                return Some(Event::Failed {
                    ssrc,
                    kid: None,
                    error,
                });
            }
        };
        bump(&mut track.stats.frames_in);
        add(&mut track.stats.bytes_in, frame.len);
        let Some(ciphertext) = out.get_mut(..frame.len) else {
            track.stats.failures.count(Error::BufferTooSmall);
            return Some(Event::Failed {
                ssrc,
                kid: None,
                error: Error::BufferTooSmall,
            });
        };
        let (header, header_len) = match Header::parse(ciphertext) {
            Ok(parsed) => parsed,
            Err(error) => {
                track.stats.failures.count(error);
                unknown.failures.count(error);
                return Some(Event::Failed {
                    ssrc,
                    kid: None,
                    error,
                });
            }
        };
        let (kid, counter) = (header.key_id(), header.counter());
        let counters = counters_of(kids, unknown, kid);
        bump(&mut counters.frames_in);
        add(&mut counters.bytes_in, frame.len);
        let received = ReceivedFrame {
            ssrc,
            payload_type: frame.payload_type,
            timestamp: frame.timestamp,
            marker: frame.marker,
            mode: frame.mode,
            first_sequence: frame.first_sequence,
            kid,
            counter,
            len: 0,
            from_buffer: false,
        };
        let retired = kid_index(kids, kid)
            .and_then(|i| kids.get(i))
            .is_some_and(|s| matches!(s.state, KidState::Removed(_)));
        let rx = receiver.as_mut().or(shared.as_mut());
        if retired {
            return Some(finish(
                track,
                kids,
                unknown,
                received,
                Err(Error::UnknownKeyId),
                now,
            ));
        }
        if let Some(rx) = rx.filter(|rx| rx.has_key_for(kid)) {
            let result = rx.unprotect_in_place(b"", ciphertext).map(|p| p.len());
            if let Ok(len) = result
                && let Some(region) = out.get_mut(..header_len.saturating_add(len))
            {
                region.copy_within(header_len.., 0);
            }
            return Some(finish(track, kids, unknown, received, result, now));
        }
        // No key for its KID yet (RFC 9605 §4.4.4): the frame waits for it.
        let Some(w) = waiting.as_mut() else {
            return Some(finish(
                track,
                kids,
                unknown,
                received,
                Err(Error::UnknownKeyId),
                now,
            ));
        };
        let waiting = Waiting {
            kid,
            tag: pack(&frame),
            stream: ssrc,
        };
        let (mut overflow, mut too_big) = (0, false);
        let held = w.hold(waiting, ciphertext, now, |h, why| match why {
            DropReason::TooBig => too_big = true,
            _ => {
                overflow += 1;
                bump(&mut counters_of(kids, unknown, h.kid).dropped);
            }
        });
        add(&mut track.stats.dropped_overflow, overflow);
        if !held {
            if too_big {
                bump(&mut track.stats.dropped_too_big);
            }
            return Some(finish(
                track,
                kids,
                unknown,
                received,
                Err(Error::UnknownKeyId),
                now,
            ));
        }
        bump(&mut track.stats.waited);
        bump(&mut counters_of(kids, unknown, kid).waited);
        Some(Event::AwaitingKey { ssrc, kid, counter })
    }

    // --- statistics ----------------------------------------------------------------------

    /// The state and counters of stream `ssrc`.
    pub fn stream_stats(&self, ssrc: u32) -> Option<StreamStats> {
        let stream = self.streams.slots().get(self.stream_index(ssrc)?)?;
        Some(stream.stats(self.shared.as_ref()))
    }

    /// The state and counters of every stream.
    pub fn streams_stats<'a>(&'a self) -> impl Iterator<Item = StreamStats> + 'a
    where
        S: 'a,
    {
        self.streams
            .slots()
            .iter()
            .filter(|s| s.ssrc.is_some())
            .map(|s| s.stats(self.shared.as_ref()))
    }

    /// What the session knows about `kid` (in use or removed and remembered).
    pub fn kid_stats(&self, kid: u64) -> Option<KidStats> {
        let index = self
            .kids
            .iter()
            .position(|s| s.state != KidState::Free && s.kid == kid)?;
        self.kid_stats_at(index)
    }

    /// What the session knows about every KID of its table.
    pub fn kids_stats<'a>(&'a self) -> impl Iterator<Item = KidStats> + 'a
    where
        S: 'a,
    {
        (0..KIDS).filter_map(|i| self.kid_stats_at(i))
    }

    fn kid_stats_at(&self, index: usize) -> Option<KidStats> {
        let slot = self.kids.get(index)?;
        if slot.state == KidState::Free {
            return None;
        }
        let bit = 1u64.checked_shl(index as u32).unwrap_or(0);
        let slots = self.streams.slots();
        let streams_authenticated = slots
            .iter()
            .filter(|s| s.ssrc.is_some() && s.track.auth_kids & bit != 0)
            .count();
        let waiting = slots
            .iter()
            .filter_map(|s| s.waiting.as_ref())
            .map(|w| {
                w.iter()
                    .filter(|h| kid_index(&self.kids, h.kid) == Some(index))
                    .count()
            })
            .sum();
        Some(KidStats {
            kid: slot.kid,
            active: slot.state == KidState::Active,
            ratchet: slot.ratchet,
            authenticated: slot.authenticated,
            streams_authenticated: u32::try_from(streams_authenticated).unwrap_or(u32::MAX),
            waiting,
            counters: slot.counters,
        })
    }

    /// The session's counters.
    pub fn stats(&self) -> SessionStats {
        let count =
            |f: &dyn Fn(&KidState) -> bool| self.kids.iter().filter(|s| f(&s.state)).count();
        SessionStats {
            streams: self.ssrcs().count(),
            capacity: self.capacity(),
            keys_active: count(&|s| *s == KidState::Active),
            keys_removed: count(&|s| matches!(s, KidState::Removed(_))),
            ..self.stats
        }
    }
}

impl<T: StreamStorage, const KIDS: usize> core::fmt::Debug for ReceiveSession<T, KIDS> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ReceiveSession")
            .field("config", &self.config)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CipherSuite;
    use crate::crypto::RustCrypto;
    use crate::keystore::FixedKeyStore;
    use crate::rtp::session::{SendConfig, SendStream};

    #[test]
    fn waiting_frames_keep_their_rtp_metadata() {
        for (mode, marker, pt) in [(Mode::PerFrame, true, 0), (Mode::PerPacket, false, 127)] {
            let frame = RtpFrame {
                ssrc: 9,
                payload_type: pt,
                timestamp: 0xfedc_ba98,
                marker,
                mode,
                first_sequence: 0xabcd,
                packets: 3,
                len: 100,
            };
            let back = unpack(9, pack(&frame), 5, 6);
            assert_eq!(
                (back.payload_type, back.timestamp, back.marker, back.mode),
                (pt, 0xfedc_ba98, marker, mode)
            );
            assert_eq!(
                (back.first_sequence, back.kid, back.counter),
                (0xabcd, 5, 6)
            );
        }
    }

    /// The session without `alloc` (stage 10 runs `--no-default-features --lib`): inline
    /// slots, fixed key stores, per-SSRC keys, a frame that waits for its key.
    #[test]
    fn inline_session_without_alloc() -> crate::Result<()> {
        type Session = InlineReceiveSession<2, 8, 2048, 2, 2048, 2, FixedKeyStore<2, RustCrypto>>;
        let suite = CipherSuite::AesCtr256HmacSha512_32;
        let config = SessionConfig::new(ReceiverConfig::new(suite)).with_per_ssrc_keys(true);
        let mut rx = Session::new(config);
        let send_config = SendConfig::new(suite, 77, 96, 200).with_per_ssrc_keys(true);
        let mut tx = SendStream::with_backend(RustCrypto, send_config)?;
        tx.set_key(4, &[4; 32])?;
        let mut wire = [0u8; 1024];
        for p in tx.send_frame(&[7; 500], 1, true, &mut wire)? {
            assert!(matches!(rx.push_packet(p, 0), Ok(Pushed::Packet(_))));
        }
        let mut out = [0u8; 2048];
        assert_eq!(
            rx.poll(&mut out, 0),
            Some(Event::AwaitingKey {
                ssrc: 77,
                kid: 4,
                counter: 0
            })
        );
        rx.add_key(4, &[4; 32])?;
        let event = rx.poll(&mut out, 1);
        assert!(
            matches!(event, Some(Event::Frame(f)) if f.from_buffer && out[..f.len] == [7; 500]),
            "{event:?}"
        );
        assert_eq!(
            rx.poll(&mut out, 1),
            Some(Event::KeyAuthenticated {
                kid: 4,
                ssrc: 77,
                first: true
            })
        );
        assert_eq!(rx.poll(&mut out, 1), None);
        Ok(())
    }
}
