import { describe, expect, it } from 'vitest';
import { traced, tracer, tracingWanted } from '#adapters/powertools';

describe('tracingWanted', () => {
  it('traces in a Lambda function unless told not to', () => {
    expect(tracingWanted({ AWS_LAMBDA_FUNCTION_NAME: 'herald-fan-out' })).toBe(true);
    expect(
      tracingWanted({
        AWS_LAMBDA_FUNCTION_NAME: 'herald-fan-out',
        POWERTOOLS_TRACE_ENABLED: 'TRUE',
      }),
    ).toBe(true);
    expect(
      tracingWanted({
        AWS_LAMBDA_FUNCTION_NAME: 'herald-fan-out',
        POWERTOOLS_TRACE_ENABLED: 'false',
      }),
    ).toBe(false);
    expect(
      tracingWanted({ AWS_LAMBDA_FUNCTION_NAME: 'herald-fan-out', POWERTOOLS_TRACE_ENABLED: '0' }),
    ).toBe(false);
  });

  it('does not trace outside Lambda (the local stack, tests)', () => {
    expect(tracingWanted({})).toBe(false);
    expect(tracingWanted({ POWERTOOLS_TRACE_ENABLED: 'true' })).toBe(false);
  });
});

describe('traced', () => {
  it('hands back the very client when tracing is off, with no tracer loaded', () => {
    const client = { send: () => undefined };
    expect(tracer).toBeUndefined();
    expect(traced(client)).toBe(client);
  });
});
