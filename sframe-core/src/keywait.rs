//! Frames that arrive before their key — RFC 9605 §4.4.4, with §4.4.1 and §6.2.
//!
//! A receiver finds the key of a frame by the KID in its header (§4.4.1, §4.4.4). If a frame
//! fails to decrypt only because no key is available for its KID, §4.4.4 lets the receiver
//! buffer it and try again once a key with that KID is received; any other failure discards
//! the frame. Keys travel on another path than the media and arrive asynchronously (§6.2; key
//! management and its rotation schedule are the application's, §9.2), so joining a call and
//! every key rotation race the key exchange: the first frames under a new KID, often the video
//! key frame §6.2 is about, come before their key. Dropped, the picture waits for the next key
//! frame. [`KeyWaitBuffer`] is that buffer, bounded and without allocation:
//!
//! * [`KeyWaitBuffer::hold`] keeps a frame (its bytes, or only a caller tag:
//!   [`KeyWaitBuffer::hold_external`]) under its KID;
//! * [`KeyWaitBuffer::release`] / [`KeyWaitBuffer::release_with`] give back the frames of one
//!   KID, oldest first, once the key is there; then decrypt them with
//!   [`Receiver::unprotect`](crate::Receiver::unprotect) like any frame;
//! * [`KeyWaitBuffer::expire`] and [`KeyWaitBuffer::drop_kid`] / [`KeyWaitBuffer::drop_where`]
//!   discard frames that waited too long or whose key will not come.
//!
//! [`Receiver::has_key_for`](crate::Receiver::has_key_for) tells, without decrypting, whether
//! a frame's KID has a key (false: `unprotect` would fail with
//! [`Error::UnknownKeyId`]).
//!
//! ## Bounds
//!
//! Everything a sender controls is bounded by [`KeyWaitLimits`], checked on every hold: at
//! most `max_frames` frames, `max_bytes` bytes and, given the caller's clock (`now`, in any
//! unit; this crate has no clock), `max_age` of waiting. When a new frame would exceed a limit
//! the **oldest** frames are dropped first; a frame larger than `max_bytes` is refused. Every
//! frame given to the buffer is reported exactly once: released, or dropped through the
//! caller's `on_drop` callback with its [`DropReason`] and tag (so a caller that keeps the
//! frame objects itself, e.g. JavaScript `RTCEncodedVideoFrame`s, knows what to free).
//! Memory is fixed at construction: `FRAMES` slot records and `BYTES` bytes, inline
//! ([`KeyWaitBuffer`]) or on the heap, allocated in place ([`BoxedKeyWaitBuffer`]).
//!
//! Held frames are unauthenticated: their KIDs are whatever the network sent. Anyone who can
//! send frames can fill the buffer with frames under KIDs that never get a key and so push out
//! (oldest first) frames waiting for real keys. The limits bound memory and delay, not
//! fairness between senders: for that, use a buffer per stream or refuse frames of a stream
//! with too many waiting ([`KeyWaitBuffer::waiting_for_stream`]). Released frames go through
//! `unprotect` like any other — authentication, replay window — so waiting changes nothing
//! about what is accepted; `max_age` bounds how late a frame can still be delivered.
//!
//! ## Storage
//!
//! Frame records sit in an array in arrival order (removing one shifts the later records:
//! O(`FRAMES`) small copies). Frame bytes sit in a ring over `[u8; BYTES]`, also in arrival
//! order, each frame contiguous: a frame that would cross the end of the array starts again
//! at 0, leaving the end unused until the ring turns. Dropping the oldest frame — what a full
//! buffer does on every hold — only advances the ring's start. Releasing the frames of one KID
//! from between others leaves holes; they are reclaimed when the frames before them leave, or,
//! when a new frame fits the limits but not the ring's free space, by compacting the ring in
//! place (one rotation and one pass moving each frame down: O(`BYTES`) byte moves, only then).
//!
//! The alternatives were worse for media: fixed per-slot chunks (`BYTES / FRAMES` each) need
//! no compaction but refuse any frame larger than a chunk, and video key frames are many times
//! larger than the frames between them; one contiguous arena compacted on every removal moves
//! up to `BYTES` bytes each time the oldest frame is dropped, which is the steady state of a
//! key that never arrives. Keeping each frame contiguous lets
//! [`KeyWaitBuffer::release_with`] hand the stored frame straight to `unprotect`: its bytes are
//! copied once in ([`KeyWaitBuffer::hold`]) and decrypted once out.
//!
//! ## Example
//!
//! A frame arrives before its key: it is held, the key arrives, the frame is released and
//! decrypted.
//!
//! ```
//! use sframe_core::keywait::{KeyWaitBuffer, KeyWaitLimits, Waiting};
//! use sframe_core::{CipherSuite, Error, Receiver, Sender, inspect};
//!
//! let suite = CipherSuite::AesGcm128Sha256;
//! let mut alice = Sender::new(suite);
//! alice.set_key(7, &[7; 16])?;
//! let mut frame = [0u8; 64];
//! let frame = alice.protect(b"", b"key frame", &mut frame)?;
//!
//! let mut rx = Receiver::new(suite);
//! let mut plain = [0u8; 64];
//! // At most 16 frames, 4 KiB, waiting at most 2000 ms.
//! let limits = KeyWaitLimits { max_frames: 16, max_bytes: 4096, max_age: 2000 };
//! let mut waiting = KeyWaitBuffer::<16, 4096>::new(limits)?;
//! let now_ms = 1_000;
//!
//! // The frame comes first: no key for its KID yet.
//! assert_eq!(rx.unprotect(b"", frame, &mut plain).map(|p| p.len()), Err(Error::UnknownKeyId));
//! let kid = inspect(frame)?.key_id;
//! assert!(!rx.has_key_for(kid));
//! let held = waiting.hold(Waiting { kid, tag: 1, stream: 0x1234 }, frame, now_ms, |dropped, why| {
//!     unreachable!("nothing is dropped here: {dropped:?} {why:?}")
//! });
//! assert!(held);
//!
//! // The key arrives (e.g. 300 ms later): release the frames of its KID, oldest first.
//! rx.add_key(7, &[7; 16])?;
//! waiting.expire(now_ms + 300, |_, _| {}); // drop what waited too long
//! let mut decrypted = 0;
//! while let Some(result) = waiting.release_with(kid, |held, frame| {
//!     assert_eq!(held.tag, 1);
//!     rx.unprotect(b"", frame, &mut plain).map(|p| p.len())
//! }) {
//!     decrypted = result?;
//! }
//! assert_eq!(&plain[..decrypted], b"key frame");
//! assert!(waiting.is_empty());
//! assert_eq!(waiting.stats().released, 1);
//! # Ok::<(), Error>(())
//! ```

