import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventHub } from '../api/http/events.ts';
import type { ApiEvent } from '../api/http-plugin.ts';
import { API_DEFAULTS } from '../config/schema-api.ts';
import { memoryLogger } from '../core/log.ts';
import { apiListen, apiStartProblem, tapEvents } from './api-part.ts';

test('the event tap publishes each log record with an event field (not debug ones) and still logs everything', () => {
  const hub = new EventHub();
  const got: ApiEvent[] = [];
  hub.subscribe((e) => got.push(e));
  const mem = memoryLogger();
  const log = tapEvents(mem, hub, () => Date.UTC(2026, 11, 4));
  log.log('info', '(VI_1) Entering MASTER STATE', {
    event: 'transition',
    instance: 'VI_1',
    from: 'BACKUP',
    to: 'MASTER',
  });
  log.log('debug', 'dropped', { event: 'drop', reason: 'ttl' });
  log.log('info', 'plain line');
  assert.deepEqual(got, [
    {
      type: 'transition',
      time: '2026-12-04T00:00:00.000Z',
      level: 'info',
      msg: '(VI_1) Entering MASTER STATE',
      instance: 'VI_1',
      from: 'BACKUP',
      to: 'MASTER',
    },
  ]);
  assert.equal(mem.records.length, 3);
});

test('--api wins over api.listen; a non-loopback address without TLS is refused before start, naming where it came from', () => {
  assert.deepEqual(apiListen('127.0.0.1:1', { ...API_DEFAULTS, listen: '127.0.0.1:2' }), {
    listen: '127.0.0.1:1',
    source: '--api',
  });
  assert.equal(apiListen(undefined, API_DEFAULTS), undefined);
  assert.equal(apiStartProblem('127.0.0.1:8080', undefined), null);
  assert.equal(apiStartProblem('[::1]:8080', undefined), null);
  assert.match(
    apiStartProblem(undefined, { ...API_DEFAULTS, listen: '198.18.0.1:8443' })!,
    /^TND_API_TLS_REQUIRED api\.listen 198\.18\.0\.1:8443/,
  );
  assert.equal(
    apiStartProblem('198.18.0.1:8443', { ...API_DEFAULTS, tls: { cert: 'c', key: 'k' } }),
    null,
    'with TLS any address may listen',
  );
  assert.match(apiStartProblem('localhost', undefined)!, /^TND_API_LISTEN --api localhost: must be ADDRESS:PORT/);
});
