//! Network impairment the sender applies to its own packet stream, from a seed, so a run is
//! reproducible: each packet is dropped with probability `loss`, else held back behind the
//! next 1-3 packets with probability `reorder`, and sent a second time a few packets later
//! with probability `duplicate`.

/// SplitMix64: small, seedable, good enough to pick packets.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform in lo..=hi.
    pub fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + (self.next_u64() % u64::from(hi - lo + 1)) as u32
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Impairment {
    pub loss: f64,
    pub reorder: f64,
    pub duplicate: f64,
}

#[derive(Default, Debug)]
pub struct Outcome {
    /// What goes on the wire, in order: indexes into the input.
    pub schedule: Vec<usize>,
    /// Per input packet: dropped.
    pub dropped: Vec<bool>,
    pub reordered: u64,
    pub duplicated: u64,
}

/// Decides the fate of `n` packets.
pub fn apply(n: usize, imp: Impairment, rng: &mut Rng) -> Outcome {
    let mut out = Outcome {
        dropped: vec![false; n],
        ..Outcome::default()
    };
    // (packets still to go before release, input index)
    let mut held: Vec<(u32, usize)> = Vec::new();
    for i in 0..n {
        let (lose, late, twice) = (rng.unit(), rng.unit(), rng.unit());
        if lose < imp.loss {
            if let Some(d) = out.dropped.get_mut(i) {
                *d = true;
            }
        } else if late < imp.reorder {
            // Counted down once below already: 2..=4 means behind the next 1-3 packets.
            held.push((rng.range(2, 4), i));
            out.reordered += 1;
        } else {
            out.schedule.push(i);
        }
        if lose >= imp.loss && twice < imp.duplicate {
            held.push((rng.range(2, 7), i));
            out.duplicated += 1;
        }
        let mut k = 0;
        while k < held.len() {
            let Some(h) = held.get_mut(k) else { break };
            h.0 -= 1;
            if h.0 == 0 {
                out.schedule.push(h.1);
                held.remove(k);
            } else {
                k += 1;
            }
        }
    }
    out.schedule.extend(held.into_iter().map(|h| h.1));
    out
}
