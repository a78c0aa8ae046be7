package io.refundbroker.order;

import io.refundbroker.caller.Principal;
import io.refundbroker.error.ProblemException;
import io.refundbroker.http.Problems;
import io.refundbroker.store.Store;
import io.vertx.core.Future;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How many order look-ups a client may make that read a payment from Vipps with another store's
 * keys ({@code ORDER_LOOKUPS_PER_MINUTE}): Vipps rate-limits each sales unit, so without this one
 * till could spend a sibling store's quota (and slow its own refunds) by looking up, or trying to
 * refund, order ids carrying the sibling's prefix. Look-ups of the caller's own store's payments
 * use its own keys and are not counted.
 *
 * <p>A token bucket per API client: it holds at most the per-minute number of look-ups and refills
 * at that rate, so a till may look up a burst of orders and then keeps the steady rate. Over it:
 * 429 {@code TOO_MANY_LOOKUPS} with {@code Retry-After}. The buckets live in memory, per broker
 * instance (N instances allow N times the rate); they are keyed by authenticated client ids only,
 * so their number is bounded by the clients an admin issued, and full buckets are dropped when
 * there are many. Thread-safe: a concurrent map of buckets, each updated under its own lock.
 */
public final class LookupQuota {
  private static final long MINUTE_MILLIS = 60_000;
  private static final int PRUNE_ABOVE = 10_000;

  private final int perMinute;
  private final Clock clock;
  private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();

  public LookupQuota(int perMinute, Clock clock) {
    if (perMinute < 1) {
      throw new IllegalArgumentException("perMinute must be at least 1");
    }
    this.perMinute = perMinute;
    this.clock = clock;
  }

  /**
   * Takes one look-up of {@code origin}'s payment from {@code caller}'s budget (free for the
   * caller's own store).
   *
   * @return succeeds when the look-up may go ahead; fails with 429 {@code TOO_MANY_LOOKUPS}
   */
  public Future<Void> take(Principal caller, Store origin) {
    if (origin.storeId().equals(caller.storeId())) {
      return Future.succeededFuture();
    }
    long now = clock.millis();
    if (buckets.size() > PRUNE_ABOVE) {
      buckets.values().removeIf(bucket -> bucket.full(now));
    }
    long waitMillis =
        buckets.computeIfAbsent(caller.clientId(), id -> new Bucket(perMinute, now)).take(now);
    if (waitMillis == 0) {
      return Future.succeededFuture();
    }
    long seconds = Math.max(1, (waitMillis + 999) / 1000);
    return Future.failedFuture(
        new ProblemException(
                429,
                "TOO_MANY_LOOKUPS",
                "Too many requests",
                "This client may read "
                    + perMinute
                    + " payments of other stores from Vipps per minute"
                    + " (ORDER_LOOKUPS_PER_MINUTE); try again in "
                    + seconds
                    + " s.")
            .with(Problems.RETRY_AFTER_SECONDS, seconds));
  }

  /** One client's look-ups; guarded by its own monitor. */
  private static final class Bucket {
    private final int capacity;
    private double tokens;
    private long updated;

    Bucket(int capacity, long now) {
      this.capacity = capacity;
      this.tokens = capacity;
      this.updated = now;
    }

    /** Takes a token: 0 when one was there, else the milliseconds until one will be. */
    synchronized long take(long now) {
      refill(now);
      if (tokens >= 1) {
        tokens -= 1;
        return 0;
      }
      return (long) Math.ceil((1 - tokens) * MINUTE_MILLIS / capacity);
    }

    synchronized boolean full(long now) {
      refill(now);
      return tokens >= capacity;
    }

    private void refill(long now) {
      if (now > updated) {
        tokens = Math.min(capacity, tokens + (now - updated) * (double) capacity / MINUTE_MILLIS);
        updated = now;
      }
    }
  }
}
