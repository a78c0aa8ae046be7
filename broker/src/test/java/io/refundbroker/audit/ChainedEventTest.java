package io.refundbroker.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.refundbroker.caller.Actor;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class ChainedEventTest {
  private static final AuditMac MAC = AuditMac.random();

  private enum Colour {
    RED {
      @Override
      public String toString() {
        return "red!";
      }
    }
  }

  @Test
  void detailsAreHashedAsTheyReadBackFromJson() {
    JsonObject details =
        new JsonObject()
            .put("bytes", new byte[] {1, 2, 3})
            .put("at", Instant.parse("2025-01-01T00:00:00.123Z"))
            .put("colour", Colour.RED)
            .put("precise", new BigDecimal("12.345678901234567890123"))
            .put("amount", 12_345L);
    ChainedEvent event =
        ChainedEvent.chain(
            1,
            AuditEntry.create(
                Instant.parse("2025-01-01T00:00:00Z"),
                Actor.system("test"),
                "req-1",
                AuditEvent.success("x.y", "x", "1", null, details),
                MAC),
            ChainedEvent.GENESIS_HASH);
    // what an export (or jsonb) gives back must still recompute to the stored hash
    ChainedEvent readBack = ChainedEvent.fromJson(new JsonObject(event.toJson().encode()));
    assertThat(readBack.computeHash()).isEqualTo(event.hash());
    assertThat(readBack.details().getString("colour")).isEqualTo("RED");
    assertThat(readBack.details().getString("bytes")).isEqualTo("AQID");
  }

  @Test
  void exportFormRoundTrips() {
    ChainedEvent event =
        ChainedEvent.chain(
            7,
            AuditEntry.create(
                Instant.parse("2025-01-01T00:00:00.1234567Z"),
                new Actor("cl_1", "STORE", "oslo-1"),
                null,
                AuditEvent.success("refund.requested", "refund", "r1", "acme", new JsonObject()),
                MAC),
            "a".repeat(64));
    JsonObject json = event.toJson();
    assertThat(json.getString("occurredAt")).isEqualTo("2025-01-01T00:00:00.123456Z");
    assertThat(json.getString("eventId")).isEqualTo(event.entry().eventId().toString());
    assertThat(json.getString("mac")).matches("[0-9a-f]{64}");
    assertThat(json.containsKey("type")).isFalse();
    assertThat(ChainedEvent.fromJson(json)).isEqualTo(event);
    assertThat(MAC.verifies(ChainedEvent.fromJson(json).entry())).isTrue();
  }

  @Test
  void theHashCoversSeqEntryHashAndMacAsTheLinksTriggerComputesIt() {
    AuditEntry entry =
        AuditEntry.create(
            Instant.parse("2025-03-01T10:00:00Z"),
            Actor.system("test"),
            null,
            AuditEvent.success("a.b", "a", "1", null, new JsonObject().put("n", 1)),
            MAC);
    ChainedEvent event = ChainedEvent.chain(3, entry, "d".repeat(64));
    assertThat(event.hash())
        .isEqualTo(
            ChainedEvent.sha256Hex(
                "d".repeat(64)
                    + "\n3\n"
                    + ChainedEvent.sha256Hex(entry.canonical())
                    + "\n"
                    + entry.mac()));
    assertThat(entry.canonical())
        .startsWith("{\"action\":\"a.b\",")
        .contains("\"eventId\":\"" + entry.eventId() + "\"")
        .contains("\"type\":\"refund-broker.audit.event.v2\"")
        .doesNotContain("seq")
        .doesNotContain(entry.mac());
    // the MAC covers the content: another content, or another key, gives another MAC
    assertThat(MAC.verifies(entry)).isTrue();
    assertThat(AuditMac.random().verifies(entry)).isFalse();
    assertThat(MAC.verifies(entry.withMac("0".repeat(64)))).isFalse();
  }

  @Test
  void aLegacyEventKeepsTheHashItWasLinkedWith() {
    AuditEntry legacy =
        AuditEntry.legacy(
            Instant.parse("2024-06-01T00:00:00Z"),
            new Actor("cl_1", "ADMIN", null),
            "store.created",
            "store",
            "s1",
            "acme",
            "SUCCESS",
            "req-1",
            new JsonObject().put("name", "Oslo"));
    ChainedEvent event = ChainedEvent.chain(1, legacy, ChainedEvent.GENESIS_HASH);
    String content =
        "{\"action\":\"store.created\",\"actor\":{\"clientId\":\"cl_1\",\"role\":\"ADMIN\","
            + "\"storeId\":null},\"chainId\":\"acme\",\"details\":{\"name\":\"Oslo\"},"
            + "\"occurredAt\":\"2024-06-01T00:00:00.000000Z\",\"outcome\":\"SUCCESS\","
            + "\"requestId\":\"req-1\",\"seq\":1,\"subject\":{\"id\":\"s1\",\"type\":\"store\"}}";
    assertThat(event.hash())
        .isEqualTo(ChainedEvent.sha256Hex(ChainedEvent.GENESIS_HASH + "\n" + content));
    JsonObject json = event.toJson();
    assertThat(json.containsKey("mac")).isFalse();
    assertThat(json.containsKey("eventId")).isFalse();
    assertThat(ChainedEvent.fromJson(json).computeHash()).isEqualTo(event.hash());
  }

  @Test
  void malformedExportLinesNameTheMissingMember() {
    JsonObject json =
        ChainedEvent.chain(
                1,
                AuditEntry.create(
                    Instant.now(),
                    Actor.system("t"),
                    null,
                    AuditEvent.success("a.b", "a", "1", null, null),
                    MAC),
                ChainedEvent.GENESIS_HASH)
            .toJson();
    json.remove("hash");
    assertThatThrownBy(() -> ChainedEvent.fromJson(json)).hasMessageContaining("'hash'");
    assertThatThrownBy(() -> ChainedEvent.fromJson(json.copy().put("hash", "x").put("seq", "one")))
        .isInstanceOf(IllegalArgumentException.class);
    JsonObject withoutMac = json.copy().put("hash", "x");
    withoutMac.remove("mac");
    assertThatThrownBy(() -> ChainedEvent.fromJson(withoutMac))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("eventId or a mac without the other");
  }

  @Test
  void checkpointMessageIsCanonicalAndExportRoundTrips() {
    Checkpoint checkpoint =
        new Checkpoint(
            42, "b".repeat(64), Instant.parse("2025-02-03T04:05:06.7Z"), "k1", new byte[64]);
    assertThat(new String(checkpoint.signedMessage(), java.nio.charset.StandardCharsets.UTF_8))
        .isEqualTo(
            "{\"headHash\":\""
                + "b".repeat(64)
                + "\",\"seq\":42,\"signedAt\":\"2025-02-03T04:05:06.700000Z\","
                + "\"type\":\"refund-broker.audit.checkpoint.v1\"}");
    assertThat(Checkpoint.fromJson(checkpoint.toJson())).isEqualTo(checkpoint);
  }
}
