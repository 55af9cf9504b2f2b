//! Keys are zeroized (developer guide; RFC 9605 §9 key handling), observed from outside.
//!
//! A global allocator hands out zero-filled blocks and, while armed, scans every block being
//! freed for the derived key material of one KID — the 12-byte `sframe_salt` and the first 16
//! bytes of `sframe_key` (both from `hazmat::derive_key_and_salt`). A hit means a copy of a
//! derived secret went back to the allocator without being wiped.
//!
//! What this can see, honestly:
//! * only heap blocks freed while armed. Stack copies (a `Key` moved on its way into a box),
//!   registers, and memory still allocated are not observed;
//! * `sframe_salt` is stored as is in every `Key`, so it is always a usable marker. Whether the
//!   AES key bytes appear literally depends on the AES backend (AES-NI keeps them as round key 0;
//!   the bit-sliced software AES does not): `calibration_*` shows what this machine stores;
//! * keys the receiver keeps inline (FixedKeyStore) are observed by boxing the receiver.
//!
//! * a hit cannot tell a live field that was not wiped (a real bug in the code) from a stale
//!   copy that a move carried into the heap inside padding or unused enum space (a limit of
//!   zeroizing in Rust at all); the ignored tests name which is which. Stale copies depend on
//!   code generation, so the positive tests run in debug builds (what CI runs) only.
//!
//! Blocks are zero-filled at allocation so that scanning never reads uninitialised memory.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering::SeqCst};

use sframe_core::hazmat::derive_key_and_salt;
use sframe_core::{CipherSuite, FixedKeyStore, Key, Receiver, Sender};

const SALT: usize = 0;
const KEY: usize = 1;
const NEEDLE_LEN: [usize; 2] = [12, 16];

struct ScanOnFree;

static ARMED: AtomicBool = AtomicBool::new(false);
#[allow(clippy::declare_interior_mutable_const)]
const ZERO: AtomicU8 = AtomicU8::new(0);
static NEEDLES: [[AtomicU8; 16]; 2] = [[ZERO; 16], [ZERO; 16]];
static HITS: [AtomicUsize; 2] = [AtomicUsize::new(0), AtomicUsize::new(0)];

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.len() >= needle.len() && hay.windows(needle.len()).any(|w| w == needle)
}

unsafe impl GlobalAlloc for ScanOnFree {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if ARMED.load(SeqCst) {
            // SAFETY: the block is ours until System.dealloc below, `layout.size()` bytes long
            // and initialised (zero-filled at allocation, then written by its owner).
            let block = unsafe { std::slice::from_raw_parts(ptr, layout.size()) };
            for (i, needle) in NEEDLES.iter().enumerate() {
                let mut n = [0u8; 16];
                for (d, s) in n.iter_mut().zip(needle) {
                    *d = s.load(SeqCst);
                }
                if contains(block, &n[..NEEDLE_LEN[i]]) {
                    HITS[i].fetch_add(1, SeqCst);
                }
            }
        }
        unsafe { System.dealloc(ptr, layout) }
    }
    // realloc: the default (alloc, copy, dealloc) so the old block is scanned too.
}

#[global_allocator]
static GLOBAL: ScanOnFree = ScanOnFree;

/// One test at a time: the allocator's state is global.
static SERIAL: Mutex<()> = Mutex::new(());

/// Arms the scan for `kid`'s derived key and salt; returns the hits `f` caused.
fn hits_during(suite: CipherSuite, kid: u64, base_key: &[u8], f: impl FnOnce()) -> [usize; 2] {
    let (key, salt) = derive_key_and_salt(suite, kid, base_key).unwrap();
    for (slot, b) in NEEDLES[SALT].iter().zip(salt.iter()) {
        slot.store(*b, SeqCst);
    }
    for (slot, b) in NEEDLES[KEY].iter().zip(key.iter()) {
        slot.store(*b, SeqCst);
    }
    drop((key, salt)); // Zeroizing: wiped on the stack, never on the heap
    HITS.iter().for_each(|h| h.store(0, SeqCst));
    ARMED.store(true, SeqCst);
    f();
    ARMED.store(false, SeqCst);
    [HITS[SALT].load(SeqCst), HITS[KEY].load(SeqCst)]
}

const KID: u64 = 0x5eed;
const BASE: [u8; 16] = [0x42; 16];

fn receiver_with_key(suite: CipherSuite) -> Receiver {
    let mut tx = Sender::new(suite);
    tx.set_key(KID, &BASE).unwrap();
    let frame = tx.protect_vec(b"", b"used once").unwrap();
    let mut rx = Receiver::new(suite);
    rx.add_key(KID, &BASE).unwrap();
    rx.add_key(1, &[1; 16]).unwrap(); // a neighbour, so the store really has to shuffle
    rx.unprotect_vec(b"", &frame).unwrap();
    rx
}

/// The instrument works: a `Key` whose heap box is freed without running its destructor (the
/// value moved out, then forgotten) is found. Also tells whether the AES key bytes are
/// literally present in a `Key` on this machine (printed; the salt must be).
#[test]
fn calibration_a_leaked_key_is_seen() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for suite in CipherSuite::ALL {
        let boxed = Box::new(Key::derive(suite, KID, &BASE).unwrap());
        let hits = hits_during(suite, KID, &BASE, || {
            let key: Key = *boxed; // moves out: the box is freed with the bytes still in it
            std::mem::forget(key);
        });
        println!(
            "calibration {suite:?}: salt hits {}, AES key hits {}",
            hits[SALT], hits[KEY]
        );
        assert!(
            hits[SALT] > 0,
            "{suite:?}: the scanner did not see a freed, unwiped Key"
        );
    }
}

