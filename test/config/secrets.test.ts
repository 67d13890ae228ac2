import { expect } from 'chai';
import { dummySecret, hashSecret, resolveSecret, scrypt, verifyAgainst, type DeriveKey, type Secret } from '../../lib/config/secrets.js';

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
