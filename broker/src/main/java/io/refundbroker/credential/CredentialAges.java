package io.refundbroker.credential;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.refundbroker.store.Store;
import io.refundbroker.store.StoreService;
import io.vertx.core.Future;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The age of every store's current Vipps keys, for admins ({@code GET /v1/admin/credentials}) and
 * for Prometheus: {@code credentials_age_seconds{store=…}} per store with keys, and {@code
 * credentials_max_age_seconds} ({@code CREDENTIALS_MAX_AGE}) to alert against. Ages come from the
 * credential backend's version metadata (never a secret).
 *
 * <p>The gauges read when each store's current version was written from a map refreshed whenever
 * admins list the credentials and, driven by scrapes, at most once per {@link #REFRESH_EVERY}; a
 * rotation on another instance shows there by the next refresh. Thread-safe: the map is a {@link
 * ConcurrentHashMap}, a refresh replaces entries one by one and only one refresh runs at a time.
 */
public final class CredentialAges {
  private static final Logger LOG = LoggerFactory.getLogger(CredentialAges.class);
  static final Duration REFRESH_EVERY = Duration.ofMinutes(1);
  static final String AGE_GAUGE = "credentials_age_seconds";
  static final String MAX_AGE_GAUGE = "credentials_max_age_seconds";

  private final StoreService stores;
  private final CredentialBackend backend;
  private final MeterRegistry registry;
  private final Clock clock;
  private final Duration maxAge;
  private final Map<String, Instant> writtenAt = new ConcurrentHashMap<>();
  private final AtomicBoolean refreshing = new AtomicBoolean();
  private final AtomicReference<Instant> lastRefresh = new AtomicReference<>(Instant.MIN);

  CredentialAges(
      StoreService stores,
      CredentialBackend backend,
      MeterRegistry registry,
      Clock clock,
      Duration maxAge) {
    this.stores = stores;
    this.backend = backend;
    this.registry = registry;
    this.clock = clock;
    this.maxAge = maxAge;
    Gauge.builder(MAX_AGE_GAUGE, this, ages -> ages.scrapeMaxAge())
        .description("CREDENTIALS_MAX_AGE: rotate a store's Vipps keys before they are this old")
        .baseUnit("seconds")
        .register(registry);
  }

  public Duration maxAge() {
    return maxAge;
  }

  /**
   * The age of every store's keys, optionally of one chain, in store order; refreshes the gauges.
   *
   * @return fails with 503 {@code CREDENTIALS_UNAVAILABLE} when the backend cannot be read
   */
  public Future<List<CredentialAge>> list(String chainId) {
    return stores.list(chainId).compose(list -> ages(list, chainId == null));
  }

  /** The age of each store's keys; a list of every store counts as a refresh. */
  private Future<List<CredentialAge>> ages(List<Store> list, boolean everyStore) {
    List<Future<CredentialAge>> ages = new ArrayList<>();
    for (Store store : list) {
      ages.add(age(store));
    }
    return Future.all(ages).map(all -> collect(ages, everyStore));
  }

  private List<CredentialAge> collect(List<Future<CredentialAge>> ages, boolean everyStore) {
    List<CredentialAge> result = new ArrayList<>();
    ages.forEach(f -> result.add(f.result()));
    if (everyStore) {
      lastRefresh.set(clock.instant());
    }
    return result;
  }

  /** Reads every store's metadata now (at start; later when a scrape finds the map old). */
  public Future<Void> refresh() {
    if (!refreshing.compareAndSet(false, true)) {
      return Future.succeededFuture();
    }
    lastRefresh.set(clock.instant());
    return list(null)
        .<Void>mapEmpty()
        .onFailure(
            failure ->
                LOG.atWarn()
                    .setMessage("could not read credential ages for the metrics")
                    .addKeyValue("reason", failure.getMessage())
                    .log())
        .onComplete(done -> refreshing.set(false));
  }

  private Future<CredentialAge> age(Store store) {
    return backend
        .history(store.msn())
        .map(
            history -> {
              CredentialAge age = CredentialAge.of(store, history, clock.instant(), maxAge);
              record(age);
              return age;
            });
  }

  private void record(CredentialAge age) {
    String storeId = age.store().storeId();
    if (age.current() == null || age.current().createdAt() == null) {
      writtenAt.remove(storeId);
      return;
    }
    if (writtenAt.put(storeId, age.current().createdAt()) == null) {
      Gauge.builder(AGE_GAUGE, writtenAt, written -> secondsSince(written.get(storeId)))
          .description("Age of the store's current Vipps keys (since the version was written)")
          .baseUnit("seconds")
          .tag("store", storeId)
          .register(registry);
    }
  }

  private double secondsSince(Instant written) {
    if (written == null) {
      return Double.NaN;
    }
    return Math.max(0, Duration.between(written, clock.instant()).toMillis() / 1000.0);
  }

  private double scrapeMaxAge() {
    if (Duration.between(lastRefresh.get(), clock.instant()).compareTo(REFRESH_EVERY) >= 0) {
      refresh();
    }
    return maxAge.toSeconds();
  }
}
