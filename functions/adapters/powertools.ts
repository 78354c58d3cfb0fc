/**
 * The one place that creates Herald's Powertools instances, so every handler logs, counts
 * and traces the same way under the same service name.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { METRIC_NAMESPACE } from '#config/metric-names';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME || 'herald';

export const logger = new Logger({ serviceName });
export const metrics = new Metrics({ namespace: METRIC_NAMESPACE, serviceName });

/**
 * Whether this process traces: in a Lambda function, unless POWERTOOLS_TRACE_ENABLED
 * says not to (the Tracer applies the rest of its own rules once loaded).
 */
export function tracingWanted(env: Record<string, string | undefined>): boolean {
  const setting = (env.POWERTOOLS_TRACE_ENABLED ?? 'true').toLowerCase();
  return env.AWS_LAMBDA_FUNCTION_NAME !== undefined && setting !== 'false' && setting !== '0';
}

/**
 * Powertools' Tracer, loaded only where it traces. It pulls in the X-Ray SDK, whose
 * context tracking puts an async hook on every promise: measurably slower fan-out and a
 * longer cold start for nothing where tracing is off (locally, in tests). Deployed, it is
 * bundled beside the handler and imported here (see LAZY_MODULES in herald-function.ts).
 * HTTP requests are not captured globally: SDK clients are captured one by one, and a
 * second subsegment per PostToConnection would only cost the fan-out time.
 */
export const tracer: Tracer | undefined = tracingWanted(process.env)
  ? new (await import('@aws-lambda-powertools/tracer')).Tracer({
      serviceName,
      captureHTTPsRequests: false,
    })
  : undefined;

/** The client, with X-Ray subsegments for its calls where tracing is on. */
export function traced<Client>(client: Client): Client {
  return tracer ? tracer.captureAWSv3Client(client) : client;
}
