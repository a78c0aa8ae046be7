package io.refundbroker.testing;

import io.swagger.v3.parser.OpenAPIV3Parser;
import io.swagger.v3.parser.core.models.ParseOptions;
import io.swagger.v3.parser.core.models.SwaggerParseResult;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.json.schema.OutputUnit;
import io.vertx.json.schema.SchemaRepository;
import io.vertx.openapi.contract.OpenAPIVersion;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The rules {@code openapi.yaml} must keep, as findings (empty when it keeps them all); {@code
 * ContractLintTest} fails the build on any. Beyond the OpenAPI 3.1 meta-schema and swagger-parser's
 * own checks, the house rules:
 *
 * <ul>
 *   <li>every operation has a unique {@code operationId} and either {@code x-roles} (roles of the
 *       {@code Role} enum) or {@code security: []}, which only operations tagged {@code operations}
 *       (health, metrics, the contract) may have;
 *   <li>every operation declares a success and a {@code default} response, and every 4xx/5xx
 *       response is a problem ({@code application/problem+json} with the {@code Problem} schema),
 *       except the readiness probe's 503 ({@link #NOT_PROBLEMS});
 *   <li>every response but a 204 has content, and every media type a schema; a 204 has none; JSON
 *       Lines media types name their line's schema in {@code x-itemSchema}; text media types are
 *       string schemas;
 *   <li>every {@code $ref} is local and resolves; every component is used;
 *   <li>every path placeholder is a declared, required path parameter and vice versa; every tag is
 *       declared;
 *   <li>every member an object schema {@code required}s is one of its {@code properties}.
 * </ul>
 */
public final class ContractLint {
  private static final Set<String> METHODS =
      Set.of("get", "put", "post", "delete", "patch", "head", "options", "trace");
  private static final String PROBLEM_TYPE = "application/problem+json";
  private static final String PROBLEM_SCHEMA = "#/components/schemas/Problem";
  private static final String PUBLIC_TAG = "operations";

  /**
   * Error responses that are not problems, with the reason: a readiness probe answers 503 with the
   * same health document as its 200 (what load balancers and MicroProfile Health expect).
   */
  static final Set<String> NOT_PROBLEMS = Set.of("healthReady 503");

  private final String yaml;
  private final JsonObject document;
  private final List<String> findings = new ArrayList<>();

  private ContractLint(String yaml) {
    this.yaml = yaml;
    this.document = ResponseContract.yamlToJson(yaml);
  }

  /** Every finding about the contract {@code yaml} (meta-schema checked with {@code vertx}). */
  public static List<String> findings(Vertx vertx, String yaml) {
    ContractLint lint = new ContractLint(yaml);
    lint.parser();
    lint.metaSchema(vertx);
    lint.operations();
    lint.references();
    lint.unusedComponents();
    lint.requiredMembers(lint.document, "#");
    return List.copyOf(lint.findings);
  }

  private void parser() {
    ParseOptions options = new ParseOptions();
    options.setResolve(true);
    SwaggerParseResult parsed = new OpenAPIV3Parser().readContents(yaml, null, options);
    if (parsed.getOpenAPI() == null) {
      findings.add("swagger-parser cannot read the contract");
    }
    if (parsed.getMessages() != null) {
      parsed.getMessages().forEach(m -> findings.add("swagger-parser: " + m));
    }
    if (!String.valueOf(document.getValue("openapi")).startsWith("3.1.")) {
      findings.add("openapi is not 3.1.x: " + document.getValue("openapi"));
    }
  }

  private void metaSchema(Vertx vertx) {
    try {
      SchemaRepository repository =
          Await.result(OpenAPIVersion.V3_1.getRepository(vertx, "app:///"));
      OutputUnit result =
          Await.result(OpenAPIVersion.V3_1.validateContract(vertx, repository, document.copy()));
      if (!Boolean.TRUE.equals(result.getValid())) {
        List<OutputUnit> errors = result.getErrors() == null ? List.of(result) : result.getErrors();
        for (OutputUnit error : errors) {
          findings.add(
              "OpenAPI 3.1 schema: " + error.getInstanceLocation() + ": " + error.getError());
        }
      }
    } catch (RuntimeException e) {
      findings.add("OpenAPI 3.1 schema: " + e.getMessage());
    }
  }

  // ---- operations

