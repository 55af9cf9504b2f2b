//! Depacketization — draft-ietf-avtcore-rtp-sframe §5.2: SFrame frames reassembled from RTP
//! packets of one SSRC (any order, losses, duplicates), with RFC 3550 Appendix A.1 sequence
//! validation against injected packets.

#[cfg(feature = "alloc")]
use alloc::{boxed::Box, vec::Vec};

use super::descriptor::{Descriptor, Mode};
use super::packet::{Cursor, RtpHeader, RtpPacket};
use crate::error::{Error, Result};
use crate::header::Header;
use crate::keystore::KeyStore;
use crate::receiver::Receiver;

/// How far behind the newest sequence number a depacketizer takes a packet: the reordering it
/// tolerates (RFC 3550 A.1's `MAX_MISORDER`). A packet this far or farther behind is refused
/// ([`Pushed::Late`]) unless it re-synchronises, and stored packets that fall this far behind
/// are evicted. See "Sequence validation" at [`GenericDepacketizer`].
pub const SEQUENCE_WINDOW: usize = 1024;

/// How far ahead of the newest sequence number a depacketizer takes a packet in sequence, the
/// packets in between counted as late or lost (RFC 3550 A.1's `MAX_DROPOUT`, with its value).
/// A packet this far or farther ahead is refused ([`Pushed::TooFarAhead`]) unless it
/// re-synchronises: so one packet cannot move the newest sequence number by more than this.
/// See "Sequence validation" at [`GenericDepacketizer`].
pub const MAX_DROPOUT: usize = 3000;

/// For how many pushes (at least; at most twice as many) a depacketizer remembers each
/// sequence number it consumed, i.e. yielded or dropped as part of a frame: within that time a
/// packet with that sequence number is refused ([`Pushed::Duplicate`]) wherever the sequence
/// validation stands, so injected packets cannot get a frame yielded twice from the same
/// packets. Every call to [`GenericDepacketizer::push`] that gets past the SSRC and size
/// checks counts. See "Sequence validation" at [`GenericDepacketizer`].
pub const CONSUMED_MEMORY: usize = 8192;

/// What [`GenericDepacketizer::push`] did with a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Pushed {
    /// Stored; no frame is complete through it yet.
    Buffered,
    /// Stored, and it completes a frame: call [`GenericDepacketizer::pop_frame`] or
    /// [`GenericDepacketizer::pop_decrypted`].
    FrameReady,
    /// Ignored: a packet with this sequence number is stored, or the sequence number was
    /// consumed (yielded, or dropped as part of a frame) within the last [`CONSUMED_MEMORY`]
    /// pushes.
    Duplicate,
    /// Ignored: [`SEQUENCE_WINDOW`] or more behind the newest sequence number (and nearer behind
    /// it than ahead), and not a re-synchronisation (see [`GenericDepacketizer`]).
    Late,
    /// Ignored: [`MAX_DROPOUT`] or more ahead of the newest sequence number (and nearer ahead of
    /// it than behind), and not a re-synchronisation (see [`GenericDepacketizer`]).
    TooFarAhead,
}

/// The metadata of a reassembled SFrame frame (§5.2: "computed from the RTP headers of the
/// RTP packets of the list"): SSRC, and PT, timestamp and marker of the last packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RtpFrame {
    /// The SSRC.
    pub ssrc: u32,
    /// The payload type (the same in every packet of the frame).
    pub payload_type: u8,
    /// The RTP timestamp of the last packet.
    pub timestamp: u32,
    /// The marker bit of the last packet.
    pub marker: bool,
    /// The T bit (the same in every packet of the frame).
    pub mode: Mode,
    /// Sequence number of the first packet (for [`Mode::PerPacket`], the media packet's).
    pub first_sequence: u16,
    /// Number of packets.
    pub packets: u16,
    /// Length of the frame at the start of the output buffer: the SFrame ciphertext for
    /// [`GenericDepacketizer::pop_frame`], the plaintext for
    /// [`GenericDepacketizer::pop_decrypted`].
    pub len: usize,
}