use crate::error::{Error, Result};

/// The runtime limits of a [`KeyWaitBuffer`], fixed at [`KeyWaitBuffer::new`].
///
/// `max_frames` must be 1..=`FRAMES` ([`Error::InvalidConfig`] otherwise). `max_bytes` bounds
/// the total size of the waiting frames, stored here or not ([`KeyWaitBuffer::hold_external`]);
/// frames stored here are also bounded by `BYTES`. A frame waits while `now - arrival` is at
/// most `max_age`, in the caller's time unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KeyWaitLimits {
    /// Most frames waiting at once, 1..=`FRAMES`.
    pub max_frames: usize,
    /// Most bytes waiting at once (sum of [`Held::len`]).
    pub max_bytes: usize,
    /// Longest wait, in the unit of the `now` values the caller passes (e.g. milliseconds).
    pub max_age: u64,
}

impl KeyWaitLimits {
    /// The limits that use the whole capacity of a `KeyWaitBuffer<FRAMES, BYTES>`, with
    /// `max_age`.
    ///
    /// ```
    /// use sframe_core::keywait::{KeyWaitBuffer, KeyWaitLimits};
    /// let limits = KeyWaitLimits::capacity::<32, 65536>(1500);
    /// assert_eq!((limits.max_frames, limits.max_bytes), (32, 65536));
    /// let buffer = KeyWaitBuffer::<32, 65536>::new(limits)?;
    /// # Ok::<(), sframe_core::Error>(())
    /// ```
    pub const fn capacity<const FRAMES: usize, const BYTES: usize>(max_age: u64) -> Self {
        KeyWaitLimits {
            max_frames: FRAMES,
            max_bytes: BYTES,
            max_age,
        }
    }
}

/// What the caller says about a frame it holds: the KID it waits for, and two values of the
/// caller's own that come back with the frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Waiting {
    /// The KID the frame waits for: the key ID of its SFrame header (see
    /// [`inspect`](crate::inspect)).
    pub kid: u64,
    /// The caller's tag, e.g. an index into its own table of frame objects. Not interpreted.
    pub tag: u64,
    /// The caller's stream, e.g. the RTP SSRC. Not interpreted; counted on query
    /// ([`KeyWaitBuffer::waiting_for_stream`]).
    pub stream: u32,
}

/// A frame as the buffer reports it: released, dropped or waiting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Held {
    /// The KID it waits (waited) for.
    pub kid: u64,
    /// The caller's tag.
    pub tag: u64,
    /// The caller's stream.
    pub stream: u32,
    /// The `now` it was held at.
    pub arrival: u64,
    /// Its size in bytes: of the bytes stored, or the size given to
    /// [`KeyWaitBuffer::hold_external`].
    pub len: usize,
    /// Whether its bytes are kept by the caller ([`KeyWaitBuffer::hold_external`]): nothing
    /// is stored here and a release yields no bytes.
    pub external: bool,
}

/// Why a frame was dropped (reported with its [`Held`] to the caller's `on_drop`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DropReason {
    /// Pushed out, oldest first, to make room for a newer frame within the limits.
    Overflow,
    /// Waited longer than [`KeyWaitLimits::max_age`].
    Expired,
    /// Refused by [`KeyWaitBuffer::hold`]: larger than [`KeyWaitLimits::max_bytes`] (or, for
    /// a stored frame, than `BYTES`). It was never held.
    TooBig,
    /// Dropped by the caller: [`KeyWaitBuffer::drop_kid`] or [`KeyWaitBuffer::drop_where`]
    /// (e.g. the key will not come, or the stream ended).
    Removed,
}

