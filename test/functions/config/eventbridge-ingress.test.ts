import { describe, expect, it } from 'vitest';
import { HERALD_DETAIL_TYPE, ingressRules, parseSourceTenants } from '#config/eventbridge-ingress';
import { matchesPattern } from '#local/event-filter';

function event(source: string, detail: Record<string, unknown>, detailType = HERALD_DETAIL_TYPE) {
  return { version: '0', id: 'e', source, 'detail-type': detailType, detail };
}

const matching = (rules: ReturnType<typeof ingressRules>, each: unknown) =>
  rules.filter((rule) => matchesPattern(rule.pattern, each)).map((rule) => rule.id);

describe('ingressRules', () => {
  const rules = ingressRules({ 'com.acme.billing': 'acme' });

  it('takes Herald envelopes from any herald.* source, whatever their tenant', () => {
    expect(matching(rules, event('herald.orders', { tenant: 'globex' }))).toEqual([
      'HeraldEnvelopes',
    ]);
    expect(matching(rules, event('herald.orders', {}))).toEqual(['HeraldEnvelopes']);
  });

  it('takes nothing of another detail-type, or from an unbound source outside herald.*', () => {
    expect(matching(rules, event('herald.orders', {}, 'Order Placed'))).toEqual([]);
    expect(matching(rules, event('com.example.shop', { tenant: 'acme' }))).toEqual([]);
  });

  it('takes from a bound source only the envelopes naming its tenant', () => {
    expect(matching(rules, event('com.acme.billing', { tenant: 'acme' }))).toEqual([
      'HeraldEnvelopesFromSource1',
    ]);
    expect(matching(rules, event('com.acme.billing', { tenant: 'globex' }))).toEqual([]);
    expect(matching(rules, event('com.acme.billing', {}))).toEqual([]);
  });

  it('is the open rule alone without bindings', () => {
    expect(ingressRules().map((rule) => rule.id)).toEqual(['HeraldEnvelopes']);
  });
});

describe('parseSourceTenants', () => {
  it('reads an object or its JSON text, and nothing as no bindings', () => {
    expect(parseSourceTenants({ 'com.acme': 'acme' })).toEqual({ 'com.acme': 'acme' });
    expect(parseSourceTenants('{"com.acme":"acme"}')).toEqual({ 'com.acme': 'acme' });
    expect(parseSourceTenants(undefined)).toEqual({});
    expect(parseSourceTenants('')).toEqual({});
  });

  it.each([
    ['text that is not JSON', '{com.acme', /JSON object of source to tenant/],
    ['an array', '["acme"]', /JSON object of source to tenant/],
    ['a source the open rule takes', { 'herald.acme': 'acme' }, /starts with "herald\."/],
    ['a tenant that is not a name', { 'com.acme': 'ac#me' }, /must be a tenant name/],
    ['a tenant that is not text', { 'com.acme': 7 }, /must be a tenant name/],
    ['a source with a space', { 'com acme': 'acme' }, /is not an event source/],
  ])('refuses %s, saying why', (_name, raw, message) => {
    expect(() => parseSourceTenants(raw, 'eventSourceTenants')).toThrow(message);
  });
});