/// Dropping a receiver, `clear`, and replacing a key (same KID, new base key) wipe the keys'
/// salts in place before their memory is freed. (The salt is the marker checked: the AES key
/// bytes can also survive as stale copies in padding, see the ignored test below.)
#[test]
#[cfg_attr(
    not(debug_assertions),
    ignore = "optimised builds leave stale salt copies in padding (see the last test)"
)]
fn receiver_drop_clear_and_replace_wipe_salts() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for suite in CipherSuite::ALL {
        let rx = receiver_with_key(suite);
        assert_eq!(
            hits_during(suite, KID, &BASE, || drop(rx))[SALT],
            0,
            "{suite:?} drop"
        );

        let mut rx = receiver_with_key(suite);
        let hits = hits_during(suite, KID, &BASE, || {
            rx.add_key(KID, &[0x43; 16]).unwrap(); // replace
            rx.add_key(2, &[2; 16]).unwrap();
            rx.clear();
        });
        assert_eq!(hits[SALT], 0, "{suite:?} replace + clear");
        drop(rx);
    }
}

/// A sender wipes its old key's salt in place on rotation.
#[test]
#[cfg_attr(
    not(debug_assertions),
    ignore = "optimised builds may leave stale copies in padding (see the last test)"
)]
fn sender_rotation_wipes_the_old_salt() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for suite in CipherSuite::ALL {
        let mut tx = Box::new(Sender::new(suite));
        tx.set_key(KID, &BASE).unwrap();
        tx.protect_vec(b"", b"x").unwrap();
        let hits = hits_during(suite, KID, &BASE, || {
            tx.set_key(KID + 1, &[0x44; 16]).unwrap();
            drop(tx);
        });
        assert_eq!(hits[SALT], 0, "{suite:?}");
    }
}

/// `remove_key` on the growable store: the key must be wiped before its box is freed.
#[test]
fn remove_key_leaves_no_key_material_vec_store() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for suite in CipherSuite::ALL {
        let mut rx = receiver_with_key(suite);
        let hits = hits_during(suite, KID, &BASE, || {
            assert!(rx.remove_key(KID));
        });
        assert_eq!(hits[SALT], 0, "{suite:?}: remove_key freed an unwiped key");
    }
}

/// `remove_key` on the fixed store: the slot must not keep a copy of the removed key.
///
/// The allocator scan cannot show this one: boxing a receiver copies its empty slots'
/// uninitialised bytes from the stack, and those can hold stale HKDF output of earlier
/// derivations (the hkdf crate does not wipe its intermediate blocks), so the freed box has
/// hits whether or not a key was ever added. Instead this reads the receiver's own memory and
/// checks that the salt occurrences after `remove_key` are exactly those before `add_key`.
#[test]
fn remove_key_leaves_no_key_material_fixed_store() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for suite in CipherSuite::ALL {
        let (_key, salt) = derive_key_and_salt(suite, KID, &BASE).unwrap();
        let mut rx = Box::new(Receiver::<FixedKeyStore<4>>::with_store(suite));
        let size = std::mem::size_of::<Receiver<FixedKeyStore<4>>>();
        let base = &*rx as *const Receiver<FixedKeyStore<4>> as *const u8;
        let salt_offsets = || -> Vec<usize> {
            // SAFETY: reads the receiver's own `size` bytes while no reference to it is live;
            // padding and empty slots may be uninitialised, which is why this is a test-only
            // observation (volatile reads keep the compiler from assuming anything about them).
            let bytes: Vec<u8> = (0..size)
                .map(|i| unsafe { std::ptr::read_volatile(base.add(i)) })
                .collect();
            bytes
                .windows(salt.len())
                .enumerate()
                .filter(|(_, w)| *w == &salt[..])
                .map(|(i, _)| i)
                .collect()
        };
        let before = salt_offsets();
        rx.add_key(KID, &BASE).unwrap();
        let with_key = salt_offsets();
        assert!(
            with_key.len() > before.len(),
            "{suite:?}: the instrument does not see the installed key's salt"
        );
        assert!(rx.remove_key(KID));
        assert_eq!(
            salt_offsets(),
            before,
            "{suite:?}: the removed key's salt stayed in its slot"
        );
    }
}

/// Stale copies: moving a large value copies its padding and inactive-variant bytes too, and
/// those may hold leftovers of key material from the stack, which no `Drop` wipes. Observed
/// (debug build): the 16 AES-128-GCM key bytes at offset 624 of a dropped boxed `Key` (past the
/// `Aes128Gcm` payload, inside the space the larger `Aes256Gcm` variant needs), and the salt
/// of a dropped boxed `Sender`. Depends on code generation.
#[test]
#[ignore = "bug: key bytes survive in padding / inactive enum space of Key and Sender after \
            drop (codegen-dependent); see interop/README.md"]
fn dropped_key_and_sender_leave_no_stale_copies() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for suite in CipherSuite::ALL {
        let key = Box::new(Key::derive(suite, KID, &BASE).unwrap());
        assert_eq!(
            hits_during(suite, KID, &BASE, || drop(key)),
            [0, 0],
            "{suite:?} Key"
        );
        let mut tx = Box::new(Sender::new(suite));
        tx.set_key(KID, &BASE).unwrap();
        assert_eq!(
            hits_during(suite, KID, &BASE, || drop(tx)),
            [0, 0],
            "{suite:?} Sender"
        );
    }
}