/// Counters of a [`KeyWaitBuffer`] since it was made. Every frame accepted by a hold is
/// counted once more when it leaves: `held == released + dropped_overflow + dropped_age +
/// dropped_removed + waiting`. Refused frames are only in `dropped_too_big`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct KeyWaitStats {
    /// Frames accepted by [`KeyWaitBuffer::hold`] / [`KeyWaitBuffer::hold_external`].
    pub held: u64,
    /// Frames released ([`KeyWaitBuffer::release`], [`KeyWaitBuffer::release_with`]).
    pub released: u64,
    /// Frames dropped to make room ([`DropReason::Overflow`]).
    pub dropped_overflow: u64,
    /// Frames dropped for their age ([`DropReason::Expired`]).
    pub dropped_age: u64,
    /// Frames refused as larger than the limit ([`DropReason::TooBig`]); never held.
    pub dropped_too_big: u64,
    /// Frames dropped by the caller ([`DropReason::Removed`]).
    pub dropped_removed: u64,
    /// Frames waiting now.
    pub waiting: u64,
    /// Bytes waiting now (sum of [`Held::len`]).
    pub waiting_bytes: u64,
}

/// One cell of a key-wait buffer's record storage: one waiting frame's record (opaque). See
/// [`GenericKeyWaitBuffer::with_storage`].
#[derive(Clone, Copy, Debug)]
pub struct WaitSlot {
    held: Held,
    /// Offset of the frame's bytes from the ring's start (`head`), in ring order (unused for
    /// an external frame).
    start: usize,
}

type Slot = WaitSlot;

impl WaitSlot {
    /// An empty cell.
    pub const EMPTY: WaitSlot = EMPTY;
}

const EMPTY: Slot = WaitSlot {
    held: Held {
        kid: 0,
        tag: 0,
        stream: 0,
        arrival: 0,
        len: 0,
        external: false,
    },
    start: 0,
};

/// Frames waiting for their key, in fixed memory: at most `FRAMES` frames, whose bytes share
/// `BYTES` bytes, within the runtime [`KeyWaitLimits`]. See the [module docs](self) for the
/// bounds, the storage design and an example.
///
/// Operations cost O(`FRAMES`) plus the bytes they copy (a hold that has to compact the ring:
/// O(`BYTES`)). No allocation. The struct holds its storage inline (`BYTES` bytes and
/// `FRAMES` records of a few dozen bytes): put large ones in a `static`, or use a
/// [`BoxedKeyWaitBuffer`], which never builds its storage on the stack. A buffer
/// whose frames all live with the caller ([`KeyWaitBuffer::hold_external`]) can have
/// `BYTES == 0`.
///
/// Callbacks (`on_drop`, the function given to [`KeyWaitBuffer::release_with`]) run when the
/// buffer is consistent: the frame they are given has already left it (for `release_with`,
/// it leaves when the function returns).
pub type KeyWaitBuffer<const FRAMES: usize, const BYTES: usize> =
    GenericKeyWaitBuffer<[WaitSlot; FRAMES], [u8; BYTES]>;

/// A [`KeyWaitBuffer`] whose storage is allocated on the heap, in place, at run time
/// ([`BoxedKeyWaitBuffer::with_capacity`]): for large capacities, whose inline buffer would
/// not fit a thread's stack on its way into a `Box`.
///
/// ```
/// use sframe_core::keywait::{BoxedKeyWaitBuffer, KeyWaitLimits};
/// let limits = KeyWaitLimits { max_frames: 64, max_bytes: 1 << 20, max_age: 1000 };
/// let b = BoxedKeyWaitBuffer::with_capacity(limits, 64, 1 << 20)?;
/// assert_eq!((b.frame_capacity(), b.byte_capacity()), (64, 1 << 20));
/// # Ok::<(), sframe_core::Error>(())
/// ```
#[cfg(feature = "alloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "alloc")))]
pub type BoxedKeyWaitBuffer =
    GenericKeyWaitBuffer<alloc::boxed::Box<[WaitSlot]>, alloc::boxed::Box<[u8]>>;

/// Frames waiting for their key in the fixed storage `S` (frame records, a slice of
/// [`WaitSlot`]) and `B` (frame bytes): inline arrays in a [`KeyWaitBuffer`], boxed slices in
/// a [`BoxedKeyWaitBuffer`], or any borrowed slices
/// ([`GenericKeyWaitBuffer::with_storage`]). `FRAMES` and `BYTES` in the docs are the
/// lengths of the two. Nothing is allocated after construction.
pub struct GenericKeyWaitBuffer<S, B> {
    limits: KeyWaitLimits,
    /// `slots[..count]`: the waiting frames, oldest first. Of the stored (not external)
    /// ones, the first starts at ring offset 0, each ends at or before the next one's start,
    /// and none crosses the end of `bytes`.
    slots: S,
    count: usize,
    bytes: B,
    /// Index in `bytes` of ring offset 0 (`< BYTES`, or 0).
    head: usize,
    /// Ring offset just after the newest stored frame (holes and skipped ends included):
    /// `<= BYTES`.
    used: usize,
    /// Bytes stored (frames not external).
    stored: usize,
    /// Sum of `len` of the waiting frames, stored or not.
    weight: usize,
    stats: KeyWaitStats,
}

