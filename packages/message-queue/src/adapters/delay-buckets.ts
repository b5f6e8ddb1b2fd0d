/**
 * Rounds a delay up to two significant digits (137 → 140, 2345 → 2400) so jittered retry delays share a
 * bounded set of per-delay queues or topics instead of creating one per distinct millisecond value.
 */
export function delayBucketMs(delayMs: number): number {
  if (delayMs <= 0) return 0;
  if (delayMs < 100) return Math.ceil(delayMs / 10) * 10;
  const magnitude = 10 ** (Math.floor(Math.log10(delayMs)) - 1);
  return Math.ceil(delayMs / magnitude) * magnitude;
}
