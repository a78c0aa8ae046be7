package io.refundbroker.db;

import io.refundbroker.error.ProblemException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.ClosedConnectionException;
import java.net.ConnectException;
import java.util.Map;
import java.util.Set;

/**
 * The one translator of PostgreSQL errors. Each repository names the constraints of its own tables
 * that are a caller's mistake and calls {@link #translate(Throwable, Map)} on the statements that
 * can break them ({@code .recover(failure -> SqlErrors.translate(failure, CONSTRAINTS))}); {@link
 * Transactions#run} turns a transaction that collided with another (serialization failure,
 * deadlock) into 503 {@code TRY_AGAIN}, and {@link #unreachable} (applied by the failure handler to
 * every failure) an unreachable database into 503 {@code DATABASE_UNAVAILABLE}. Nothing else
 * inspects SQL states: a service sees a {@link ProblemException} or a typed failure its repository
 * defines, and anything unlisted stays an internal error (the failure handler logs it and answers
 * 500 without detail).
 */
public final class SqlErrors {
  static final String UNIQUE_VIOLATION = "23505";
  static final String SERIALIZATION_FAILURE = "40001";
  static final String DEADLOCK_DETECTED = "40P01";
  static final String REFUSED = "RB001";

  /** SQLSTATE class 08: connection exception. */
  static final String CONNECTION_EXCEPTION_CLASS = "08";

  /** The server is shutting down or starting up (admin, crash, cannot connect now). */
  static final Set<String> SERVER_GOING_OR_COMING = Set.of("57P01", "57P02", "57P03");

  private SqlErrors() {}

  /**
   * {@code failure} as its repository's problem when it violates one of {@code constraints} (by
   * constraint name), else as a collision problem or unchanged.
   *
   * @return always a failed future
   */
  public static <T> Future<T> translate(
      Throwable failure, Map<String, ? extends Throwable> constraints) {
    if (failure instanceof PgException pg) {
      String constraint = pg.getConstraint();
      if (constraint != null && constraints.containsKey(constraint)) {
        return Future.failedFuture(constraints.get(constraint));
      }
    }
    return Future.failedFuture(collision(failure));
  }

  /**
   * A check inside one of our SQL functions refused the change (SQLSTATE {@value #REFUSED}, see
   * V12): the problem code it names and the figures (a JSON object) the problem's text needs. The
   * function's transaction is rolled back, so nothing of it was written.
   */
  public static final class Refused extends RuntimeException {
    private final String code;
    private final JsonObject figures;

    Refused(String code, JsonObject figures) {
      super(code, null, false, false);
      this.code = code;
      this.figures = figures;
    }

    public String code() {
      return code;
    }

    public JsonObject figures() {
      return figures;
    }
  }

  /**
   * {@code failure} as {@link Refused} when a check of one of our SQL functions raised it, else as
   * a collision problem or unchanged.
   *
   * @return always a failed future
   */
  public static <T> Future<T> refusedOr(Throwable failure) {
    if (failure instanceof PgException pg && REFUSED.equals(pg.getSqlState())) {
      String detail = pg.getDetail();
      JsonObject figures =
          detail == null || detail.isBlank() ? new JsonObject() : new JsonObject(detail);
      return Future.failedFuture(new Refused(pg.getErrorMessage(), figures));
    }
    return Future.failedFuture(collision(failure));
  }

  /** True when {@code failure} is a unique violation of the constraint {@code constraint}. */
  public static boolean isUniqueViolation(Throwable failure, String constraint) {
    return failure instanceof PgException pg
        && UNIQUE_VIOLATION.equals(pg.getSqlState())
        && (constraint == null || constraint.equals(pg.getConstraint()));
  }

  /**
   * 503 {@code DATABASE_UNAVAILABLE} when {@code failure} says the database could not be reached
   * (connection refused, a connection closed under a statement, the server shutting down or still
   * recovering); else {@code failure} unchanged. The failure handler applies it to every request's
   * failure, so an outage of PostgreSQL is a 503 the caller may retry, never a 500. The broker's
   * only outbound connections whose failures arrive unwrapped are the database pool's (Vault and
   * Vipps failures are translated by their clients), so a refused connection is the database's.
   */
  public static Throwable unreachable(Throwable failure) {
    for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
      if (cause instanceof ClosedConnectionException
          || cause instanceof ConnectException
          || (cause instanceof PgException pg && serverUnavailable(pg.getSqlState()))) {
        return ProblemException.unavailable(
            "DATABASE_UNAVAILABLE",
            "The broker's database cannot be reached. Try again shortly; a refund sent again"
                + " with the same Idempotency-Key is never made twice.");
      }
      if (cause.getCause() == cause) {
        break;
      }
    }
    return failure;
  }

  private static boolean serverUnavailable(String sqlState) {
    return sqlState != null
        && (sqlState.startsWith(CONNECTION_EXCEPTION_CLASS)
            || SERVER_GOING_OR_COMING.contains(sqlState));
  }

  /**
   * 503 {@code TRY_AGAIN} for a transaction that lost to a concurrent one; else {@code failure}.
   */
  static Throwable collision(Throwable failure) {
    if (failure instanceof PgException pg
        && (SERIALIZATION_FAILURE.equals(pg.getSqlState())
            || DEADLOCK_DETECTED.equals(pg.getSqlState()))) {
      return ProblemException.unavailable(
          "TRY_AGAIN", "The request collided with a concurrent change; send it again.");
    }
    return failure;
  }
}
