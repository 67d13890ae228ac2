import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** A file the service serves from memory, with the ETag of its bytes. */
export interface RevalidatedFile {
  readonly body: Buffer;
  readonly etag: string;
  /** Its `Content-Type`. */
  readonly type: string;
}

/** `body` as a {@link RevalidatedFile} of `type`: its ETag is a hash of the bytes, so a new version gets a new one. */
export function revalidatedFile(body: Buffer, type: string): RevalidatedFile {
  return { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
}

/**
 * Answers with `file`, or 304 when the browser already has these bytes. The URLs carry no version, so the
 * answer may be kept but is revalidated on every use (`max-age=0`): a new version of the service is never
 * hidden behind a cached copy.
 */
export function sendRevalidated(request: FastifyRequest, reply: FastifyReply, file: RevalidatedFile): FastifyReply {
  reply.header('cache-control', 'public, max-age=0').header('etag', file.etag);
  if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
  return reply.type(file.type).send(file.body);
}
