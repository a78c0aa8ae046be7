package io.refundbroker.db;

import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.error.ProblemException;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.ClosedConnectionException;
import java.net.ConnectException;
import org.junit.jupiter.api.Test;

/** An unreachable database is a 503 the caller may retry; other failures stay what they are. */
class SqlErrorsTest {

  @Test
  void anUnreachableDatabaseIsServiceUnavailable() {
    for (Throwable failure :
        new Throwable[] {
          new ConnectException("Connection refused"),
          new IllegalStateException("wrapped", new ConnectException("Connection refused")),
          ClosedConnectionException.INSTANCE,
          new PgException(
              "terminating connection due to administrator command", "FATAL", "57P01", null),
          new PgException("the database system is starting up", "FATAL", "57P03", null),
          new PgException("connection failure", "FATAL", "08006", null)
        }) {
      assertThat(SqlErrors.unreachable(failure))
          .as("%s", failure)
          .isInstanceOfSatisfying(
              ProblemException.class,
              p -> {
                assertThat(p.status()).isEqualTo(503);
                assertThat(p.code()).isEqualTo("DATABASE_UNAVAILABLE");
              });
    }
  }

  @Test
  void otherFailuresStayAsTheyAre() {
    Throwable unique = new PgException("duplicate key", "ERROR", "23505", null);
    Throwable bug = new IllegalStateException("a bug");
    assertThat(SqlErrors.unreachable(unique)).isSameAs(unique);
    assertThat(SqlErrors.unreachable(bug)).isSameAs(bug);
  }
}
