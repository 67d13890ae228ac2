import { expect } from 'chai';
import {
  type DeriveKey,
  dummySecret,
  hashSecret,
  resolveSecret,
  scrypt,
  type Secret,
  verifyAgainst,
  verifySecret,
} from '../../lib/config/secrets.js';

/** The real scrypt, recording what it was asked to derive: which salt and key length each check used. */
function recordingScrypt(): { derive: DeriveKey; calls: { salt: Buffer; keylen: number }[] } {
  const calls: { salt: Buffer; keylen: number }[] = [];
  return {
    calls,
    derive: (secret, salt, keylen) => {
      calls.push({ salt, keylen });
      return scrypt(secret, salt, keylen);
    },
  };
}

function scryptOf(secret: Secret): Extract<Secret, { kind: 'scrypt' }> {
  if (secret.kind !== 'scrypt') throw new Error('an scrypt secret expected');
  return secret;
}

describe('secrets (lib/config/secrets.ts)', () => {
  it('checks an unknown name against the dummy with the same scrypt work as a known one, and refuses it', async () => {
    const known = scryptOf(resolveSecret(await hashSecret('right'), {}));
    const dummy = scryptOf(dummySecret([known]));
    expect(dummy.salt.length).to.equal(known.salt.length);
    expect(dummy.hash.length).to.equal(known.hash.length);

    const unknown = recordingScrypt();
    expect(await verifyAgainst(undefined, 'right', dummy, unknown.derive)).to.equal(false);
    expect(unknown.calls).to.deep.equal([{ salt: dummy.salt, keylen: known.hash.length }]);

    const wrong = recordingScrypt();
    expect(await verifyAgainst(known, 'wrong', dummy, wrong.derive)).to.equal(false);
    expect(wrong.calls).to.deep.equal([{ salt: known.salt, keylen: known.hash.length }]);
    expect(await verifyAgainst(known, 'right', dummy)).to.equal(true);
  });

  it('never accepts the dummy, even for the clear text it would hash to', async () => {
    const secret = resolveSecret(await hashSecret('guess'), {});
    expect(await verifyAgainst(undefined, 'guess', secret)).to.equal(false);
  });

  it('makes a digest dummy for clear-text secrets: an unknown name costs what a wrong clear-text password costs', () => {
    const dummy = dummySecret([resolveSecret('plain', {})]);
    expect(dummy.kind).to.equal('digest');
    expect(dummySecret([]).kind).to.equal('digest');
  });
});

// The push API key and the credentials passwords are checked here. The check compares fixed-size digests
// (SHA-256 of a plain secret, or scrypt) with timingSafeEqual, so neither the length of the secret nor a
// common prefix changes the work done; what a test can check is that nothing but the exact secret passes,
// whatever it shares with it.

const KEY = 'shop-secret-key-0123456789';

/** Candidates that share as much as possible with {@link KEY} without being it. */
const NEAR_MISSES: readonly [string, string][] = [
  ['the empty string', ''],
  ['its first character', KEY.slice(0, 1)],
  ['all but its last character', KEY.slice(0, -1)],
  ['the key and one more character', `${KEY}x`],
  ['the key twice', KEY + KEY],
  ['the last character changed', `${KEY.slice(0, -1)}8`],
  ['the first character changed', `S${KEY.slice(1)}`],
  ['the key in upper case', KEY.toUpperCase()],
  ['a leading space', ` ${KEY}`],
  ['a trailing newline', `${KEY}\n`],
  ['the key cut at a NUL', `${KEY.slice(0, 4)}\u0000${KEY.slice(5)}`],
  ['1 MB starting with the key', KEY + 'x'.repeat(1_000_000)],
];

describe('secrets: verifySecret', () => {
  for (const [form, reference] of [
    ['a plain secret (SHA-256 digest)', KEY],
    ['a scrypt hash', undefined],
  ] as const) {
    it(`accepts exactly the secret stored as ${form}, and no near miss`, async () => {
      const secret = resolveSecret(reference ?? (await hashSecret(KEY)), {});
      expect(await verifySecret(secret, KEY)).to.equal(true);
      for (const [what, candidate] of NEAR_MISSES) expect(await verifySecret(secret, candidate), what).to.equal(false);
    });
  }

  // scrypt runs PBKDF2-HMAC-SHA256, and HMAC pads a short key with zero bytes: the secret with NULs after
  // it is the same key. Harmless (the candidate holds the whole secret), and the digest form has no such
  // equivalence; pinned here so that a change of hash is a conscious one.
  it('a NUL after the secret: refused against a plain secret, the same key to scrypt (HMAC zero padding)', async () => {
    expect(await verifySecret(resolveSecret(KEY, {}), `${KEY}\u0000`)).to.equal(false);
    expect(await verifySecret(resolveSecret(await hashSecret(KEY), {}), `${KEY}\u0000`)).to.equal(true);
  });

  it('tells apart secrets that differ only in Unicode normalization (é precomposed or combined)', async () => {
    const secret = resolveSecret('caf\u00e9', {});
    expect(await verifySecret(secret, 'caf\u00e9')).to.equal(true);
    expect(await verifySecret(secret, 'cafe\u0301')).to.equal(false);
  });
});
