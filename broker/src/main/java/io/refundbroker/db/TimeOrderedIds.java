package io.refundbroker.db;

import java.security.SecureRandom;
import java.time.Instant;
import java.util.UUID;

/**
 * Row ids that sort by time: UUID version 7 (RFC 9562, section 5.7) — the 48-bit Unix time in
 * milliseconds, then 74 random bits. The refunds' and audit events' primary keys (and the audit
 * links' unique event id) are B-trees: random version-4 ids land on a random leaf page each, so
 * once those indexes outgrow memory nearly every insert reads a page and, after each checkpoint,
 * writes a full page image to the WAL (4.5 full-page images and 33 KB of WAL per refund with
 * 5,000,000 audit events in the database: BENCHMARKS.md, growth stage). Ids made a few milliseconds
 * apart share the rightmost leaf instead.
 *
 * <p>The random part comes from a {@link SecureRandom}, as {@link UUID#randomUUID()}'s does: an id
 * is still not guessable from another (no caller may rely on that — every read is checked — but
 * nothing is lost). An id reveals the millisecond it was made, which every refund and event states
 * anyway. Ids are unique by their 74 random bits, not by a counter: two ids of the same millisecond
 * are in no particular order.
 *
 * <p>Thread-safe: {@link SecureRandom} is.
 */
public final class TimeOrderedIds {
  private static final SecureRandom RANDOM = new SecureRandom();

  private TimeOrderedIds() {}

  /** A version-7 id for a row made at {@code at}. */
  public static UUID at(Instant at) {
    byte[] random = new byte[10];
    RANDOM.nextBytes(random);
    return of(at.toEpochMilli(), random);
  }

  /**
   * The version-7 id of {@code millis} with {@code random}'s 74 low bits (bytes 0–9; the version
   * and variant bits are overwritten).
   */
  static UUID of(long millis, byte[] random) {
    if (millis < 0 || millis >= 1L << 48) {
      throw new IllegalArgumentException("a version-7 id holds 48 bits of milliseconds: " + millis);
    }
    long randA = ((random[0] & 0x0fL) << 8) | (random[1] & 0xffL);
    long high = (millis << 16) | (0x7L << 12) | randA;
    long randB = 0;
    for (int i = 2; i < 10; i++) {
      randB = (randB << 8) | (random[i] & 0xffL);
    }
    long low = (randB & 0x3fffffffffffffffL) | 0x8000000000000000L;
    return new UUID(high, low);
  }
}
