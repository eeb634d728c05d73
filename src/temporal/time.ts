/**
 * Breaker time is Temporal time. The server's clock can run ahead of the wall clock (the
 * time-skipping test server jumps over timers), so an activity reads "now" as the time its
 * attempt was scheduled, never earlier than the wall clock, moved on by the wall time elapsed
 * since the activity started.
 */
export function temporalClock(info: { currentAttemptScheduledTimestampMs: number }, wall: () => number = Date.now): () => number {
  const startWall = wall();
  const offset = Math.max(0, info.currentAttemptScheduledTimestampMs - startWall);
  return () => wall() + offset;
}
