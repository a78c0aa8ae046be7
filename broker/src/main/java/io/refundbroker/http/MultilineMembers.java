package io.refundbroker.http;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.openapi.contract.Operation;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * The members of an operation's JSON request body whose schema says {@code x-multiline: true}, as
 * JSON pointers: the only strings {@link JsonBodyRules} lets hold line breaks. Read from the raw
 * contract (top-level properties of the body schema, through {@code $ref}, {@code oneOf}, {@code
 * anyOf} and {@code allOf}).
 */
final class MultilineMembers {
  static final String EXTENSION = "x-multiline";
  private static final String JSON = "application/json";
  private static final String LOCAL_REF = "#/";

  private MultilineMembers() {}

  static Set<String> of(JsonObject rawContract, Operation operation) {
    JsonObject schema =
        rawContract
            .getJsonObject("paths", new JsonObject())
            .getJsonObject(operation.getOpenAPIPath(), new JsonObject())
            .getJsonObject(
                operation.getHttpMethod().name().toLowerCase(Locale.ROOT), new JsonObject())
            .getJsonObject("requestBody", new JsonObject())
            .getJsonObject("content", new JsonObject())
            .getJsonObject(JSON, new JsonObject())
            .getJsonObject("schema");
    Set<String> pointers = new HashSet<>();
    collect(rawContract, schema, pointers, 0);
    return pointers;
  }

  private static void collect(JsonObject contract, JsonObject schema, Set<String> out, int depth) {
    if (schema == null || depth > 8) {
      return;
    }
    JsonObject resolved = resolve(contract, schema);
    JsonObject properties = resolved.getJsonObject("properties", new JsonObject());
    for (String name : properties.fieldNames()) {
      JsonObject property = resolve(contract, properties.getJsonObject(name));
      if (Boolean.TRUE.equals(property.getBoolean(EXTENSION))) {
        out.add("/" + name);
      }
    }
    for (String combinator : new String[] {"oneOf", "anyOf", "allOf"}) {
      JsonArray alternatives = resolved.getJsonArray(combinator, new JsonArray());
      for (int i = 0; i < alternatives.size(); i++) {
        collect(contract, alternatives.getJsonObject(i), out, depth + 1);
      }
    }
  }

  /** Follows a local {@code $ref} ({@code #/components/schemas/X}); other schemas as they are. */
  private static JsonObject resolve(JsonObject contract, JsonObject schema) {
    JsonObject current = schema;
    for (int hops = 0; current != null && current.containsKey("$ref") && hops < 8; hops++) {
      String ref = current.getString("$ref");
      if (!ref.startsWith(LOCAL_REF)) {
        return current;
      }
      JsonObject target = contract;
      for (String part : ref.substring(LOCAL_REF.length()).split("/")) {
        target = target == null ? null : target.getJsonObject(part);
      }
      current = target;
    }
    return current == null ? new JsonObject() : current;
  }
}
