package io.refundbroker.credential;

import io.refundbroker.async.CallerContext;
import io.refundbroker.error.ProblemException;
import io.refundbroker.salesunit.KeyHolder;
import io.refundbroker.salesunit.VippsKeys;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The {@link CredentialProvider} the refund flow uses: an in-memory cache with a TTL ({@code
 * CREDENTIALS_CACHE_TTL}) in front of the backend, so a steady stream of refunds reads Vault not at
 * all. Concurrent misses for one key holder (a sales unit, shared by every store on it, or a
 * partner) share a single backend read. {@link #invalidate(KeyHolder)} drops an entry after a
 * rotation or rollback (here, and through {@link CredentialInvalidations} on every other instance).
 *
 * <p>Thread-safety: callers come from every verticle's event loop. Entries and in-flight loads live
 * in {@link ConcurrentHashMap}s changed only through their atomic {@code putIfAbsent}/{@code
 * remove(key, value)}; an {@link AtomicLong} epoch keeps a load that raced an invalidation from
 * caching the old keys. A shared load completes on the thread of whichever caller started it, so
 * every caller gets it back through {@link CallerContext#completeOn} and continues on its own
 * context.
 *
 * <p>Fail closed: an entry is served only until its TTL ends. After that, if the backend cannot be
 * read, the caller gets 503 {@code CREDENTIALS_UNAVAILABLE}, never an older key.
 */
public final class CredentialCache implements CredentialProvider {
  private record Entry(VippsKeys credentials, Instant expiresAt) {}

  private final CredentialBackend backend;
  private final Duration ttl;
  private final Clock clock;
  private final Map<KeyHolder, Entry> entries = new ConcurrentHashMap<>();
  private final Map<KeyHolder, Future<VippsKeys>> loading = new ConcurrentHashMap<>();
  private final AtomicLong epoch = new AtomicLong();

  public CredentialCache(CredentialBackend backend, Duration ttl, Clock clock) {
    this.backend = backend;
    this.ttl = ttl;
    this.clock = clock;
  }

  /**
   * {@inheritDoc}
   *
   * <p>Served from memory while the entry is younger than the TTL; otherwise read from the backend.
   */
  @Override
  public Future<VippsKeys> current(KeyHolder holder) {
    Entry entry = entries.get(holder);
    Instant now = clock.instant();
    if (entry != null && now.isBefore(entry.expiresAt())) {
      return Future.succeededFuture(entry.credentials());
    }
    if (entry != null) {
      entries.remove(holder, entry);
    }
    Promise<VippsKeys> promise = Promise.promise();
    Future<VippsKeys> shared = loading.putIfAbsent(holder, promise.future());
    if (shared != null) {
      return CallerContext.completeOn(shared);
    }
    load(holder, promise);
    return CallerContext.completeOn(promise.future());
  }

  /** Drops the cached keys of {@code holder}; the next {@link #current} reads the backend. */
  public void invalidate(KeyHolder holder) {
    epoch.incrementAndGet();
    entries.remove(holder);
    loading.remove(holder);
  }

  /** Drops everything (e.g. after the invalidation listener lost notifications). */
  public void invalidateAll() {
    epoch.incrementAndGet();
    entries.clear();
    loading.clear();
  }

  private void load(KeyHolder holder, Promise<VippsKeys> promise) {
    long started = epoch.get();
    backend
        .read(holder)
        .recover(
            failure ->
                Future.failedFuture(
                    failure instanceof ProblemException
                        ? failure
                        : CredentialProblems.unavailable("read failed")))
        .onComplete(
            result -> {
              loading.remove(holder, promise.future());
              // a rotation that happened while this read was in flight must not be undone by it
              if (result.succeeded() && !ttl.isZero() && epoch.get() == started) {
                entries.put(holder, new Entry(result.result(), clock.instant().plus(ttl)));
              }
              promise.handle(result);
            });
  }
}
