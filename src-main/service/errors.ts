import type { ErrorCode, ServiceErrorData } from '../contract/index.js';
import { describeStorageFailure } from '../db/failure.js';

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

/**
 * Runs a write a command asked for; a storage fault becomes a 'storage' refusal in words ("the disk
 * is full: free space and resume"), with `then` saying what to do once it is fixed.
 */
export function storageWrite<T>(write: () => T, then: string): T {
  try {
    return write();
  } catch (e) {
    const words = describeStorageFailure(e, then);
    if (words) throw new ServiceError('storage', words);
    throw e;
  }
}
