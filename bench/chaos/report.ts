/** The chaos run's table, in markdown: the scenario, the faults, one row per check. */
import type { ChaosResult } from './run';

export function chaosTable(result: ChaosResult): string {
  const { options, plan } = result;
  const emails = plan.envelopes.filter((envelope) => envelope.email).length;
  const offline = plan.devices.filter((device) => device.goesOffline).length;
  const lines = [
    `Chaos run: ${options.notifications.toLocaleString('en-US')} notifications to ` +
      `${options.users} users on ${plan.devices.length} devices (${options.minDevices}–` +
      `${options.maxDevices} each, ${offline} planned offline mid-run, then resuming); ` +
      `${plan.duplicates.length} envelopes published twice, ${emails} asking for email, ` +
      `${plan.invalid.length} invalid; seed ${options.seed}.`,
    '',
    `Faults: ${faultSummary(result)}.`,
    '',
    `Faults injected: ${
      Object.entries(result.injected)
        .map(([fault, count]) => `${fault} ${count}`)
        .join(', ') || 'none'
    }.`,
    '',
    '| Check | Figures | Result |',
    '| --- | --- | --- |',
    ...result.rows.map(
      (row) =>
        `| ${row.check} | ${row.figures.replaceAll('|', '\\|')} | ${row.pass ? 'PASS' : 'FAIL'} |`,
    ),
    '',
    ...result.rows.flatMap((row) => (row.details ?? []).map((detail) => `- ${detail}`)),
    ...deadLetterLines(result),
    '',
    `Stack warnings logged (failed batches, retried): ${result.stackWarnings}; ` +
      `publishes retried: ${result.publishRetries}.`,
  ];
  return `${lines.join('\n')}\n`;
}

function faultSummary({ options }: ChaosResult): string {
  if (options.noFaults) return 'none (--no-faults)';
  const { connections, dynamodb, ses, handlers } = options.faults;
  const percent = (rate: number) => `${+(rate * 100).toFixed(2)}%`;
  return [
    `@connections 429 ${percent(connections.throttleRate)}, 500 ${percent(connections.errorRate)}, ` +
      `slow ${percent(connections.slowRate)} (${connections.slowMs} ms)`,
    `DynamoDB throttled ${percent(dynamodb.throttleRate)}`,
    `SES errors ${percent(ses.errorRate)}`,
    `handler crashes ${percent(handlers.crashRate)}, overruns ${percent(handlers.overrunRate)}`,
  ].join('; ');
}

/** Each invalid envelope, where it was dead-lettered and with which `herald.reason`. */
function deadLetterLines({ plan, deadLetters }: ChaosResult): string[] {
  if (plan.invalid.length === 0) return ['No invalid envelopes published.'];
  return [
    'Invalid envelopes, dead-lettered:',
    ...plan.invalid.map((invalid) => {
      const letters = deadLetters.filter((letter) => letter.body.includes(invalid.marker));
      const where =
        letters.length === 0
          ? 'not in any DLQ'
          : letters.map((letter) => `${letter.queue} DLQ: "${letter.reason ?? 'no reason'}"`);
      return `- ${invalid.kind}: ${[where].flat().join('; ')}`;
    }),
  ];
}
