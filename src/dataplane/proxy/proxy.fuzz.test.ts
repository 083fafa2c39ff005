// End-to-end fuzzing of the HTTP proxy: several raw clients at once send random byte streams (valid requests,
// the smuggling suite's attacks, mutated requests, garbage, all cut into random writes) through the real listener to
// a strict recording backend that numbers every request it parses (X-Seq) and names it in its answer (X-Tag).
// Invariants, for every run:
//   (a) the backend sees only requests the clients framed: it parses everything it gets, each request carries the tag
//       of the client whose bytes held it, and every request it parsed is answered to exactly one client — a request
//       the backend framed but the proxy did not (a smuggled one) would leave an answer nobody got, or give it to
//       someone else;
//   (b) no client gets an answer to another client's request, and each client gets its answers in its own order.
// Bounded: a fixed seed and a few dozen runs (seconds). Replay another mix with PROXY_FUZZ_SEED=n.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { rawRequest } from './raw-http.ts';
import { SMUGGLING_CASES } from './smuggling-cases.ts';
import { sharedRecordingLab } from './test-support.ts';

const SEED = Number(process.env.PROXY_FUZZ_SEED ?? 20_261_203);
const RUNS = Number(process.env.PROXY_FUZZ_RUNS ?? 30);

const lab = sharedRecordingLab();

/** One piece of a client's stream, before its client and position are known. */
type Segment =
  | { kind: 'valid'; method: 'GET' | 'POST'; body: string; chunked: boolean; bait: boolean }
  | { kind: 'attack'; index: number }
  | { kind: 'mutant'; body: string; edits: { at: number; op: 0 | 1 | 2; byte: number }[] }
  | { kind: 'garbage'; bytes: Uint8Array };

const bait = (k: number) => `GET /bait HTTP/1.1\r\nHost: a\r\nX-Tag: c${k}-bait\r\n\r\n`;

function validRequest(k: number, i: number, s: { method: string; body: string; chunked: boolean; bait: boolean }) {
  const body = s.bait ? `${s.body}${bait(k)}` : s.body;
  const head = `${s.method} /c${k}/${i} HTTP/1.1\r\nHost: a\r\nX-Tag: c${k}-${i}\r\n`;
  if (!s.chunked) return `${head}Content-Length: ${body.length}\r\n\r\n${body}`;
  const half = Math.floor(body.length / 2);
  const parts = [body.slice(0, half), body.slice(half)].filter((p) => p.length > 0);
  return `${head}Transfer-Encoding: chunked\r\n\r\n${parts.map((p) => `${p.length.toString(16)}\r\n${p}\r\n`).join('')}0\r\n\r\n`;
}

/** The bytes of segment `i` of client `k`. */
function render(k: number, i: number, s: Segment): Buffer {
  switch (s.kind) {
    case 'valid':
      return Buffer.from(validRequest(k, i, s), 'latin1');
    case 'attack': {
      const c = SMUGGLING_CASES[s.index % SMUGGLING_CASES.length];
      const text = (c?.bytes ?? '')
        .replaceAll('X-Tag: attacker', `X-Tag: c${k}-${i}`)
        .replaceAll('X-Tag: smuggled', `X-Tag: c${k}-bait`);
      return Buffer.from(text, 'latin1');
    }
    case 'mutant': {
      const text = validRequest(k, i, { method: 'POST', body: s.body, chunked: false, bait: false });
      const b = [...Buffer.from(text, 'latin1')];
      // Edits after the X-Tag line, so that whatever the proxy makes of the rest still names its client.
      const from = text.indexOf('\r\n', text.indexOf('X-Tag:')) + 2;
      for (const e of s.edits) {
        const at = from + (e.at % (b.length - from + 1));
        if (e.op === 0) b.splice(at, 1);
        else if (e.op === 1) b.splice(at, 0, e.byte);
        else b[at] = e.byte;
      }
      return Buffer.from(b);
    }
    case 'garbage':
      return Buffer.from(s.bytes);
  }
}

