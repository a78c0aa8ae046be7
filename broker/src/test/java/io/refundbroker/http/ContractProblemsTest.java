package io.refundbroker.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * Every problem the request pipeline can answer before an operation's handler runs is described in
 * the contract, for every operation that can return it.
 */
class ContractProblemsTest {
  private static final Set<String> METHODS = Set.of("get", "post", "put", "patch", "delete");

  /** Answered for any operation: from the request head, the HTTP layer or the body limits. */
  private static final Map<String, String> EVERY_OPERATION =
      Map.of(
          "400", "BadRequest",
          "413", "PayloadTooLarge",
          "414", "UriTooLong",
          "415", "UnsupportedMediaType",
          "431", "HeadersTooLarge");

  @SuppressWarnings("unchecked")
  private static Map<String, Object> contract() throws IOException {
    try (InputStream in = ContractProblemsTest.class.getResourceAsStream("/openapi.yaml")) {
      return new Yaml(new SafeConstructor(new LoaderOptions())).load(in);
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Map<String, Object>> responsesByOperation(
      Map<String, Object> contract) {
    Map<String, Map<String, Object>> byOperation = new LinkedHashMap<>();
    Map<String, Object> paths = (Map<String, Object>) contract.get("paths");
    for (Object item : paths.values()) {
      for (Map.Entry<String, Object> entry : ((Map<String, Object>) item).entrySet()) {
        if (METHODS.contains(entry.getKey())) {
          Map<String, Object> operation = (Map<String, Object>) entry.getValue();
          Map<String, Object> responses = new LinkedHashMap<>();
          ((Map<Object, Object>) operation.get("responses"))
              .forEach((status, response) -> responses.put(String.valueOf(status), response));
          byOperation.put((String) operation.get("operationId"), responses);
        }
      }
    }
    return byOperation;
  }

  @SuppressWarnings("unchecked")
  private static String ref(Object response) {
    return response instanceof Map<?, ?> map
        ? (String) ((Map<String, Object>) map).get("$ref")
        : null;
  }

  @Test
  void everyOperationDescribesTheProblemsOfTheRequestPipeline() throws IOException {
    Map<String, Map<String, Object>> operations = responsesByOperation(contract());
    assertThat(operations).containsKeys("createStore", "healthLive", "importOrders");
    operations.forEach(
        (operationId, responses) ->
            EVERY_OPERATION.forEach(
                (status, component) ->
                    assertThat(ref(responses.get(status)))
                        .as(operationId + " " + status)
                        .isEqualTo("#/components/responses/" + component)));
    assertThat(ref(operations.get("getOrder").get("429")))
        .isEqualTo("#/components/responses/TooManyLookups");
    assertThat(ref(operations.get("requestRefund").get("429")))
        .isEqualTo("#/components/responses/TooManyRefunds");
    assertThat(ref(operations.get("importOrders").get("503")))
        .isEqualTo("#/components/responses/UploadsBusy");
  }

  @Test
  @SuppressWarnings("unchecked")
  void theyAreProblemsAndThoseThatMeanWaitSayHowLong() throws IOException {
    Map<String, Object> components =
        (Map<String, Object>) ((Map<String, Object>) contract().get("components")).get("responses");
    for (String name :
        Set.of(
            "BadRequest",
            "PayloadTooLarge",
            "UriTooLong",
            "UnsupportedMediaType",
            "HeadersTooLarge",
            "TooManyLookups",
            "TooManyRefunds",
            "UploadsBusy")) {
      Map<String, Object> response = (Map<String, Object>) components.get(name);
      assertThat(response).as(name).isNotNull();
      Map<String, Object> content = (Map<String, Object>) response.get("content");
      assertThat(content).as(name).containsOnlyKeys("application/problem+json");
      if (Set.of("TooManyLookups", "TooManyRefunds", "UploadsBusy").contains(name)) {
        assertThat((Map<String, Object>) response.get("headers"))
            .as(name)
            .containsKey("Retry-After");
      }
    }
  }
}
