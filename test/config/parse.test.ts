import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { OptionError } from '../../lib/config/errors.js';
import {
  parseBoolean,
  parseByteSize,
  parseCorsOrigin,
  parseLimit,
  parseLogLevel,
  parsePort,
  parsePositiveInteger,
  parseTrustProxy,
} from '../../lib/config/parse.js';
import { packageRoot, packageVersion } from '../../lib/runtime/package.js';

describe('option parsers', () => {
  it('parsePort takes 0 to 65535 and nothing else', () => {
    expect(parsePort('0')).to.equal(0);
    expect(parsePort('3000')).to.equal(3000);
    expect(parsePort('65535')).to.equal(65535);
    for (const bad of ['abc', '-1', '65536', '3.5', '', '1e3', '0x10']) {
      expect(() => parsePort(bad), bad).to.throw(OptionError, /port must be an integer from 0 to 65535/);
    }
  });

  it('parsePositiveInteger rejects zero, negatives and fractions, naming the option', () => {
    expect(parsePositiveInteger('1000', 'max rooms')).to.equal(1000);
    for (const bad of ['0', '-3', '2.5', 'ten']) {
      expect(() => parsePositiveInteger(bad, 'max rooms'), bad).to.throw(OptionError, /^max rooms must be a positive integer/);
    }
  });

  it('parseLimit takes 0 (off) and positive integers, naming the option', () => {
    expect(parseLimit('0', 'event rate')).to.equal(0);
    expect(parseLimit('250', 'event rate')).to.equal(250);
    for (const bad of ['-1', '2.5', 'lots', '']) {
      expect(() => parseLimit(bad, 'event rate'), bad).to.throw(OptionError, /^event rate must be an integer of 0 or more/);
    }
  });

  it('parseTrustProxy takes a hop count or a list of addresses, CIDR ranges and range names', () => {
    expect(parseTrustProxy('2')).to.equal(2);
    expect(parseTrustProxy('loopback, 10.0.0.0/8,::1, fd00::/8')).to.deep.equal(['loopback', '10.0.0.0/8', '::1', 'fd00::/8']);
    expect(() => parseTrustProxy('0')).to.throw(OptionError, /hop count must be 1 or more/);
    for (const bad of ['proxy.example.com', '10.0.0.0/33', '::1/129', '10.0.0.1/8/8', 'true', ',']) {
      expect(() => parseTrustProxy(bad), bad).to.throw(OptionError, /trust proxy/);
    }
  });

  it('parseByteSize understands plain bytes and kb/mb/kib/mib in any case', () => {
    expect(parseByteSize('1000000')).to.equal(1_000_000);
    expect(parseByteSize('512kb')).to.equal(512_000);
    expect(parseByteSize('1MB')).to.equal(1_000_000);
    expect(parseByteSize('1 MiB')).to.equal(1_048_576);
    expect(parseByteSize('2kib')).to.equal(2048);
    expect(parseByteSize('10b')).to.equal(10);
    expect(() => parseByteSize('12zb')).to.throw(OptionError, /size must be a number of bytes/);
    expect(() => parseByteSize('lots')).to.throw(OptionError, /size must be a number of bytes/);
    expect(() => parseByteSize('0')).to.throw(OptionError, /at least 1 byte/);
  });

  it('parseLogLevel accepts pino levels case-insensitively', () => {
    expect(parseLogLevel('DEBUG')).to.equal('debug');
    expect(parseLogLevel('silent')).to.equal('silent');
    expect(() => parseLogLevel('verbose')).to.throw(OptionError, /log level must be one of fatal, error, warn, info, debug, trace, silent/);
  });

  it("parseCorsOrigin takes '*' or a list of scheme://host[:port] origins", () => {
    expect(parseCorsOrigin('*')).to.equal('*');
    expect(parseCorsOrigin('https://a.example, http://b.example:8080')).to.deep.equal(['https://a.example', 'http://b.example:8080']);
    expect(parseCorsOrigin('https://a.example,*')).to.equal('*');
    expect(() => parseCorsOrigin(' , ')).to.throw(OptionError, /cors origin must be/);
    expect(() => parseCorsOrigin('a.example')).to.throw(OptionError, /must look like https:\/\/host/);
    expect(() => parseCorsOrigin('https://a.example/path')).to.throw(OptionError, /no path/);
  });

  it('parseBoolean takes the usual spellings and refuses anything else', () => {
    for (const yes of ['1', 'true', 'TRUE', 'yes', 'on']) expect(parseBoolean(yes, 'HTTPS'), yes).to.equal(true);
    for (const no of ['0', 'false', 'No', 'off', '']) expect(parseBoolean(no, 'HTTPS'), no).to.equal(false);
    expect(() => parseBoolean('maybe', 'HTTPS')).to.throw(OptionError, "HTTPS must be true or false, got 'maybe'");
  });
});

describe('package info', () => {
  it("finds the package root and reads package.json's version", () => {
    const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { name: string; version: string };
    expect(pkg.name).to.equal('realtime-rooms');
    expect(packageVersion).to.equal(pkg.version);
  });
});
