import type { ChannelPreferences, Preferences } from './model';

/** What applies when neither the user nor the tenant said otherwise: the publisher's channels. */
export const SYSTEM_DEFAULTS: ChannelPreferences = { inapp: true, email: 'always' };

/**
 * The channels that apply to one notification type for one user: the most specific
 * setting wins, from the user's setting for this type down to the system default.
 */
export function resolveChannels(
  type: string,
  user: Preferences | undefined,
  tenant: Preferences | undefined,
): ChannelPreferences {
  const layers = [
    SYSTEM_DEFAULTS,
    tenant?.channels,
    tenant?.types?.[type],
    user?.channels,
    user?.types?.[type],
  ];
  const resolved = { ...SYSTEM_DEFAULTS };
  for (const layer of layers) {
    if (layer?.inapp !== undefined) resolved.inapp = layer.inapp;
    if (layer?.email !== undefined) resolved.email = layer.email;
  }
  return resolved;
}
