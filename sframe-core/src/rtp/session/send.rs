//! The send side of an SFrame RTP session: one [`SendStream`] per SSRC —
//! draft-ietf-avtcore-rtp-sframe §5.1 (packetization, §5.1.1 per-frame, §5.1.2 per-packet),
//! §7 (per-SSRC keys) and §8 (ratcheting with them), RFC 9605 §4.4 (counters) and §5.1 (the
//! ratchet).

use zeroize::Zeroizing;

use crate::crypto::{Backend, DefaultBackend};
use crate::error::{Error, Result};
use crate::key::Key;
use crate::ratchet::{Generation, RatchetLayout};
use crate::rtp::{
    DESCRIPTOR_LEN, Descriptor, Mode, RtpHeader, RtpPacket, fragment_count, max_media_payload_len,
    per_packet_overhead, ssrc_base_key,
};
use crate::sender::Sender;
use crate::suite::CipherSuite;

/// Length of the largest per-SSRC key (§7: `Nh`, 64 bytes for the SHA-512 suites).
pub(crate) const MAX_SSRC_KEY_LEN: usize = 64;

/// The settings of a [`SendStream`], fixed when it is made.
///
/// ```
/// use sframe_core::CipherSuite;
/// use sframe_core::rtp::Mode;
/// use sframe_core::rtp::session::SendConfig;
/// let video = SendConfig::new(CipherSuite::AesCtr256HmacSha512_80, 0x1111_2222, 99, 1200)
///     .with_per_ssrc_keys(true)
///     .with_first_sequence(0x7a31); // RFC 3550 §5.1: start at a random value
/// assert_eq!(video.mode, Mode::PerFrame);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SendConfig {
    /// The cipher suite.
    pub suite: CipherSuite,
    /// The stream's SSRC: written in every packet, and the HKDF salt of its per-SSRC key.
    pub ssrc: u32,
    /// The RTP payload type of [`SendStream::send_frame`] (0..=127; §4: the protected media's).
    pub payload_type: u8,
    /// Per-frame (§5.1.1) or per-packet (§5.1.2) SFrame: the T bit.
    pub mode: Mode,
    /// Largest RTP payload, descriptor included (the MTU minus the RTP header and whatever
    /// the transport adds).
    pub max_payload_len: usize,
    /// Whether keys given to the stream are session base keys from which the stream derives
    /// its own (§7: `HKDF(salt = BE32(SSRC), IKM = base_key, info = "SFrame 1.0 RTP Stream")`).
    pub per_ssrc_keys: bool,
    /// The sequence number of the first packet.
    pub first_sequence: u16,
}

impl SendConfig {
    /// Per-frame SFrame, keys used as given, sequence numbers from 0.
    pub const fn new(
        suite: CipherSuite,
        ssrc: u32,
        payload_type: u8,
        max_payload_len: usize,
    ) -> Self {
        SendConfig {
            suite,
            ssrc,
            payload_type,
            mode: Mode::PerFrame,
            max_payload_len,
            per_ssrc_keys: false,
            first_sequence: 0,
        }
    }

    /// With `mode`.
    pub const fn with_mode(self, mode: Mode) -> Self {
        SendConfig { mode, ..self }
    }

    /// With per-SSRC keys (§7) on or off.
    pub const fn with_per_ssrc_keys(self, per_ssrc_keys: bool) -> Self {
        SendConfig {
            per_ssrc_keys,
            ..self
        }
    }

    /// With the first packet's sequence number.
    pub const fn with_first_sequence(self, first_sequence: u16) -> Self {
        SendConfig {
            first_sequence,
            ..self
        }
    }

    const fn check(&self) -> Result<()> {
        if self.payload_type > 0x7f || self.max_payload_len <= DESCRIPTOR_LEN {
            return Err(Error::InvalidConfig);
        }
        Ok(())
    }
}

/// Counters of a [`SendStream`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SendStats {
    /// Frames protected and packetized.
    pub frames: u64,
    /// RTP packets written.
    pub packets: u64,
    /// Media bytes protected (plaintext).
    pub media_bytes: u64,
    /// RTP bytes written (headers included).
    pub rtp_bytes: u64,
}

