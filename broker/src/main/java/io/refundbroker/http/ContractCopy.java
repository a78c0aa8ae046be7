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
 * Every schema {@code pattern} ending in {@code $} ends in {@code \z} instead. The contract's
 * patterns are ECMA-262 regular expressions, where {@code $} matches only at the end of the text;
 * the validator runs them as Java regular expressions, where {@code $} also matches before a final
 * line break, so {@code "oslo-1\n"} would pass {@code ^[A-Za-z0-9._-]+$}.
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
    anchorPatterns(contract);
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

  /** Rewrites a final {@code $} of every {@code pattern} to {@code \z} (end of input only). */
  private static void anchorPatterns(Object node) {
    if (node instanceof JsonObject object) {
      for (String key : object.fieldNames()) {
        Object value = object.getValue(key);
        if (key.equals("pattern") && value instanceof String pattern) {
          object.put(key, anchored(pattern));
        } else {
          anchorPatterns(value);
        }
      }
    } else if (node instanceof io.vertx.core.json.JsonArray array) {
      array.forEach(ContractCopy::anchorPatterns);
    }
  }

  static String anchored(String pattern) {
    if (!pattern.endsWith("$")) {
      return pattern;
    }
    int backslashes = 0;
    for (int i = pattern.length() - 2; i >= 0 && pattern.charAt(i) == '\\'; i--) {
      backslashes++;
    }
    // An escaped dollar ("\$") is a literal character, not an anchor.
    return backslashes % 2 == 1 ? pattern : pattern.substring(0, pattern.length() - 1) + "\\z";
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
