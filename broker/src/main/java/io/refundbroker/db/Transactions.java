package io.refundbroker.db;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import java.util.function.Function;

/** Runs work in one transaction, with SQL errors translated in one place ({@link SqlErrors}). */
public final class Transactions {
  private Transactions() {}

  /**
   * {@code work} in a transaction of {@code pool}: committed when its future succeeds, rolled back
   * when it fails.
   *
   * @return what {@code work} returned; fails like {@code work}, except that a serialization
   *     failure or deadlock becomes 503 {@code TRY_AGAIN}
   */
  public static <T> Future<T> run(Pool pool, Function<SqlConnection, Future<T>> work) {
    return pool.withTransaction(work)
        .recover(failure -> Future.failedFuture(SqlErrors.collision(failure)));
  }
}
