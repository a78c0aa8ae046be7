package io.refundbroker.db;

import io.refundbroker.error.ProblemException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgException;
import java.util.Map;

/**
 * The one translator of PostgreSQL errors. Each repository names the constraints of its own tables
 * that are a caller's mistake and calls {@link #translate(Throwable, Map)} on the statements that
 * can break them ({@code .recover(failure -> SqlErrors.translate(failure, CONSTRAINTS))}); {@link
 * Transactions#run} turns a transaction that collided with another (serialization failure,
 * deadlock) into 503 {@code TRY_AGAIN}. Nothing else inspects SQL states: a service sees a {@link
 * ProblemException} or a typed failure its repository defines, and anything unlisted stays an
 * internal error (the failure handler logs it and answers 500 without detail).
 */
public final class SqlErrors {
  static final String UNIQUE_VIOLATION = "23505";
  static final String SERIALIZATION_FAILURE = "40001";
  static final String DEADLOCK_DETECTED = "40P01";
  static final String REFUSED = "RB001";

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
