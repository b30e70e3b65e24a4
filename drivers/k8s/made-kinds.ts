import { EngineError } from '../../src/errors.js';
import type { Logger } from '../../src/types.js';
import { isNotFound } from './api-errors.js';

/** A kind of object the driver makes and `close` removes (as RBAC names the resource). */
export type MadeKind = 'pods' | 'jobs' | 'persistentvolumeclaims' | 'secrets';

/**
 * The kinds of object one driver has made (or taken up: a volume it found, a task it
 * reattached to), so that `close` can tell a caller who may not list a kind it never used
 * (a Role without volumes, a job-mode Role: docs/rbac.md) from one who cannot remove what it
 * made. A kind is noted before its first create, so a create that failed midway counts too.
 */
export class MadeKinds {
  private readonly kinds = new Set<MadeKind>();

  note(kind: MadeKind): void {
    this.kinds.add(kind);
  }

  has(kind: MadeKind): boolean {
    return this.kinds.has(kind);
  }

  /**
   * `close`'s listing of one kind: a 403 (or a resource the server does not serve, 404) on a
   * kind this driver never made lists nothing, since the caller cannot have made any through
   * it; on a kind it made, the error stands, so `close` fails loudly instead of leaving it.
   */
  async listForClose<T>(kind: MadeKind, list: () => Promise<T[]>, logger: Logger | undefined): Promise<T[]> {
    try {
      return await list();
    } catch (error) {
      const cannotList = (error instanceof EngineError && error.statusCode === 403) || isNotFound(error);
      if (!cannotList || this.has(kind)) throw error;
      logger?.debug(`close: ${kind} not listed (${(error as Error).message}); this driver made none`);
      return [];
    }
  }
}
