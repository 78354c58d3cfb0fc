/**
 * Real signed tokens for tests: HS256 with a secret, RS256/ES256 with generated key pairs
 * served as a JWKS from a real HTTP server on port 0, and hand-crafted malformed ones.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type CryptoKey,
  exportJWK,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  SignJWT,
} from 'jose';

export const TEST_SECRET = 'test-only-secret-that-is-long-enough-for-hs256';
export const OTHER_SECRET = 'another-test-secret-also-long-enough-for-hs256!';
export const secretBytes = (secret: string): Uint8Array => new TextEncoder().encode(secret);

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

export interface SignOptions {
  alg?: string;
  kid?: string;
  /** Seconds from now; a negative value makes an expired token. Omit `exp` with `null`. */
  expiresIn?: number | null;
  notBefore?: number;
  issuer?: string;
  audience?: string;
}

/** Signs `claims` with `key` (a secret or a private key), one hour of validity by default. */
export async function sign(
  claims: JWTPayload,
  key: Uint8Array | CryptoKey,
  options: SignOptions = {},
): Promise<string> {
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: options.alg ?? 'HS256', typ: 'JWT', kid: options.kid })
    .setIssuedAt();
  if (options.expiresIn !== null) jwt.setExpirationTime(nowSeconds() + (options.expiresIn ?? 3600));
  if (options.notBefore !== undefined) jwt.setNotBefore(nowSeconds() + options.notBefore);
  if (options.issuer !== undefined) jwt.setIssuer(options.issuer);
  if (options.audience !== undefined) jwt.setAudience(options.audience);
  return jwt.sign(key);
}

export const signHs256 = (claims: JWTPayload, options: SignOptions = {}, secret = TEST_SECRET) =>
  sign(claims, secretBytes(secret), { ...options, alg: 'HS256' });

const base64url = (value: unknown): string =>
  Buffer.from(JSON.stringify(value)).toString('base64url');

/** An unsecured JWT (`alg: none`, empty signature), crafted by hand as an attacker would. */
export function unsecuredToken(claims: JWTPayload): string {
  const exp = nowSeconds() + 3600;
  return `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ exp, ...claims })}.`;
}

export interface SigningKey {
  alg: 'RS256' | 'ES256';
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function signingKey(alg: SigningKey['alg'], kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { alg, kid, privateKey, publicJwk };
}

export const signWith = (key: SigningKey, claims: JWTPayload, options: SignOptions = {}) =>
  sign(claims, key.privateKey, { kid: key.kid, ...options, alg: key.alg });

export interface JwksServer {
  url: URL;
  /** How many times the key set was fetched. */
  fetches(): number;
  close(): Promise<void>;
}

/** Serves `{ keys }` at `/.well-known/jwks.json` on 127.0.0.1, port 0. */
export async function startJwksServer(keys: JWK[]): Promise<JwksServer> {
  let fetches = 0;
  const server = createServer((request, response) => {
    if (request.url !== '/.well-known/jwks.json') {
      response.writeHead(404).end();
      return;
    }
    fetches += 1;
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: new URL(`http://127.0.0.1:${port}/.well-known/jwks.json`),
    fetches: () => fetches,
    close: () =>
      new Promise<void>((resolve, reject) => {
        // fetch keeps sockets alive; without this, close() would wait for them to idle out.
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