/// One SSRC's sending side: an SFrame [`Sender`] (one KID at a time, as the nonce rules of
/// RFC 9605 §4.4.1 require), the stream's per-SSRC key derivation (§7), its own §5.1 ratchet
/// (§8), and an RTP packetizer (§5.1) that manages the sequence numbers and writes whole RTP
/// packets into a caller buffer. No allocation per frame.
///
/// Streams of one session may be given the same base key and KID only with per-SSRC keys:
/// each then holds its own key. Without them, two streams given the same key and KID would
/// reuse nonces; the process-wide sender registry refuses the second ([`Error::KeyInUse`],
/// with `std`), on any thread, as it refuses a plain [`Sender`] given a live stream's per-SSRC
/// key (one key material); a dropped stream's keys resume their counters in the next stream
/// or sender given them.
///
/// ```
/// use sframe_core::CipherSuite;
/// use sframe_core::rtp::RtpPacket;
/// use sframe_core::rtp::session::{SendConfig, SendStream};
///
/// let suite = CipherSuite::AesCtr256HmacSha512_80;
/// let config = SendConfig::new(suite, 0xcafe_0001, 99, 1000).with_per_ssrc_keys(true);
/// let mut video = SendStream::new(config)?;
/// video.set_key(7, &[0x42; 32])?; // the session's base key: the stream derives its own
///
/// let frame = [0x65u8; 2500];
/// let mut buf = [0u8; 4096];
/// assert!(video.max_packets_len(frame.len()) <= buf.len());
/// let packets = video.send_frame(&frame, 90_000, true, &mut buf)?;
/// assert_eq!(packets.len(), 3);
/// for (i, packet) in packets.enumerate() {
///     let parsed = RtpPacket::parse(packet)?; // send it
///     assert_eq!(parsed.header.sequence_number, i as u16);
///     assert_eq!(parsed.header.marker, i == 2); // the marker on the last packet only
/// }
/// assert_eq!(video.next_sequence(), 3);
/// # Ok::<(), sframe_core::Error>(())
/// ```
pub struct SendStream<B: Backend = DefaultBackend> {
    sender: Sender<B>,
    config: SendConfig,
    next_sequence: u16,
    stats: SendStats,
}

impl SendStream {
    /// A stream with no key yet and the [`DefaultBackend`]. [`Error::InvalidConfig`] if the
    /// payload type is over 127 or `max_payload_len` cannot hold a descriptor and a byte.
    pub fn new(config: SendConfig) -> Result<Self> {
        Self::with_backend(DefaultBackend::default(), config)
    }
}

impl<B: Backend> SendStream<B> {
    /// [`SendStream::new`] with the crypto backend `backend`.
    pub fn with_backend(backend: B, config: SendConfig) -> Result<Self> {
        config.check()?;
        Ok(SendStream {
            sender: Sender::with_backend(backend, config.suite),
            config,
            next_sequence: config.first_sequence,
            stats: SendStats::default(),
        })
    }

    /// The settings.
    pub fn config(&self) -> &SendConfig {
        &self.config
    }

    /// The SSRC.
    pub fn ssrc(&self) -> u32 {
        self.config.ssrc
    }

    /// The stream's SFrame sender (its KID, counter, usage), read-only: keys go through the
    /// stream so that the per-SSRC derivation is applied.
    pub fn sender(&self) -> &Sender<B> {
        &self.sender
    }

    /// The current KID, if a key is set.
    pub fn key_id(&self) -> Option<u64> {
        self.sender.key_id()
    }

    /// The sequence number of the next packet.
    pub fn next_sequence(&self) -> u16 {
        self.next_sequence
    }

    /// The counters.
    pub fn stats(&self) -> SendStats {
        self.stats
    }

    /// The stream's own key for `base_key`: its per-SSRC key (§7, derived into `buf`) when
    /// configured, else `base_key` itself.
    fn stream_key<'k>(&self, base_key: &'k [u8], buf: &'k mut [u8]) -> Result<&'k [u8]> {
        if !self.config.per_ssrc_keys {
            return Ok(base_key);
        }
        let n = ssrc_base_key(self.config.suite, base_key, self.config.ssrc, buf)?;
        buf.get(..n).ok_or(Error::InvalidKey)
    }

    /// Makes `kid` with `base_key` the current key (RFC 9605 §4.4.2; with per-SSRC keys, the
    /// §7 key of this stream's SSRC is derived from `base_key` first). Counter rules, and
    /// errors, are those of [`Sender::set_key`]: a new key starts at counter 0, a key used
    /// before resumes, and on error nothing changes.
    pub fn set_key(&mut self, kid: u64, base_key: &[u8]) -> Result<()> {
        let mut buf = Zeroizing::new([0u8; MAX_SSRC_KEY_LEN]);
        let key = self.stream_key(base_key, &mut buf[..])?;
        self.sender.set_key(kid, key)
    }

