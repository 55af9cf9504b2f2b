//! Error runs: one report per run of identical failures on a receiving stream — the error
//! events of the W3C WebRTC Encoded Transform "SFrame transform algorithm"
//! (`SFrameTransformErrorEventType`: "authentication", "keyID", "syntax"), rate-limited as its
//! open issue #307 ("may trigger lots of error events") asks and as libwebrtc's native SFrame
//! receiver does (`SframeDecryptErrorReporter`).
//!
//! Without a key, or with a wrong one, every frame of a stream fails the same way: at 30 fps
//! plus audio that is ~80 error events a second, all saying the same thing. [`ErrorRuns`]
//! reports the first failure of each run of identical consecutive failures (same
//! [`FailureKind`], same key ID) and counts the rest; a success ends the run, so the next
//! failure is reported again even if it is the same. Each report carries the length of the
//! run before it ([`Report::previous`]), so nothing is lost, only folded.
//!
//! The state is a fixed handful of integers whatever the frames say — no allocation, no
//! table of key IDs (a forged KID per frame costs nothing but a report per change of KID) —
//! and every counter saturates at `u64::MAX`. Replays (RFC 9605 §9.3) are not failures here:
//! the callers drop them without a report and leave the run alone.
//!
//! ```
//! use sframe_core::report::{ErrorRun, ErrorRuns, FailureKind, Report};
//!
//! let mut runs = ErrorRuns::new();
//! // A receiver without the key for KID 7: the first frame is reported, the next ones are not.
//! let first = runs.observe(FailureKind::KeyId, Some(7));
//! assert_eq!(first, Some(Report { kind: FailureKind::KeyId, key_id: Some(7), previous: None }));
//! assert_eq!(runs.observe(FailureKind::KeyId, Some(7)), None);
//! assert_eq!(runs.observe(FailureKind::KeyId, Some(7)), None);
//! // The key arrives and a frame decrypts: that ends the run (3 frames).
//! let ended = ErrorRun { kind: FailureKind::KeyId, key_id: Some(7), count: 3 };
//! assert_eq!(runs.success(), Some(ended));
//! // The next failure is reported again, with the run before it.
//! let next = runs.observe(FailureKind::Authentication, Some(7));
//! assert_eq!(next.and_then(|r| r.previous), Some(ended));
//! assert_eq!((runs.reported(), runs.suppressed()), (2, 2));
//! ```

use crate::error::Error;

/// What kind of failure a frame had: the W3C `SFrameTransformErrorEventType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FailureKind {
    /// "authentication": the frame did not authenticate (wrong key, altered frame or
    /// metadata), or its key reached its limit of failed authentications.
    Authentication,
    /// "keyID": no key for the frame's key ID.
    KeyId,
    /// "syntax": not an SFrame frame (or one this receiver cannot process at all).
    Syntax,
}

impl FailureKind {
    /// Every kind, in the order of the W3C enum.
    pub const ALL: [FailureKind; 3] = [
        FailureKind::Authentication,
        FailureKind::KeyId,
        FailureKind::Syntax,
    ];

    /// The W3C `SFrameTransformErrorEventType` value: `"authentication"`, `"keyID"` or
    /// `"syntax"`.
    ///
    /// ```
    /// use sframe_core::report::FailureKind;
    /// assert_eq!(FailureKind::KeyId.name(), "keyID");
    /// assert_eq!(FailureKind::from_name("keyID"), Some(FailureKind::KeyId));
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            FailureKind::Authentication => "authentication",
            FailureKind::KeyId => "keyID",
            FailureKind::Syntax => "syntax",
        }
    }

    /// The kind of a W3C `SFrameTransformErrorEventType` value (exact spelling), if any.
    pub fn from_name(name: &str) -> Option<FailureKind> {
        FailureKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The kind of failure a receiver's [`Error`] reports: [`Error::UnknownKeyId`] is
    /// [`FailureKind::KeyId`]; [`Error::AuthenticationFailed`] and [`Error::KeyUsageLimit`]
    /// (the key's limit of failed authentications, RFC 9605 §7) are
    /// [`FailureKind::Authentication`]; [`Error::Replay`] is `None` (an authentic frame seen
    /// before: dropped without a report); every other error means the frame could not be
    /// processed as SFrame at all: [`FailureKind::Syntax`].
    ///
    /// ```
    /// use sframe_core::{Error, report::FailureKind};
    /// assert_eq!(FailureKind::of(Error::UnknownKeyId), Some(FailureKind::KeyId));
    /// assert_eq!(FailureKind::of(Error::MalformedFrame), Some(FailureKind::Syntax));
    /// assert_eq!(FailureKind::of(Error::Replay), None);
    /// ```
    pub const fn of(error: Error) -> Option<FailureKind> {
        match error {
            Error::UnknownKeyId => Some(FailureKind::KeyId),
            Error::AuthenticationFailed | Error::KeyUsageLimit => Some(FailureKind::Authentication),
            Error::Replay => None,
            _ => Some(FailureKind::Syntax),
        }
    }
}

