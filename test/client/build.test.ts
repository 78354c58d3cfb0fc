import { Script } from 'node:vm';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildDemo, DEMO_PATHS, type DemoBundle } from '#client/build';

const TEST_IDS = [
  'signin-user',
  'signin-button',
  'connection-state',
  'unread-badge',
  'notification-list',
  'publish-button',
  'ses-link',
  'topic-input',
  'subscribe-button',
  'bell-button',
  'unseen-badge',
  'tabs',
  'notification-viewport',
  'mark-all-read',
  'state-list',
  'document-change-button',
  'preferences-table',
];

describe('buildDemo', () => {
  let bundle: DemoBundle;

  beforeAll(async () => {
    bundle = await buildDemo();
  });

  it('bundles only client code: no server modules, no packages', () => {
    expect(bundle.inputs).toEqual(expect.arrayContaining(['demo/demo.ts', 'herald-client.ts']));
    // The one module from outside client/ is `presenceTopic`'s home, shared with the server
    // on purpose: plain functions in functions/core, which imports nothing (lint holds it).
    const shared = bundle.inputs.filter((input) => input.startsWith('../'));
    expect(shared).toEqual(['../functions/core/topics.ts']);
    for (const input of bundle.inputs) {
      expect(input).not.toMatch(/node_modules/);
    }
    for (const serverOnly of ['@aws-sdk', 'zod', 'jose', 'node:', 'process.env']) {
      expect(bundle.js).not.toContain(serverOnly);
    }
  });

  it('produces a script that parses as a classic ES2020 script', () => {
    expect(() => new Script(bundle.js)).not.toThrow();
    expect(bundle.js).toContain('HeraldClient');
    // Lowered for ES2020: no logical assignment operators left.
    expect(bundle.js).not.toMatch(/\?\?=|\|\|=|&&=/);
  });

  it('produces a page with the stable test ids that links its script and styles', () => {
    for (const id of TEST_IDS) expect(bundle.html).toContain(`data-testid="${id}"`);
    expect(bundle.html).toContain(`src="${DEMO_PATHS.js}"`);
    expect(bundle.html).toContain(`href="${DEMO_PATHS.css}"`);
    expect(bundle.css).toContain('.badge');
  });
});
