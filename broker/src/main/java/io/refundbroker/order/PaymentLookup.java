package io.refundbroker.order;

import io.refundbroker.credential.CredentialProvider;
import io.refundbroker.store.Store;
import io.refundbroker.vipps.PaymentSnapshot;
import io.refundbroker.vipps.VippsGateway;
import io.vertx.core.Future;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Reads a payment's amounts from Vipps with the origin store's credentials, and keeps the answer
 * for a short while ({@code VIPPS_PAYMENT_CACHE_TTL}): order look-ups at the till are frequent,
 * Vipps allows 120 reads per payment per minute. Concurrent look-ups share one call.
 */
public final class PaymentLookup {
  private final CredentialProvider credentials;
  private final VippsGateway vipps;
  private final Duration ttl;
  private final Clock clock;
  private final Map<String, Cached> cache = new ConcurrentHashMap<>();

  private record Cached(Future<PaymentSnapshot> snapshot, Instant expires) {}

  public PaymentLookup(
      CredentialProvider credentials, VippsGateway vipps, Duration ttl, Clock clock) {
    this.credentials = credentials;
    this.vipps = vipps;
    this.ttl = ttl;
    this.clock = clock;
  }

  /**
   * The payment as Vipps reports it (possibly up to the TTL old).
   *
   * @return fails like {@link CredentialProvider#current} and {@link VippsGateway#payment}
   */
  public Future<PaymentSnapshot> snapshot(Store origin, String orderId) {
    String key = origin.msn() + "/" + orderId;
    Instant now = clock.instant();
    Cached cached = cache.get(key);
    if (cached != null && cached.expires().isAfter(now) && !cached.snapshot().failed()) {
      return cached.snapshot();
    }
    Future<PaymentSnapshot> fresh =
        credentials
            .current(origin.msn())
            .compose(keys -> vipps.payment(keys, origin.api(), orderId));
    if (!ttl.isZero()) {
      Cached entry = new Cached(fresh, now.plus(ttl));
      cache.put(key, entry);
      fresh.onFailure(failure -> cache.remove(key, entry));
    }
    return fresh;
  }

  /** Forgets the cached amounts of one payment (after the broker refunded it). */
  public void invalidate(String msn, String orderId) {
    cache.remove(msn + "/" + orderId);
  }
}
