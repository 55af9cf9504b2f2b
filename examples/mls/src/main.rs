//! SFrame keys from a real MLS group (RFC 9605 §5.2), with `openmls`.
//!
//! Alice creates a group and adds Bob and Carol (epoch 1). Every member exports the epoch's
//! SFrame base key — `MLS-Exporter("SFrame 1.0 Base Key", "", Nk)` — and sends under its own
//! KID `(context << (S+E)) + (leaf_index << E) + (epoch % 2^E)`. Then Alice removes Carol
//! (epoch 2): Alice and Bob move to the new epoch's key, a late epoch-1 frame still opens, and
//! Carol, who cannot export the epoch-2 secret, can no longer decrypt.
//!
//! Every outcome is checked; the program exits non-zero if any check fails.
//! Run: `cargo run --manifest-path examples/mls/Cargo.toml` (CI: scripts/stages/45-mls-example.sh).

use openmls::prelude::tls_codec::{Deserialize as _, Serialize as _};
use openmls::prelude::*;
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::OpenMlsRustCrypto;
use sframe_core::mls::{EXPORTER_CONTEXT, EXPORTER_LABEL, MlsKidLayout, exporter_len};
use sframe_core::{CipherSuite, Error as SframeError, Receiver, ReceiverConfig, Sender, inspect};

type Failure = Box<dyn std::error::Error>;

const MLS_SUITE: Ciphersuite = Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519;
const SUITE: CipherSuite = CipherSuite::AesGcm128Sha256;

/// One participant: MLS state plus its SFrame sender and receiver.
struct Member {
    name: &'static str,
    provider: OpenMlsRustCrypto,
    signer: SignatureKeyPair,
    credential: CredentialWithKey,
    group: Option<MlsGroup>,
    tx: Sender,
    rx: Receiver,
}

impl Member {
    fn new(name: &'static str, layout: MlsKidLayout) -> Result<Self, Failure> {
        let provider = OpenMlsRustCrypto::default();
        let signer = SignatureKeyPair::new(MLS_SUITE.signature_algorithm())?;
        signer.store(provider.storage())?;
        let credential = CredentialWithKey {
            credential: BasicCredential::new(name.as_bytes().to_vec()).into(),
            signature_key: signer.public().into(),
        };
        let rx = Receiver::with_config(ReceiverConfig::new(SUITE).with_mls(layout, 3)?);
        Ok(Member {
            name,
            provider,
            signer,
            credential,
            group: None,
            tx: Sender::new(SUITE),
            rx,
        })
    }

    fn key_package(&self) -> Result<KeyPackage, Failure> {
        let bundle = KeyPackage::builder().build(
            MLS_SUITE,
            &self.provider,
            &self.signer,
            self.credential.clone(),
        )?;
        Ok(bundle.key_package().clone())
    }

    fn group(&self) -> Result<&MlsGroup, Failure> {
        self.group
            .as_ref()
            .ok_or_else(|| format!("{} has no group", self.name).into())
    }

    fn group_mut(&mut self) -> Result<&mut MlsGroup, Failure> {
        self.group
            .as_mut()
            .ok_or_else(|| format!("{} has no group", self.name).into())
    }

    /// The §5.2 exporter output of the current epoch.
    fn export(&self) -> Result<Vec<u8>, Failure> {
        let secret = self.group()?.export_secret(
            self.provider.crypto(),
            EXPORTER_LABEL,
            EXPORTER_CONTEXT,
            exporter_len(SUITE),
        )?;
        Ok(secret)
    }

    /// Installs the current epoch's SFrame keys: own sender key and the receive epoch.
    fn enter_epoch(&mut self, layout: &MlsKidLayout) -> Result<(u64, u64), Failure> {
        let secret = self.export()?;
        let group = self.group()?;
        let epoch = group.epoch().as_u64();
        let leaf = group.own_leaf_index().u32();
        let kid = self.tx.set_mls_key(layout, &secret, epoch, leaf)?;
        self.rx.add_mls_epoch(epoch, &secret)?;
        println!(
            "  {:<5} epoch {epoch}, leaf {leaf}: sends with KID {kid:#x}",
            self.name
        );
        Ok((epoch, kid))
    }

    /// Makes a commit with `f` (add, remove, ...) and merges it into this member's group.
    fn commit<T>(
        &mut self,
        f: impl FnOnce(&mut MlsGroup, &OpenMlsRustCrypto, &SignatureKeyPair) -> Result<T, Failure>,
    ) -> Result<T, Failure> {
        let group = self.group.as_mut().ok_or("no group")?;
        let out = f(group, &self.provider, &self.signer)?;
        group.merge_pending_commit(&self.provider)?;
        Ok(out)
    }

    /// Applies a commit received from the delivery service.
    fn process_commit(&mut self, wire: &[u8]) -> Result<(), Failure> {
        let message = MlsMessageIn::tls_deserialize_exact(wire)?.try_into_protocol_message()?;
        let provider = &self.provider;
        let group = self.group.as_mut().ok_or("no group")?;
        let processed = group.process_message(provider, message)?;
        match processed.into_content() {
            ProcessedMessageContent::StagedCommitMessage(commit) => {
                group.merge_staged_commit(provider, *commit)?;
                Ok(())
            }
            _ => Err("expected a commit".into()),
        }
    }