impl<S, B> core::fmt::Debug for GenericKeyWaitBuffer<S, B> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("KeyWaitBuffer")
            .field("limits", &self.limits)
            .field("waiting", &self.count)
            .field("bytes", &self.weight)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl<const FRAMES: usize, const BYTES: usize> KeyWaitBuffer<FRAMES, BYTES> {
    /// An empty buffer with `limits`. [`Error::InvalidConfig`] if `limits.max_frames` is 0
    /// or more than `FRAMES`.
    ///
    /// ```
    /// use sframe_core::Error;
    /// use sframe_core::keywait::{KeyWaitBuffer, KeyWaitLimits};
    /// let limits = KeyWaitLimits { max_frames: 65, max_bytes: 0, max_age: 1000 };
    /// assert_eq!(KeyWaitBuffer::<64, 0>::new(limits).err(), Some(Error::InvalidConfig));
    /// ```
    pub const fn new(limits: KeyWaitLimits) -> Result<Self> {
        if limits.max_frames == 0 || limits.max_frames > FRAMES {
            return Err(Error::InvalidConfig);
        }
        Ok(KeyWaitBuffer {
            limits,
            slots: [EMPTY; FRAMES],
            count: 0,
            bytes: [0; BYTES],
            head: 0,
            used: 0,
            stored: 0,
            weight: 0,
            stats: KeyWaitStats {
                held: 0,
                released: 0,
                dropped_overflow: 0,
                dropped_age: 0,
                dropped_too_big: 0,
                dropped_removed: 0,
                waiting: 0,
                waiting_bytes: 0,
            },
        })
    }
}

const ZERO_STATS: KeyWaitStats = KeyWaitStats {
    held: 0,
    released: 0,
    dropped_overflow: 0,
    dropped_age: 0,
    dropped_too_big: 0,
    dropped_removed: 0,
    waiting: 0,
    waiting_bytes: 0,
};

#[cfg(feature = "alloc")]
impl BoxedKeyWaitBuffer {
    /// An empty buffer of at most `frames` frames whose bytes share `bytes` bytes, both
    /// allocated on the heap directly (no copy through the stack), with `limits`.
    /// [`Error::InvalidConfig`] if `limits.max_frames` is 0 or more than `frames`.
    pub fn with_capacity(limits: KeyWaitLimits, frames: usize, bytes: usize) -> Result<Self> {
        if limits.max_frames == 0 || limits.max_frames > frames {
            return Err(Error::InvalidConfig);
        }
        Self::with_storage(
            limits,
            alloc::vec![EMPTY; frames].into_boxed_slice(),
            alloc::vec![0u8; bytes].into_boxed_slice(),
        )
    }
}