  private void operations() {
    Set<String> ids = new HashSet<>();
    Set<String> roles = new HashSet<>();
    JsonObject roleSchema = resolve("#/components/schemas/Role");
    if (roleSchema != null) {
      roleSchema.getJsonArray("enum", new JsonArray()).forEach(r -> roles.add(String.valueOf(r)));
    }
    Set<String> tags = new HashSet<>();
    document.getJsonArray("tags", new JsonArray()).stream()
        .map(t -> ((JsonObject) t).getString("name"))
        .forEach(tags::add);
    JsonObject paths = document.getJsonObject("paths", new JsonObject());
    for (String path : paths.fieldNames()) {
      JsonObject item = paths.getJsonObject(path);
      for (String method : item.fieldNames()) {
        if (!METHODS.contains(method)) {
          continue;
        }
        JsonObject op = item.getJsonObject(method);
        String id = op.getString("operationId");
        String where = method.toUpperCase() + " " + path;
        if (id == null || id.isBlank()) {
          findings.add(where + ": no operationId");
          id = where;
        } else if (!ids.add(id)) {
          findings.add(where + ": operationId " + id + " is used twice");
        }
        security(id, op, roles);
        for (Object tag : op.getJsonArray("tags", new JsonArray())) {
          if (!tags.contains(String.valueOf(tag))) {
            findings.add(id + ": tag " + tag + " is not declared");
          }
        }
        pathParameters(id, path, item, op);
        responses(id, op);
      }
    }
  }

  private void security(String id, JsonObject op, Set<String> roles) {
    Object declared = op.getValue("x-roles");
    JsonArray security = op.getJsonArray("security");
    boolean isPublic = security != null && security.isEmpty();
    if (declared == null) {
      if (!isPublic) {
        findings.add(id + ": neither x-roles nor security: []");
      } else if (!op.getJsonArray("tags", new JsonArray()).contains(PUBLIC_TAG)) {
        findings.add(id + ": public (security: []) but not an '" + PUBLIC_TAG + "' operation");
      }
      return;
    }
    if (isPublic) {
      findings.add(id + ": x-roles on a public operation");
    }
    if (!(declared instanceof JsonArray list) || list.isEmpty()) {
      findings.add(id + ": x-roles is not a non-empty list");
      return;
    }
    for (Object role : list) {
      if (!roles.contains(String.valueOf(role))) {
        findings.add(id + ": x-roles names " + role + ", not a Role");
      }
    }
  }

  private void pathParameters(String id, String path, JsonObject item, JsonObject op) {
    Set<String> placeholders = new LinkedHashSet<>();
    Matcher m = Pattern.compile("\\{([^}]+)}").matcher(path);
    while (m.find()) {
      placeholders.add(m.group(1));
    }
    Set<String> declared = new LinkedHashSet<>();
    List<Object> parameters = new ArrayList<>();
    item.getJsonArray("parameters", new JsonArray()).forEach(parameters::add);
    op.getJsonArray("parameters", new JsonArray()).forEach(parameters::add);
    for (Object raw : parameters) {
      JsonObject parameter = follow((JsonObject) raw);
      if (parameter == null || !"path".equals(parameter.getString("in"))) {
        continue;
      }
      declared.add(parameter.getString("name"));
      if (!parameter.getBoolean("required", false)) {
        findings.add(id + ": path parameter " + parameter.getString("name") + " is not required");
      }
    }
    if (!declared.equals(placeholders)) {
      findings.add(id + ": path placeholders " + placeholders + " but path parameters " + declared);
    }
  }

  private void responses(String id, JsonObject op) {
    JsonObject responses = op.getJsonObject("responses", new JsonObject());
    if (responses.fieldNames().stream().noneMatch(s -> s.startsWith("2"))) {
      findings.add(id + ": no success response");
    }
    if (!responses.containsKey("default")) {
      findings.add(id + ": no default response");
    }
    for (String status : responses.fieldNames()) {
      JsonObject response = follow(responses.getJsonObject(status));
      if (response == null) {
        continue;
      }
      String where = id + " " + status;
      JsonObject content = response.getJsonObject("content");
      boolean error = status.equals("default") || status.startsWith("4") || status.startsWith("5");
      if (error && !NOT_PROBLEMS.contains(where)) {
        boolean problem =
            content != null
                && content.fieldNames().equals(Set.of(PROBLEM_TYPE))
                && PROBLEM_SCHEMA.equals(
                    content
                        .getJsonObject(PROBLEM_TYPE)
                        .getJsonObject("schema", new JsonObject())
                        .getString("$ref"));
        if (!problem) {
          findings.add(where + ": an error response that is not " + PROBLEM_TYPE + " (Problem)");
        }
      }
      if (status.equals("204")) {
        if (content != null && !content.isEmpty()) {
          findings.add(where + ": a 204 with content");
        }
        continue;
      }
      if (content == null || content.isEmpty()) {
        findings.add(where + ": no content");
        continue;
      }
      for (String mediaType : content.fieldNames()) {
        mediaType(where + " " + mediaType, mediaType, content.getJsonObject(mediaType));
      }
    }
  }

