package io.refundbroker.vipps;

import io.refundbroker.config.Secret;
import io.refundbroker.credential.StoreCredentials;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * One access token per sales unit, shared by every call for it. A token is only good with the keys
 * that fetched it, so the cache key is the whole key set (MSN, credential version, client id and
 * the secrets themselves): rotated keys never meet an old token. However many calls wait, a store
 * has at most one fetch in flight — they all share its future. A failed fetch is not cached.
 */
final class AccessTokenCache {
  /** The cache key; its secrets print as {@code [redacted]}. */
  private record Key(
      String msn, int version, String clientId, Secret clientSecret, Secret subscriptionKey) {
    static Key of(StoreCredentials c) {
      return new Key(c.msn(), c.version(), c.clientId(), c.clientSecret(), c.subscriptionKey());
    }
  }

  private static final class Entry {
    private final Promise<AccessToken> promise = Promise.promise();

    boolean usableAt(Clock clock) {
      Future<AccessToken> future = promise.future();
      if (!future.isComplete()) {
        return true;
      }
      return future.succeeded() && clock.instant().isBefore(future.result().refreshAt());
    }

    boolean holds(AccessToken token) {
      Future<AccessToken> future = promise.future();
      return future.succeeded() && future.result() == token;
    }
  }

  private final Map<Key, Entry> entries = new ConcurrentHashMap<>();
  private final Function<StoreCredentials, Future<AccessToken>> fetcher;
  private final Clock clock;

  AccessTokenCache(Function<StoreCredentials, Future<AccessToken>> fetcher, Clock clock) {
    this.fetcher = fetcher;
    this.clock = clock;
  }

  /**
   * The store's current token: the cached one until its refresh time, else the fetch in flight,
   * else a new fetch.
   *
   * @return fails like the fetcher (a {@link TokenUnavailableException})
   */
  Future<AccessToken> get(StoreCredentials credentials) {
    Key key = Key.of(credentials);
    Entry fresh = new Entry();
    Entry current =
        entries.compute(key, (k, old) -> old != null && old.usableAt(clock) ? old : fresh);
    if (current == fresh) {
      // One token per store: a new key set (rotation) replaces the old one's entry.
      entries.keySet().removeIf(k -> k.msn().equals(key.msn()) && !k.equals(key));
      fetcher
          .apply(credentials)
          .onComplete(
              ar -> {
                if (ar.failed()) {
                  entries.remove(key, fresh);
                  fresh.promise.fail(ar.cause());
                } else {
                  fresh.promise.complete(ar.result());
                }
              });
    }
    return current.promise.future();
  }

  /** Drops {@code token} after Vipps refused it, unless a newer token has replaced it already. */
  void invalidate(StoreCredentials credentials, AccessToken token) {
    entries.computeIfPresent(Key.of(credentials), (k, e) -> e.holds(token) ? null : e);
  }

  /**
   * Drops every token of {@code msn} (after a key rotation).
   *
   * @return whether anything was dropped
   */
  boolean forget(String msn) {
    boolean dropped = false;
    for (Key key : entries.keySet()) {
      // remove() answers for itself: two concurrent forgets (the rotating request and its own
      // change notification) must not both report the same token as dropped
      if (key.msn().equals(msn) && entries.remove(key) != null) {
        dropped = true;
      }
    }
    return dropped;
  }

  /** Number of stores with a token (or a fetch in flight). */
  int size() {
    return entries.size();
  }
}