/// Counters of a depacketizer, for monitoring.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct DepacketizerStats {
    /// Packets stored.
    pub packets: u64,
    /// Packets ignored as duplicates ([`Pushed::Duplicate`]).
    pub duplicates: u64,
    /// Packets ignored as too old ([`Pushed::Late`]).
    pub late: u64,
    /// Stored packets evicted, unused, to make room, because they fell out of the window, or at
    /// a re-synchronisation.
    pub evicted: u64,
    /// Frames yielded (before decryption).
    pub frames: u64,
    /// Complete packet lists dropped: T bits or payload types differ (§5.2), or the output
    /// buffer was too small.
    pub dropped_frames: u64,
    /// Packets ignored as too far ahead ([`Pushed::TooFarAhead`]).
    pub too_far_ahead: u64,
    /// Re-synchronisations of the sequence validation: a packet out of range right after the
    /// one before it in sequence, also out of range (see [`GenericDepacketizer`]).
    pub resyncs: u64,
}

/// One stored packet: its place in the byte store and the header fields §5.2 needs.
#[derive(Clone, Copy, Debug)]
struct Slot {
    /// Extended sequence number (sequence number plus 2^16 × wraps, relative to the first).
    ext: i64,
    timestamp: u32,
    payload_type: u8,
    marker: bool,
    descriptor: Descriptor,
    start: usize,
    len: usize,
}

/// One cell of a depacketizer's packet storage: empty, or the header fields of one stored
/// packet (opaque). See [`GenericDepacketizer::with_storage`].
#[derive(Clone, Copy, Debug, Default)]
pub struct PacketSlot(Option<Slot>);

impl PacketSlot {
    /// An empty cell.
    pub const EMPTY: Self = PacketSlot(None);
}

/// Words of the consumed-sequence-number bitmaps: one bit per 16-bit sequence number.
const MARK_WORDS: usize = (1 << 16) / 64;

/// Where a sequence number falls relative to the newest one (RFC 3550 A.1).
enum Place {
    /// No packet seen yet: the extended sequence number it starts from.
    First(i64),
    /// Less than [`SEQUENCE_WINDOW`] behind the newest, or the newest itself.
    Window(i64),
    /// Less than [`MAX_DROPOUT`] ahead of the newest.
    Ahead(i64),
    /// Anywhere else; `behind`: nearer behind the newest than ahead of it.
    Far { behind: bool },
}

/// A depacketizer with its storage inline: at most `PACKETS` packets stored, whose payloads
/// (descriptors removed) share `BYTES` bytes. No allocation; [`Depacketizer::new`] is `const`,
/// so one can live in a `static`. The struct holds its storage: `BYTES` + about 48 × `PACKETS`
/// bytes, plus 16 KiB of sequence-number history; box large ones with
/// [`BoxedDepacketizer`], which never builds the storage on the stack. See the
/// [module example](super) and [`GenericDepacketizer`] for the behaviour.
pub type Depacketizer<const PACKETS: usize, const BYTES: usize> =
    GenericDepacketizer<[PacketSlot; PACKETS], [u8; BYTES]>;

/// A depacketizer whose storage is allocated on the heap, in place, at run time
/// ([`BoxedDepacketizer::with_capacity`]): for large capacities, whose inline
/// [`Depacketizer`] would not fit a thread's stack on its way into a `Box`.
///
/// ```
/// use sframe_core::rtp::BoxedDepacketizer;
/// let d = BoxedDepacketizer::with_capacity(512, 512 * 1024)?;
/// assert_eq!((d.packet_capacity(), d.byte_capacity()), (512, 512 * 1024));
/// assert!(d.is_empty());
/// # Ok::<(), sframe_core::Error>(())
/// ```
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub type BoxedDepacketizer = GenericDepacketizer<Box<[PacketSlot]>, Box<[u8]>>;

