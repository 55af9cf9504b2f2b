//! The receiving side — RFC 9605 §4.4 (decryption) with §9 replay protection.
//!
//! `unprotect`: parse the header (§4.3) → look up the key by KID → check the replay window
//! (read-only) → verify and decrypt (§4.4.3) → only then record the counter. A frame that fails
//! any step changes nothing but the key's authentication-failure count, which exists to
//! enforce the forgery limit ([`Limits::max_auth_failures`]).

use crate::error::{Error, Result};
use crate::frame;
use crate::header::Header;
use crate::key::Key;
use crate::keystore::{DefaultKeyStore, Entry, KeyStore};
use crate::limits::{KeyUsage, Limits};
use crate::replay::{DEFAULT_REPLAY_WINDOW, MAX_REPLAY_WINDOW};
use crate::suite::CipherSuite;

/// Unprotects frames from any number of senders, each key found by the KID in the header.
///
/// ```
/// use sframe_core::{CipherSuite, Error, Receiver, Sender};
/// let suite = CipherSuite::AesCtr128HmacSha256_80;
/// let (mut alice, mut bob) = (Sender::new(suite), Sender::new(suite));
/// alice.set_key(1, &[1; 16])?;
/// bob.set_key(2, &[2; 16])?;
///
/// let mut rx = Receiver::new(suite);
/// rx.add_key(1, &[1; 16])?;
/// rx.add_key(2, &[2; 16])?;
/// let mut a = alice.protect_vec(b"", b"from alice")?;
/// let mut b = bob.protect_vec(b"", b"from bob")?;
/// let replay = a.clone();
/// assert_eq!(rx.unprotect(b"", &mut b)?, b"from bob");
/// assert_eq!(rx.unprotect(b"", &mut a)?, b"from alice");
/// assert_eq!(rx.unprotect_vec(b"", &replay), Err(Error::Replay));
/// # Ok::<(), Error>(())
/// ```
pub struct Receiver<S: KeyStore = DefaultKeyStore> {
    suite: CipherSuite,
    limits: Limits,
    window: u32,
    store: S,
}

impl Receiver {
    /// A receiver for `suite` with the default key store, replay window
    /// ([`DEFAULT_REPLAY_WINDOW`]) and [`Limits::for_suite`].
    pub fn new(suite: CipherSuite) -> Self {
        Self::with_store(suite)
    }
}

impl<S: KeyStore> Receiver<S> {
    /// A receiver using key store `S`, e.g. `Receiver::<FixedKeyStore<4>>::with_store(suite)`.
    pub fn with_store(suite: CipherSuite) -> Self {
        Receiver {
            suite,
            limits: Limits::for_suite(suite),
            window: DEFAULT_REPLAY_WINDOW,
            store: S::default(),
        }
    }

    /// The cipher suite.
    pub fn suite(&self) -> CipherSuite {
        self.suite
    }

    /// Sets the replay window in counter values (0 turns replay protection off, e.g. to play a
    /// recording twice). At most [`MAX_REPLAY_WINDOW`]; larger is [`Error::InvalidConfig`].
    pub fn set_replay_window(&mut self, size: u32) -> Result<()> {
        if size > MAX_REPLAY_WINDOW {
            return Err(Error::InvalidConfig);
        }
        self.window = size;
        Ok(())
    }

    /// The replay window in force.
    pub fn replay_window(&self) -> u32 {
        self.window
    }

    /// Replaces the usage limits.
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// The usage limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Derives and installs the key for `kid` (§4.4.2). An existing key for `kid` is replaced
    /// (and zeroized), with a fresh replay window and usage counters.
    pub fn add_key(&mut self, kid: u64, base_key: &[u8]) -> Result<()> {
        self.store
            .put(Entry::new(Key::derive(self.suite, kid, base_key)?))
    }

    /// Installs an already derived [`Key`], as [`Receiver::add_key`] does.
    pub fn add_derived_key(&mut self, key: Key) -> Result<()> {
        if key.suite() != self.suite {
            return Err(Error::UnsupportedCipherSuite);
        }
        self.store.put(Entry::new(key))
    }

