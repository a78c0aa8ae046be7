package io.refundbroker.http;

import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The copy of {@code openapi.yaml} handed to the router (see {@link Api#loadContract}): response
 * media types it cannot validate are dropped, and so are the {@code mutualTLS} alternatives of
 * {@code security} — client certificates are checked by the broker's {@link Authenticator}, and the
 * router would otherwise put an authentication handler of its own in front of every operation.
 */
final class ContractCopy {
  private static final Set<String> ROUTER_MEDIA_TYPES =
      Set.of(
          "application/json",
          "application/json; charset=utf-8",
          "multipart/form-data",
          "application/hal+json",
          "application/octet-stream",
          "text/plain",
          "text/plain; charset=utf-8");

  private ContractCopy() {}

  static JsonObject forRouter(String yamlText) {
    Object parsed = new Yaml(new SafeConstructor(new LoaderOptions())).load(yamlText);
    if (!(parsed instanceof Map<?, ?> map)) {
      throw new IllegalStateException("openapi.yaml is not a YAML mapping");
    }
    JsonObject contract = new JsonObject(normalise(map));
    JsonObject components = contract.getJsonObject("components", new JsonObject());
    Set<String> mutualTls = mutualTlsSchemes(components);
    stripSecurity(contract, mutualTls);
    JsonObject paths = contract.getJsonObject("paths", new JsonObject());
    for (String path : paths.fieldNames()) {
      JsonObject item = paths.getJsonObject(path);
      for (String method : item.fieldNames()) {
        if (item.getValue(method) instanceof JsonObject operation) {
          stripResponses(operation.getJsonObject("responses"));
          stripSecurity(operation, mutualTls);
        }
      }
    }
    stripResponses(components.getJsonObject("responses"));
    return contract;
  }

  private static Set<String> mutualTlsSchemes(JsonObject components) {
    JsonObject schemes = components.getJsonObject("securitySchemes", new JsonObject());
    Set<String> names = new java.util.HashSet<>();
    for (String name : schemes.fieldNames()) {
      if (schemes.getValue(name) instanceof JsonObject scheme
          && "mutualTLS".equals(scheme.getString("type"))) {
        names.add(name);
      }
    }
    return names;
  }

  /** Drops the requirements of {@code owner}'s non-empty {@code security} that are mutual TLS. */
  private static void stripSecurity(JsonObject owner, Set<String> mutualTls) {
    if (!(owner.getValue("security") instanceof io.vertx.core.json.JsonArray requirements)
        || requirements.isEmpty()) {
      return;
    }
    requirements
        .getList()
        .removeIf(
            requirement ->
                requirement instanceof Map<?, ?> names
                    && !names.isEmpty()
                    && mutualTls.containsAll(names.keySet()));
  }

  private static void stripResponses(JsonObject responses) {
    if (responses == null) {
      return;
    }
    for (String status : responses.fieldNames()) {
      if (!(responses.getValue(status) instanceof JsonObject response)) {
        continue;
      }
      JsonObject content = response.getJsonObject("content");
      if (content == null) {
        continue;
      }
      content.fieldNames().removeIf(type -> !ROUTER_MEDIA_TYPES.contains(type));
      if (content.isEmpty()) {
        response.remove("content");
      }
    }
  }

  /** SnakeYAML yields Integer keys for HTTP statuses; JSON wants strings throughout. */
  @SuppressWarnings("unchecked")
  private static Map<String, Object> normalise(Map<?, ?> map) {
    Map<String, Object> out = new java.util.LinkedHashMap<>();
    for (Map.Entry<?, ?> e : map.entrySet()) {
      out.put(String.valueOf(e.getKey()), normaliseValue(e.getValue()));
    }
    return out;
  }

  private static Object normaliseValue(Object value) {
    if (value instanceof Map<?, ?> m) {
      return normalise(m);
    }
    if (value instanceof List<?> list) {
      return new java.util.ArrayList<>(list.stream().map(ContractCopy::normaliseValue).toList());
    }
    return value;
  }
}
