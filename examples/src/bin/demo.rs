//! A multi-party call over an SFU, end-to-end encrypted with SFrame (RFC 9605).
//!
//! * Keys come from an MLS-style key schedule (§5.2): every epoch has one exported secret;
//!   each member sends under KID `(leaf << E) + epoch % 2^E` with its own derived key. Here a
//!   stand-in "delivery service" draws each epoch secret from the OS RNG and hands it to the
//!   current members only (`examples/mls` does the same with a real `openmls` group).
//! * The SFU holds no key: it reads only the clear header (`Header::parse`), learns the
//!   sender's leaf index from the KID, and forwards the frame to everyone else.
//! * Script: alice, bob and carol talk (epoch 1) — one link reorders two frames (accepted),
//!   another duplicates one (rejected as a replay). Dave joins: key rotation to epoch 2; a
//!   late epoch-1 frame still opens for old members but not for dave. Carol is removed:
//!   epoch 3; the SFU keeps forwarding to her, and she can decrypt nothing any more.
//! * A summary prints frames, failures by reason and bytes of overhead; every expected outcome
//!   is asserted, so the demo exits non-zero if SFrame misbehaves.
//!
//! Run: `cargo run -p examples --bin demo`

use std::collections::{BTreeMap, VecDeque};
use std::io::Read;

use sframe_core::mls::{DEFAULT_MLS_EPOCHS_KEPT, MlsKidLayout, exporter_len};
use sframe_core::{CipherSuite, Error, Header, Receiver, ReceiverConfig, Sender};

const SUITE: CipherSuite = CipherSuite::AesCtr128HmacSha256_80;

/// A stand-in for `MLS-Exporter("SFrame 1.0 Base Key", "", Nk)`: fresh random bytes per epoch.
fn fresh_epoch_secret() -> std::io::Result<Vec<u8>> {
    let mut secret = vec![0u8; exporter_len(SUITE)];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut secret)?;
    Ok(secret)
}

struct Participant {
    name: &'static str,
    leaf: u32,
    tx: Sender,
    rx: Receiver,
    inbox: VecDeque<Vec<u8>>,
    decrypted: usize,
    failures: BTreeMap<&'static str, usize>,
    sent: usize,
}

impl Participant {
    fn new(name: &'static str, leaf: u32, layout: MlsKidLayout) -> Result<Self, Error> {
        let config = ReceiverConfig::new(SUITE).with_mls(layout, DEFAULT_MLS_EPOCHS_KEPT)?;
        let rx = Receiver::with_config(config);
        Ok(Participant {
            name,
            leaf,
            tx: Sender::new(SUITE),
            rx,
            inbox: VecDeque::new(),
            decrypted: 0,
            failures: BTreeMap::new(),
            sent: 0,
        })
    }

    /// Receives the epoch secret from the key schedule: new sender key, new receive epoch.
    fn enter_epoch(
        &mut self,
        layout: &MlsKidLayout,
        epoch: u64,
        secret: &[u8],
    ) -> Result<u64, Error> {
        let kid = self.tx.set_mls_key(layout, secret, epoch, self.leaf)?;
        self.rx.add_mls_epoch(epoch, secret)?;
        Ok(kid)
    }

    /// Decrypts everything waiting; returns the outcome of each frame.
    fn drain(&mut self) -> Vec<Result<Vec<u8>, Error>> {
        let mut outcomes = Vec::new();
        while let Some(mut frame) = self.inbox.pop_front() {
            let result = self
                .rx
                .unprotect_in_place(b"", &mut frame)
                .map(|p| p.to_vec());
            match &result {
                Ok(_) => self.decrypted += 1,
                Err(e) => *self.failures.entry(e.code()).or_default() += 1,
            }
            outcomes.push(result);
        }
        outcomes
    }
}

/// Forwards by KID only. It knows the public KID layout and who is connected, never a key.
struct Sfu {
    layout: MlsKidLayout,
    connected: Vec<usize>,
    frames_in: usize,
    forwarded: usize,
    payload_bytes: usize,
    wire_bytes: usize,
}

impl Sfu {
    /// The participants (indices) this frame goes to: everyone connected but its sender.
    fn route(&mut self, frame: &[u8], leaf_of: &[u32]) -> Result<Vec<usize>, Error> {
        let (header, _header_len) = Header::parse(frame)?;
        let (_context, sender_leaf, _epoch_bits) = self.layout.split(header.key_id());
        self.frames_in += 1;
        let targets: Vec<usize> = self
            .connected
            .iter()
            .copied()
            .filter(|&p| u64::from(leaf_of[p]) != sender_leaf)
            .collect();
        self.forwarded += targets.len();
        Ok(targets)
    }
}