    /// Makes an already derived key the current one: the RFC 9605 §4.4.2 `sframe_key` and
    /// `sframe_salt` of its KID, derived outside the stream — e.g. by WebCrypto from a base key
    /// the application cannot read. With per-SSRC keys, `key` must be derived from this
    /// stream's §7 key (of the base key and [`SendStream::ssrc`]; [`rtp::ssrc_base_key`](crate::rtp::ssrc_base_key)
    /// gives it), which the stream cannot check: a receiver then fails every frame. Counter
    /// rules and errors are those of [`Sender::set_derived_key`] (a key of another suite is
    /// [`Error::SuiteMismatch`]); on error nothing changes.
    ///
    /// ```
    /// use sframe_core::{CipherSuite, Key, Receiver};
    /// use sframe_core::rtp::{self, RtpPacket};
    /// use sframe_core::rtp::session::{SendConfig, SendStream};
    /// let suite = CipherSuite::AesCtr256HmacSha512_80;
    /// let (ssrc, kid, base) = (0x1234, 3, [9u8; 32]);
    /// let mut video = SendStream::new(SendConfig::new(suite, ssrc, 99, 1200).with_per_ssrc_keys(true))?;
    /// // What the application derives where the base key lives: §7, then §4.4.2.
    /// let mut ssrc_key = [0u8; 64];
    /// let n = rtp::ssrc_base_key(suite, &base, ssrc, &mut ssrc_key)?;
    /// video.set_derived_key(Key::derive(suite, kid, &ssrc_key[..n])?)?;
    /// assert_eq!(video.key_id(), Some(kid));
    ///
    /// // A receiver with the §7 key of that SSRC reads it.
    /// let mut wire = [0u8; 1500];
    /// let packet = video.send_frame(b"frame", 0, true, &mut wire)?.next().unwrap();
    /// let payload = RtpPacket::parse(packet)?.payload;
    /// let mut rx = Receiver::new(suite);
    /// rx.add_key(kid, &ssrc_key[..n])?;
    /// assert_eq!(rx.unprotect_vec(b"", &payload[rtp::DESCRIPTOR_LEN..])?, b"frame");
    /// # Ok::<(), sframe_core::Error>(())
    /// ```
    pub fn set_derived_key(&mut self, key: Key<B>) -> Result<()> {
        self.sender.set_derived_key(key)
    }

    /// Starts a §5.1 ratchet chain at `generation`, step 0, and returns its KID (see
    /// [`Sender::set_ratcheting_key`]). With per-SSRC keys the chain starts from this
    /// stream's §7 key: the per-SSRC derivation runs once, then every step ratchets the
    /// per-SSRC key (draft §8), so all streams of a session ratchet in step with the same
    /// KIDs and different keys.
    ///
    /// ```
    /// use sframe_core::CipherSuite;
    /// use sframe_core::ratchet::{Generation, RatchetLayout};
    /// use sframe_core::rtp::session::{SendConfig, SendStream};
    /// let config = SendConfig::new(CipherSuite::AesGcm128Sha256, 5, 96, 1200).with_per_ssrc_keys(true);
    /// let mut audio = SendStream::new(config)?;
    /// let layout = RatchetLayout::new(4)?;
    /// assert_eq!(audio.set_ratcheting_key(layout, Generation(2), &[3; 16])?, 2 << 4);
    /// assert_eq!(audio.ratchet()?, (2 << 4) + 1);
    /// # Ok::<(), sframe_core::Error>(())
    /// ```
    pub fn set_ratcheting_key(
        &mut self,
        layout: RatchetLayout,
        generation: Generation,
        base_key: &[u8],
    ) -> Result<u64> {
        let mut buf = Zeroizing::new([0u8; MAX_SSRC_KEY_LEN]);
        let key = self.stream_key(base_key, &mut buf[..])?;
        self.sender.set_ratcheting_key(layout, generation, key)
    }

    /// Ratchets the current chain one step (RFC 9605 §5.1; [`Sender::ratchet`]) and returns
    /// the new KID.
    pub fn ratchet(&mut self) -> Result<u64> {
        self.sender.ratchet()
    }

