// Drops the runs of zero bytes from a .wasm's active data segments (what binaryen's
// `wasm-opt --memory-packing` does), in place:  node scripts/pack-data.mjs module.wasm
//
// Why: sframe-core's RTP receive session builds its stream slots from a constant image (a
// `const fn` value of ~1.1 MB: reassembly and key-wait buffers, nearly all zeros), which rustc
// places in a data segment. Linear memory starts zeroed, so a segment's zero runs need not be
// stored: splitting each active segment around runs of 32 or more zero bytes writes the same
// memory at instantiation. Passive segments (bulk memory) are copied as they are, and a module
// with a data count section is left unchanged (its count would change).
import { readFileSync, writeFileSync } from 'node:fs';

const MIN_ZERO_RUN = 32;

function uleb(bytes, at) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const b = bytes[at++];
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if (b < 0x80) return [value, at];
  }
}
function encodeUleb(value) {
  const out = [];
  do {
    let b = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) b |= 0x80;
    out.push(b);
  } while (value > 0);
  return out;
}
function encodeSleb32(value) {
  const out = [];
  for (;;) {
    const b = value & 0x7f;
    value >>= 7;
    if ((value === 0 && (b & 0x40) === 0) || (value === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}
function sleb32(bytes, at) {
  let result = 0;
  let shift = 0;
  let b;
  do {
    b = bytes[at++];
    result |= (b & 0x7f) << shift;
    shift += 7;
  } while (b & 0x80);
  if (shift < 32 && b & 0x40) result |= -1 << shift;
  return [result, at];
}

/** The packed data section body, or null when it cannot be packed safely. */
function packDataSection(body) {
  let [count, at] = uleb(body, 0);
  const segments = [];
  for (let i = 0; i < count; i++) {
    const flags = body[at];
    // Only `0x00 i32.const OFFSET end BYTES` (memory 0, constant offset) is split.
    if (flags !== 0 || body[at + 1] !== 0x41) return null;
    let offset;
    [offset, at] = sleb32(body, at + 2);
    if (body[at++] !== 0x0b) return null;
    let size;
    [size, at] = uleb(body, at);
    const data = body.subarray(at, at + size);
    at += size;
    // Split around zero runs of MIN_ZERO_RUN or more.
    let start = 0;
    let i2 = 0;
    while (i2 < data.length) {
      if (data[i2] !== 0) {
        i2++;
        continue;
      }
      let end = i2;
      while (end < data.length && data[end] === 0) end++;
      if (end - i2 >= MIN_ZERO_RUN) {
        if (i2 > start) segments.push([offset + start, data.subarray(start, i2)]);
        start = end;
      }
      i2 = end;
    }
    if (data.length > start) segments.push([offset + start, data.subarray(start)]);
  }
  if (at !== body.length) return null;
  const parts = [encodeUleb(segments.length)];
  for (const [offset, data] of segments) {
    parts.push([0, 0x41, ...encodeSleb32(offset), 0x0b, ...encodeUleb(data.length)], data);
  }
  return Buffer.concat(parts.map((p) => Buffer.from(p)));
}

const file = process.argv[2];
const wasm = new Uint8Array(readFileSync(file));
const out = [wasm.subarray(0, 8)];
let at = 8;
let changed = false;
const sections = [];
while (at < wasm.length) {
  const id = wasm[at];
  const [size, bodyAt] = uleb(wasm, at + 1);
  sections.push([id, wasm.subarray(bodyAt, bodyAt + size), wasm.subarray(at, bodyAt + size)]);
  at = bodyAt + size;
}
const hasDataCount = sections.some(([id]) => id === 12);
for (const [id, body, whole] of sections) {
  const packed = id === 11 && !hasDataCount ? packDataSection(body) : null;
  if (packed && packed.length < body.length) {
    out.push(Uint8Array.from([11, ...encodeUleb(packed.length)]), packed);
    changed = true;
  } else out.push(whole);
}
if (changed) {
  const result = Buffer.concat(out.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength)));
  // Refuse to write a module the engine does not accept.
  if (!WebAssembly.validate(result)) throw new Error(`${file}: packed module does not validate`);
  writeFileSync(file, result);
  console.log(`${file}: data segments packed, ${wasm.length} → ${result.length} bytes`);
}
