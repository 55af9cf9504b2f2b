// @ts-check
// `a=sframe` SDP negotiation (draft-ietf-avtcore-rtp-sframe §6, "SFrame SDP negotiation"):
// the package's `sdp` namespace, over sframe-core's `sdp` module in wasm (src/sdp.rs). Every
// rule (where a=sframe goes, the offer/answer tables, §6's BUNDLE payload-type rule) is the
// core's; these functions only name the wasm exports and document them.
//
// SDP text goes in and comes out as strings; an edit changes nothing but the a=sframe lines
// (and, in applyAnswer, the port and BUNDLE group of a stopped section): line endings,
// order and unknown attributes are kept. A section is named by its index (0 for the first m=
// line) or its mid (a string). A policy is "required" (SFrame or stop the section),
// "preferred" (SFrame if the peer has it, clear media otherwise) or "off", or a function that
// gets each section's facts (see `sections`) and returns one. SDP that cannot be read, or an
// edit that would break a rule, throws an Error named "SFrameSdpError" whose `code` is
// sframe-core's `SdpError::code()` (with `line`, `index`, `expected`/`found`, `reason` or
// `conflict` saying where); a wrong argument type throws a TypeError.
//
// With a browser: never give setLocalDescription an edited SDP (Chromium refuses it, Firefox
// drops a=sframe); send the edited text over signalling, and stop the transceiver of every
// section whose outcome is "stopped" (RTCRtpTransceiver.stop()).

import './wasm.js'; // instantiates the module before anything below is called
import {
  sdpAddSframe,
  sdpAnswerForOffer,
  sdpApplyAnswer,
  sdpCheckAnswer,
  sdpHasSframe,
  sdpPrepareOffer,
  sdpRemoveSframe,
  sdpSections,
  sdpStripSframe,
} from '../pkg/sframe_wasm.js';

/** @typedef {import('../index.js').SdpSection} SdpSection */
/** @typedef {import('../index.js').SdpSectionRef} SdpSectionRef */
/** @typedef {import('../index.js').SdpPolicyArg} SdpPolicyArg */
/** @typedef {import('../index.js').SdpOutcome} SdpOutcome */
/** @typedef {import('../index.js').SdpOutcomeValue} SdpOutcomeValue */

/**
 * The facts of every media section, in m= line order.
 * @param {string} sdp
 * @returns {SdpSection[]}
 */
export function sections(sdp) {
  return sdpSections(sdp);
}

/**
 * Whether the section has `a=sframe`.
 * @param {string} sdp
 * @param {SdpSectionRef} section
 * @returns {boolean}
 */
export function hasSframe(sdp, section) {
  return sdpHasSframe(sdp, section);
}

/**
 * `a=sframe` added to an RTP section: one line right after the m= line and its i=/c=/b=/k=
 * lines, with the m= line's line ending. A section that has it already is returned as it is.
 * @param {string} sdp
 * @param {SdpSectionRef} section
 * @returns {string}
 */
export function addSframe(sdp, section) {
  return sdpAddSframe(sdp, section);
}

/**
 * Every `a=sframe` line of the section removed (each with its line ending).
 * @param {string} sdp
 * @param {SdpSectionRef} section
 * @returns {string}
 */
export function removeSframe(sdp, section) {
  return sdpRemoveSframe(sdp, section);
}

/**
 * `a=sframe` removed from every section: what a peer that does not negotiate SFrame should get.
 * @param {string} sdp
 * @returns {string}
 */
export function stripSframe(sdp) {
  return sdpStripSframe(sdp);
}

/**
 * Offerer, before sending an offer: `a=sframe` in each live RTP section whose policy is
 * "required" or "preferred", none where it is "off" (the function is not asked about stopped
 * and non-RTP sections). Throws "bundle_payload_type_reuse" if the result would share a
 * payload type between sections with and without SFrame in one BUNDLE group.
 * @param {string} offer
 * @param {SdpPolicyArg} policy
 * @returns {string}
 */
export function prepareOffer(offer, policy) {
  return sdpPrepareOffer(offer, policy);
}

/**
 * Answerer, on a received offer: the outcome of each section, which the answer must then
 * express (applyAnswer, or stopping transceivers before createAnswer). Any "rejected" outcome:
 * reject the offer.
 * @param {string} offer
 * @param {SdpPolicyArg} policy
 * @returns {SdpOutcome[]}
 */
export function answerForOffer(offer, policy) {
  return sdpAnswerForOffer(offer, policy);
}

/**
 * Answerer: its own answer text (one section per offer section) edited to say what
 * answerForOffer decided: `a=sframe` where "negotiated", none where "clear"; where "stopped",
 * port 0, no `a=sframe`, and the mid out of `a=group:BUNDLE`. Throws "rejected" for a
 * "rejected" outcome.
 * @param {string} answer
 * @param {readonly SdpOutcomeValue[]} outcomes
 * @returns {string}
 */
export function applyAnswer(answer, outcomes) {
  return sdpApplyAnswer(answer, outcomes);
}

/**
 * Offerer, on the answer to its offer (`offer` as sent): the outcome of each section. Reject
 * the answer if any is "rejected"; stop the transceiver of each "stopped" one.
 * @param {string} offer
 * @param {string} answer
 * @param {SdpPolicyArg} policy
 * @returns {SdpOutcome[]}
 */
export function checkAnswer(offer, answer, policy) {
  return sdpCheckAnswer(offer, answer, policy);
}
