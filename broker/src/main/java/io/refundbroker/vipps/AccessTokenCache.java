package io.refundbroker.vipps;

import io.refundbroker.async.CallerContext;
import io.refundbroker.salesunit.KeyHolder;
import io.refundbroker.salesunit.VippsKeys;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * One access token per key set, shared by every call made with it. A token is only good with the
 * keys that fetched it, so the cache key is the key set's whole identity ({@link VippsKeys}:
 * holder, version, client id and the secrets themselves): rotated keys never meet an old token, and
 * a partner's key set (one token for many MSNs) will be one entry, not one per MSN. However many
 * calls wait, a key set has at most one fetch in flight — they all share its future. A failed fetch
 * is not cached.
 *
 * <p>Thread-safety: calls come from every verticle's event loop. The entries live in a {@link
 * ConcurrentHashMap} and are only replaced through its atomic {@code compute}/{@code remove}
 * operations; an entry's promise is completed once, by the fetch it started. The shared future is
 * handed out through {@link CallerContext#completeOn}, so each caller continues on its own context.
 */
final class AccessTokenCache {

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

  private final Map<VippsKeys, Entry> entries = new ConcurrentHashMap<>();
  private final Function<VippsKeys, Future<AccessToken>> fetcher;
  private final Clock clock;

  AccessTokenCache(Function<VippsKeys, Future<AccessToken>> fetcher, Clock clock) {
    this.fetcher = fetcher;
    this.clock = clock;
  }

  /**
   * The key set's current token: the cached one until its refresh time, else the fetch in flight,
   * else a new fetch; completing on the caller's context.
   *
   * @return fails like the fetcher (a {@link TokenUnavailableException})
   */
  Future<AccessToken> get(VippsKeys keys) {
    Entry fresh = new Entry();
    Entry current =
        entries.compute(keys, (k, old) -> old != null && old.usableAt(clock) ? old : fresh);
    if (current == fresh) {
      // One token per holder: a new key set (rotation) replaces the old one's entry.
      entries.keySet().removeIf(k -> k.holder().equals(keys.holder()) && !k.equals(keys));
      fetcher
          .apply(keys)
          .onComplete(
              ar -> {
                if (ar.failed()) {
                  entries.remove(keys, fresh);
                }
                fresh.promise.handle(ar);
              });
    }
    return CallerContext.completeOn(current.promise.future());
  }

  /** Drops {@code token} after Vipps refused it, unless a newer token has replaced it already. */
  void invalidate(VippsKeys keys, AccessToken token) {
    entries.computeIfPresent(keys, (k, e) -> e.holds(token) ? null : e);
  }

  /**
   * Drops every token of {@code holder}'s key sets (after a key rotation).
   *
   * @return whether anything was dropped
   */
  boolean forget(KeyHolder holder) {
    boolean dropped = false;
    for (VippsKeys key : entries.keySet()) {
      // remove() answers for itself: two concurrent forgets (the rotating request and its own
      // change notification) must not both report the same token as dropped
      if (key.holder().equals(holder) && entries.remove(key) != null) {
        dropped = true;
      }
    }
    return dropped;
  }

  /**
   * Drops every token (after the change notifications may have been missed).
   *
   * @return how many key sets had one
   */
  int forgetAll() {
    int dropped = 0;
    for (VippsKeys key : entries.keySet()) {
      if (entries.remove(key) != null) {
        dropped++;
      }
    }
    return dropped;
  }

  /** Number of key sets with a token (or a fetch in flight). */
  int size() {
    return entries.size();
  }
}