/// A run of identical consecutive failures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrorRun {
    /// The failures' kind.
    pub kind: FailureKind,
    /// The failed frames' key ID (`None`: their header did not parse).
    pub key_id: Option<u64>,
    /// Frames in the run, the reported first one included (saturates at `u64::MAX`).
    pub count: u64,
}

/// What to report for a failure that starts a run (the caller fires its error event).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Report {
    /// The failure's kind.
    pub kind: FailureKind,
    /// The frame's key ID, if its header parsed.
    pub key_id: Option<u64>,
    /// The run before this one, complete, if there was one since the last report: the
    /// previous report's failure and how many frames failed like it in a row.
    pub previous: Option<ErrorRun>,
}

/// Folds a stream's failures into one report per run of identical failures (see the
/// [module docs](self)). One per receiving stream; a few integers, no allocation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ErrorRuns {
    /// The run going on (the last frame failed), if any.
    current: Option<ErrorRun>,
    /// The run that ended last (by a success or by a different failure).
    last_ended: Option<ErrorRun>,
    /// Whether `last_ended` ended by a success and no report has carried it yet.
    carry: bool,
    reported: u64,
    suppressed: u64,
}

impl ErrorRuns {
    /// No failure seen yet.
    pub const fn new() -> Self {
        ErrorRuns {
            current: None,
            last_ended: None,
            carry: false,
            reported: 0,
            suppressed: 0,
        }
    }

    /// A frame failed. Returns the report to make when it starts a run (the first failure,
    /// the first after a success, or one that differs from the previous failure in kind or
    /// key ID); `None` when it continues the run, which is then one frame longer.
    pub fn observe(&mut self, kind: FailureKind, key_id: Option<u64>) -> Option<Report> {
        if let Some(run) = self.current.as_mut()
            && run.kind == kind
            && run.key_id == key_id
        {
            run.count = run.count.saturating_add(1);
            self.suppressed = self.suppressed.saturating_add(1);
            return None;
        }
        let previous = match self.current.take() {
            Some(ended) => {
                self.last_ended = Some(ended);
                Some(ended)
            }
            None if self.carry => self.last_ended,
            None => None,
        };
        self.carry = false;
        self.current = Some(ErrorRun {
            kind,
            key_id,
            count: 1,
        });
        self.reported = self.reported.saturating_add(1);
        Some(Report {
            kind,
            key_id,
            previous,
        })
    }

    /// A frame succeeded: ends the run going on, if any, and returns it. The next report
    /// carries it as [`Report::previous`].
    pub fn success(&mut self) -> Option<ErrorRun> {
        let ended = self.current.take()?;
        self.last_ended = Some(ended);
        self.carry = true;
        Some(ended)
    }

    /// The run going on: the last frame failed, and this many in a row like it.
    pub fn current(&self) -> Option<ErrorRun> {
        self.current
    }

    /// The run that ended last, if any.
    pub fn last_ended(&self) -> Option<ErrorRun> {
        self.last_ended
    }

    /// Failures reported (each started a run).
    pub fn reported(&self) -> u64 {
        self.reported
    }