    /// The SFrame bytes per-packet mode adds to a media payload (§5.1.2): descriptor, largest
    /// header and tag ([`per_packet_overhead`]).
    pub fn per_packet_overhead(&self) -> usize {
        per_packet_overhead(self.config.suite)
    }

    /// The largest media payload the media packetizer should produce so that, protected per
    /// packet, it fits one RTP payload of [`SendConfig::max_payload_len`] bytes (§5.1.2).
    pub fn max_media_payload_len(&self) -> usize {
        max_media_payload_len(self.config.suite, self.config.max_payload_len)
    }

    /// The most RTP packets a `media_len`-byte frame becomes.
    pub fn max_packet_count(&self, media_len: usize) -> usize {
        let max_frame = self.sender.max_output_len(media_len);
        fragment_count(max_frame, self.config.max_payload_len).unwrap_or(0)
    }

    /// The buffer [`SendStream::send_frame`] needs for a `media_len`-byte frame without
    /// CSRCs or header extension. [`SendStream::send_frame_with`] needs
    /// [`SendStream::max_packets_len_with`].
    pub fn max_packets_len(&self, media_len: usize) -> usize {
        self.max_packets_len_with(media_len, crate::rtp::RTP_FIXED_HEADER_LEN)
    }

    /// The buffer a `media_len`-byte frame needs with RTP headers of `rtp_header_len` bytes
    /// ([`RtpHeader::encoded_len`]).
    pub fn max_packets_len_with(&self, media_len: usize, rtp_header_len: usize) -> usize {
        let max_frame = self.sender.max_output_len(media_len);
        self.max_packet_count(media_len)
            .saturating_mul(rtp_header_len.saturating_add(DESCRIPTOR_LEN))
            .saturating_add(max_frame)
    }

    /// Protects `media` (one encoded frame in per-frame mode; one media RTP payload in
    /// per-packet mode) and writes its RTP packets back to back into `out`: the payload type
    /// of the config, the stream's SSRC and next sequence numbers, `timestamp`, and the
    /// marker bit (if `marker`) on the last packet only (§5.1). Returns the packets.
    ///
    /// `out` needs [`SendStream::max_packets_len`] bytes, checked first: if it is too small,
    /// [`Error::BufferTooSmall`] and no counter or sequence number is used. Other errors are
    /// those of [`Sender::protect`], also with nothing used.
    pub fn send_frame<'o>(
        &mut self,
        media: &[u8],
        timestamp: u32,
        marker: bool,
        out: &'o mut [u8],
    ) -> Result<Packets<'o>> {
        let mut header = RtpHeader::new(self.config.payload_type, 0, timestamp, self.config.ssrc);
        header.marker = marker;
        self.send_frame_with(media, &header, out)
    }

    /// [`SendStream::send_frame`] with the media packetizer's RTP header: its payload type,
    /// timestamp, marker, CSRCs and header extension are copied into every packet (the marker
    /// on the last only); the SSRC and sequence number are the stream's (the header's are
    /// ignored). [`Error::InvalidConfig`] if the header cannot be encoded.
    pub fn send_frame_with<'o>(
        &mut self,
        media: &[u8],
        header: &RtpHeader<'_>,
        out: &'o mut [u8],
    ) -> Result<Packets<'o>> {
        let first_sequence = self.next_sequence;
        let mut header = *header;
        header.ssrc = self.config.ssrc;
        header.sequence_number = self.next_sequence;
        let marker = header.marker;
        header.marker = false;
        let header_len = header.encoded_len();
        let key_id = self.sender.key_id().ok_or(Error::NoKey)?;
        let counter = self.sender.next_counter().ok_or(Error::CounterExhausted)?;
        // Everything that can fail comes before the counter is used.
        let max_frame = self.sender.max_output_len(media.len());
        let max_count = fragment_count(max_frame, self.config.max_payload_len)?;
        let prefix = header_len.saturating_add(DESCRIPTOR_LEN);
        let frame_at = max_count.checked_mul(prefix).ok_or(Error::BufferTooSmall)?;
        let frame_end = frame_at
            .checked_add(max_frame)
            .ok_or(Error::BufferTooSmall)?;
        if frame_end > out.len() {
            return Err(Error::BufferTooSmall);
        }
        // Validates the header (PT, CSRCs, extension) by writing it once.
        write_header(&header, false, out.get_mut(..header_len))?;

        // The frame goes after room for every packet's prefix; each chunk then moves down to
        // follow its packet's prefix. Chunk i moves from `frame_at + i*chunk` to
        // `i*(prefix+chunk) + prefix`, which is not above it (i+1 <= count <= max_count), and
        // its prefix ends there too, so nothing is overwritten before it has moved.
        let frame_len = self
            .sender
            .protect(
                b"",
                media,
                out.get_mut(frame_at..frame_end)
                    .ok_or(Error::BufferTooSmall)?,
            )?
            .len();
        let chunk = self.config.max_payload_len - DESCRIPTOR_LEN;
        let count = fragment_count(frame_len, self.config.max_payload_len)?;
        for i in 0..count {
            let src = frame_at.saturating_add(i.saturating_mul(chunk));
            let len = chunk.min(frame_len.saturating_sub(i.saturating_mul(chunk)));
            let at = i.saturating_mul(prefix.saturating_add(chunk));
            let data_at = at.saturating_add(prefix);
            if src.saturating_add(len) > out.len() || data_at.saturating_add(len) > out.len() {
                return Err(Error::BufferTooSmall); // unreachable: checked above
            }
            out.copy_within(src..src + len, data_at);
            let last = i + 1 == count;
            header.sequence_number = self.next_sequence.wrapping_add(i as u16);
            write_header(&header, marker && last, out.get_mut(at..at + header_len))?;
            let descriptor = Descriptor {
                start: i == 0,
                end: last,
                mode: self.config.mode,
            };
            if let Some(d) = out.get_mut(at + header_len) {
                *d = descriptor.to_byte();
            }
        }
        let total = count.saturating_mul(prefix).saturating_add(frame_len);
        self.next_sequence = self.next_sequence.wrapping_add(count as u16);
        let stats = &mut self.stats;
        stats.frames = stats.frames.saturating_add(1);
        stats.packets = stats.packets.saturating_add(count as u64);
        stats.media_bytes = stats.media_bytes.saturating_add(media.len() as u64);
        stats.rtp_bytes = stats.rtp_bytes.saturating_add(total as u64);
        let written = out.get(..total).ok_or(Error::BufferTooSmall)?;
        Ok(Packets {
            rest: written,
            header_len,
            chunk,
            count,
            key_id,
            counter,
            first_sequence,
        })
    }
}