const segment: fc.Arbitrary<Segment> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('valid' as const),
      method: fc.constantFrom('GET' as const, 'POST' as const),
      body: fc.string({ unit: fc.constantFrom('a', 'b', '\r', '\n', '0', ' ', ':'), maxLength: 30 }),
      chunked: fc.boolean(),
      bait: fc.boolean(),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('attack' as const), index: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('mutant' as const),
      body: fc.string({ unit: fc.constantFrom('x', 'y', '\r', '\n'), maxLength: 20 }),
      edits: fc.array(
        fc.record({
          at: fc.nat(),
          op: fc.constantFrom(0 as const, 1 as const, 2 as const),
          byte: fc.constantFrom(0x0a, 0x0d, 0x20, 0x3a, 0x30, 0x35, 0x00, 0x41),
        }),
        { minLength: 1, maxLength: 3 },
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('garbage' as const), bytes: fc.uint8Array({ maxLength: 40 }) }),
  },
);

const clientStream = fc.record({
  segments: fc.array(segment, { minLength: 1, maxLength: 5 }),
  cuts: fc.array(fc.nat(), { maxLength: 5 }),
});

/** `buf` cut at the given points into writes. */
function cut(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    if (p > from) out.push(buf.subarray(from, p));
    from = Math.max(from, p);
  }
  out.push(buf.subarray(from));
  return out;
}

test('fuzz: random byte streams from several clients at once never smuggle a request or cross answers', async (t) => {
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(clientStream, { minLength: 2, maxLength: 4 }), async (clients) => {
      const { backend, port } = lab();
      runs++;
      backend.reset();
      const sent = clients.map((c, k) => Buffer.concat(c.segments.map((s, i) => render(k, i, s))));
      const results = await Promise.all(
        clients.map((c, k) =>
          rawRequest(port, cut(sent[k] as Buffer, c.cuts), { halfClose: true, gapMs: 1, timeoutMs: 15_000 }),
        ),
      );
      /** What client `k` sent and got, for a failure message. */
      const story = (k: number): string =>
        `client ${k} sent ${JSON.stringify(sent[k]?.toString('latin1'))} and got ${JSON.stringify(
          results[k]?.raw.toString('latin1'),
        )}`;
      await backend.settled();
      assert.deepEqual(backend.violations, [], 'the backend parsed everything the proxy sent');
      for (const [k, r] of results.entries()) assert.ok(r.closed, `the proxy ends every connection; ${story(k)}`);
      // (a) Every request the backend parsed came from the bytes of the client it names, and was answered to it, once.
      const delivered = new Map<number, number>();
      for (const [k, r] of results.entries()) {
        for (const x of r.responses) if (x.seq > 0) delivered.set(x.seq, k);
      }
      for (const req of backend.requests) {
        const owner = /^c(\d+)-/.exec(req.tag);
        assert.ok(owner, `the backend saw a request no client tagged: ${JSON.stringify(req)}`);
        assert.equal(
          delivered.get(req.seq),
          Number(owner[1]),
          `request ${req.tag} (#${req.seq}) answered to its client; ${story(Number(owner[1]))}`,
        );
      }
      assert.equal(delivered.size, backend.requests.length, 'no answer to a request the backend did not see');
      // (b) Each client got only answers to its own requests, in its own order.
      for (const [k, r] of results.entries()) {
        const mine = r.responses.filter((x) => x.seq > 0);
        for (const x of mine)
          assert.match(x.tag, new RegExp(`^c${k}-`), `client ${k} got ${x.tag}'s answer; ${story(k)}`);
        const seqs = mine.map((x) => x.seq);
        const order = backend.requests.filter((q) => q.tag.startsWith(`c${k}-`)).map((q) => q.seq);
        assert.deepEqual(seqs, order, `answers in the order of the requests; ${story(k)}`);
      }
    }),
    { seed: SEED, numRuns: RUNS, endOnFailure: true, includeErrorInReport: true },
  );
  t.diagnostic(`seed ${SEED}: ${runs} runs`);
});
