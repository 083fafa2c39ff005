// The request-smuggling suite: exact bytes from a raw client through the real proxy listener to a recording backend
// that parses what it gets strictly and on its own (raw-http.ts). For every case (smuggling-cases.ts): (a) the
// backend sees exactly the requests the client sent, normalised, or none when the proxy must refuse; (b) no response
// goes to the wrong client: after each case a victim on a fresh connection, sharing the pooled upstream connection the
// attacker used, gets the answer to its own request. Loopback only.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { headerOf, rawRequest } from './raw-http.ts';
import { SMUGGLING_CASES, type SmugglingCase, VICTIM } from './smuggling-cases.ts';
import { sharedRecordingLab } from './test-support.ts';

const lab = sharedRecordingLab();

/** Runs one case and checks both invariants. */
async function check(c: SmugglingCase): Promise<void> {
  const { backend, port } = lab();
  backend.reset();
  const attacker = await rawRequest(port, [c.bytes], { expect: c.statuses.length, settleMs: 50 });
  await backend.settled();
  const got = attacker.responses.map((r) => r.status);
  assert.deepEqual(got, c.statuses, `attacker statuses; raw: ${JSON.stringify(attacker.raw.toString('latin1'))}`);
  // (b) Every answer the attacker got is the proxy's own or one to its own requests.
  for (const r of attacker.responses) assert.ok(r.tag === '' || r.tag === 'attacker', `attacker got ${r.tag}'s answer`);
  const closes = c.closes ?? c.backend.length === 0;
  assert.equal(attacker.closed, closes, closes ? 'the proxy must close the connection' : 'the connection stays');
  const victim = await rawRequest(port, [VICTIM], { expect: 1, settleMs: 50 });
  await backend.settled();
  assert.deepEqual(
    victim.responses.map((r) => [r.status, r.tag, JSON.parse(r.body).target]),
    [[200, 'victim', '/victim']],
    `the victim gets its own answer, once; raw: ${JSON.stringify(victim.raw.toString('latin1'))}`,
  );
  // (a) The backend saw exactly the attacker's requests, then the victim's, and nothing it could not parse.
  assert.deepEqual(backend.violations, []);
  for (const r of backend.requests) assert.deepEqual(r.trailers, [], 'trailer fields are not forwarded');
  const seen = backend.requests.map((r) => ({
    method: r.method,
    target: r.target,
    body: r.body,
    host: headerOf(r.headers, 'host'),
    tag: r.tag,
    xff: headerOf(r.headers, 'x-forwarded-for'),
  }));
  const want = [
    ...c.backend.map((e) => ({
      method: e.method,
      target: e.target,
      body: e.body ?? '',
      host: e.host ?? 'a',
      tag: e.tag ?? 'attacker',
      xff: '127.0.0.1',
    })),
    { method: 'GET', target: '/victim', body: '', host: 'v', tag: 'victim', xff: '127.0.0.1' },
  ];
  assert.deepEqual(seen, want);
  // The victim's request went over a pooled connection the attacker's requests used (an upgrade has its own).
  const v = backend.requests[backend.requests.length - 1];
  const theirs = backend.requests.slice(0, -1).map((r) => r.conn);
  if (theirs.length > 0) assert.ok(theirs.includes(v?.conn ?? -1), 'the victim shares the upstream connection');
}

for (const c of SMUGGLING_CASES) {
  test(`smuggling ${c.family}: ${c.name}`, () => check(c));
}
