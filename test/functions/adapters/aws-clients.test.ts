import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSignedPostDelivery } from '#adapters/aws-clients';
import { ConfigError } from '#config/config';

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('createSignedPostDelivery', () => {
  it('fails at wiring when AWS_REGION is not set', () => {
    expect(() => createSignedPostDelivery('https://abc.example/prod', 8, {})).toThrow(ConfigError);
  });

  it('fails at wiring, with a ConfigError carrying the cause, when the callback URL is not one', () => {
    const env = { AWS_REGION: 'us-east-1' };
    let thrown: unknown;
    try {
      createSignedPostDelivery('abc.example/prod', 8, env);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).message).toContain('is not a URL');
    expect((thrown as ConfigError).cause).toBeInstanceOf(TypeError);
    expect(() => createSignedPostDelivery('ftp://abc.example/prod', 8, env)).toThrow(
      /must be http\(s\)/,
    );
  });

  it('signs with the default provider chain (here the environment) for AWS_REGION', async () => {
    vi.stubEnv('AWS_REGION', 'ap-southeast-2');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDFROMENV');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret-from-env');
    vi.stubEnv('AWS_SESSION_TOKEN', 'token-from-env');
    vi.stubEnv('AWS_PROFILE', '');
    const seen: Array<{ path?: string; headers: IncomingHttpHeaders }> = [];
    const server = createServer((req, res) => {
      seen.push({ path: req.url, headers: req.headers });
      req.resume().on('end', () => res.writeHead(200).end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const delivery = createSignedPostDelivery(`http://127.0.0.1:${port}/prod`, 4);
      await delivery.post('conn-1', 'x');
      expect(seen[0]?.path).toBe('/prod/@connections/conn-1');
      expect(seen[0]?.headers.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIDFROMENV\/\d{8}\/ap-southeast-2\/execute-api\/aws4_request, /,
      );
      expect(seen[0]?.headers['x-amz-security-token']).toBe('token-from-env');
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
