/**
 * The one place that creates Herald's Powertools instances, so every handler logs, counts
 * and traces the same way under the same service name.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME || 'herald';

export const logger = new Logger({ serviceName });
export const metrics = new Metrics({ namespace: 'Herald', serviceName });
export const tracer = new Tracer({ serviceName });
