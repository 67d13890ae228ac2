import { expect } from 'chai';
import type { ErrorCode } from '../../protocol/index.js';

/** The ack of a request that failed: `{ ok: false, error: { code, message } }` (PROTOCOL.md, Replies). */
export interface Failure {
  readonly ok: false;
  readonly error: { readonly code: ErrorCode; readonly message: string };
}

/** The ack a request that fails with `code` and `message` must get, for `deep.equal`. */
export function failure(code: ErrorCode, message: string): Failure {
  return { ok: false, error: { code, message } };
}

/** The ack of a request refused as BAD_REQUEST with `message`. */
export function badRequest(message: string): Failure {
  return failure('BAD_REQUEST', message);
}

/**
 * Asserts that `reply` is a failed ack with `code` (and a message matching `message`, when given), for
 * replies whose exact wording a test does not pin down; `label` names the case in an assertion message.
 */
export function expectFailure(reply: unknown, code: ErrorCode, message?: RegExp, label?: string): void {
  expect(reply, label).to.have.property('ok', false);
  expect(reply, label).to.have.nested.property('error.code', code);
  if (message) expect(reply, label).to.have.nested.property('error.message').that.is.a('string').and.matches(message);
}
