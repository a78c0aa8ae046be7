package io.refundbroker.vipps;

import io.refundbroker.config.BrokerConfig.VippsConfig;
import io.refundbroker.config.Secret;
import io.refundbroker.salesunit.KeyHolder;
import io.refundbroker.salesunit.VippsKeys;
import io.refundbroker.vipps.VippsTransport.Bearer;
import io.refundbroker.vipps.VippsTransport.Exchange;
import io.refundbroker.vipps.VippsTransport.Operation;
import io.refundbroker.vipps.VippsTransport.Request;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * Access tokens: fetched with {@code POST /accesstoken/get} and a key set's {@code client_id},
 * {@code client_secret} and subscription key, cached per key set ({@link AccessTokenCache}), reused
 * until {@code VIPPS_TOKEN_REFRESH_MARGIN} (at most half the lifetime) before they expire, dropped
 * when Vipps refuses one ({@link #bearerFor}) and when the holder's keys rotate ({@link #forget}).
 *
 * <p>Thread-safety: its only mutable state is the {@link AccessTokenCache} (see there).
 */
final class AccessTokens {
  private final VippsTransport transport;
  private final VippsConfig config;
  private final VippsMetrics metrics;
  private final Clock clock;
  private final AccessTokenCache cache;

  AccessTokens(VippsTransport transport, VippsConfig config, VippsMetrics metrics, Clock clock) {
    this.transport = transport;
    this.config = config;
    this.metrics = metrics;
    this.clock = clock;
    this.cache = new AccessTokenCache(this::fetch, clock);
    metrics.cachedTokens(cache::size);
  }

  /** The token source of calls made with {@code keys}: the cached token, dropped on a 401. */
  Bearer bearerFor(VippsKeys keys) {
    return new Bearer() {
      @Override
      public Future<AccessToken> token() {
        return cache.get(keys);
      }

      @Override
      public void refused(AccessToken token) {
        cache.invalidate(keys, token);
        metrics.tokenDropped("unauthorized");
      }
    };
  }

  /** Drops every cached token of {@code holder} (after a key rotation). */
  void forget(KeyHolder holder) {
    if (cache.forget(holder)) {
      metrics.tokenDropped("rotation");
    }
  }

  /**
   * Drops every cached token: the key change notifications may have been missed, so any token may
   * have been made with keys that were rotated since.
   */
  void forgetAll() {
    for (int i = cache.forgetAll(); i > 0; i--) {
      metrics.tokenDropped("resync");
    }
  }

  /**
   * Fetches a new token for {@code keys}, bypassing the cache.
   *
   * @return fails with a {@link TokenUnavailableException}: {@code rejected()} when Vipps refused
   *     the keys (HTTP 400/401/403), else Vipps could not be asked or answered unreadably
   */
  Future<AccessToken> fetch(VippsKeys keys) {
    MultiMap headers = transport.systemHeaders();
    headers.set(VippsHeaders.CLIENT_ID, keys.clientId());
    headers.set(VippsHeaders.CLIENT_SECRET, keys.clientSecret().reveal());
    headers.set(VippsHeaders.SUBSCRIPTION_KEY, keys.subscriptionKey().reveal());
    keys.holder().tokenMsn().ifPresent(msn -> headers.set(VippsHeaders.MSN, msn));
    // The token endpoint answers errors in the API gateway's format, read like ePayment's.
    Request request =
        new Request(
            Operation.TOKEN,
            null,
            EpaymentFlavour.INSTANCE,
            HttpMethod.POST,
            "/accesstoken/get",
            headers,
            null);
    Instant asked = clock.instant();
    return transport.execute(request, null).compose(exchange -> token(exchange, asked));
  }

  private Future<AccessToken> token(Exchange exchange, Instant asked) {
    if (exchange.ok()) {
      AccessToken token = parse(exchange.answer().body(), asked);
      if (token != null) {
        metrics.tokenFetch("ok");
        return Future.succeededFuture(token);
      }
      metrics.tokenFetch("unavailable");
      return Future.failedFuture(
          new TokenUnavailableException(
              false, exchange.status(), "unreadable access-token response"));
    }
    if (exchange.failure() != null) {
      metrics.tokenFetch("unavailable");
      return Future.failedFuture(
          new TokenUnavailableException(false, 0, exchange.failure().describe()));
    }
    int status = exchange.status();
    boolean rejected = status == 400 || status == 401 || status == 403;
    metrics.tokenFetch(rejected ? "rejected" : "unavailable");
    return Future.failedFuture(
        new TokenUnavailableException(
            rejected, status, "access-token endpoint answered HTTP " + status));
  }

  /** Reads the token response (all fields are strings in the spec; numbers are tolerated). */
  private AccessToken parse(Buffer body, Instant asked) {
    if (!(VippsErrors.parse(body) instanceof JsonObject json)) {
      return null;
    }
    if (!(json.getValue("access_token") instanceof String value) || value.isBlank()) {
      return null;
    }
    Object type = json.getValue("token_type");
    if (type != null && !"bearer".equalsIgnoreCase(String.valueOf(type))) {
      return null;
    }
    long lifetime = seconds(json.getValue("expires_in"));
    if (lifetime <= 0) {
      long expiresOn = seconds(json.getValue("expires_on"));
      lifetime = expiresOn > 0 ? expiresOn - asked.getEpochSecond() : -1;
    }
    if (lifetime <= 0) {
      return null;
    }
    Duration life = Duration.ofSeconds(lifetime);
    Duration margin = config.tokenRefreshMargin();
    if (margin.compareTo(life.dividedBy(2)) > 0) {
      margin = life.dividedBy(2);
    }
    Instant expiresAt = asked.plus(life);
    return new AccessToken(Secret.of(value), expiresAt, expiresAt.minus(margin));
  }

  private static long seconds(Object value) {
    if (value instanceof Number n) {
      return n.longValue();
    }
    if (value instanceof String s) {
      try {
        return Long.parseLong(s.trim());
      } catch (NumberFormatException e) {
        return -1;
      }
    }
    return -1;
  }
}
