import { describe, expect, it } from 'vitest';
import { ConfigError } from '#config/config';
import { describeFaults, parseFaults } from '#local/faults/parse-faults';

describe('parseFaults (HERALD_FAULTS)', () => {
  it('reads every fault of the README example', () => {
    expect(
      parseFaults(
        'connections.throttle=0.05,connections.error=0.02,connections.slow=0.05,' +
          'connections.slowMs=2000,dynamodb.throttle=0.05,ses.error=0.1,handlers.crash=0.02,' +
          'handlers.overrun=0.01,seed=7',
      ),
    ).toEqual({
      connections: { throttleRate: 0.05, errorRate: 0.02, slowRate: 0.05, slowMs: 2000 },
      dynamodb: { throttleRate: 0.05 },
      ses: { errorRate: 0.1 },
      handlers: { crashRate: 0.02, overrunRate: 0.01 },
      seed: 7,
    });
  });

  it('means no faults when unset or blank', () => {
    expect(parseFaults(undefined)).toBeUndefined();
    expect(parseFaults('  ')).toBeUndefined();
  });

  it('tolerates spaces and a trailing comma', () => {
    expect(parseFaults(' ses.error = 1 , ')).toEqual({ ses: { errorRate: 1 } });
  });

  it('names an unknown key and lists the known ones', () => {
    expect(() => parseFaults('dynamodb.slow=0.1')).toThrow(ConfigError);
    expect(() => parseFaults('dynamodb.slow=0.1')).toThrow(
      /unknown fault "dynamodb.slow".*dynamodb.throttle/,
    );
  });

  it('refuses a rate outside [0, 1] and a value that is not a number', () => {
    expect(() => parseFaults('ses.error=1.5')).toThrow(/ses.error is a rate from 0 to 1/);
    expect(() => parseFaults('handlers.crash=-0.1')).toThrow(/from 0 to 1/);
    expect(() => parseFaults('dynamodb.throttle=often')).toThrow(/from 0 to 1/);
  });

  it('refuses a key without one value, a fractional slowMs and a fractional seed', () => {
    expect(() => parseFaults('ses.error')).toThrow(/needs one value/);
    expect(() => parseFaults('ses.error=0.1=0.2')).toThrow(/needs one value/);
    expect(() => parseFaults('connections.slowMs=1.5')).toThrow(/whole milliseconds/);
    expect(() => parseFaults('seed=1.5')).toThrow(/whole number/);
  });
});

describe('describeFaults', () => {
  it('prints one line per point that injects something', () => {
    expect(
      describeFaults(parseFaults('dynamodb.throttle=0.05,handlers.crash=0.02,seed=7')),
    ).toEqual([
      'DynamoDB: 5% ProvisionedThroughputExceeded',
      'SQS handlers: 2% crash mid-batch, 0% overrun',
      'seed 7',
    ]);
  });

  it('prints nothing when no fault is on', () => {
    expect(describeFaults(undefined)).toEqual([]);
    expect(describeFaults(parseFaults('ses.error=0,seed=3'))).toEqual([]);
  });
});