/// Reassembles the SFrame frames of one SSRC from RTP packets (§5.2), in the fixed storage
/// `S` (packets, a slice of [`PacketSlot`]) and `B` (payload bytes): inline arrays in a
/// [`Depacketizer`], boxed slices in a [`BoxedDepacketizer`], or any borrowed slices
/// ([`GenericDepacketizer::with_storage`]). Nothing is allocated after construction.
///
/// Packets may arrive in any order, duplicated or not at all. When a packet does not fit, the
/// oldest stored packets (lowest sequence number) are evicted; packets [`SEQUENCE_WINDOW`] or
/// more behind the newest are evicted or refused. So frames in flight need as many packet
/// slots as their packets and as many bytes as their total size, and no frame is larger than
/// the byte storage: an output buffer of [`GenericDepacketizer::byte_capacity`] bytes always
/// suffices.
///
/// Pop after every push that returns [`Pushed::FrameReady`]: a complete frame left stored is
/// evicted like any other packet when room is needed. Partial frames older than a delivered
/// one are *not* dropped automatically (with reordering, their missing packets may still come:
/// frame 1's last packet after all of frame 2); call
/// [`GenericDepacketizer::evict_before_timestamp`] once the application has moved past a
/// timestamp.
///
/// ## Sequence validation (RFC 3550 A.1)
///
/// Sequence numbers are not authenticated: whoever can put packets on the path chooses them.
/// The depacketizer follows RFC 3550 A.1 in tracking the newest sequence number (modulo 2^16):
///
/// * a packet less than [`SEQUENCE_WINDOW`] behind the newest is taken (reordering; RFC 3550's
///   `MAX_MISORDER`);
/// * a packet less than [`MAX_DROPOUT`] ahead is taken and becomes the newest (the packets in
///   between are late or lost);
/// * any other packet is refused ([`Pushed::Late`] or [`Pushed::TooFarAhead`]) and changes
///   nothing, unless the packet right before it in sequence was refused that way too: two in a
///   row mean the stream jumped (a sender restart, a long outage), so the depacketizer
///   re-synchronises (RFC 3550's `bad_seq`): the second becomes the newest and every stored
///   packet is dropped.
///
/// Wherever the newest stands, a sequence number consumed (yielded, or dropped as part of a
/// frame) is refused ([`Pushed::Duplicate`]) for at least the next [`CONSUMED_MEMORY`] pushes,
/// whatever they carry. Against injected packets this gives:
///
/// * **No frame twice from the same packets**: no packet of a frame yielded within the last
///   [`CONSUMED_MEMORY`] pushes is taken again, however injected packets move the newest
///   sequence number. (The same ciphertext under *new* sequence numbers is a new frame here:
///   the [`Receiver`]'s replay window is what refuses it.)
/// * **No stall from a packet out of range**: one such packet moves nothing; two in sequence
///   re-synchronise to them, which drops the frames in flight. After injected packets stop,
///   the stream is taken in sequence again from its first packet, or, if that one is out of
///   range, from the next one (which re-synchronises). Beyond that, each injected packet
///   costs the stream at most the one packet whose sequence number it carried (stored in its
///   place, or consumed); and injected packets stored ahead of the stream (within
///   [`SEQUENCE_WINDOW`]) are evicted after its older packets, so if they fill the storage
///   they crowd its packets out until it passes them: at most [`SEQUENCE_WINDOW`] packets.
///
/// The history costs a legitimate stream something only when it comes back to a sequence
/// number within [`CONSUMED_MEMORY`] pushes of consuming it: after a re-synchronisation onto
/// recently used numbers, or when it loses more than three quarters of its packets over a
/// whole cycle of the 16-bit sequence space. Those packets are refused as duplicates.
pub struct GenericDepacketizer<S, B> {
    slots: S,
    bytes: B,
    used: usize,
    ssrc: Option<u32>,
    /// The newest extended sequence number (RFC 3550's `max_seq`, extended).
    highest: Option<i64>,
    /// The sequence number that would re-synchronise (RFC 3550's `bad_seq`).
    bad_seq: Option<u16>,
    /// Consumed sequence numbers, one bit each, in two generations of [`CONSUMED_MEMORY`]
    /// pushes: `consumed[current]` is being filled, the other one is the previous generation.
    consumed: [[u64; MARK_WORDS]; 2],
    current: usize,
    /// Pushes in the current generation.
    pushes: usize,
    stats: DepacketizerStats,
}

