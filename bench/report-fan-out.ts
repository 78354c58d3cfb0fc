/** Section 1 of the report: fan-out throughput, and the 100,000-connection broadcast model. */
import { SQS_SCALING } from './broadcast-split';
import type { FanOutRow } from './fan-out-scenario';
import { type Cell, markdownTable, percent, requestSummary, round } from './report-format';
import type { BenchReport } from './report-model';

const SYSTEM_NAMES: Record<FanOutRow['system'], string> = {
  herald: 'Herald',
  floor: 'floor (bare keep-alive HTTP client)',
  naive: 'naive (Scan + Promise.all)',
  sequential: 'sequential (Scan + loop)',
};

function fanOutRows(rows: FanOutRow[]): Cell[][] {
  return rows.map((row) => [
    SYSTEM_NAMES[row.system],
    row.concurrency,
    row.shape === 'topic' ? 'one topic' : 'K users',
    row.k,
    row.invocations,
    round(row.seconds, 2),
    round(row.deliveriesPerSecond),
    round(row.bound),
    percent(row.deliveriesPerSecond / row.bound),
    requestSummary(row.dynamo, row.notifications),
    `${round(row.dynamo.readUnits / row.notifications, 1)} / ${round(row.dynamo.writeUnits / row.notifications, 1)}`,
    row.system === 'herald'
      ? `${round(row.queriesPerPage, 2)}${row.walkQueries > 0 ? ` + ${row.walkQueries} walk` : ''}`
      : '—',
    round(row.cpuMs / Math.max(1, row.delivered), 3),
    round((row.seconds * 1000) / row.notifications),
    round(row.peakRssMb),
    round(row.rssGrowthMb),
    round(row.peakHeapMb),
  ]);
}

export function fanOutSection(report: BenchReport): string[] {
  const out: string[] = [];
  const { fanOut } = report;
  out.push('## 1. Fan-out throughput');
  out.push('');
  out.push(
    `Herald's fan-out handler (\`makeHandler\` from \`functions/handlers/fan-out.ts\`) over its real adapters on DynamoDB Local, posting through \`SignedPostDelivery\` (the handler's SigV4-signed post) to a \`@connections\` stand-in (own process) that answers every post after L = ${report.latencyMs} ms. One container is modelled: the publish and then each \`broadcast-page\` continuation it hands on run one after another through the same handler. K users means ⌈K/1,000⌉ envelopes (the envelope's limit) in one SQS batch. Baselines, same run and same endpoint: one Scan over a connections table then \`Promise.all\` over every post (the SDK's default client, whose agent keeps 50 sockets: its hidden bound), and the same Scan with a sequential loop (run up to K = ${Math.max(...fanOut.rows.filter((r) => r.system === 'sequential').map((r) => r.k), 0).toLocaleString('en-US')}: it takes K × L). Seeding ${Math.max(...fanOut.rows.map((r) => r.k)).toLocaleString('en-US')} connections took ${round(fanOut.seedSeconds, 1)} s.`,
  );
  out.push('');
  out.push(
    markdownTable(
      [
        'System',
        'C',
        'Audience',
        'K',
        'Invocations',
        'Time (s)',
        'Deliveries/s',
        'Bound C÷L (/s)',
        '% of bound',
        'DynamoDB requests per notification',
        'RRU / WRU per notification',
        'Query per page (+ walk Queries)',
        'CPU ms per delivery',
        'Lambda ms per notification',
        'Peak RSS (MB)',
        'RSS growth (MB)',
        'Peak heap (MB)',
      ],
      fanOutRows(fanOut.rows),
    ),
  );
  out.push('');
  const single = fanOut.single;
  out.push(
    `One-recipient notifications (one user, one connection), ${single.notifications} of them in SQS batches of ${single.batchSize}: ${round((single.seconds * 1000) / single.notifications, 1)} ms and ${round(single.cpuMs / single.notifications, 1)} CPU ms per notification; per notification ${requestSummary(single.dynamo, single.notifications)} = ${round(single.dynamo.readUnits / single.notifications, 2)} RRU and ${round(single.dynamo.writeUnits / single.notifications, 2)} WRU; frame ${single.frameBytes} bytes.`,
  );
  out.push('');
  out.push(
    `Peak RSS and heap are the whole benchmark process (tsx, every SDK client, the seeding data, garbage V8 has not yet collected): an upper bound for the handler alone. For the memory target the fan-out ran again at K = ${fanOut.memory.k.toLocaleString('en-US')} alone in a fresh process with a ${fanOut.memory.heapLimitMb} MB V8 heap: ${fanOut.memory.error ?? `peak RSS ${round(fanOut.memory.topicPeakRssMb)} MB (one topic) and ${round(fanOut.memory.usersPeakRssMb)} MB (K users)`}.`,
  );
  out.push('');

  const { broadcast } = report;
  const { split, timings } = broadcast;
  out.push('### 100,000-connection broadcast, split by the real code');
  out.push('');
  out.push(
    `\`createFanOut\` published one envelope to a topic of ${split.connections.toLocaleString('en-US')} connections (in-memory ports) and ran every \`broadcast-page\` task it handed on: ${split.invocations.length} tasks of up to ${split.pageSize.toLocaleString('en-US')} connections. The publish listed its own page, walked the keys of the rest (${split.walks} keys-only walks, ${split.walkedKeys.toLocaleString('en-US')} keys) and handed the other ${split.continuations} pages on as tasks of their own, ${split.sends} SQS requests in all, before posting; ${split.queries} page Queries, ${split.delivered.toLocaleString('en-US')} connections posted to, ${split.duplicates} twice. Delivery time is then modelled from what each task did and when: a task can start ${broadcast.pickupMs} ms (SQS→Lambda pickup) after it was handed on, once Lambda's event source allows another invocation (${SQS_SCALING.initialConcurrency} at first, ${SQS_SCALING.concurrencyPerMinute} more a minute), which takes up to ${broadcast.batchSize} waiting tasks (the event source's batch size); an invocation posts at its own rate, and together they are capped at ${broadcast.accountRate.toLocaleString('en-US')} posts/s (API Gateway's default account throttle). Request times: a 1,000-item page Query ${round(timings.pageQueryMs)} ms and the walk ${round(timings.walkMsPerThousandKeys, 1)} ms per 1,000 keys, both measured on DynamoDB Local; SendMessageBatch (10 tasks) ${timings.sendBatchMs} ms and SendMessage ${timings.sendMs} ms are assumptions, as is the pickup.`,
  );
  out.push('');
  out.push(
    markdownTable(
      [
        'Scenario',
        'Posts/s per invocation',
        'Modelled delivery (s)',
        'Throttle floor (s)',
        'Peak concurrent invocations',
        'Last task can start (s)',
      ],
      broadcast.scenarios.map((s) => [
        s.label,
        round(s.invocationRate),
        round(s.result.seconds, 1),
        round(s.result.floorSeconds, 1),
        s.result.peakInvocations,
        round(s.result.lastReadySeconds, 2),
      ]),
    ),
  );
  out.push('');
  return out;
}
