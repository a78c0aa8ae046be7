package io.refundbroker.credential;

import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.config.Secret;
import io.refundbroker.error.ProblemException;
import io.refundbroker.testing.MutableClock;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.junit5.Checkpoint;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import io.vertx.sqlclient.SqlConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The cache's TTL, fail-closed rule, shared misses and invalidation, on a fake backend; and that a
 * shared read comes back on each caller's own Vert.x context.
 */
@ExtendWith(VertxExtension.class)
class CredentialCacheTest {
  private final MutableClock clock = MutableClock.now();
  private final FakeBackend backend = new FakeBackend();
  private final CredentialCache cache = new CredentialCache(backend, Duration.ofSeconds(30), clock);

  @Test
  void servesWithinTheTtlAndFailsClosedAfterIt() {
    backend.answerNext(credentials(1));
    assertThat(cache.current("1234").result().version()).isEqualTo(1);
    backend.down = true;
    clock.advance(Duration.ofSeconds(29));
    assertThat(cache.current("1234").result().version()).isEqualTo(1);
    assertThat(backend.reads).isEqualTo(1);

    clock.advance(Duration.ofSeconds(2));
    Future<StoreCredentials> expired = cache.current("1234");
    assertThat(expired.failed()).isTrue();
    assertThat(((ProblemException) expired.cause()).code()).isEqualTo("CREDENTIALS_UNAVAILABLE");
    assertThat(((ProblemException) expired.cause()).status()).isEqualTo(503);
  }

  @Test
  void concurrentMissesShareOneReadAndInvalidationWinsOverAnOlderRead() {
    Promise<StoreCredentials> slow = Promise.promise();
    backend.pending.add(slow);
    Future<StoreCredentials> a = cache.current("1234");
    Future<StoreCredentials> b = cache.current("1234");
    assertThat(backend.reads).isEqualTo(1);
    cache.invalidate("1234");
    slow.complete(credentials(1));
    assertThat(a.result().version()).isEqualTo(1);
    assertThat(b.result().version()).isEqualTo(1);

    backend.answerNext(credentials(2));
    assertThat(cache.current("1234").result().version())
        .as("the read started before the invalidation was not cached")
        .isEqualTo(2);
    assertThat(backend.reads).isEqualTo(2);
  }

  /**
   * Two callers on two contexts share one backend read that completes on a third thread: each
   * caller's continuation still runs on its own context (a verticle's state stays on its event
   * loop).
   */
  @Test
  @Timeout(value = 10, unit = TimeUnit.SECONDS)
  void aSharedReadCompletesOnEachCallersOwnContext(Vertx vertx, VertxTestContext test) {
    Promise<StoreCredentials> slow = Promise.promise();
    backend.pending.add(slow);
    Context first = vertx.getOrCreateContext();
    Context second = vertx.getOrCreateContext();
    Checkpoint answered = test.checkpoint(2);
    first.runOnContext(
        asked -> {
          askOn(first, test, answered);
          second.runOnContext(
              alsoAsked -> {
                askOn(second, test, answered);
                // the backend answers on a worker thread, neither caller's context
                vertx.executeBlocking(() -> slow.tryComplete(credentials(7)));
              });
        });
  }

  private void askOn(Context context, VertxTestContext test, Checkpoint answered) {
    cache
        .current("1234")
        .onComplete(
            test.succeeding(
                keys ->
                    test.verify(
                        () -> {
                          assertThat(keys.version()).isEqualTo(7);
                          assertThat(Vertx.currentContext()).isSameAs(context);
                          assertThat(backend.reads).isEqualTo(1);
                          answered.flag();
                        })));
  }

  private static StoreCredentials credentials(int version) {
    return new StoreCredentials("1234", version, "c", Secret.of("s"), Secret.of("k"));
  }

  private static final class FakeBackend implements CredentialBackend {
    final List<Promise<StoreCredentials>> pending = new ArrayList<>();
    boolean down;
    int reads;

    void answerNext(StoreCredentials credentials) {
      Promise<StoreCredentials> p = Promise.promise();
      p.complete(credentials);
      pending.add(p);
    }

    @Override
    public Future<StoreCredentials> read(String msn) {
      reads++;
      if (down) {
        return Future.failedFuture(CredentialProblems.unavailable("down"));
      }
      return pending.remove(0).future();
    }

    @Override
    public String name() {
      return "fake";
    }

    @Override
    public boolean joinsTransaction() {
      return false;
    }

    @Override
    public Future<CredentialVersion> write(
        SqlConnection tx, String msn, KeySet keys, int cas, RotationInfo info) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Future<StoreCredentials> read(String msn, int version) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Future<CredentialHistory> history(String msn) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Future<java.util.Map<String, String>> brokerSecret(
        String name, java.util.function.Supplier<Future<java.util.Map<String, String>>> create) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Future<String> checkReady() {
      return Future.succeededFuture("fake");
    }

    @Override
    public Future<Void> close() {
      return Future.succeededFuture();
    }
  }
}