impl<const PACKETS: usize, const BYTES: usize> Default for Depacketizer<PACKETS, BYTES> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S, B> core::fmt::Debug for GenericDepacketizer<S, B>
where
    S: AsRef<[PacketSlot]> + AsMut<[PacketSlot]>,
    B: AsRef<[u8]> + AsMut<[u8]>,
{
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Depacketizer")
            .field("ssrc", &self.ssrc)
            .field("packets", &self.len())
            .field("bytes_used", &self.used)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

const EMPTY_STATS: DepacketizerStats = DepacketizerStats {
    packets: 0,
    duplicates: 0,
    late: 0,
    evicted: 0,
    frames: 0,
    dropped_frames: 0,
    too_far_ahead: 0,
    resyncs: 0,
};

impl<const PACKETS: usize, const BYTES: usize> Depacketizer<PACKETS, BYTES> {
    /// An empty depacketizer; it binds to the SSRC of the first packet pushed.
    pub const fn new() -> Self {
        GenericDepacketizer {
            slots: [PacketSlot::EMPTY; PACKETS],
            bytes: [0; BYTES],
            used: 0,
            ssrc: None,
            highest: None,
            bad_seq: None,
            consumed: [[0; MARK_WORDS]; 2],
            current: 0,
            pushes: 0,
            stats: EMPTY_STATS,
        }
    }

    /// An empty depacketizer for `ssrc` only.
    pub const fn with_ssrc(ssrc: u32) -> Self {
        let mut d = Self::new();
        d.ssrc = Some(ssrc);
        d
    }
}

#[cfg(feature = "alloc")]
impl BoxedDepacketizer {
    /// An empty depacketizer that stores at most `packets` packets, whose payloads share
    /// `bytes` bytes, both allocated on the heap directly (no copy through the stack). It binds
    /// to the SSRC of the first packet pushed. [`Error::InvalidConfig`] if the storage cannot be
    /// allocated.
    pub fn with_capacity(packets: usize, bytes: usize) -> Result<Self> {
        let mut slots = Vec::new();
        slots
            .try_reserve_exact(packets)
            .map_err(|_| Error::InvalidConfig)?;
        slots.resize(packets, PacketSlot::EMPTY);
        let mut store = Vec::new();
        store
            .try_reserve_exact(bytes)
            .map_err(|_| Error::InvalidConfig)?;
        store.resize(bytes, 0u8);
        Ok(Self::with_storage(
            slots.into_boxed_slice(),
            store.into_boxed_slice(),
        ))
    }
}

impl<S, B> GenericDepacketizer<S, B>
where
    S: AsRef<[PacketSlot]> + AsMut<[PacketSlot]>,
    B: AsRef<[u8]> + AsMut<[u8]>,
{
    /// An empty depacketizer over the given storage (its previous contents are discarded): at
    /// most `slots.len()` packets, whose payloads share `bytes.len()` bytes. It binds to the
    /// SSRC of the first packet pushed.
    ///
    /// ```
    /// use sframe_core::rtp::{GenericDepacketizer, PacketSlot};
    /// let mut slots = [PacketSlot::EMPTY; 8];
    /// let mut bytes = [0u8; 2048];
    /// let d = GenericDepacketizer::with_storage(&mut slots[..], &mut bytes[..]);
    /// assert_eq!((d.packet_capacity(), d.byte_capacity()), (8, 2048));
    /// ```
    pub fn with_storage(slots: S, bytes: B) -> Self {
        let mut d = GenericDepacketizer {
            slots,
            bytes,
            used: 0,
            ssrc: None,
            highest: None,
            bad_seq: None,
            consumed: [[0; MARK_WORDS]; 2],
            current: 0,
            pushes: 0,
            stats: EMPTY_STATS,
        };
        d.slots.as_mut().fill(PacketSlot::EMPTY);
        d
    }

    /// The SSRC it is bound to, if any.
    pub fn ssrc(&self) -> Option<u32> {
        self.ssrc
    }

    /// How many packets it can store.
    pub fn packet_capacity(&self) -> usize {
        self.slots.as_ref().len()
    }

    /// How many payload bytes it can store: also the largest frame it can reassemble.
    pub fn byte_capacity(&self) -> usize {
        self.bytes.as_ref().len()
    }

    /// Number of packets stored.
    pub fn len(&self) -> usize {
        self.stored().count()
    }

    /// No packet stored.
    pub fn is_empty(&self) -> bool {
        self.stored().next().is_none()
    }

    /// Payload bytes stored (at most [`GenericDepacketizer::byte_capacity`]).
    pub fn bytes_used(&self) -> usize {
        self.used
    }

    /// The counters.
    pub fn stats(&self) -> DepacketizerStats {
        self.stats
    }

    /// Forgets every packet, the SSRC binding and the sequence history, consumed sequence
    /// numbers included (e.g. when the stream restarts); counters are kept. Works in place:
    /// no copy of the storage is made.
    pub fn reset(&mut self) {
        self.slots.as_mut().fill(PacketSlot::EMPTY);
        self.bytes.as_mut().fill(0);
        self.used = 0;
        self.ssrc = None;
        self.highest = None;
        self.bad_seq = None;
        for generation in &mut self.consumed {
            generation.fill(0);
        }
        self.current = 0;
        self.pushes = 0;
    }

    /// [`GenericDepacketizer::reset`] and the counters too: as new, in place (a session
    /// reusing a stream slot).
    pub(crate) fn reset_all(&mut self) {
        self.reset();
        self.stats = EMPTY_STATS;
    }

    /// Parses an RTP packet ([`RtpPacket::parse`]) and pushes it
    /// ([`GenericDepacketizer::push_payload`]).
    pub fn push(&mut self, packet: &[u8]) -> Result<Pushed> {
        let packet = RtpPacket::parse(packet)?;
        self.push_payload(&packet.header, packet.payload)
    }

    /// Pushes a received packet given as its parsed header and its payload (descriptor first,
    /// padding removed), e.g. from an RTP stack that parsed it. Errors, with nothing stored:
    /// [`Error::MalformedFrame`] for an empty payload (no descriptor), [`Error::InvalidConfig`]
    /// for another SSRC than the bound one, [`Error::BufferTooSmall`] for a payload larger
    /// than the byte storage or a depacketizer without packet storage.
    pub fn push_payload(&mut self, header: &RtpHeader<'_>, payload: &[u8]) -> Result<Pushed> {
        let (&first, data) = payload.split_first().ok_or(Error::MalformedFrame)?;
        if self.ssrc.is_some_and(|s| s != header.ssrc) {
            return Err(Error::InvalidConfig);
        }
        if data.len() > self.byte_capacity() || self.packet_capacity() == 0 {
            return Err(Error::BufferTooSmall);
        }
        self.ssrc = Some(header.ssrc);
        self.tick();
        let seq = header.sequence_number;
        let place = self.place(seq);
        if self.is_consumed(seq) {
            if let Place::Far { .. } = place {
                // A run of out-of-range packets through consumed numbers still
                // re-synchronises at its first packet that is not consumed.
                self.bad_seq = Some(seq.wrapping_add(1));
            }
            self.stats.duplicates = self.stats.duplicates.saturating_add(1);
            return Ok(Pushed::Duplicate);
        }
        let ext = match place {
            Place::First(ext) => {
                self.highest = Some(ext);
                ext
            }
            Place::Window(ext) => {
                if self.find(ext).is_some() {
                    self.stats.duplicates = self.stats.duplicates.saturating_add(1);
                    return Ok(Pushed::Duplicate);
                }
                ext
            }
            // Newer than anything seen: nothing stored can have this number.
            Place::Ahead(ext) => {
                self.advance(ext);
                ext
            }
            Place::Far { .. } if self.bad_seq == Some(seq) => self.resync(seq),
            Place::Far { behind } => {
                self.bad_seq = Some(seq.wrapping_add(1));
                return Ok(if behind {
                    self.stats.late = self.stats.late.saturating_add(1);
                    Pushed::Late
                } else {
                    self.stats.too_far_ahead = self.stats.too_far_ahead.saturating_add(1);
                    Pushed::TooFarAhead
                });
            }
        };
        // Make room: evict the oldest packets until a slot and the bytes are free.
        loop {
            let has_slot = self.slots.as_ref().iter().any(|s| s.0.is_none());
            if has_slot && self.used.saturating_add(data.len()) <= self.byte_capacity() {
                break;
            }
            if !self.evict_oldest() {
                return Err(Error::BufferTooSmall);
            }
        }
        let start = self.used;
        let end = start.saturating_add(data.len());
        self.bytes
            .as_mut()
            .get_mut(start..end)
            .ok_or(Error::BufferTooSmall)?
            .copy_from_slice(data);
        let slot = self
            .slots
            .as_mut()
            .iter_mut()
            .find(|s| s.0.is_none())
            .ok_or(Error::BufferTooSmall)?;
        *slot = PacketSlot(Some(Slot {
            ext,
            timestamp: header.timestamp,
            payload_type: header.payload_type,
            marker: header.marker,
            descriptor: Descriptor::parse(first),
            start,
            len: data.len(),
        }));
        self.used = end;
        self.stats.packets = self.stats.packets.saturating_add(1);
        Ok(if self.run_through(ext) {
            Pushed::FrameReady
        } else {
            Pushed::Buffered
        })
    }

    /// Takes the next complete frame (§5.2 steps 3-10; the one with the lowest sequence number
    /// if several are complete) and writes its SFrame ciphertext, the concatenated payloads
    /// without descriptors, to the start of `out`. `None` when no frame is complete.
    ///
    /// A complete packet list whose T bits or payload types differ is dropped as §5.2 says and
    /// the next one is tried; one longer than `out` is dropped with
    /// [`Error::BufferTooSmall`] ([`GenericDepacketizer::byte_capacity`] bytes always
    /// suffice). Taken packets are consumed: their sequence numbers are refused for at least
    /// [`CONSUMED_MEMORY`] pushes.
    pub fn pop_frame(&mut self, out: &mut [u8]) -> Option<Result<RtpFrame>> {
        loop {
            let (first, last, packets, total) = self.lowest_run()?;
            let consistent = self.consistent(first, packets);
            let result = if !consistent {
                None
            } else if total > out.len() {
                Some(Err(Error::BufferTooSmall))
            } else {
                Some(self.gather(first, last, packets, total, out))
            };
            self.take(first, packets);
            match result {
                Some(Ok(frame)) => {
                    self.stats.frames = self.stats.frames.saturating_add(1);
                    return Some(Ok(frame));
                }
                Some(Err(e)) => {
                    self.stats.dropped_frames = self.stats.dropped_frames.saturating_add(1);
                    return Some(Err(e));
                }
                None => {
                    self.stats.dropped_frames = self.stats.dropped_frames.saturating_add(1);
                }
            }
        }
    }

    /// [`GenericDepacketizer::pop_frame`], then unprotects the frame with `receiver` (§5.2
    /// step 11): the plaintext is written to the start of `out` and [`RtpFrame::len`] is its
    /// length. A frame that does not authenticate (or is refused as a replay, or under an
    /// unknown key) is consumed and its error returned; `out` then holds no plaintext. Call
    /// until `None`.
    pub fn pop_decrypted<K: KeyStore>(
        &mut self,
        receiver: &mut Receiver<K>,
        metadata: &[u8],
        out: &mut [u8],
    ) -> Option<Result<RtpFrame>> {
        Some(match self.pop_frame(out)? {
            Ok(frame) => unprotect_frame(receiver, metadata, frame, out),
            Err(e) => Err(e),
        })
    }

    /// Evicts stored packets whose RTP timestamp is before `timestamp` (modulo 2^32), e.g.
    /// partial frames older than a frame the decoder has moved past. Returns how many.
    pub fn evict_before_timestamp(&mut self, timestamp: u32) -> usize {
        let mut n = 0;
        loop {
            let Some(ext) = self
                .stored()
                .find(|s| (s.timestamp.wrapping_sub(timestamp) as i32) < 0)
                .map(|s| s.ext)
            else {
                break;
            };
            self.remove(ext);
            n += 1;
        }
        self.stats.evicted = self.stats.evicted.saturating_add(n as u64);
        n
    }

    // --- internals ---------------------------------------------------------------------------

    fn stored(&self) -> impl Iterator<Item = &Slot> {
        self.slots.as_ref().iter().filter_map(|s| s.0.as_ref())
    }

    /// Where `seq` falls relative to the newest sequence number, and its extended number.
    fn place(&self, seq: u16) -> Place {
        let Some(h) = self.highest else {
            return Place::First(i64::from(seq));
        };
        let newest = h as u16; // h modulo 2^16
        let behind = newest.wrapping_sub(seq);
        let ahead = seq.wrapping_sub(newest);
        if usize::from(behind) < SEQUENCE_WINDOW {
            Place::Window(h.saturating_sub(i64::from(behind)))
        } else if usize::from(ahead) < MAX_DROPOUT {
            Place::Ahead(h.saturating_add(i64::from(ahead)))
        } else {
            Place::Far {
                behind: behind < ahead,
            }
        }
    }

    /// Counts a push; every [`CONSUMED_MEMORY`] pushes, starts a new generation of consumed
    /// sequence numbers and forgets the one before the previous.
    fn tick(&mut self) {
        self.pushes = self.pushes.saturating_add(1);
        if self.pushes >= CONSUMED_MEMORY {
            self.pushes = 0;
            self.current ^= 1;
            if let Some(generation) = self.consumed.get_mut(self.current) {
                generation.fill(0);
            }
        }
    }

    fn mark(seq: u16) -> (usize, u64) {
        (usize::from(seq / 64), 1u64 << (seq % 64))
    }

    fn is_consumed(&self, seq: u16) -> bool {
        let (w, m) = Self::mark(seq);
        self.consumed
            .iter()
            .any(|generation| generation.get(w).is_some_and(|x| x & m != 0))
    }

    fn set_consumed(&mut self, seq: u16) {
        let (w, m) = Self::mark(seq);
        if let Some(x) = self
            .consumed
            .get_mut(self.current)
            .and_then(|generation| generation.get_mut(w))
        {
            *x |= m;
        }
    }

    /// Moves the newest sequence number ahead to `ext` and evicts the packets that fell out of
    /// the window.
    fn advance(&mut self, ext: i64) {
        self.highest = Some(ext);
        let floor = ext.saturating_sub(SEQUENCE_WINDOW as i64);
        loop {
            let Some(old) = self.stored().find(|s| s.ext <= floor).map(|s| s.ext) else {
                break;
            };
            self.remove(old);
            self.stats.evicted = self.stats.evicted.saturating_add(1);
        }
    }

    /// RFC 3550's re-synchronisation to `seq` (out of range, right after the packet before it):
    /// drops every stored packet and makes `seq` the newest. Returns its extended number,
    /// above every one used before.
    fn resync(&mut self, seq: u16) -> i64 {
        let h = self.highest.unwrap_or(0);
        let ext = h.saturating_add(i64::from(seq.wrapping_sub(h as u16)));
        let n = self.len();
        self.slots.as_mut().fill(PacketSlot::EMPTY);
        self.used = 0;
        self.highest = Some(ext);
        self.bad_seq = None;
        self.stats.evicted = self.stats.evicted.saturating_add(n as u64);
        self.stats.resyncs = self.stats.resyncs.saturating_add(1);
        ext
    }

    fn find(&self, ext: i64) -> Option<&Slot> {
        self.stored().find(|s| s.ext == ext)
    }

    /// Removes the packet `ext` and compacts the byte store.
    fn remove(&mut self, ext: i64) {
        let Some(entry) = self
            .slots
            .as_mut()
            .iter_mut()
            .find(|s| s.0.is_some_and(|s| s.ext == ext))
        else {
            return;
        };
        let Some(slot) = entry.0.take() else {
            return;
        };
        let end = slot.start.saturating_add(slot.len);
        if end <= self.used
            && let Some(region) = self.bytes.as_mut().get_mut(slot.start..self.used)
        {
            region.copy_within(slot.len.., 0);
        }
        for s in self.slots.as_mut().iter_mut().filter_map(|s| s.0.as_mut()) {
            if s.start >= end {
                s.start -= slot.len;
            }
        }
        self.used = self.used.saturating_sub(slot.len);
    }

    fn evict_oldest(&mut self) -> bool {
        let Some(oldest) = self.stored().map(|s| s.ext).min() else {
            return false;
        };
        self.remove(oldest);
        self.stats.evicted = self.stats.evicted.saturating_add(1);
        true
    }

    /// The complete list starting at the S packet `first`: consecutive sequence numbers, no S
    /// after the first (a later S would start a smaller list), ending at the first E.
    /// Returns (last, packets, total payload bytes).
    fn run_from(&self, first: i64) -> Option<(i64, u16, usize)> {
        let mut ext = first;
        let mut packets: u16 = 0;
        let mut total: usize = 0;
        loop {
            let slot = self.find(ext)?;
            if slot.descriptor.start != (ext == first) {
                return None;
            }
            packets = packets.checked_add(1)?;
            total = total.saturating_add(slot.len);
            if slot.descriptor.end {
                return Some((ext, packets, total));
            }
            if usize::from(packets) >= self.packet_capacity() {
                return None;
            }
            ext = ext.checked_add(1)?;
        }
    }

    /// Whether a complete list goes through the packet `ext`.
    fn run_through(&self, ext: i64) -> bool {
        let mut first = ext;
        loop {
            let Some(slot) = self.find(first) else {
                return false;
            };
            if slot.descriptor.start {
                break;
            }
            if first != ext && slot.descriptor.end {
                return false;
            }
            let Some(prev) = first.checked_sub(1) else {
                return false;
            };
            first = prev;
        }
        self.run_from(first).is_some_and(|(last, _, _)| last >= ext)
    }

    /// The complete list with the lowest first sequence number: (first, last, packets, bytes).
    fn lowest_run(&self) -> Option<(i64, i64, u16, usize)> {
        self.stored()
            .filter(|s| s.descriptor.start)
            .filter_map(|s| {
                self.run_from(s.ext)
                    .map(|(last, n, total)| (s.ext, last, n, total))
            })
            .min_by_key(|r| r.0)
    }

    /// §5.2 steps 6-7: the same T bit and payload type in every packet of the list.
    fn consistent(&self, first: i64, packets: u16) -> bool {
        let Some(head) = self.find(first) else {
            return false;
        };
        (0..i64::from(packets)).all(|i| {
            self.find(first.saturating_add(i)).is_some_and(|s| {
                s.descriptor.mode == head.descriptor.mode && s.payload_type == head.payload_type
            })
        })
    }

    /// §5.2 steps 8-10: concatenates the payloads into `out` and computes the metadata.
    fn gather(
        &self,
        first: i64,
        last: i64,
        packets: u16,
        total: usize,
        out: &mut [u8],
    ) -> Result<RtpFrame> {
        let mut w = Cursor { buf: out, pos: 0 };
        for i in 0..i64::from(packets) {
            let slot = self
                .find(first.saturating_add(i))
                .ok_or(Error::MalformedFrame)?;
            let end = slot.start.saturating_add(slot.len);
            w.put(
                self.bytes
                    .as_ref()
                    .get(slot.start..end)
                    .ok_or(Error::MalformedFrame)?,
            )?;
        }
        let tail = self.find(last).ok_or(Error::MalformedFrame)?;
        Ok(RtpFrame {
            ssrc: self.ssrc.unwrap_or(0),
            payload_type: tail.payload_type,
            timestamp: tail.timestamp,
            marker: tail.marker,
            mode: tail.descriptor.mode,
            first_sequence: first as u16,
            packets,
            len: total,
        })
    }

    /// §5.2 step 5: removes the list's packets and marks their sequence numbers consumed.
    fn take(&mut self, first: i64, packets: u16) {
        for i in 0..i64::from(packets) {
            let ext = first.saturating_add(i);
            self.remove(ext);
            self.set_consumed(ext as u16);
        }
    }
}

/// §5.2 step 11 on a reassembled frame at the start of `out`: unprotects it in place and moves
/// the plaintext to the start of `out`. The only place this module calls a [`Receiver`].
fn unprotect_frame<S: KeyStore>(
    receiver: &mut Receiver<S>,
    metadata: &[u8],
    frame: RtpFrame,
    out: &mut [u8],
) -> Result<RtpFrame> {
    let ciphertext = out.get_mut(..frame.len).ok_or(Error::BufferTooSmall)?;
    let (_, header_len) = Header::parse(ciphertext)?;
    let len = receiver.unprotect_in_place(metadata, ciphertext)?.len();
    let end = header_len.checked_add(len).ok_or(Error::MalformedFrame)?;
    out.get_mut(..end)
        .ok_or(Error::MalformedFrame)?
        .copy_within(header_len.., 0);
    Ok(RtpFrame { len, ..frame })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A consumed sequence number is refused for the next CONSUMED_MEMORY pushes at least and
    /// fewer than twice as many, wherever in a generation it was consumed; then it is taken
    /// again (the 16-bit space wraps for a legitimate stream).
    #[test]
    #[cfg_attr(
        miri,
        ignore = "tens of thousands of pushes: slow under Miri, runs natively"
    )]
    fn consumed_sequence_numbers_are_remembered_one_to_two_generations() -> Result<()> {
        let h = |seq| RtpHeader::new(96, seq, 0, 1);
        let mut out = [0u8; 64];
        for phase in [
            0,
            1,
            CONSUMED_MEMORY / 2,
            CONSUMED_MEMORY - 2,
            CONSUMED_MEMORY - 1,
        ] {
            let mut d = Depacketizer::<4, 64>::new();
            for _ in 0..phase {
                d.push_payload(&h(1), &[0x00, 1])?;
            }
            assert_eq!(d.push_payload(&h(0), &[0xc0, 1])?, Pushed::FrameReady);
            assert!(matches!(d.pop_frame(&mut out), Some(Ok(_))));
            assert!(d.is_consumed(0) && !d.is_consumed(1));
            let mut refused = 0;
            while d.push_payload(&h(0), &[0xc0, 1])? == Pushed::Duplicate {
                refused += 1;
            }
            assert!(
                (CONSUMED_MEMORY..2 * CONSUMED_MEMORY).contains(&refused),
                "consumed after {phase} pushes: refused {refused} times"
            );
            assert!(matches!(d.pop_frame(&mut out), Some(Ok(_))));
        }
        Ok(())
    }
}