/// One synthetic encoded frame: audio (small) or video (large), tagged with who and when.
fn media(name: &str, n: usize) -> Vec<u8> {
    let len = if n.is_multiple_of(3) {
        900 + n % 200
    } else {
        60 + n % 40
    };
    let mut frame = format!("{name}#{n} ").into_bytes();
    frame.resize(len, b'.');
    frame
}

struct Call {
    people: Vec<Participant>,
    sfu: Sfu,
    seq: usize,
}

impl Call {
    fn leaves(&self) -> Vec<u32> {
        self.people.iter().map(|p| p.leaf).collect()
    }

    /// `who` protects one frame; returns it as it goes on the wire to the SFU.
    fn speak(&mut self, who: usize) -> Result<Vec<u8>, Error> {
        self.seq += 1;
        let p = &mut self.people[who];
        let payload = media(p.name, self.seq);
        let frame = p.tx.protect_vec(b"", &payload)?;
        p.sent += 1;
        self.sfu.payload_bytes += payload.len();
        self.sfu.wire_bytes += frame.len();
        Ok(frame)
    }

    /// The SFU forwards `frame` to every connected participant but its sender.
    fn forward(&mut self, frame: &[u8]) -> Result<(), Error> {
        let leaves = self.leaves();
        for target in self.sfu.route(frame, &leaves)? {
            self.people[target].inbox.push_back(frame.to_vec());
        }
        Ok(())
    }

    /// Everyone in `speakers` sends `rounds` frames, forwarded straight away.
    fn talk(&mut self, speakers: &[usize], rounds: usize) -> Result<(), Error> {
        for _ in 0..rounds {
            for &s in speakers {
                let frame = self.speak(s)?;
                self.forward(&frame)?;
            }
        }
        Ok(())
    }

    fn rotate(
        &mut self,
        layout: &MlsKidLayout,
        epoch: u64,
        members: &[usize],
    ) -> Result<(), Box<dyn std::error::Error>> {
        let secret = fresh_epoch_secret()?;
        for &m in members {
            let kid = self.people[m].enter_epoch(layout, epoch, &secret)?;
            println!(
                "  {:<5} -> epoch {epoch}, KID {kid:#04x}",
                self.people[m].name
            );
        }
        Ok(())
    }

