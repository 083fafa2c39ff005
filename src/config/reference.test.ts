import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { renderConfigReference } from './reference.ts';

test('docs/config.md is the current rendering of the schema (run npm run gen:docs when this fails)', () => {
  const committed = readFileSync(new URL('../../docs/config.md', import.meta.url), 'utf8');
  assert.equal(committed, renderConfigReference());
});

test('the reference documents every instance key with its default', () => {
  const doc = renderConfigReference();
  assert.match(doc, /\| `vrrp\.instances\[\]\.advert_interval` \| duration \| `1s` \|/);
  assert.match(doc, /\| `vrrp\.instances\[\]\.priority` \| integer 1\.\.255 \(per node\) \| `100` \|/);
  assert.match(doc, /\| `vrrp\.instances\[\]\.vrid` \(required\) \| integer 1\.\.255 \|/);
});
