package io.refundbroker.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.refundbroker.error.ProblemException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class JsonBodyRulesTest {

  private static ProblemException check(String json) {
    return JsonBodyRules.check(json.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void strictJsonWithPrintableTextPasses() {
    assertThat(
            check("{\"name\":\"Blåbær \\ud83d\\uded2\",\"amount\":{\"value\":1},\"tags\":[\"a\"]}"))
        .isNull();
    assertThat(check("  [1, \"two\", null]  ")).isNull();
    assertThat(check("\"just a string\"")).isNull();
  }

  @Test
  void everyStringIsChecked() {
    ProblemException nested = check("{\"amount\":{\"currency\":\"NO\\u0000K\"}}");
    assertThat(nested.code()).isEqualTo("INVALID_CHARACTER");
    assertThat(nested.detail()).contains("/amount/currency").contains("U+0000");
    assertThat(check("{\"tags\":[\"ok\",\"line\\nbreak\"]}").detail()).contains("/tags/1");
    ProblemException name = check("{\"na\\u001bme\":1}");
    assertThat(name.detail()).contains("member name").contains("U+001B").doesNotContain("\u001b");
    assertThat(check("{\"a\":\"tab\\there\"}").code()).isEqualTo("INVALID_CHARACTER");
    assertThat(check("{\"a\":\"c1\u0085\"}").detail()).contains("U+0085");
  }

  @Test
  void loneSurrogatesAreRefusedEscapedOrRaw() {
    assertThat(check("{\"a\":\"x\\udc00\"}").detail()).contains("U+DC00");
    byte[] cesu = {'{', '"', 'a', '"', ':', '"', (byte) 0xED, (byte) 0xA0, (byte) 0x80, '"', '}'};
    ProblemException raw = JsonBodyRules.check(cesu);
    assertThat(raw.code()).isIn("INVALID_CHARACTER", "MALFORMED_JSON");
  }

  @Test
  void nonStandardJsonIsMalformed() {
    for (String json :
        new String[] {
          "{/* c */\"a\":1}",
          "{\"a\":1 // c\n}",
          "{'a':1}",
          "{\"a\":1,}",
          "{\"a\":1}{}",
          "{\"a\":1} x",
          "",
          "{\"a\":NaN}",
          "{\"a\":\"\\x41\"}"
        }) {
      ProblemException problem = check(json);
      assertThat(problem).as(json).isNotNull();
      assertThat(problem.code()).as(json).isEqualTo("MALFORMED_JSON");
    }
  }

  @Test
  void aRepeatedMemberIsNamed() {
    ProblemException problem = check("{\"a\":{\"b\":1,\"b\":2}}");
    assertThat(problem.code()).isEqualTo("DUPLICATE_MEMBER");
    assertThat(problem.detail()).contains("/a/b");
    assertThat(check("{\"a\":{\"b\":1},\"c\":{\"b\":2}}")).isNull();
  }

  @Test
  void onlyMultilineMembersMayHoldLineBreaksAndNothingElse() {
    java.util.Set<String> pem = java.util.Set.of("/csr");
    byte[] request =
        "{\"name\":\"till\",\"csr\":\"-----BEGIN X-----\\r\\nAAAA\\n-----END X-----\\n\"}"
            .getBytes(StandardCharsets.UTF_8);
    assertThat(JsonBodyRules.check(request, pem)).isNull();
    assertThat(JsonBodyRules.check(request).code())
        .as("without the marker a line break is refused")
        .isEqualTo("INVALID_CHARACTER");
    ProblemException tab =
        JsonBodyRules.check("{\"csr\":\"a\\tb\"}".getBytes(StandardCharsets.UTF_8), pem);
    assertThat(tab.detail()).contains("/csr").contains("U+0009");
    ProblemException elsewhere =
        JsonBodyRules.check(
            "{\"name\":\"a\\nb\",\"csr\":\"x\"}".getBytes(StandardCharsets.UTF_8), pem);
    assertThat(elsewhere.detail()).contains("/name");
  }

  @Test
  void theContractMarksTheCertificateRequestAsMultiline() throws Exception {
    io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
    try {
      io.vertx.openapi.contract.OpenAPIContract contract =
          Api.loadContract(vertx).toCompletionStage().toCompletableFuture().get();
      assertThat(MultilineMembers.of(contract.getRawContract(), contract.operation("createClient")))
          .containsExactly("/csr");
      assertThat(MultilineMembers.of(contract.getRawContract(), contract.operation("createStore")))
          .isEmpty();
    } finally {
      vertx.close();
    }
  }
}
