package io.refundbroker.audit;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The bytes every audit hash and request fingerprint is computed over: one encoding per value,
 * whatever order its members were put in and whatever number type carries an integer.
 */
class CanonicalJsonTest {

  @Test
  void membersAreSortedAndNothingIsSpaced() {
    JsonObject json =
        new JsonObject()
            .put("b", 1)
            .put("a", new JsonArray().add(true).add(false).addNull())
            .put("B", "x")
            .put("é", new JsonObject());
    assertThat(CanonicalJson.encode(json))
        .isEqualTo("{\"B\":\"x\",\"a\":[true,false,null],\"b\":1,\"é\":{}}");
    assertThat(CanonicalJson.encode(new JsonArray())).isEqualTo("[]");
    assertThat(CanonicalJson.encode(null)).isEqualTo("null");
  }

  @Test
  void theOrderMembersWerePutInDoesNotMatter() {
    Random random = new Random(77);
    for (int round = 0; round < 200; round++) {
      Map<String, Object> members = new LinkedHashMap<>();
      for (int i = 0; i < 1 + random.nextInt(8); i++) {
        members.put("k" + random.nextInt(50), random.nextInt(3) == 0 ? "v" + i : (Object) (long) i);
      }
      JsonObject forward = new JsonObject();
      members.forEach(forward::put);
      JsonObject backward = new JsonObject();
      List<String> keys = List.copyOf(members.keySet());
      for (int i = keys.size() - 1; i >= 0; i--) {
        backward.put(keys.get(i), members.get(keys.get(i)));
      }
      assertThat(CanonicalJson.encode(backward))
          .as("seed 77, round %d", round)
          .isEqualTo(CanonicalJson.encode(forward))
          .isEqualTo(CanonicalJson.encode(members));
    }
  }

  @Test
  void everyIntegerTypeEncodesTheSame() {
    for (Object value :
        new Object[] {
          42,
          42L,
          (short) 42,
          (byte) 42,
          BigInteger.valueOf(42),
          new BigDecimal("42.000"),
          42.0d,
          42.0f
        }) {
      assertThat(CanonicalJson.encode(List.of(value)))
          .as(value.getClass().getName())
          .isEqualTo("[42]");
    }
    assertThat(CanonicalJson.encode(new BigDecimal("4.20"))).isEqualTo("4.2");
    assertThat(CanonicalJson.encode(new BigDecimal("1E+3"))).isEqualTo("1000");
    assertThat(CanonicalJson.encode(0.5d)).isEqualTo("0.5");
    assertThat(CanonicalJson.encode(new BigDecimal("0.000001"))).isEqualTo("0.000001");
    assertThat(CanonicalJson.encode(Long.MIN_VALUE)).isEqualTo("-9223372036854775808");
  }

  @Test
  void stringsEscapeOnlyQuotesBackslashesAndControlCharacters() {
    assertThat(CanonicalJson.encode("a\"b\\c/d")).isEqualTo("\"a\\\"b\\\\c/d\"");
    assertThat(CanonicalJson.encode("\n\r\t")).isEqualTo("\"\\n\\r\\t\"");
    assertThat(CanonicalJson.encode("\u0000\u0001\u001f\b\f"))
        .isEqualTo("\"\\u0000\\u0001\\u001f\\u0008\\u000c\"");
    assertThat(CanonicalJson.encode(" ~\u007fø\u202e😀"))
        .as("from the space on, characters are written as they are")
        .isEqualTo("\" ~\u007fø\u202e😀\"");
    assertThat(CanonicalJson.encode(Map.of("k\"\n", "v"))).isEqualTo("{\"k\\\"\\n\":\"v\"}");
  }

  @Test
  void otherValuesAreWrittenAsTheirText() {
    assertThat(CanonicalJson.encode(Thread.State.NEW)).isEqualTo("\"NEW\"");
    assertThat(CanonicalJson.encode(List.of(List.of(1, 2), Map.of()))).isEqualTo("[[1,2],{}]");
  }
}
