// The README's "Native and devices" example runs as written and prints what its comments say.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const MARK = '<!-- sframe-wasm/test/readme-native.test.mjs runs this block and checks its output -->';

test('README "Native and devices": the Node example runs and prints what its comments say', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const at = readme.indexOf(MARK);
  assert.ok(at >= 0, 'marker in README.md');
  const block = readme.slice(at).match(/```js\n([\s\S]*?)```/);
  assert.ok(block, 'a js block after the marker');
  assert.ok(block[1].split('\n').length <= 25, 'about 20 lines');
  // Inside the package, so that `import … from 'sframe-wasm'` resolves to it (self-reference).
  const file = new URL(`./.readme-native-${process.pid}.mjs`, import.meta.url);
  writeFileSync(file, block[1]);
  try {
    const out = execFileSync(process.execPath, [file.pathname], { encoding: 'utf8' });
    assert.deepEqual(out.trim().split('\n'), [
      'waiting for KID 1',
      'frame 0 5000 waited',
      'KID 1 authenticated on 4d2e61f0',
      'frame 3000 5000 live',
    ]);
  } finally {
    rmSync(file, { force: true });
  }
});