  private void mediaType(String where, String mediaType, JsonObject media) {
    JsonObject schema = media == null ? null : media.getJsonObject("schema");
    if (schema == null) {
      findings.add(where + ": no schema");
      return;
    }
    boolean json = mediaType.equals("application/json") || mediaType.endsWith("+json");
    if (mediaType.equals("application/x-ndjson")) {
      if (!media.containsKey("x-itemSchema")) {
        findings.add(where + ": JSON Lines without x-itemSchema");
      }
    } else if (!json && !"string".equals(follow(schema).getValue("type"))) {
      findings.add(where + ": a text media type whose schema is not type: string");
    }
  }

  // ---- references

  private void references() {
    references(document, "#");
  }

  private void references(Object node, String at) {
    if (node instanceof JsonObject object) {
      Object ref = object.getValue("$ref");
      if (ref instanceof String target) {
        if (!target.startsWith("#/")) {
          findings.add(at + ": $ref " + target + " is not local");
        } else if (resolveAny(target) == null) {
          findings.add(at + ": $ref " + target + " does not resolve");
        }
      }
      for (Map.Entry<String, Object> entry : object) {
        references(entry.getValue(), at + "/" + ResponseContract.escape(entry.getKey()));
      }
    } else if (node instanceof JsonArray array) {
      for (int i = 0; i < array.size(); i++) {
        references(array.getValue(i), at + "/" + i);
      }
    }
  }

  private void unusedComponents() {
    Set<String> referenced = new HashSet<>();
    collectRefs(document, referenced);
    Set<String> schemes = new HashSet<>();
    collectSecurity(document, schemes);
    JsonObject components = document.getJsonObject("components", new JsonObject());
    Set<String> unused = new TreeSet<>();
    for (String kind : components.fieldNames()) {
      for (String name : components.getJsonObject(kind).fieldNames()) {
        String pointer = "#/components/" + kind + "/" + name;
        boolean used =
            kind.equals("securitySchemes") ? schemes.contains(name) : referenced.contains(pointer);
        if (!used) {
          unused.add(pointer);
        }
      }
    }
    unused.forEach(pointer -> findings.add(pointer + " is never used"));
  }

  private static void collectRefs(Object node, Set<String> refs) {
    if (node instanceof JsonObject object) {
      if (object.getValue("$ref") instanceof String ref) {
        refs.add(ref);
      }
      object.forEach(e -> collectRefs(e.getValue(), refs));
    } else if (node instanceof JsonArray array) {
      array.forEach(item -> collectRefs(item, refs));
    }
  }

  private static void collectSecurity(Object node, Set<String> schemes) {
    if (node instanceof JsonObject object) {
      if (object.getValue("security") instanceof JsonArray requirements) {
        for (Object requirement : requirements) {
          if (requirement instanceof JsonObject names) {
            schemes.addAll(names.fieldNames());
          }
        }
      }
      object.forEach(e -> collectSecurity(e.getValue(), schemes));
    } else if (node instanceof JsonArray array) {
      array.forEach(item -> collectSecurity(item, schemes));
    }
  }

  // ---- schemas

  /** Every {@code required} member of an object schema is one of its {@code properties}. */
  private void requiredMembers(Object node, String at) {
    if (node instanceof JsonObject object) {
      if (object.getValue("required") instanceof JsonArray required
          && object.getValue("properties") instanceof JsonObject properties) {
        for (Object member : required) {
          if (!properties.containsKey(String.valueOf(member))) {
            findings.add(at + ": requires " + member + ", which is not one of its properties");
          }
        }
      }
      for (Map.Entry<String, Object> entry : object) {
        requiredMembers(entry.getValue(), at + "/" + ResponseContract.escape(entry.getKey()));
      }
    } else if (node instanceof JsonArray array) {
      for (int i = 0; i < array.size(); i++) {
        requiredMembers(array.getValue(i), at + "/" + i);
      }
    }
  }

  // ---- helpers

  private JsonObject follow(JsonObject node) {
    JsonObject current = node;
    for (int hops = 0; current != null && current.containsKey("$ref") && hops < 16; hops++) {
      current = resolve(current.getString("$ref"));
    }
    return current;
  }

  private JsonObject resolve(String pointer) {
    return resolveAny(pointer) instanceof JsonObject found ? found : null;
  }

  private Object resolveAny(String pointer) {
    if (!pointer.startsWith("#/")) {
      return null;
    }
    Object node = document;
    for (String raw : pointer.substring(2).split("/")) {
      String key = raw.replace("~1", "/").replace("~0", "~");
      if (node instanceof JsonObject object && object.containsKey(key)) {
        node = object.getValue(key);
      } else if (node instanceof JsonArray array && key.matches("\\d+")) {
        int index = Integer.parseInt(key);
        node = index < array.size() ? array.getValue(index) : null;
      } else {
        return null;
      }
    }
    return node;
  }
}
