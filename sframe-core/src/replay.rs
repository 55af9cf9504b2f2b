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
    /// Counter `c` owns bit `c mod 1024` (a ring): the bits of counters within the window are
    /// distinct, and advancing `highest` only clears the bits of the counters skipped over, so
    /// an in-order frame costs a few instructions instead of a 1024-bit shift.
    fn slot(c: u64) -> (usize, u64) {
        (((c / 64) % WORDS as u64) as usize, 1u64 << (c % 64))
    }

    fn bit(&self, c: u64) -> bool {
        let (w, m) = Self::slot(c);
        self.seen.get(w).is_some_and(|word| word & m != 0)
    }

    fn set_bit(&mut self, c: u64) {
        let (w, m) = Self::slot(c);
        if let Some(word) = self.seen.get_mut(w) {
            *word |= m;
        }
    }

    fn clear_bit(&mut self, c: u64) {
        let (w, m) = Self::slot(c);
        if let Some(word) = self.seen.get_mut(w) {
            *word &= !m;
        }
    }

    /// `Err(Replay)` if `ctr` was accepted before or is too old for a window of `size`
    /// counters (`size == 0`: no replay protection).
    pub(crate) fn check(&self, ctr: u64, size: u32) -> Result<()> {
        let Some(h) = self.highest else { return Ok(()) };
        if size == 0 || ctr > h {
            return Ok(());
        }
        // `h - ctr < size <= 1024`: `ctr`'s bit is its own, not a newer counter's.
        if h - ctr >= u64::from(size) || self.bit(ctr) {
            return Err(Error::Replay);
        }
        Ok(())
    }

    /// Records `ctr` as seen (call after the frame authenticated).
    pub(crate) fn accept(&mut self, ctr: u64) {
        match self.highest {
            Some(h) if ctr <= h => self.set_bit(ctr),
            Some(h) => {
                if ctr - h >= u64::from(MAX_REPLAY_WINDOW) {
                    self.seen = [0; WORDS];
                } else {
                    // Forget the counters in (h, ctr]: their slots held counters 1024 older.
                    let mut c = h + 1;
                    loop {
                        if c % 64 == 0 && ctr - c >= 63 {
                            let (w, _) = Self::slot(c);
                            if let Some(word) = self.seen.get_mut(w) {
                                *word = 0;
                            }
                            match c.checked_add(64) {
                                Some(n) if n <= ctr => c = n,
                                _ => break,
                            }
                        } else {
                            self.clear_bit(c);
                            if c == ctr {
                                break;
                            }
                            c += 1;
                        }
                    }
                }
                self.highest = Some(ctr);
                self.set_bit(ctr);
            }
            None => {
                self.highest = Some(ctr);
                self.seen = [0; WORDS];
                self.set_bit(ctr);
            }
        }
    }

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

    /// The ring bitmap agrees with a plain set of accepted counters on random traffic
    /// (in order, reordered, duplicated, small and large jumps, near `u64::MAX`).
    #[cfg(feature = "std")]
    #[test]
    fn matches_a_naive_model() -> Result<()> {
        use std::collections::BTreeSet;
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for (start, size) in [
            (0u64, 1024u32),
            (5000, 512),
            (u64::MAX - 3000, 1024),
            (77, 64),
        ] {
            let mut w = ReplayWindow::default();
            let (mut seen, mut high) = (BTreeSet::new(), None::<u64>);
            let mut ctr = start;
            for _ in 0..20_000 {
                ctr = match rnd() % 10 {
                    0..=5 => ctr.saturating_add(1),
                    6 => ctr.saturating_add(rnd() % 70),
                    7 => ctr.saturating_add(rnd() % 1500),
                    8 => ctr.saturating_sub(rnd() % 1100),
                    _ => ctr,
                };
                let expect = match high {
                    Some(h) if ctr <= h && (h - ctr >= u64::from(size) || seen.contains(&ctr)) => {
                        Err(Error::Replay)
                    }
                    _ => Ok(()),
                };
                assert_eq!(accept(&mut w, ctr, size), expect, "ctr {ctr}");
                if expect.is_ok() {
                    seen.insert(ctr);
                    high = Some(high.map_or(ctr, |h| h.max(ctr)));
                }
                assert_eq!(w.highest(), high);
            }
        }
        Ok(())
    }

    #[test]
    fn window_edges() -> Result<()> {
        let mut w = ReplayWindow::default();
        let size = 64;
        accept(&mut w, 100, size)?;
        assert_eq!(accept(&mut w, 100, size), Err(Error::Replay));
        // 100 - 63 is the oldest value inside a 64-wide window; 100 - 64 is outside.
        accept(&mut w, 37, size)?;
        assert_eq!(accept(&mut w, 36, size), Err(Error::Replay));
        assert_eq!(accept(&mut w, 37, size), Err(Error::Replay));
        accept(&mut w, 101, size)?;
        // 37 is now 64 behind: outside.
        assert_eq!(w.check(37, size), Err(Error::Replay));
        assert_eq!(w.check(38, size), Ok(()));
        assert_eq!(w.check(100, size), Err(Error::Replay));
        Ok(())
    }

    #[test]
    fn large_jumps_clear_history() -> Result<()> {
        let mut w = ReplayWindow::default();
        accept(&mut w, 5, 1024)?;
        accept(&mut w, 5 + 2000, 1024)?;
        assert_eq!(w.check(5, 1024), Err(Error::Replay)); // too old
        accept(&mut w, 5 + 2000 - 1023, 1024)?;
        accept(&mut w, u64::MAX, 1024)?;
        assert_eq!(w.check(u64::MAX, 1024), Err(Error::Replay));
        assert_eq!(w.highest(), Some(u64::MAX));
        Ok(())
    }

    #[test]
    fn shifts_across_word_boundaries() -> Result<()> {
        for step in [1u64, 63, 64, 65, 127, 128, 500] {
            let mut w = ReplayWindow::default();
            accept(&mut w, 1000, 1024)?;
            accept(&mut w, 1000 + step, 1024)?;
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
        Ok(())
    }

    #[test]
    fn disabled_window_accepts_everything() -> Result<()> {
        let mut w = ReplayWindow::default();
        accept(&mut w, 10, 0)?;
        accept(&mut w, 10, 0)?;
        accept(&mut w, 0, 0)?;
        Ok(())
    }
}
