import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DATA_SERVICES, PRO_SERVICES } from '#localstack/deploy';
import { HYBRID_SERVICES } from '#localstack/hybrid';

const read = (path: string) =>
  readFileSync(new URL(`../../localstack/${path}`, import.meta.url), 'utf8');

interface ComposeService {
  image: string;
  ports: string[];
  environment: Record<string, string>;
  volumes: string[];
  healthcheck: { test: string[] };
}
const compose = parse(read('docker-compose.yml')) as { services: { localstack: ComposeService } };
const localstack = compose.services.localstack;

/** A value as Compose reads it when none of its `${VAR:-default}` variables is set. */
const unset = (value: string) => value.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1');

describe('localstack/docker-compose.yml', () => {
  it('pins LocalStack to an exact version', () => {
    const image = unset(localstack.image);
    expect(image).toMatch(/^localstack\/localstack:\d+\.\d+\.\d+$/);
    expect(localstack.image).not.toMatch(/latest/);
  });

  it('exposes the edge port 4566', () => {
    expect(localstack.ports.some((port) => /(^|:)4566:4566$/.test(port))).toBe(true);
  });

  it('runs every service hybrid mode and cdklocal use, and the docker socket for Lambda', () => {
    const services = localstack.environment.SERVICES?.split(',') ?? [];
    for (const service of [...HYBRID_SERVICES, ...DATA_SERVICES, ...PRO_SERVICES]) {
      expect(services).toContain(service);
    }
    expect(localstack.volumes).toContain('/var/run/docker.sock:/var/run/docker.sock');
  });

  it('is healthy when LocalStack’s health endpoint answers', () => {
    expect(localstack.healthcheck.test.join(' ')).toContain(
      'http://localhost:4566/_localstack/health',
    );
  });

  it('is the version the README documents', () => {
    const version = unset(localstack.image).split(':')[1] ?? '';
    expect(read('README.md')).toContain(`localstack/localstack:${version}`);
  });
});
