package io.refundbroker.credential;

import io.refundbroker.async.CallerContext;
import io.refundbroker.error.ProblemException;
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
 * all. Concurrent misses for one MSN share a single backend read. {@link #invalidate(String)} drops
 * an entry after a rotation or rollback (here, and through {@link CredentialInvalidations} on every
 * other instance).
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
  private record Entry(StoreCredentials credentials, Instant expiresAt) {}

  private final CredentialBackend backend;
  private final Duration ttl;
  private final Clock clock;
  private final Map<String, Entry> entries = new ConcurrentHashMap<>();
  private final Map<String, Future<StoreCredentials>> loading = new ConcurrentHashMap<>();
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
  public Future<StoreCredentials> current(String msn) {
    Entry entry = entries.get(msn);
    Instant now = clock.instant();
    if (entry != null && now.isBefore(entry.expiresAt())) {
      return Future.succeededFuture(entry.credentials());
    }
    if (entry != null) {
      entries.remove(msn, entry);
    }
    Promise<StoreCredentials> promise = Promise.promise();
    Future<StoreCredentials> shared = loading.putIfAbsent(msn, promise.future());
    if (shared != null) {
      return CallerContext.completeOn(shared);
    }
    load(msn, promise);
    return CallerContext.completeOn(promise.future());
  }

  /** Drops the cached keys of {@code msn}; the next {@link #current} reads the backend. */
  public void invalidate(String msn) {
    epoch.incrementAndGet();
    entries.remove(msn);
    loading.remove(msn);
  }

  /** Drops everything (e.g. after the invalidation listener lost notifications). */
  public void invalidateAll() {
    epoch.incrementAndGet();
    entries.clear();
    loading.clear();
  }

  private void load(String msn, Promise<StoreCredentials> promise) {
    long started = epoch.get();
    backend
        .read(msn)
        .recover(
            failure ->
                Future.failedFuture(
                    failure instanceof ProblemException
                        ? failure
                        : CredentialProblems.unavailable("read failed")))
        .onComplete(
            result -> {
              loading.remove(msn, promise.future());
              // a rotation that happened while this read was in flight must not be undone by it
              if (result.succeeded() && !ttl.isZero() && epoch.get() == started) {
                entries.put(msn, new Entry(result.result(), clock.instant().plus(ttl)));
              }
              promise.handle(result);
            });
  }
}