    fn join(&mut self, welcome_wire: &[u8]) -> Result<(), Failure> {
        let welcome = match MlsMessageIn::tls_deserialize_exact(welcome_wire)?.extract() {
            MlsMessageBodyIn::Welcome(w) => w,
            _ => return Err("expected a Welcome".into()),
        };
        let config = MlsGroupJoinConfig::builder()
            .use_ratchet_tree_extension(true)
            .build();
        let staged = StagedWelcome::new_from_welcome(&self.provider, &config, welcome, None)?;
        self.group = Some(staged.into_group(&self.provider)?);
        Ok(())
    }
}

fn check(ok: bool, what: &str) -> Result<(), Failure> {
    if ok {
        println!("  ok: {what}");
        Ok(())
    } else {
        Err(format!("CHECK FAILED: {what}").into())
    }
}

fn main() {
    if let Err(e) = run() {
        eprintln!("{e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Failure> {
    // E = 4 epoch bits, S = 3 index bits (up to 8 members), context 0.
    let layout = MlsKidLayout::new(4, 3)?;
    let mut alice = Member::new("alice", layout)?;
    let mut bob = Member::new("bob", layout)?;
    let mut carol = Member::new("carol", layout)?;

    println!("MLS group: alice creates it and adds bob and carol");
    let config = MlsGroupCreateConfig::builder()
        .ciphersuite(MLS_SUITE)
        .use_ratchet_tree_extension(true)
        .build();
    alice.group = Some(MlsGroup::new(
        &alice.provider,
        &alice.signer,
        &config,
        alice.credential.clone(),
    )?);
    let kps = [bob.key_package()?, carol.key_package()?];
    let (_commit, welcome, _) =
        alice.commit(|group, provider, signer| Ok(group.add_members(provider, signer, &kps)?))?;
    let welcome_wire = welcome.tls_serialize_detached()?;
    bob.join(&welcome_wire)?;
    carol.join(&welcome_wire)?;
    check(
        alice.group()?.members().count() == 3,
        "three members in epoch 1",
    )?;

    let secrets = [alice.export()?, bob.export()?, carol.export()?];
    check(
        secrets
            .iter()
            .all(|s| *s == secrets[0] && s.len() == exporter_len(SUITE)),
        "all members export the same 16-byte SFrame base key",
    )?;
    let (e1, alice_kid1) = alice.enter_epoch(&layout)?;
    bob.enter_epoch(&layout)?;
    carol.enter_epoch(&layout)?;

    // Epoch 1: everyone hears everyone.
    let a1 = alice.tx.protect_vec(b"", b"alice @ epoch 1")?;
    let b1 = bob.tx.protect_vec(b"", b"bob @ epoch 1")?;
    let b1_late = bob.tx.protect_vec(b"", b"bob @ epoch 1, delivered late")?;
    check(
        inspect(&a1)?.key_id == alice_kid1,
        "an SFU reads alice's KID from the header",
    )?;
    check(
        bob.rx.unprotect_vec(b"", &a1)? == b"alice @ epoch 1",
        "bob decrypts alice (epoch 1)",
    )?;
    check(
        carol.rx.unprotect_vec(b"", &a1)? == b"alice @ epoch 1",
        "carol decrypts alice (epoch 1)",
    )?;
    check(
        alice.rx.unprotect_vec(b"", &b1)? == b"bob @ epoch 1",
        "alice decrypts bob (epoch 1)",
    )?;

    // Alice removes Carol: a commit to epoch 2 that Carol's leaf is not part of.
    println!("alice removes carol");
    let carol_leaf = carol.group()?.own_leaf_index();
    let (commit, _, _) = alice.commit(|group, provider, signer| {
        Ok(group.remove_members(provider, signer, &[carol_leaf])?)
    })?;
    let commit_wire = commit.tls_serialize_detached()?;
    bob.process_commit(&commit_wire)?;
    carol.process_commit(&commit_wire)?;
    check(
        !carol.group_mut()?.is_active(),
        "carol's group is inactive after her removal",
    )?;
    check(
        carol.export().is_err(),
        "carol cannot export the epoch-2 secret",
    )?;

    let (e2, alice_kid2) = alice.enter_epoch(&layout)?;
    bob.enter_epoch(&layout)?;
    check(
        e2 == e1 + 1 && alice_kid2 != alice_kid1,
        "new epoch, new KID for alice",
    )?;
    check(
        alice.tx.next_counter() == Some(0),
        "alice's counter restarts with the new key",
    )?;

    let a2 = alice.tx.protect_vec(b"", b"alice @ epoch 2")?;
    check(
        bob.rx.unprotect_vec(b"", &a2)? == b"alice @ epoch 2",
        "bob decrypts alice (epoch 2)",
    )?;
    check(
        alice.rx.unprotect_vec(b"", &b1_late)? == b"bob @ epoch 1, delivered late",
        "a late epoch-1 frame still decrypts (previous epoch kept)",
    )?;
    let carol_result = carol.rx.unprotect_vec(b"", &a2);
    check(
        carol_result == Err(SframeError::UnknownKeyId),
        "carol, removed, cannot decrypt epoch-2 frames",
    )?;

    // Carol guesses: her last secret used as if it were epoch 2's. Authentication fails.
    let mut guess = Receiver::with_config(ReceiverConfig::new(SUITE).with_mls(layout, 3)?);
    guess.add_mls_epoch(e2, &secrets[2])?;
    check(
        guess.unprotect_vec(b"", &a2) == Err(SframeError::AuthenticationFailed),
        "carol's old secret does not open epoch-2 frames",
    )?;

    println!("all MLS checks passed");
    Ok(())
}