    fn drain_all(&mut self) -> Vec<Vec<Result<Vec<u8>, Error>>> {
        self.people.iter_mut().map(Participant::drain).collect()
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    const ALICE: usize = 0;
    const BOB: usize = 1;
    const CAROL: usize = 2;
    const DAVE: usize = 3;
    // E = 4 epoch bits, S = 3 index bits (8 members), context 0: one-byte KIDs here.
    let layout = MlsKidLayout::new(4, 3)?;
    let mut call = Call {
        people: vec![
            Participant::new("alice", 0, layout)?,
            Participant::new("bob", 1, layout)?,
            Participant::new("carol", 2, layout)?,
            Participant::new("dave", 3, layout)?,
        ],
        sfu: Sfu {
            layout,
            connected: vec![ALICE, BOB, CAROL],
            frames_in: 0,
            forwarded: 0,
            payload_bytes: 0,
            wire_bytes: 0,
        },
        seq: 0,
    };
    println!(
        "SFrame multi-party call — suite {SUITE}, {} backend",
        sframe_core::BACKEND
    );

    // ---- epoch 1: alice, bob, carol
    println!("\nepoch 1: alice, bob and carol join");
    call.rotate(&layout, 1, &[ALICE, BOB, CAROL])?;
    call.talk(&[ALICE, BOB, CAROL], 4)?;
    let outcomes = call.drain_all();
    assert!(
        outcomes[..3].iter().flatten().all(Result::is_ok),
        "epoch 1: all frames decrypt"
    );
    assert_eq!(
        outcomes[BOB].len(),
        8,
        "bob hears alice and carol, 4 frames each"
    );

    // A jittery link to bob reorders two of alice's frames: both accepted.
    let (first, second) = (call.speak(ALICE)?, call.speak(ALICE)?);
    call.people[BOB]
        .inbox
        .extend([second.clone(), first.clone()]);
    let reordered = call.people[BOB].drain();
    assert!(
        reordered.iter().all(Result::is_ok),
        "reordered frames are accepted"
    );
    println!(
        "  link to bob swapped alice's CTR {} and {}: both accepted",
        Header::parse(&second)?.0.counter(),
        Header::parse(&first)?.0.counter()
    );
    // A link to carol duplicates a frame: the copy is refused.
    call.people[CAROL]
        .inbox
        .extend([first.clone(), second.clone(), first.clone()]);
    let dup = call.people[CAROL].drain();
    assert!(dup[0].is_ok() && dup[1].is_ok());
    assert_eq!(
        dup[2],
        Err(Error::Replay),
        "the duplicated frame is rejected"
    );
    println!("  link to carol duplicated one of alice's frames: the copy was rejected (replay)");
    // Bob sends one more epoch-1 frame that the network holds back for a while.
    let late_bob = call.speak(BOB)?;

    // ---- dave joins: rotation to epoch 2 (he must not read epoch-1 media)
    println!("\nepoch 2: dave joins mid-call — everyone rotates to a new key");
    call.rotate(&layout, 2, &[ALICE, BOB, CAROL, DAVE])?;
    call.sfu.connected.push(DAVE);
    call.talk(&[ALICE, BOB, CAROL, DAVE], 3)?;
    call.forward(&late_bob)?; // the held-back epoch-1 frame finally arrives
    let outcomes = call.drain_all();
    for p in [ALICE, CAROL] {
        assert!(
            outcomes[p].iter().all(Result::is_ok),
            "{}: epoch 2 and the late epoch-1 frame decrypt",
            call.people[p].name
        );
    }
    let dave_out = &outcomes[DAVE];
    assert_eq!(
        dave_out.iter().filter(|r| r.is_ok()).count(),
        9,
        "dave decrypts the 9 epoch-2 frames"
    );
    assert_eq!(
        dave_out.last(),
        Some(&Err(Error::UnknownKeyId)),
        "dave cannot read the epoch-1 frame"
    );
    println!("  the late epoch-1 frame from bob: opened by alice and carol, not by dave");

    // ---- carol is removed: rotation to epoch 3 without her
    println!("\nepoch 3: carol is removed — the others rotate, carol gets no new secret");
    call.rotate(&layout, 3, &[ALICE, BOB, DAVE])?;
    // A careless (or malicious) SFU keeps forwarding to carol.
    call.talk(&[ALICE, BOB, DAVE], 3)?;
    let outcomes = call.drain_all();
    assert!(
        outcomes[CAROL].len() == 9
            && outcomes[CAROL]
                .iter()
                .all(|r| *r == Err(Error::UnknownKeyId)),
        "carol, removed, decrypts none of the 9 epoch-3 frames"
    );
    for p in [ALICE, BOB, DAVE] {
        assert!(
            outcomes[p].iter().all(Result::is_ok),
            "{} decrypts epoch 3",
            call.people[p].name
        );
    }
    println!(
        "  carol received {} frames after her removal and decrypted none",
        outcomes[CAROL].len()
    );

    // ---- summary
    let s = &call.sfu;
    let sent: usize = call.people.iter().map(|p| p.sent).sum();
    let decrypted: usize = call.people.iter().map(|p| p.decrypted).sum();
    let mut failures: BTreeMap<&str, usize> = BTreeMap::new();
    for p in &call.people {
        for (reason, n) in &p.failures {
            *failures.entry(reason).or_default() += n;
        }
    }
    let overhead = s.wire_bytes - s.payload_bytes;
    println!("\nsummary");
    println!("  frames protected     {sent}");
    println!(
        "  SFU: frames in {} (header-only parsing), copies forwarded {}",
        s.frames_in, s.forwarded
    );
    println!("  frames decrypted     {decrypted}");
    for p in &call.people {
        println!(
            "    {:<5} sent {:>2}, decrypted {:>2}, failed {:?}",
            p.name, p.sent, p.decrypted, p.failures
        );
    }
    println!("  failures by reason   {failures:?}");
    println!(
        "  bytes: payload {} → wire {}: overhead {overhead} B = {:.1} B/frame ({:.2}%)",
        s.payload_bytes,
        s.wire_bytes,
        overhead as f64 / sent as f64,
        100.0 * overhead as f64 / s.payload_bytes as f64
    );

    // Hard checks on the totals, from the script above.
    assert_eq!(sent, 12 + 2 + 1 + 12 + 9);
    assert_eq!(failures.get("replay"), Some(&1));
    assert_eq!(failures.get("unknown_key_id"), Some(&(1 + 9)));
    assert_eq!(
        failures.len(),
        2,
        "no other failure kind (no forgery, no malformed frame)"
    );
    // Per frame: header (1 B config + 1 B CTR once CTR >= 8) + 10-byte tag for this suite.
    assert!(
        overhead >= sent * 11 && overhead <= sent * 12,
        "overhead {overhead} for {sent} frames"
    );
    println!("\nall checks passed");
    Ok(())
}
