import type { ErrorCode, ServiceErrorData } from '../contract/index.js';

/** A refusal the caller can act on: carried to every transport as `{ ok: false, error }`. */
export class ServiceError extends Error {
  constructor(readonly code: ErrorCode, message: string, readonly detail?: ServiceErrorData['detail']) {
    super(message);
    this.name = 'ServiceError';
  }

  toData(): ServiceErrorData {
    return this.detail ? { code: this.code, message: this.message, detail: this.detail } : { code: this.code, message: this.message };
  }
}
