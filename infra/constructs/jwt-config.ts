import { Annotations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { ENV } from '#config/env-names';
import type { HeraldFunction } from './herald-function';
import type { JwtSettings } from './herald-settings';

/**
 * Lets a function verify Herald's JWTs as `functions/config/auth-config.ts` reads them: the
 * key source (a Secrets Manager secret it may read, or a JWKS URL), issuer and audience.
 * Every function that verifies tokens goes through here, so they all accept the same ones.
 * `verifier` names it in the warning given when nothing is configured.
 */
export function configureJwt(fn: HeraldFunction, jwt: JwtSettings, verifier: string): void {
  if (jwt.secretArn) {
    fn.addEnvironment(ENV.jwtSecretArn, jwt.secretArn);
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['secretsmanager:GetSecretValue'],
        // Complete ARNs end in a random 6-character suffix; a partial one (the name only)
        // needs the wildcard. Which one was given cannot be told apart reliably.
        resources: [jwt.secretArn, `${jwt.secretArn}-??????`],
      }),
    );
  } else if (jwt.jwksUrl) {
    fn.addEnvironment(ENV.jwksUrl, jwt.jwksUrl);
  } else {
    Annotations.of(fn).addWarningV2(
      'herald:jwt-not-configured',
      `No JWT verification configured: ${verifier} will refuse every token until ` +
        'context jwtSecretArn or jwksUrl is set (cdk deploy -c jwksUrl=https://…).',
    );
  }
  if (jwt.issuer) fn.addEnvironment(ENV.jwtIssuer, jwt.issuer);
  if (jwt.audience) fn.addEnvironment(ENV.jwtAudience, jwt.audience);
  if (jwt.typ) fn.addEnvironment(ENV.jwtTyp, jwt.typ);
}
