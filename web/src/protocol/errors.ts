import type { ErrorCode, WireError } from './types';

/** The server answered a request with `ok: false`. */
export class ProtocolError extends Error {
  readonly code: ErrorCode | (string & {});
  constructor(err: WireError) {
    super(err.message || err.code);
    this.name = 'ProtocolError';
    this.code = err.code;
  }
}

/** The request never got an answer: no connection, the connection dropped, or it timed out. */
export class ConnectionError extends Error {
  readonly code: 'offline' | 'disconnected' | 'timeout';
  constructor(code: 'offline' | 'disconnected' | 'timeout') {
    super(code);
    this.name = 'ConnectionError';
    this.code = code;
  }
}

/** Codes after which the same request may succeed later (the doc's retry-safe failures). */
const TRANSIENT = new Set<string>(['unavailable', 'rate_limited', 'internal']);

export function isTransient(err: unknown): boolean {
  if (err instanceof ConnectionError) return true;
  return err instanceof ProtocolError && TRANSIENT.has(err.code);
}

export function errorCode(err: unknown): string {
  if (err instanceof ProtocolError || err instanceof ConnectionError) return err.code;
  return 'internal';
}