    /// Removes (and zeroizes) the key for `kid`; returns whether there was one.
    pub fn remove_key(&mut self, kid: u64) -> bool {
        self.store.take(kid).is_some()
    }

    /// Removes every key.
    pub fn clear(&mut self) {
        self.store.clear_all();
    }

    /// Whether a key for `kid` is installed.
    pub fn has_key(&self, kid: u64) -> bool {
        self.store.find(kid).is_some()
    }

    /// Number of installed keys.
    pub fn key_count(&self) -> usize {
        self.store.count()
    }

    /// Usage counters of the key for `kid`.
    pub fn usage(&self, kid: u64) -> Option<KeyUsage> {
        self.store.find(kid).map(|e| e.usage)
    }

    /// Highest authenticated counter seen under `kid`.
    pub fn highest_counter(&self, kid: u64) -> Option<u64> {
        self.store.find(kid).and_then(|e| e.window.highest())
    }

    /// Largest plaintext a `frame_len`-byte frame can hold: size output buffers with this.
    pub fn max_plaintext_len(&self, frame_len: usize) -> usize {
        frame_len.saturating_sub(1 + self.suite.tag_len())
    }

    /// Everything before the cryptography: header, key, limits, replay window.
    fn prepare(&mut self, frame: &[u8]) -> Result<(Header, usize, &mut Entry, u32)> {
        let (header, header_len) = Header::parse(frame)?;
        let window = self.window;
        let max_failures = self.limits.max_auth_failures;
        let entry = self
            .store
            .find_mut(header.key_id())
            .ok_or(Error::UnknownKeyId)?;
        if entry.usage.auth_failures >= max_failures {
            return Err(Error::KeyUsageLimit);
        }
        frame::split_received(frame, header_len, self.suite.tag_len())?;
        entry.window.check(header.counter(), window)?;
        Ok((header, header_len, entry, window))
    }

    /// Records the outcome of authentication on the entry.
    fn finish<T>(entry: &mut Entry, ctr: u64, result: Result<T>) -> Result<T> {
        match &result {
            Ok(_) => {
                entry.window.accept(ctr);
                entry.usage.frames = entry.usage.frames.saturating_add(1);
            }
            Err(Error::AuthenticationFailed) => {
                entry.usage.auth_failures = entry.usage.auth_failures.saturating_add(1);
            }
            Err(_) => {}
        }
        result
    }

    /// Verifies and decrypts `frame` in place and returns the plaintext, a sub-slice of
    /// `frame` (after the header). `metadata` must be what the sender authenticated. No
    /// allocation. On error the frame bytes, the keys and the replay window are unchanged.
    pub fn unprotect<'f>(&mut self, metadata: &[u8], frame: &'f mut [u8]) -> Result<&'f mut [u8]> {
        let (header, header_len, entry, _) = self.prepare(frame)?;
        let result = frame::open_in_place(&entry.key, &header, header_len, metadata, frame);
        Self::finish(entry, header.counter(), result)
    }

    /// Verifies and decrypts `frame` into `out` ([`Receiver::max_plaintext_len`] bytes suffice);
    /// returns the plaintext part of `out`. On error `out` holds no decrypted byte.
    pub fn unprotect_into<'o>(
        &mut self,
        metadata: &[u8],
        frame: &[u8],
        out: &'o mut [u8],
    ) -> Result<&'o mut [u8]> {
        let (header, header_len, entry, _) = self.prepare(frame)?;
        let result = frame::open_into(&entry.key, &header, header_len, metadata, frame, out);
        Self::finish(entry, header.counter(), result)
    }

    /// Convenience: decrypts into a new `Vec`.
    #[cfg(feature = "alloc")]
    pub fn unprotect_vec(&mut self, metadata: &[u8], frame: &[u8]) -> Result<alloc::vec::Vec<u8>> {
        let mut out = alloc::vec![0u8; self.max_plaintext_len(frame.len())];
        let n = self.unprotect_into(metadata, frame, &mut out)?.len();
        out.truncate(n);
        Ok(out)
    }
}

impl<S: KeyStore> core::fmt::Debug for Receiver<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Receiver")
            .field("suite", &self.suite)
            .field("keys", &self.key_count())
            .field("replay_window", &self.window)
            .finish()
    }
}
