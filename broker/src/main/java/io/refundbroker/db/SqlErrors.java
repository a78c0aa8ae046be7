package io.refundbroker.db;

import io.refundbroker.http.ProblemException;
import io.vertx.pgclient.PgException;
import java.util.Map;

/**
 * Turns PostgreSQL errors into domain problems, in one place. Constraint names come from the
 * migrations; a violation of a constraint listed here is a caller error with a stable code, while
 * anything unlisted stays an internal error (the failure handler logs it and answers 500 without
 * detail).
 */
public final class SqlErrors {
  public static final String UNIQUE_VIOLATION = "23505";
  public static final String FOREIGN_KEY_VIOLATION = "23503";
  public static final String CHECK_VIOLATION = "23514";
  public static final String INSUFFICIENT_PRIVILEGE = "42501";
  public static final String SERIALIZATION_FAILURE = "40001";
  public static final String DEADLOCK_DETECTED = "40P01";

  private static final Map<String, ProblemException> CONSTRAINTS =
      Map.of(
          "stores_pkey",
          ProblemException.conflict("STORE_EXISTS", "A store with this storeId already exists."),
          "stores_msn_key",
          ProblemException.conflict(
              "MSN_IN_USE",
              "Another store already uses this Merchant-Serial-Number; each MSN belongs to one"
                  + " store."),
          "api_clients_store_id_fkey",
          ProblemException.unprocessable("STORE_NOT_FOUND", "No store has this storeId."));

  private SqlErrors() {}

  /** The problem for a known constraint violation, or the original failure. */
  public static Throwable translate(Throwable failure) {
    if (failure instanceof PgException pg) {
      String constraint = pg.getConstraint();
      if (constraint != null && CONSTRAINTS.containsKey(constraint)) {
        return CONSTRAINTS.get(constraint);
      }
      if (SERIALIZATION_FAILURE.equals(pg.getSqlState())
          || DEADLOCK_DETECTED.equals(pg.getSqlState())) {
        return ProblemException.unavailable(
            "TRY_AGAIN", "The request collided with a concurrent change; send it again.");
      }
    }
    return failure;
  }

  /** True when {@code failure} is PostgreSQL error {@code sqlState}. */
  public static boolean is(Throwable failure, String sqlState) {
    return failure instanceof PgException pg && sqlState.equals(pg.getSqlState());
  }
}