impl<S, B> GenericKeyWaitBuffer<S, B>
where
    S: AsRef<[WaitSlot]> + AsMut<[WaitSlot]>,
    B: AsRef<[u8]> + AsMut<[u8]>,
{
    /// An empty buffer over the given storage (its previous contents are discarded): at most
    /// `slots.len()` frames, whose bytes share `bytes.len()` bytes, with `limits`.
    /// [`Error::InvalidConfig`] if `limits.max_frames` is 0 or more than `slots.len()`.
    ///
    /// ```
    /// use sframe_core::keywait::{GenericKeyWaitBuffer, KeyWaitLimits, WaitSlot};
    /// let mut slots = [WaitSlot::EMPTY; 4];
    /// let mut bytes = [0u8; 256];
    /// let limits = KeyWaitLimits { max_frames: 4, max_bytes: 256, max_age: 100 };
    /// let b = GenericKeyWaitBuffer::with_storage(limits, &mut slots[..], &mut bytes[..])?;
    /// assert_eq!((b.frame_capacity(), b.byte_capacity()), (4, 256));
    /// # Ok::<(), sframe_core::Error>(())
    /// ```
    pub fn with_storage(limits: KeyWaitLimits, mut slots: S, bytes: B) -> Result<Self> {
        if limits.max_frames == 0 || limits.max_frames > slots.as_ref().len() {
            return Err(Error::InvalidConfig);
        }
        slots.as_mut().fill(EMPTY);
        Ok(GenericKeyWaitBuffer {
            limits,
            slots,
            count: 0,
            bytes,
            head: 0,
            used: 0,
            stored: 0,
            weight: 0,
            stats: ZERO_STATS,
        })
    }

    /// How many frames it can hold (`FRAMES`).
    pub fn frame_capacity(&self) -> usize {
        self.slots.as_ref().len()
    }

    /// How many frame bytes it can store (`BYTES`).
    pub fn byte_capacity(&self) -> usize {
        self.bytes.as_ref().len()
    }

    /// The limits in force.
    pub fn limits(&self) -> KeyWaitLimits {
        self.limits
    }

    /// The counters, and what is waiting now.
    pub fn stats(&self) -> KeyWaitStats {
        KeyWaitStats {
            waiting: self.count as u64,
            waiting_bytes: self.weight as u64,
            ..self.stats
        }
    }

    /// Number of frames waiting.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether no frame is waiting.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Bytes waiting: the sum of [`Held::len`], stored here or not.
    pub fn waiting_bytes(&self) -> usize {
        self.weight
    }

    /// Number of frames waiting for `kid`.
    pub fn waiting_for(&self, kid: u64) -> usize {
        self.iter().filter(|h| h.kid == kid).count()
    }

    /// Number of frames of the caller's `stream` waiting.
    pub fn waiting_for_stream(&self, stream: u32) -> usize {
        self.iter().filter(|h| h.stream == stream).count()
    }

    /// The waiting frames, oldest first. E.g. after keys changed (a new MLS epoch makes many
    /// KIDs known at once), the oldest frame whose key is now there:
    /// `buffer.iter().find(|h| receiver.has_key_for(h.kid))`.
    pub fn iter(&self) -> impl Iterator<Item = Held> + '_ {
        self.live().iter().map(|s| s.held)
    }

    /// The oldest frame waiting for `kid`, if any: what the next release of `kid` gives.
    pub fn peek(&self, kid: u64) -> Option<Held> {
        self.iter().find(|h| h.kid == kid)
    }

    /// Holds `frame` (the whole SFrame frame, header included, or any bytes the caller wants
    /// back) until the key for `waiting.kid` arrives. `now` is the caller's current time.
    ///
    /// First drops the frames older than [`KeyWaitLimits::max_age`] (as
    /// [`KeyWaitBuffer::expire`]). A frame larger than `max_bytes` or `BYTES` is refused:
    /// counted, reported to `on_drop` with [`DropReason::TooBig`], and `false` returned.
    /// Otherwise the oldest frames are dropped ([`DropReason::Overflow`]) until the frame fits
    /// the limits, and it is stored; `true`.
    pub fn hold(
        &mut self,
        waiting: Waiting,
        frame: &[u8],
        now: u64,
        mut on_drop: impl FnMut(Held, DropReason),
    ) -> bool {
        let held = Self::held(waiting, now, frame.len(), false);
        self.admit(held, &mut on_drop) && self.store(held, frame, &mut on_drop)
    }

    /// Holds a frame whose bytes the caller keeps (e.g. a JavaScript `RTCEncodedVideoFrame`):
    /// only `waiting` is stored; `size` (the frame's size in bytes) counts against
    /// [`KeyWaitLimits::max_bytes`], not against `BYTES`. Otherwise as [`KeyWaitBuffer::hold`].
    /// The caller frees its frame when it is released or reported to `on_drop`.
    ///
    /// ```
    /// use sframe_core::keywait::{DropReason, KeyWaitBuffer, KeyWaitLimits, Waiting};
    /// let limits = KeyWaitLimits { max_frames: 2, max_bytes: 100_000, max_age: 1000 };
    /// let mut frames = KeyWaitBuffer::<2, 0>::new(limits)?; // no byte storage
    /// let mut to_free = Vec::new();
    /// for tag in 0..3 {
    ///     let w = Waiting { kid: 9, tag, stream: 1 };
    ///     frames.hold_external(w, 30_000, 10 * tag, |h, why| to_free.push((h.tag, why)));
    /// }
    /// assert_eq!(to_free, [(0, DropReason::Overflow)]); // only 2 frames wait
    /// let released = frames.release(9, &mut [])?.unwrap();
    /// assert_eq!((released.tag, released.external), (1, true));
    /// # Ok::<(), sframe_core::Error>(())
    /// ```
    pub fn hold_external(
        &mut self,
        waiting: Waiting,
        size: usize,
        now: u64,
        mut on_drop: impl FnMut(Held, DropReason),
    ) -> bool {
        let held = Self::held(waiting, now, size, true);
        self.admit(held, &mut on_drop) && self.store(held, &[], &mut on_drop)
    }

    /// Drops the frames that waited longer than [`KeyWaitLimits::max_age`] at `now`
    /// (`now - arrival > max_age`; a frame held "after" `now` has age 0), reporting each to
    /// `on_drop` with [`DropReason::Expired`]. Returns how many. Call it before releasing, so
    /// that no stale frame is delivered.
    pub fn expire(&mut self, now: u64, mut on_drop: impl FnMut(Held, DropReason)) -> usize {
        let max_age = self.limits.max_age;
        self.drop_matching(
            |h| now.saturating_sub(h.arrival) > max_age,
            DropReason::Expired,
            &mut on_drop,
        )
    }

    /// Drops every frame waiting for `kid` (e.g. its key was removed, or will not come),
    /// reporting each to `on_drop` with [`DropReason::Removed`]. Returns how many.
    pub fn drop_kid(&mut self, kid: u64, mut on_drop: impl FnMut(Held, DropReason)) -> usize {
        self.drop_matching(|h| h.kid == kid, DropReason::Removed, &mut on_drop)
    }

    /// Drops every frame for which `which` is true (e.g. `|h| h.stream == ssrc` when a stream
    /// ends, `|_| true` to empty the buffer), reporting each to `on_drop` with
    /// [`DropReason::Removed`]. Returns how many.
    pub fn drop_where(
        &mut self,
        which: impl FnMut(&Held) -> bool,
        mut on_drop: impl FnMut(Held, DropReason),
    ) -> usize {
        self.drop_matching(which, DropReason::Removed, &mut on_drop)
    }

    /// Releases the oldest frame waiting for `kid`: copies its bytes to the start of `out`
    /// (nothing for an [external](Held::external) frame) and returns it; its
    /// [`Held::len`] says how many bytes. `Ok(None)` when no frame waits for `kid`. If `out`
    /// is shorter than the frame: [`Error::BufferTooSmall`], and the frame stays (see
    /// [`KeyWaitBuffer::peek`] for its length). Call until `Ok(None)`.
    ///
    /// ```
    /// use sframe_core::keywait::{KeyWaitBuffer, KeyWaitLimits, Waiting};
    /// let mut buffer = KeyWaitBuffer::<4, 64>::new(KeyWaitLimits::capacity::<4, 64>(100))?;
    /// for (tag, kid) in [(0, 1), (1, 2), (2, 1)] {
    ///     buffer.hold(Waiting { kid, tag, stream: 0 }, &[tag as u8; 10], 0, |_, _| {});
    /// }
    /// let mut out = [0u8; 16];
    /// let mut tags = Vec::new();
    /// while let Some(held) = buffer.release(1, &mut out)? {
    ///     assert_eq!(out[..held.len], [held.tag as u8; 10]);
    ///     tags.push(held.tag);
    /// }
    /// assert_eq!(tags, [0, 2]); // oldest first; kid 2 still waits
    /// assert_eq!(buffer.waiting_for(2), 1);
    /// # Ok::<(), sframe_core::Error>(())
    /// ```
    pub fn release(&mut self, kid: u64, out: &mut [u8]) -> Result<Option<Held>> {
        let Some(index) = self.position(kid) else {
            return Ok(None);
        };
        let slot = self.slot(index);
        if !slot.held.external {
            let src = self.frame_bytes(&slot);
            let dst = out.get_mut(..slot.held.len).ok_or(Error::BufferTooSmall)?;
            dst.copy_from_slice(src);
        }
        self.remove(index);
        self.stats.released = self.stats.released.saturating_add(1);
        Ok(Some(slot.held))
    }

    /// Releases the oldest frame waiting for `kid` by calling `with` on it and on its bytes
    /// where they are stored (empty for an [external](Held::external) frame), e.g. to
    /// decrypt it with [`Receiver::unprotect`](crate::Receiver::unprotect) straight into the
    /// caller's plaintext buffer; the frame leaves the buffer when `with` returns. `None` when
    /// no frame waits for `kid`. See the [module example](self).
    pub fn release_with<R>(&mut self, kid: u64, with: impl FnOnce(Held, &[u8]) -> R) -> Option<R> {
        let index = self.position(kid)?;
        let slot = self.slot(index);
        let result = with(slot.held, self.frame_bytes(&slot));
        self.remove(index);
        self.stats.released = self.stats.released.saturating_add(1);
        Some(result)
    }

    fn held(waiting: Waiting, now: u64, len: usize, external: bool) -> Held {
        Held {
            kid: waiting.kid,
            tag: waiting.tag,
            stream: waiting.stream,
            arrival: now,
            len,
            external,
        }
    }

    /// Expires, refuses a frame that can never fit, and drops the oldest frames until `held`
    /// fits the limits. Whether `held` may be stored.
    fn admit(&mut self, held: Held, on_drop: &mut impl FnMut(Held, DropReason)) -> bool {
        self.expire(held.arrival, &mut *on_drop);
        let room = if held.external {
            self.limits.max_bytes
        } else {
            self.limits.max_bytes.min(self.byte_capacity())
        };
        if held.len > room {
            self.stats.dropped_too_big = self.stats.dropped_too_big.saturating_add(1);
            on_drop(held, DropReason::TooBig);
            return false;
        }
        while self.count >= self.limits.max_frames
            || self.weight.saturating_add(held.len) > self.limits.max_bytes
            || (!held.external && self.stored.saturating_add(held.len) > self.byte_capacity())
        {
            if self.count == 0 {
                // Unreachable: an empty buffer admits any frame that passed the size check.
                break;
            }
            let oldest = self.slot(0);
            self.remove(0);
            self.stats.dropped_overflow = self.stats.dropped_overflow.saturating_add(1);
            on_drop(oldest.held, DropReason::Overflow);
        }
        true
    }

    /// Stores an admitted frame: its bytes in the ring (compacting it if the free space is in
    /// holes), its record after the newest.
    fn store(
        &mut self,
        held: Held,
        frame: &[u8],
        on_drop: &mut impl FnMut(Held, DropReason),
    ) -> bool {
        let start = if held.external {
            0 // nothing stored: no place in the ring
        } else {
            let start = match self.fit(held.len) {
                Some(start) => start,
                None => {
                    self.compact();
                    self.used
                }
            };
            let at = self.physical(start);
            let written = at
                .checked_add(held.len)
                .and_then(|end| self.bytes.as_mut().get_mut(at..end))
                .map(|dst| dst.copy_from_slice(frame));
            if written.is_none() {
                // Unreachable (the frame was admitted, so it fits once compacted); refuse
                // rather than store a frame whose bytes are not there.
                self.stats.dropped_too_big = self.stats.dropped_too_big.saturating_add(1);
                on_drop(held, DropReason::TooBig);
                return false;
            }
            start
        };
        let Some(slot) = self.slots.as_mut().get_mut(self.count) else {
            // Unreachable: `admit` left `count < max_frames <= FRAMES`.
            self.stats.dropped_overflow = self.stats.dropped_overflow.saturating_add(1);
            on_drop(held, DropReason::Overflow);
            return false;
        };
        *slot = Slot { held, start };
        self.count += 1;
        self.weight = self.weight.saturating_add(held.len);
        if !held.external {
            self.stored = self.stored.saturating_add(held.len);
            self.used = start.saturating_add(held.len);
        }
        self.stats.held = self.stats.held.saturating_add(1);
        true
    }

    /// Where a frame of `len` bytes goes at the end of the ring without compaction: right
    /// after the newest frame, or at the start of `bytes` if it would cross the end.
    fn fit(&self, len: usize) -> Option<usize> {
        let capacity = self.byte_capacity();
        let at = self.physical(self.used);
        let skip = if at.saturating_add(len) <= capacity {
            0
        } else {
            capacity.saturating_sub(at)
        };
        let start = self.used.saturating_add(skip);
        (start.saturating_add(len) <= capacity).then_some(start)
    }

    /// Moves the stored frames together at the start of `bytes`, in order: no holes, no
    /// skipped end. O(`BYTES`).
    fn compact(&mut self) {
        let capacity = self.byte_capacity();
        if self.head <= capacity {
            self.bytes.as_mut().rotate_left(self.head);
        }
        self.head = 0;
        let mut to = 0usize;
        let count = self.count;
        for slot in self.slots.as_mut().iter_mut().take(count) {
            if slot.held.external {
                continue;
            }
            let from = slot.start;
            let len = slot.held.len;
            let fits = from.checked_add(len).is_some_and(|end| end <= capacity) && to <= from;
            if fits && from != to {
                self.bytes.as_mut().copy_within(from..from + len, to);
            }
            slot.start = to;
            to = to.saturating_add(len);
        }
        self.used = to;
    }

    /// Index in `bytes` of ring offset `offset` (`<= BYTES`).
    fn physical(&self, offset: usize) -> usize {
        let capacity = self.byte_capacity();
        let at = self.head.saturating_add(offset);
        if at >= capacity { at - capacity } else { at }
    }

    /// The stored bytes of `slot` (empty for an external frame).
    fn frame_bytes(&self, slot: &Slot) -> &[u8] {
        if slot.held.external {
            return &[];
        }
        let at = self.physical(slot.start);
        at.checked_add(slot.held.len)
            .and_then(|end| self.bytes.as_ref().get(at..end))
            .unwrap_or(&[])
    }

    fn live(&self) -> &[Slot] {
        self.slots.as_ref().get(..self.count).unwrap_or(&[])
    }

    fn slot(&self, index: usize) -> Slot {
        self.live().get(index).copied().unwrap_or(EMPTY)
    }

    fn position(&self, kid: u64) -> Option<usize> {
        self.live().iter().position(|s| s.held.kid == kid)
    }

    /// Removes the frame at `index` (its bytes become free or a hole).
    fn remove(&mut self, index: usize) {
        let Some(removed) = self.live().get(index).copied() else {
            return;
        };
        if let Some(tail) = self.slots.as_mut().get_mut(index..self.count) {
            tail.rotate_left(1);
        }
        self.count -= 1;
        self.forget(&removed.held);
        self.settle();
    }

    /// Removes every frame matching `which`, keeping the others in order, then reports the
    /// removed ones (oldest first).
    fn drop_matching(
        &mut self,
        mut which: impl FnMut(&Held) -> bool,
        reason: DropReason,
        on_drop: &mut impl FnMut(Held, DropReason),
    ) -> usize {
        let total = self.count;
        // Stable partition: kept frames to the front, dropped ones after them, both in order.
        let mut kept = 0;
        for index in 0..total {
            let keep = self
                .slots
                .as_ref()
                .get(index)
                .is_some_and(|s| !which(&s.held));
            if keep {
                if let Some(run) = self.slots.as_mut().get_mut(kept..=index) {
                    run.rotate_right(1);
                }
                kept += 1;
            }
        }
        self.count = kept;
        let dropped = total - kept;
        for index in kept..total {
            let held = self.slot_any(index).held;
            self.forget(&held);
        }
        let counter = match reason {
            DropReason::Overflow => &mut self.stats.dropped_overflow,
            DropReason::Expired => &mut self.stats.dropped_age,
            DropReason::TooBig => &mut self.stats.dropped_too_big,
            DropReason::Removed => &mut self.stats.dropped_removed,
        };
        *counter = counter.saturating_add(dropped as u64);
        self.settle();
        for index in kept..total {
            on_drop(self.slot_any(index).held, reason);
        }
        dropped
    }

    /// A slot record beyond the waiting ones (just removed).
    fn slot_any(&self, index: usize) -> Slot {
        self.slots.as_ref().get(index).copied().unwrap_or(EMPTY)
    }

    /// Takes a removed frame's size off the totals.
    fn forget(&mut self, held: &Held) {
        self.weight = self.weight.saturating_sub(held.len);
        if !held.external {
            self.stored = self.stored.saturating_sub(held.len);
        }
    }

    /// After removals: the ring starts at the oldest stored frame and ends after the newest
    /// one; an empty ring starts over at 0.
    fn settle(&mut self) {
        let count = self.count;
        let first = self.live().iter().find(|s| !s.held.external);
        let Some(shift) = first.map(|s| s.start) else {
            self.head = 0;
            self.used = 0;
            return;
        };
        let mut used = 0;
        for slot in self.slots.as_mut().iter_mut().take(count) {
            if !slot.held.external {
                slot.start = slot.start.saturating_sub(shift);
                used = slot.start.saturating_add(slot.held.len);
            }
        }
        self.head = self.physical(shift);
        self.used = used;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    impl<const FRAMES: usize, const BYTES: usize> KeyWaitBuffer<FRAMES, BYTES> {
        /// The storage invariants the public behaviour rests on.
        fn assert_invariants(&self) {
            assert!(self.count <= self.limits.max_frames);
            assert!(self.head < BYTES || (self.head == 0 && BYTES == 0));
            assert!(self.used <= BYTES);
            let mut stored = self.live().iter().filter(|s| !s.held.external).peekable();
            let first = stored.peek().map_or(0, |s| s.start);
            assert_eq!(first, 0, "the ring starts at the oldest stored frame");
            let (mut end, mut total) = (0, 0);
            for s in stored {
                assert!(s.start >= end, "frames overlap");
                end = s.start + s.held.len;
                total += s.held.len;
                let at = self.physical(s.start);
                assert!(at + s.held.len <= BYTES, "a frame crosses the end");
            }
            assert_eq!(self.used, end, "used ends after the newest stored frame");
            assert_eq!(self.stored, total);
            assert_eq!(
                self.weight,
                self.live().iter().map(|s| s.held.len).sum::<usize>()
            );
            assert!(self.stored <= BYTES && self.weight <= self.limits.max_bytes);
        }
    }

    #[derive(Clone, Debug)]
    enum Op {
        Hold(u64, usize, bool),
        Release(u64),
        Expire(u64),
        DropKid(u64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0u64..3, 0usize..60, prop::bool::weighted(0.2))
                .prop_map(|(k, l, e)| Op::Hold(k, l, e)),
            2 => (0u64..3).prop_map(Op::Release),
            1 => (0u64..50).prop_map(Op::Expire),
            1 => (0u64..3).prop_map(Op::DropKid),
        ]
    }

    proptest! {
        #[test]
        fn ring_invariants_hold_after_every_operation(
            max_frames in 1usize..=6,
            max_bytes in prop_oneof![3 => 50usize..=100, 1 => 0usize..200],
            ops in prop::collection::vec(op(), 1..60),
        ) {
            let limits = KeyWaitLimits { max_frames, max_bytes, max_age: 20 };
            let Ok(mut b) = KeyWaitBuffer::<6, 100>::new(limits) else {
                return Err(TestCaseError::fail("limits within the capacity are accepted"));
            };
            let mut now = 0;
            let mut out = [0u8; 100];
            for (tag, op) in ops.into_iter().enumerate() {
                now += 1;
                let w = |kid| Waiting { kid, tag: tag as u64, stream: 0 };
                match op {
                    Op::Hold(kid, len, true) => {
                        b.hold_external(w(kid), len, now, |_, _| {});
                    }
                    Op::Hold(kid, len, false) => {
                        b.hold(w(kid), &[tag as u8; 90][..len], now, |_, _| {});
                    }
                    Op::Release(kid) => {
                        match b.release(kid, &mut out) {
                            Ok(Some(h)) if !h.external => {
                                prop_assert!(out[..h.len].iter().all(|&x| x == h.tag as u8));
                            }
                            Ok(_) => {}
                            Err(_) => return Err(TestCaseError::fail("out fits every frame")),
                        }
                    }
                    Op::Expire(dt) => {
                        now += dt;
                        b.expire(now, |_, _| {});
                    }
                    Op::DropKid(kid) => {
                        b.drop_kid(kid, |_, _| {});
                    }
                }
                b.assert_invariants();
            }
        }
    }

    #[test]
    fn a_zero_byte_ring_holds_empty_frames() -> crate::Result<()> {
        let limits = KeyWaitLimits {
            max_frames: 2,
            max_bytes: 0,
            max_age: 10,
        };
        let mut b = KeyWaitBuffer::<2, 0>::new(limits)?;
        for tag in 0..5 {
            assert!(b.hold(
                Waiting {
                    kid: 1,
                    tag,
                    stream: 0
                },
                &[],
                0,
                |_, _| {}
            ));
            b.assert_invariants();
        }
        assert_eq!(b.release(1, &mut [])?.map(|h| h.tag), Some(3));
        b.assert_invariants();
        Ok(())
    }
}
