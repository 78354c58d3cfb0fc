import { describe, expect, it } from 'vitest';
import { envelopeFromArgs } from '#local/publish';

describe('npm run notify arguments', () => {
  it('publishes to SNS unless --eventbridge is given', () => {
    expect(envelopeFromArgs(['--to', 'alice']).eventBridge).toBeUndefined();
  });

  it('puts through EventBridge with --eventbridge, from herald.cli on the default bus unless told', () => {
    expect(envelopeFromArgs(['--to', 'alice', '--eventbridge']).eventBridge).toEqual({
      source: 'herald.cli',
      busName: undefined,
    });
    expect(
      envelopeFromArgs(['--to', 'a', '--eventbridge', '--source', 'com.acme', '--event-bus', 'b'])
        .eventBridge,
    ).toEqual({ source: 'com.acme', busName: 'b' });
  });

  it('refuses --source or --event-bus without --eventbridge', () => {
    expect(() => envelopeFromArgs(['--to', 'a', '--source', 'com.acme'])).toThrow(
      /go with --eventbridge/,
    );
  });
});
