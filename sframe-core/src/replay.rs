//! Replay protection — RFC 9605 §7.4 ("Replay") and §9.3 ("Anti-Replay"), which leave
//! receiver-side anti-replay to the application and point to SRTP's counter-based window
//! (RFC 3711 §3.3.2), adapted here with the SFrame CTR as the counter.
//!
//! One sliding window per key: the highest authenticated counter `H` and a bitmap of which of
//! `H, H-1, …, H-(W-1)` were seen. A counter is accepted if it is above `H`, or inside the
//! window and not seen yet. The window is only checked before decryption and only moved
//! after a frame authenticated, so forged or corrupt frames never change it.

use crate::error::{Error, Result};

/// Largest supported window, in counter values.
pub const MAX_REPLAY_WINDOW: u32 = 1024;
/// Default window: 512 counter values (about 8 s of 60 fps video, 10 s of 20 ms audio), room
/// for the reordering a jittery network and retransmissions produce.
pub const DEFAULT_REPLAY_WINDOW: u32 = 512;

const WORDS: usize = (MAX_REPLAY_WINDOW as usize) / 64;

/// The replay state of one key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ReplayWindow {
    highest: Option<u64>,
    /// Bit `d` (word `d / 64`, bit `d % 64`) set ⇔ counter `highest - d` was accepted.
    seen: [u64; WORDS],
}

impl Default for ReplayWindow {
    fn default() -> Self {
        ReplayWindow {
            highest: None,
            seen: [0; WORDS],
        }
    }
}

impl ReplayWindow {
    fn bit(&self, d: u64) -> bool {
        let word = self.seen.get((d / 64) as usize).copied().unwrap_or(0);
        word >> (d % 64) & 1 == 1
    }

    fn set_bit(&mut self, d: u64) {
        if let Some(word) = self.seen.get_mut((d / 64) as usize) {
            *word |= 1 << (d % 64);
        }
    }

    /// Read-only: may a frame with `ctr` be accepted with a window of `size` (0 = off)?
    pub(crate) fn check(&self, ctr: u64, size: u32) -> Result<()> {
        let Some(h) = self.highest else { return Ok(()) };
        if size == 0 || ctr > h {
            return Ok(());
        }
        let d = h - ctr;
        if d >= u64::from(size) || self.bit(d) {
            return Err(Error::Replay);
        }
        Ok(())
    }

    /// Records `ctr` as seen. Call only after the frame authenticated and [`Self::check`] passed.
    pub(crate) fn accept(&mut self, ctr: u64) {
        match self.highest {
            Some(h) if ctr <= h => self.set_bit(h - ctr),
            Some(h) => {
                self.shift(ctr - h);
                self.highest = Some(ctr);
                self.set_bit(0);
            }
            None => {
                self.highest = Some(ctr);
                self.seen = [0; WORDS];
                self.set_bit(0);
            }
        }
    }

    /// Moves every recorded bit `s` positions further from `highest`.
    fn shift(&mut self, s: u64) {
        if s >= u64::from(MAX_REPLAY_WINDOW) {
            self.seen = [0; WORDS];
            return;
        }
        let words = (s / 64) as usize;
        let bits = (s % 64) as u32;
        let old = self.seen;
        for (i, dst) in self.seen.iter_mut().enumerate() {
            let lo = i
                .checked_sub(words)
                .and_then(|j| old.get(j))
                .copied()
                .unwrap_or(0);
            let carry = i
                .checked_sub(words + 1)
                .and_then(|j| old.get(j))
                .copied()
                .unwrap_or(0);
            *dst = if bits == 0 {
                lo
            } else {
                lo << bits | carry >> (64 - bits)
            };
        }
    }

    /// Highest authenticated counter, if any.
    pub(crate) fn highest(&self) -> Option<u64> {
        self.highest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(w: &mut ReplayWindow, ctr: u64, size: u32) -> Result<()> {
        w.check(ctr, size)?;
        w.accept(ctr);
        Ok(())
    }

    #[test]
    fn window_edges() {
        let mut w = ReplayWindow::default();
        let size = 64;
        accept(&mut w, 100, size).unwrap();
        assert_eq!(accept(&mut w, 100, size), Err(Error::Replay));
        // 100 - 63 is the oldest value inside a 64-wide window; 100 - 64 is outside.
        accept(&mut w, 37, size).unwrap();
        assert_eq!(accept(&mut w, 36, size), Err(Error::Replay));
        assert_eq!(accept(&mut w, 37, size), Err(Error::Replay));
        accept(&mut w, 101, size).unwrap();
        // 37 is now 64 behind: outside.
        assert_eq!(w.check(37, size), Err(Error::Replay));
        assert_eq!(w.check(38, size), Ok(()));
        assert_eq!(w.check(100, size), Err(Error::Replay));
    }

    #[test]
    fn large_jumps_clear_history() {
        let mut w = ReplayWindow::default();
        accept(&mut w, 5, 1024).unwrap();
        accept(&mut w, 5 + 2000, 1024).unwrap();
        assert_eq!(w.check(5, 1024), Err(Error::Replay)); // too old
        accept(&mut w, 5 + 2000 - 1023, 1024).unwrap();
        accept(&mut w, u64::MAX, 1024).unwrap();
        assert_eq!(w.check(u64::MAX, 1024), Err(Error::Replay));
        assert_eq!(w.highest(), Some(u64::MAX));
    }

    #[test]
    fn shifts_across_word_boundaries() {
        for step in [1u64, 63, 64, 65, 127, 128, 500] {
            let mut w = ReplayWindow::default();
            accept(&mut w, 1000, 1024).unwrap();
            accept(&mut w, 1000 + step, 1024).unwrap();
            assert_eq!(w.check(1000, 1024), Err(Error::Replay), "step {step}");
            assert_eq!(
                w.check(1001, 1024),
                if step == 1 {
                    Err(Error::Replay)
                } else {
                    Ok(())
                }
            );
            assert_eq!(w.check(999, 1024), Ok(()), "step {step}");
        }
    }

    #[test]
    fn disabled_window_accepts_everything() {
        let mut w = ReplayWindow::default();
        accept(&mut w, 10, 0).unwrap();
        accept(&mut w, 10, 0).unwrap();
        accept(&mut w, 0, 0).unwrap();
    }
}
