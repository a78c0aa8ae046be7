package io.refundbroker.credential;

import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.db.Database;
import io.refundbroker.testing.Await;
import io.refundbroker.testing.Poll;
import io.refundbroker.testing.TestDatabase;
import io.refundbroker.testing.TestPostgres;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Key-change notifications reach every other instance, but not the one that sent them: it dropped
 * its own cache when the rotation committed, and a late second drop would undo what it cached
 * meanwhile (one more backend read, and a test that counts reads would race).
 */
class CredentialInvalidationsIT {
  private static final Duration WAIT = Duration.ofSeconds(15);

  private Vertx vertx;
  private Database database;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    TestDatabase db = TestPostgres.newDatabase();
    database = Database.connect(vertx, db.appUrl(), 2, db.schemaVersion());
  }

  @AfterEach
  void stop() {
    Await.result(database.close());
    Await.result(vertx.close());
  }

  @Test
  void anInstanceHearsOthersButNotItself() {
    List<String> heardByA = new CopyOnWriteArrayList<>();
    List<String> heardByB = new CopyOnWriteArrayList<>();
    CredentialInvalidations a = listen(heardByA);
    CredentialInvalidations b = listen(heardByB);
    try {
      Poll.until("both listening", WAIT, () -> a.listening() && b.listening());
      Await.result(database.pool().withTransaction(tx -> a.notifyChanged(tx, "700001")));
      Await.result(database.pool().withTransaction(tx -> b.notifyChanged(tx, "700002")));
      // a payload of the MSN alone (an older instance, or an operator) counts as another's
      Await.result(
          database
              .pool()
              .query("SELECT pg_notify('" + CredentialInvalidations.CHANNEL + "', '700003')")
              .execute());

      // delivered in commit order: the last one heard means every earlier one was handled
      Poll.until("A heard the last", WAIT, () -> heardByA.contains("700003"));
      Poll.until("B heard the last", WAIT, () -> heardByB.contains("700003"));
      assertThat(heardByA).containsExactly("700002", "700003");
      assertThat(heardByB).containsExactly("700001", "700003");
    } finally {
      Await.result(a.close());
      Await.result(b.close());
    }
  }

  private CredentialInvalidations listen(List<String> heard) {
    return Await.result(
        CredentialInvalidations.start(vertx, database.connectOptions(), heard::add, () -> {}));
  }
}
