/**
 * How the authorizers log a refused token: an ordinary refusal at info with its short,
 * token-free reason; anything else is a fault, logged at error by its name only, as its text
 * may echo input.
 */
import { logger } from '#adapters/powertools';
import { UnauthorizedError } from '#core/errors';

export function logRefusal(error: unknown, what: string): void {
  if (error instanceof UnauthorizedError) {
    logger.info(`${what} refused`, { reason: error.message });
  } else {
    logger.error(`${what} refused by an unexpected error`, {
      errorName: error instanceof Error ? error.name : typeof error,
    });
  }
}
