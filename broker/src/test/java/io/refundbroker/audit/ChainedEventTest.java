package io.refundbroker.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class ChainedEventTest {
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
            Instant.parse("2025-01-01T00:00:00Z"),
            Actor.system("test"),
            "req-1",
            AuditEvent.success("x.y", "x", "1", null, details),
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
            Instant.parse("2025-01-01T00:00:00.1234567Z"),
            new Actor("cl_1", "STORE", "oslo-1"),
            null,
            AuditEvent.success("refund.requested", "refund", "r1", "acme", new JsonObject()),
            "a".repeat(64));
    JsonObject json = event.toJson();
    assertThat(json.getString("occurredAt")).isEqualTo("2025-01-01T00:00:00.123456Z");
    assertThat(ChainedEvent.fromJson(json)).isEqualTo(event);
  }

  @Test
  void malformedExportLinesNameTheMissingMember() {
    JsonObject json =
        ChainedEvent.chain(
                1,
                Instant.now(),
                Actor.system("t"),
                null,
                AuditEvent.success("a.b", "a", "1", null, null),
                ChainedEvent.GENESIS_HASH)
            .toJson();
    json.remove("hash");
    assertThatThrownBy(() -> ChainedEvent.fromJson(json)).hasMessageContaining("'hash'");
    assertThatThrownBy(() -> ChainedEvent.fromJson(json.copy().put("hash", "x").put("seq", "one")))
        .isInstanceOf(IllegalArgumentException.class);
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
