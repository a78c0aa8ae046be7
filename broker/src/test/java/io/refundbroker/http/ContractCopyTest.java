package io.refundbroker.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class ContractCopyTest {

  private static JsonObject routerCopy() throws IOException {
    try (InputStream in = ContractCopyTest.class.getResourceAsStream("/openapi.yaml")) {
      return ContractCopy.forRouter(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
  }

  private static void patterns(Object node, List<String> found) {
    if (node instanceof JsonObject object) {
      for (String key : object.fieldNames()) {
        if (key.equals("pattern") && object.getValue(key) instanceof String p) {
          found.add(p);
        } else {
          patterns(object.getValue(key), found);
        }
      }
    } else if (node instanceof JsonArray array) {
      array.forEach(item -> patterns(item, found));
    }
  }

  @Test
  void noPatternTheValidatorRunsAcceptsATrailingLineBreak() throws IOException {
    JsonObject copy = routerCopy();
    List<String> found = new ArrayList<>();
    patterns(copy, found);
    assertThat(found).hasSizeGreaterThan(5);
    for (String p : found) {
      assertThat(p).as(p).doesNotEndWith("$");
    }
    String identifier =
        copy.getJsonObject("components")
            .getJsonObject("schemas")
            .getJsonObject("Identifier")
            .getString("pattern");
    // The validator runs patterns as Java regular expressions with find().
    assertThat(Pattern.compile(identifier).matcher("oslo-1").find()).isTrue();
    assertThat(Pattern.compile(identifier).matcher("oslo-1\n").find()).isFalse();
    String orderId =
        copy.getJsonObject("components")
            .getJsonObject("schemas")
            .getJsonObject("OrderIdValue")
            .getString("pattern");
    assertThat(Pattern.compile(orderId).matcher("order-7\n").find()).isFalse();
  }

  @Test
  void onlyAnAnchoringDollarIsRewritten() {
    assertThat(ContractCopy.anchored("^[a-z]+$")).isEqualTo("^[a-z]+\\z");
    assertThat(ContractCopy.anchored("^costs \\$")).isEqualTo("^costs \\$");
    assertThat(ContractCopy.anchored("^ends in backslash\\\\$"))
        .isEqualTo("^ends in backslash\\\\\\z");
    assertThat(ContractCopy.anchored("^[a-z]+")).isEqualTo("^[a-z]+");
  }
}
