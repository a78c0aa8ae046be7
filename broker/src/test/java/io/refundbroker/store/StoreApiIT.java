package io.refundbroker.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.testing.AuditLinks;
import io.refundbroker.testing.HttpResult;
import io.refundbroker.testing.TestBroker;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StoreApiIT {
  private TestBroker broker;

  @BeforeAll
  void start() {
    broker = TestBroker.start();
  }

  @AfterAll
  void stop() {
    broker.close();
  }

  @Test
  void createGetListAndPatch() {
    HttpResult created =
        broker.post(
            "/v1/admin/stores",
            broker.adminToken(),
            new JsonObject()
                .put("storeId", "stavanger-1")
                .put("name", "Stavanger")
                .put("msn", "4321")
                .put("chainId", "north")
                .put("api", "ecom")
                .put("orderIdPrefix", "4321-")
                .put("limits", new JsonObject().put("currency", "NOK").put("perRefund", 500000)));
    assertThat(created.status()).isEqualTo(201);
    assertThat(created.header("Location")).isEqualTo("/v1/admin/stores/stavanger-1");
    JsonObject store = created.json();
    assertThat(store.getString("api")).isEqualTo("ecom");
    assertThat(store.getBoolean("frozen")).isFalse();
    assertThat(store.getJsonObject("limits").getLong("perRefund")).isEqualTo(500000L);

    broker.createStore("stavanger-2", "north", "4322");
    broker.createStore("other-1", "south", "5555");

    HttpResult north = broker.get("/v1/admin/stores?chainId=north", broker.adminToken());
    assertThat(
            north.json().getJsonArray("stores").stream()
                .map(s -> ((JsonObject) s).getString("storeId")))
        .containsExactly("stavanger-1", "stavanger-2");

    HttpResult patched =
        broker.send(
            HttpMethod.PATCH,
            "/v1/admin/stores/stavanger-1",
            broker.adminToken(),
            new JsonObject().put("frozen", true).putNull("orderIdPrefix").put("api", "epayment"));
    assertThat(patched.status()).isEqualTo(200);
    assertThat(patched.json().getBoolean("frozen")).isTrue();
    assertThat(patched.json().containsKey("orderIdPrefix")).isFalse();
    assertThat(patched.json().getString("api")).isEqualTo("epayment");
    assertThat(patched.json().getString("msn")).isEqualTo("4321");

    JsonObject reread = broker.get("/v1/admin/stores/stavanger-1", broker.adminToken()).json();
    assertThat(reread.getBoolean("frozen")).isTrue();

    AuditLinks.await(broker.database());
    List<Map<String, Object>> events =
        broker
            .database()
            .query(
                "SELECT action, details->'changes' AS changes FROM audit_events"
                    + " WHERE subject_type = 'store' AND subject_id = 'stavanger-1' ORDER BY seq");
    assertThat(events)
        .extracting(e -> e.get("action"))
        .containsExactly("store.created", "store.updated");
    assertThat(String.valueOf(events.get(1).get("changes")))
        .contains("frozen")
        .contains("orderIdPrefix")
        .contains("api");
  }

  @Test
  void freezingAloneIsAuditedAsStoreFrozen() {
    broker.createStore("freeze-me", "east", "7777");
    broker.send(
        HttpMethod.PATCH,
        "/v1/admin/stores/freeze-me",
        broker.adminToken(),
        new JsonObject().put("frozen", true));
    broker.send(
        HttpMethod.PATCH,
        "/v1/admin/stores/freeze-me",
        broker.adminToken(),
        new JsonObject().put("frozen", true));
    AuditLinks.await(broker.database());
    List<Map<String, Object>> events =
        broker
            .database()
            .query("SELECT action FROM audit_events WHERE subject_id = 'freeze-me' ORDER BY seq");
    assertThat(events)
        .extracting(e -> e.get("action"))
        .containsExactly("store.created", "store.frozen");
  }
}