    /// Failures folded into a run without a report.
    pub fn suppressed(&self) -> u64 {
        self.suppressed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const AUTH: FailureKind = FailureKind::Authentication;
    const KID: FailureKind = FailureKind::KeyId;
    const SYNTAX: FailureKind = FailureKind::Syntax;

    fn run(kind: FailureKind, key_id: Option<u64>, count: u64) -> ErrorRun {
        ErrorRun {
            kind,
            key_id,
            count,
        }
    }

    #[test]
    fn missing_key_flood_is_one_report() {
        let mut runs = ErrorRuns::new();
        let first = runs.observe(KID, Some(3));
        assert_eq!(
            first,
            Some(Report {
                kind: KID,
                key_id: Some(3),
                previous: None
            })
        );
        for _ in 0..99 {
            assert_eq!(runs.observe(KID, Some(3)), None);
        }
        assert_eq!(runs.current(), Some(run(KID, Some(3), 100)));
        assert_eq!((runs.reported(), runs.suppressed()), (1, 99));
    }

    #[test]
    fn a_different_kind_or_key_id_starts_a_run_carrying_the_previous_one() {
        let mut runs = ErrorRuns::new();
        runs.observe(AUTH, Some(1));
        runs.observe(AUTH, Some(1));
        // Same kind, other KID: a new run.
        let r = runs.observe(AUTH, Some(2));
        assert_eq!(r.and_then(|r| r.previous), Some(run(AUTH, Some(1), 2)));
        // Same KID, other kind: a new run.
        let r = runs.observe(KID, Some(2));
        assert_eq!(r.and_then(|r| r.previous), Some(run(AUTH, Some(2), 1)));
        // A header that did not parse (no KID) differs from any KID.
        let r = runs.observe(KID, None);
        assert_eq!(r.and_then(|r| r.previous), Some(run(KID, Some(2), 1)));
        assert_eq!(runs.observe(KID, None), None);
        assert_eq!(runs.last_ended(), Some(run(KID, Some(2), 1)));
        assert_eq!((runs.reported(), runs.suppressed()), (4, 2));
    }

    #[test]
    fn a_success_ends_the_run_and_the_same_failure_is_reported_again() {
        let mut runs = ErrorRuns::new();
        assert_eq!(runs.success(), None, "no run to end");
        runs.observe(SYNTAX, None);
        runs.observe(SYNTAX, None);
        assert_eq!(runs.success(), Some(run(SYNTAX, None, 2)));
        assert_eq!(runs.current(), None);
        // More successes change nothing; the ended run waits for the next report.
        assert_eq!(runs.success(), None);
        let r = runs.observe(SYNTAX, None);
        assert_eq!(
            r,
            Some(Report {
                kind: SYNTAX,
                key_id: None,
                previous: Some(run(SYNTAX, None, 2))
            })
        );
        // Carried once: the run after it is what the next report carries.
        let r = runs.observe(AUTH, Some(9));
        assert_eq!(r.and_then(|r| r.previous), Some(run(SYNTAX, None, 1)));
    }

    #[test]
    fn counters_saturate() {
        let mut runs = ErrorRuns {
            current: Some(run(AUTH, Some(1), u64::MAX)),
            last_ended: None,
            carry: false,
            reported: u64::MAX,
            suppressed: u64::MAX,
        };
        assert_eq!(runs.observe(AUTH, Some(1)), None);
        assert_eq!(runs.current(), Some(run(AUTH, Some(1), u64::MAX)));
        assert_eq!(runs.suppressed(), u64::MAX);
        assert!(runs.observe(KID, Some(1)).is_some());
        assert_eq!(runs.reported(), u64::MAX);
    }

    #[test]
    fn failure_kinds_are_the_w3c_names_and_the_errors_map_to_them() {
        assert_eq!(
            FailureKind::ALL.map(FailureKind::name),
            ["authentication", "keyID", "syntax"]
        );
        for k in FailureKind::ALL {
            assert_eq!(FailureKind::from_name(k.name()), Some(k));
        }
        assert_eq!(FailureKind::from_name("keyId"), None);
        assert_eq!(FailureKind::from_name(""), None);
        for e in Error::ALL {
            let want = match e {
                Error::UnknownKeyId => Some(KID),
                Error::AuthenticationFailed | Error::KeyUsageLimit => Some(AUTH),
                Error::Replay => None,
                _ => Some(SYNTAX),
            };
            assert_eq!(FailureKind::of(e), want, "{e:?}");
        }
    }

    /// One step of a stream: a success, or a failure of some kind and KID (few values, so
    /// runs and repeats are common).
    fn step() -> impl Strategy<Value = Option<(FailureKind, Option<u64>)>> {
        let kind = prop_oneof![Just(AUTH), Just(KID), Just(SYNTAX)];
        let kid = prop_oneof![Just(None), (0u64..3).prop_map(Some), Just(Some(u64::MAX))];
        prop_oneof![1 => Just(None), 4 => (kind, kid).prop_map(Some)]
    }

    proptest! {
        /// Against a model that keeps the whole history: a failure is reported exactly when
        /// the frame before it succeeded (or there was none) or failed differently; the
        /// report's `previous` is the maximal run that ended last, if no report carried it
        /// yet; `current` is the run going on; reported + suppressed = failures.
        #[test]
        fn reports_exactly_the_starts_of_runs(steps in proptest::collection::vec(step(), 0..200)) {
            let mut runs = ErrorRuns::new();
            let mut before: Option<Option<(FailureKind, Option<u64>)>> = None;
            let mut length = 0u64;
            let mut pending: Option<ErrorRun> = None;
            let (mut failures, mut reports) = (0u64, 0u64);
            for s in steps {
                match s {
                    None => {
                        let ended = runs.success();
                        match before {
                            Some(Some((kind, key_id))) => {
                                prop_assert_eq!(ended, Some(run(kind, key_id, length)));
                                pending = ended;
                            }
                            _ => prop_assert_eq!(ended, None),
                        }
                        length = 0;
                    }
                    Some((kind, key_id)) => {
                        failures += 1;
                        let report = runs.observe(kind, key_id);
                        if before == Some(Some((kind, key_id))) {
                            prop_assert_eq!(report, None);
                            length += 1;
                        } else {
                            reports += 1;
                            if let Some(Some((k, id))) = before {
                                pending = Some(run(k, id, length));
                            }
                            prop_assert_eq!(report, Some(Report { kind, key_id, previous: pending }));
                            pending = None;
                            length = 1;
                        }
                        prop_assert_eq!(runs.current(), Some(run(kind, key_id, length)));
                    }
                }
                before = Some(s);
                prop_assert_eq!(runs.reported(), reports);
                prop_assert_eq!(runs.reported() + runs.suppressed(), failures);
            }
        }
    }
}