fn write_header(header: &RtpHeader<'_>, marker: bool, out: Option<&mut [u8]>) -> Result<usize> {
    let out = out.ok_or(Error::BufferTooSmall)?;
    let header = RtpHeader { marker, ..*header };
    RtpPacket {
        header,
        payload: &[],
        padding: 0,
    }
    .write(out)
}

impl<B: Backend> core::fmt::Debug for SendStream<B> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SendStream")
            .field("config", &self.config)
            .field("key_id", &self.key_id())
            .field("next_sequence", &self.next_sequence)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

/// The RTP packets of one frame, written back to back in the caller's buffer by
/// [`SendStream::send_frame`]: iterate to send them, in order.
#[derive(Clone, Debug)]
pub struct Packets<'o> {
    rest: &'o [u8],
    header_len: usize,
    chunk: usize,
    count: usize,
    key_id: u64,
    counter: u64,
    first_sequence: u16,
}

impl<'o> Packets<'o> {
    /// The KID the frame was protected under.
    pub fn key_id(&self) -> u64 {
        self.key_id
    }

    /// The frame's SFrame counter.
    pub fn counter(&self) -> u64 {
        self.counter
    }

    /// The sequence number of the frame's first packet.
    pub fn first_sequence(&self) -> u16 {
        self.first_sequence
    }

    /// All packets (those not yet iterated), back to back.
    pub fn as_bytes(&self) -> &'o [u8] {
        self.rest
    }
}

impl<'o> Iterator for Packets<'o> {
    type Item = &'o [u8];

    fn next(&mut self) -> Option<&'o [u8]> {
        if self.count == 0 {
            return None;
        }
        let len = if self.count == 1 {
            self.rest.len()
        } else {
            self.header_len
                .saturating_add(DESCRIPTOR_LEN)
                .saturating_add(self.chunk)
        };
        let (packet, rest) = self.rest.split_at_checked(len)?;
        self.rest = rest;
        self.count -= 1;
        Some(packet)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.count, Some(self.count))
    }
}

impl ExactSizeIterator for Packets<'_> {}
