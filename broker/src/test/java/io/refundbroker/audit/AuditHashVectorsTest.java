package io.refundbroker.audit;

import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.caller.Actor;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Known-answer vectors for the audit chain, written by hand from README › Audit trail: the
 * canonical content (keys sorted, no whitespace), {@code mac = HMAC-SHA256(key, content)} and
 * {@code hash = SHA-256(prevHash + "\n" + seq + "\n" + SHA-256(content) + "\n" + mac)} with 64
 * zeros before seq 1. The expected values were computed outside this code base, on the exact
 * strings below:
 *
 * <pre>
 * printf '%s' "$CONTENT" | sha256sum
 * printf '%s' "$CONTENT" | openssl dgst -sha256 -mac HMAC -macopt hexkey:000102…1f
 * printf '%s\n%s\n%s\n%s' "$PREV" "$SEQ" "$ENTRY_HASH" "$MAC" | sha256sum
 * </pre>
 *
 * so a change to the canonical form, the MAC or the link formula fails here even when the code that
 * makes a hash and the code that checks it change together.
 */
class AuditHashVectorsTest {
  private static final Actor ADMIN = new Actor("cl_admin", "ADMIN", null);

  private static final String CONTENT_1 =
      "{\"action\":\"store.created\",\"actor\":{\"clientId\":\"cl_admin\",\"role\":\"ADMIN\","
          + "\"storeId\":null},\"chainId\":\"acme\",\"details\":{\"limit\":5000,\"msn\":\"123456\","
          + "\"name\":\"Oslo \u00d8 \\\"sentrum\\\"\"},\"eventId\":"
          + "\"00000000-0000-4000-8000-000000000001\",\"occurredAt\":\"2026-03-01T12:00:00.123456Z\","
          + "\"outcome\":\"SUCCESS\",\"requestId\":\"req-1\",\"subject\":{\"id\":\"oslo-1\","
          + "\"type\":\"store\"},\"type\":\"refund-broker.audit.event.v2\"}";
  private static final String ENTRY_HASH_1 =
      "b511ff6a1d33304388937c667d601fc5488a84ae8493a77fabe7962bfe0d79d6";
  private static final String MAC_1 =
      "4a61e822376c398bbf3d7217ca2ee4388db242b8eb3e2368002f0d029ab48ccc";
  private static final String HASH_1 =
      "9d655a71080809100d6c57e27f47a614827355d5a94d205e7e0b2a1c593c4ca6";

  private static final String CONTENT_2 =
      "{\"action\":\"store.frozen\",\"actor\":{\"clientId\":\"cl_admin\",\"role\":\"ADMIN\","
          + "\"storeId\":null},\"chainId\":\"acme\",\"details\":{\"changes\":{\"frozen\":true}},"
          + "\"eventId\":\"00000000-0000-4000-8000-000000000002\",\"occurredAt\":"
          + "\"2026-03-01T12:00:01.000000Z\",\"outcome\":\"SUCCESS\",\"requestId\":\"req-2\","
          + "\"subject\":{\"id\":\"oslo-1\",\"type\":\"store\"},"
          + "\"type\":\"refund-broker.audit.event.v2\"}";
  private static final String ENTRY_HASH_2 =
      "2e862f8066d3fd9c34617fe0bda5c53b156c2ea3ba0309c94b19e6d2c07ca3ed";
  private static final String MAC_2 =
      "10bf5b833375ffdb15e32fc7a3b136ce4f676c0dc63656b59f3057d08e6589fa";
  private static final String HASH_2 =
      "b7359ccc76889221d7b0675ad0565d74112747b940f465a655276f3761e8fce7";

  @Test
  void theFirstEventHasItsKnownContentEntryHashMacAndLinkHash() {
    AuditEntry entry = first(testKey());

    assertThat(entry.canonical()).isEqualTo(CONTENT_1);
    assertThat(entry.entryHash()).isEqualTo(ENTRY_HASH_1);
    assertThat(entry.mac()).isEqualTo(MAC_1);
    assertThat(ChainedEvent.chain(1, entry, ChainedEvent.GENESIS_HASH).hash()).isEqualTo(HASH_1);
  }

  @Test
  void theSecondEventChainsOnTheFirstsHash() {
    AuditMac mac = testKey();
    AuditEntry entry =
        AuditEntry.create(
            UUID.fromString("00000000-0000-4000-8000-000000000002"),
            Instant.parse("2026-03-01T12:00:01Z"),
            ADMIN,
            "req-2",
            AuditEvent.success(
                "store.frozen",
                "store",
                "oslo-1",
                "acme",
                new JsonObject().put("changes", new JsonObject().put("frozen", true))),
            mac);

    assertThat(entry.canonical()).isEqualTo(CONTENT_2);
    assertThat(entry.entryHash()).isEqualTo(ENTRY_HASH_2);
    assertThat(entry.mac()).isEqualTo(MAC_2);
    assertThat(ChainedEvent.chain(2, entry, HASH_1).hash()).isEqualTo(HASH_2);
    assertThat(ChainedEvent.linkHash(2, ENTRY_HASH_2, MAC_2, HASH_1)).isEqualTo(HASH_2);
  }

  @Test
  void theMacKeyIsWhatMakesTheMac() {
    AuditMac other = AuditMac.random();

    assertThat(other.mac(CONTENT_1)).isNotEqualTo(MAC_1);
    assertThat(testKey().verifies(first(testKey()))).isTrue();
    assertThat(other.verifies(first(testKey()))).isFalse();
  }

  private static AuditEntry first(AuditMac mac) {
    return AuditEntry.create(
        UUID.fromString("00000000-0000-4000-8000-000000000001"),
        Instant.parse("2026-03-01T12:00:00.123456789Z"),
        ADMIN,
        "req-1",
        AuditEvent.success(
            "store.created",
            "store",
            "oslo-1",
            "acme",
            new JsonObject()
                .put("name", "Oslo \u00d8 \"sentrum\"")
                .put("msn", "123456")
                .put("limit", 5000)),
        mac);
  }

  /** The vectors' MAC key: the bytes 0x00 to 0x1f (a test vector, never a broker key). */
  private static AuditMac testKey() {
    byte[] key = new byte[32];
    for (int i = 0; i < key.length; i++) {
      key[i] = (byte) i;
    }
    return AuditMac.fromSecret(Map.of("key", Base64.getEncoder().encodeToString(key))).result();
  }
}
