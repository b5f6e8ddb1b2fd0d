import { type Attributes, metrics } from '@opentelemetry/api';

const meter = () => metrics.getMeter('@ballast/message-queue');

/** OpenTelemetry instruments (messaging semantic conventions where they exist). No-op without an SDK. */
export class QueueMetrics {
  readonly sent = meter().createCounter('messaging.client.sent.messages', {
    description: 'Messages the broker confirmed',
    unit: '{message}',
  });
  readonly consumed = meter().createCounter('messaging.client.consumed.messages', {
    description: 'Messages delivered to a handler',
    unit: '{message}',
  });
  readonly processDuration = meter().createHistogram('messaging.process.duration', {
    description: 'Handler duration',
    unit: 's',
  });
  readonly failed = meter().createCounter('ballast.messaging.process.failed', {
    description: 'Handler failures (each attempt)',
    unit: '{message}',
  });
  readonly retried = meter().createCounter('ballast.messaging.retried', { unit: '{message}' });
  readonly deadLettered = meter().createCounter('ballast.messaging.dead_lettered', { unit: '{message}' });
  readonly settleFailed = meter().createCounter('ballast.messaging.settle.failed', {
    description: 'Acks, retries and dead-letters the broker did not take; the message is delivered again',
    unit: '{message}',
  });
  readonly depthGauge = meter().createObservableGauge('ballast.messaging.queue.depth', {
    description: 'Messages waiting for a consumer group (queue depth or consumer lag)',
    unit: '{message}',
  });
}

export function baseAttributes(system: string, topic: string, group?: string): Attributes {
  return group === undefined
    ? { 'messaging.system': system, 'messaging.destination.name': topic }
    : {
        'messaging.system': system,
        'messaging.destination.name': topic,
        'messaging.consumer.group.name': group,
      };
}
