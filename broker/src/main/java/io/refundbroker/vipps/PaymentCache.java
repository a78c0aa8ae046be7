package io.refundbroker.vipps;

import io.refundbroker.async.CallerContext;
import io.refundbroker.salesunit.VippsApi;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Payment reads kept for {@code VIPPS_PAYMENT_CACHE_TTL} (off when zero), so that an order lookup
 * followed by a refund request reads Vipps once. Concurrent reads of one payment share one fetch; a
 * failed read is not kept; a refund drops the payment's entry before and after it is sent.
 *
 * <p>Thread-safety: reads come from every verticle's event loop. Entries live in a {@link
 * ConcurrentHashMap} and are replaced only through its atomic {@code compute}/{@code remove}; an
 * entry's promise is completed once, by the fetch that created it. The shared future is handed out
 * through {@link CallerContext#completeOn}, so each caller continues on its own context.
 */
final class PaymentCache {
  private static final int SWEEP_ABOVE = 10_000;

  private record Key(String msn, VippsApi api, String reference) {}

  private record Cached(Future<PaymentSnapshot> snapshot, Instant expiresAt) {}

  private final Map<Key, Cached> payments = new ConcurrentHashMap<>();
  private final Duration ttl;
  private final Clock clock;

  PaymentCache(Duration ttl, Clock clock) {
    this.ttl = ttl;
    this.clock = clock;
  }

  /**
   * The payment's snapshot: a kept one, the read in flight, or a new read by {@code fetch}.
   *
   * @return fails like {@code fetch}
   */
  Future<PaymentSnapshot> get(
      String msn, VippsApi api, String reference, Supplier<Future<PaymentSnapshot>> fetch) {
    if (ttl.isZero() || ttl.isNegative()) {
      return fetch.get();
    }
    Key key = new Key(msn, api, reference);
    Instant now = clock.instant();
    Promise<PaymentSnapshot> promise = Promise.promise();
    Cached fresh = new Cached(promise.future(), now.plus(ttl));
    Cached current =
        payments.compute(
            key,
            (k, old) ->
                old != null && !old.snapshot().failed() && now.isBefore(old.expiresAt())
                    ? old
                    : fresh);
    if (current == fresh) {
      if (payments.size() > SWEEP_ABOVE) {
        payments.values().removeIf(p -> !now.isBefore(p.expiresAt()));
      }
      fetch
          .get()
          .onComplete(
              ar -> {
                if (ar.failed()) {
                  payments.remove(key, fresh);
                }
                promise.handle(ar);
              });
    }
    return CallerContext.completeOn(current.snapshot());
  }

  /** Drops the payment's entry (around a refund, which changes it). */
  void forget(String msn, VippsApi api, String reference) {
    payments.remove(new Key(msn, api, reference));
  }
}
