import { redactText } from '@flf2v/core/rules';
import type { JobSlot, SchedulerContext } from './context.js';
import { notificationFor } from './notification.js';
import type { HistoryEntry } from './types.js';
import { postWebhook, webhookTarget } from './webhook.js';

/**
 * Send a firing's notification in the background. The job is free to fire again meanwhile; the scheduler
 * waits for deliveries still going before it exits (retries stop at shutdown; the attempt in flight ends).
 */
export function deliver(slot: JobSlot, ctx: SchedulerContext, url: string, entry: HistoryEntry): void {
  const logger = slot.log.logger;
  // The key is never put into a notification; this is the last line of defence if a message ever quoted it.
  const body = redactText(JSON.stringify(notificationFor(slot.job, entry)), [ctx.apiKey]);
  const target = webhookTarget(url);
  const delivery = postWebhook(url, body, {
    signal: ctx.stop,
    onRetry: (info) => logger.warn({ target, id: entry.id, ...info }, 'webhook attempt failed; retrying'),
  }).then((result) => {
    if (result.delivered)
      logger.info({ target, id: entry.id, attempts: result.attempts }, 'webhook delivered');
    else {
      logger.error({ target, id: entry.id, ...result }, 'webhook not delivered');
      ctx.print(
        `flf2v schedule: ${slot.job.name}: webhook to ${target} failed after ${result.attempts} attempt(s): ${result.error ?? 'no answer'}`,
      );
    }
  });
  slot.deliveries.add(delivery);
  void delivery.finally(() => slot.deliveries.delete(delivery));
}
