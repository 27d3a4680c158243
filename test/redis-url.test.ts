import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../src/index.js';
import { parseRedisUrl, redactUrl } from '../src/transport/redis-url.js';

describe('Redis URLs', () => {
  it.each([
    ['redis://localhost', { kind: 'tcp', host: 'localhost', port: 6379, tls: false, db: 0 }],
    ['redis://10.0.0.5:6380/3', { kind: 'tcp', host: '10.0.0.5', port: 6380, db: 3 }],
    ['rediss://cache.example:6380', { kind: 'tcp', host: 'cache.example', port: 6380, tls: true }],
    [
      'redis://user:p%40ss@h:1',
      { kind: 'tcp', username: 'user', password: 'p@ss', host: 'h', port: 1 },
    ],
    ['redis://:secret@h', { kind: 'tcp', username: undefined, password: 'secret' }],
    ['redis://[::1]:6379', { kind: 'tcp', host: '::1', port: 6379 }],
    ['unix:///run/redis/redis.sock', { kind: 'unix', path: '/run/redis/redis.sock', db: 0 }],
    [
      'unix:///tmp/r.sock?db=2&password=pw',
      { kind: 'unix', path: '/tmp/r.sock', db: 2, password: 'pw' },
    ],
    [
      'unix:///tmp/r.sock?username=worker&password=pw',
      { kind: 'unix', path: '/tmp/r.sock', username: 'worker', password: 'pw' },
    ],
    ['/tmp/redis-ipc/socket', { kind: 'unix', path: '/tmp/redis-ipc/socket' }],
  ])('parses %s', (url, expected) => {
    expect(parseRedisUrl(url)).toMatchObject(expected);
  });

  it.each(['http://example.com', 'redis://h/notadb', 'not a url', ''])(
    'refuses %j with a clear error',
    (url) => {
      expect(() => parseRedisUrl(url)).toThrow(InvalidOptionError);
      expect(() => parseRedisUrl(url)).toThrow(/redis:\/\/host:6379/);
    },
  );

  it('redacts passwords', () => {
    expect(redactUrl('redis://user:secret@h:1/0')).toBe('redis://user:***@h:1/0');
    expect(redactUrl('unix:///s.sock?password=secret')).toBe('unix:///s.sock?password=***');
  });
});
