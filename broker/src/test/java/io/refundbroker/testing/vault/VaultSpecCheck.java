package io.refundbroker.testing.vault;

import io.refundbroker.testing.Specs;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks requests the broker sends to the Vault double against Vault's OpenAPI description ({@code
 * specs/vault/openapi.json}, from hashicorp/vault-client-go), where it describes them: the path
 * must match a path template of the spec with an operation for the method, query parameters must be
 * declared, a required request body must be present, and each body member the spec declares must
 * have the declared JSON type.
 *
 * <p>Only what the spec states is enforced, minus the limits {@code specs/vault/SOURCES.md} lists:
 * {@code ?version=} on a KV v2 read is accepted although undeclared; {@code renew-self} may come
 * without a body and with a numeric {@code increment}; {@code LIST} is {@code GET ?list=true} on
 * the trailing-slash path; {@code sys/health} takes the query parameters Vault's health
 * documentation lists ({@code standbyok}, {@code perfstandbyok}, {@code activecode}, …) although
 * the spec declares none, and {@code HEAD} like {@code GET}. Unknown body members are allowed (the
 * spec does not forbid them). The envelope of responses is not described by the spec and is not
 * checked.
 *
 * <p>The spec comes from {@code $CONTRACTS_DIR} or {@code $CONTRACTS_DIR_DEFAULT} (set by the pom).
 * When it is absent the check is skipped with a message.
 */
public final class VaultSpecCheck {
  private static final Logger LOG = LoggerFactory.getLogger(VaultSpecCheck.class);
  private static final Pattern PARAM = Pattern.compile("\\{([a-z0-9_]+)}");

  /** The query parameters of {@code sys/health} (developer.hashicorp.com api-docs). */
  private static final Set<String> HEALTH_PARAMETERS =
      Set.of(
          "standbyok",
          "perfstandbyok",
          "activecode",
          "standbycode",
          "drsecondarycode",
          "haunhealthycode",
          "performancestandbycode",
          "removedcode",
          "sealedcode",
          "uninitcode");

  private static volatile JsonObject cachedSpec;

  private record Template(String raw, Pattern regex, int literalLength, JsonObject item) {}

  private final List<Template> templates = new ArrayList<>();
  private final JsonObject schemas;
  private final boolean enabled;

  private VaultSpecCheck(JsonObject spec, Map<String, String> mounts) {
    this.enabled = spec != null;
    this.schemas =
        spec == null ? new JsonObject() : spec.getJsonObject("components").getJsonObject("schemas");
    if (spec == null) {
      return;
    }
    JsonObject paths = spec.getJsonObject("paths");
    for (String raw : paths.fieldNames()) {
      if (raw.contains("^") || raw.contains("$")) {
        continue;
      }
      Template template = template(raw, mounts, paths.getJsonObject(raw));
      if (template != null) {
        templates.add(template);
      }
    }
  }

  /**
   * Loads the spec for a Vault whose mounts are named {@code mounts} (spec mount parameter → actual
   * mount, e.g. {@code kv_v2_mount_path → refund-broker}); only those mounts' templates are used,
   * so a path is never matched against a different engine's template.
   */
  public static VaultSpecCheck load(Map<String, String> mounts) {
    return new VaultSpecCheck(spec(), mounts);
  }

  public boolean enabled() {
    return enabled;
  }

  /**
   * The spec violations of one request (empty when it conforms or the check is disabled).
   *
   * @param path the path after {@code /v1/}, without the query
   * @param body the parsed JSON body, or null when the request had none
   */
  public List<String> check(
      String method, String path, Map<String, List<String>> query, JsonObject body) {
    List<String> problems = new ArrayList<>();
    if (!enabled) {
      return problems;
    }
    String full = "/" + path;
    Template match = null;
    for (Template t : templates) {
      if (t.regex().matcher(full).matches()
          && (match == null || t.literalLength() > match.literalLength())) {
        match = t;
      }
    }
    if (match == null) {
      problems.add(method + " /v1" + full + ": no path of the Vault spec matches");
      return problems;
    }
    boolean list = "true".equals(first(query, "list")) || method.equals("LIST");
    boolean health = full.equals("/sys/health");
    String verb =
        list || (health && method.equals("HEAD"))
            ? "get"
            : method.toLowerCase(Locale.ROOT).equals("put")
                ? "post"
                : method.toLowerCase(Locale.ROOT);
    JsonObject operation = match.item().getJsonObject(verb);
    if (operation == null && verb.equals("post")) {
      operation = match.item().getJsonObject("put");
    }
    if (operation == null) {
      problems.add(method + " " + match.raw() + ": the spec has no such operation");
      return problems;
    }
    String operationId = operation.getString("operationId", "?");
    checkQuery(problems, operationId, match, operation, query, list);
    checkBody(problems, operationId, operation, body);
    return problems;
  }

  private void checkQuery(
      List<String> problems,
      String operationId,
      Template match,
      JsonObject operation,
      Map<String, List<String>> query,
      boolean list) {
    Set<String> declared = new java.util.HashSet<>();
    for (JsonArray params :
        new JsonArray[] {
          match.item().getJsonArray("parameters", new JsonArray()),
          operation.getJsonArray("parameters", new JsonArray())
        }) {
      for (Object p : params) {
        JsonObject param = (JsonObject) p;
        if ("query".equals(param.getString("in"))) {
          declared.add(param.getString("name"));
        }
      }
    }
    for (String name : query.keySet()) {
      boolean allowed =
          declared.contains(name)
              || (name.equals("list") && list && match.raw().endsWith("/"))
              // SOURCES.md: kv-v2-read declares no version parameter although Vault accepts it
              || (name.equals("version") && operationId.equals("kv-v2-read"))
              // api-docs/system/health: the spec declares none of the health parameters
              || (operationId.equals("read-health-status") && HEALTH_PARAMETERS.contains(name));
      if (!allowed) {
        problems.add(operationId + ": query parameter '" + name + "' is not in the spec");
      }
    }
  }

  private void checkBody(
      List<String> problems, String operationId, JsonObject operation, JsonObject body) {
    JsonObject requestBody = operation.getJsonObject("requestBody");
    if (requestBody == null) {
      return;
    }
    // SOURCES.md: renew-self's body is declared required, but Vault accepts none (the driver
    // sends none unless asked for an increment)
    boolean optional = operationId.equals("token-renew-self");
    if (body == null) {
      if (requestBody.getBoolean("required", false) && !optional) {
        problems.add(operationId + ": the spec requires a request body");
      }
      return;
    }
    JsonObject schema =
        resolve(
            requestBody
                .getJsonObject("content", new JsonObject())
                .getJsonObject("application/json", new JsonObject())
                .getJsonObject("schema"));
    if (schema == null) {
      return;
    }
    JsonObject properties = schema.getJsonObject("properties", new JsonObject());
    for (String name : body.fieldNames()) {
      JsonObject property = resolve(properties.getJsonObject(name));
      if (property == null || !property.containsKey("type")) {
        continue;
      }
      String type = property.getString("type");
      Object value = body.getValue(name);
      // SOURCES.md: increment is typed string (duration) but Vault accepts integer seconds
      boolean numericDuration =
          operationId.equals("token-renew-self")
              && name.equals("increment")
              && value instanceof Number;
      if (!numericDuration && !hasType(value, type)) {
        problems.add(
            operationId
                + ": body member '"
                + name
                + "' should be "
                + type
                + " but is "
                + (value == null ? "null" : value.getClass().getSimpleName()));
      }
    }
  }

  private JsonObject resolve(JsonObject schema) {
    if (schema != null && schema.containsKey("$ref")) {
      String ref = schema.getString("$ref");
      return schemas.getJsonObject(ref.substring(ref.lastIndexOf('/') + 1));
    }
    return schema;
  }

  private static boolean hasType(Object value, String type) {
    return switch (type) {
      case "string" -> value instanceof String;
      case "integer" -> value instanceof Integer || value instanceof Long;
      case "number" -> value instanceof Number;
      case "boolean" -> value instanceof Boolean;
      case "object" -> value instanceof JsonObject;
      case "array" -> value instanceof JsonArray;
      default -> true;
    };
  }

  private static Template template(String raw, Map<String, String> mounts, JsonObject item) {
    StringBuilder regex = new StringBuilder();
    int literal = 0;
    var m = PARAM.matcher(raw);
    int last = 0;
    while (m.find()) {
      String before = raw.substring(last, m.start());
      regex.append(Pattern.quote(before));
      literal += before.length();
      String name = m.group(1);
      if (name.endsWith("_mount_path")) {
        String mount = mounts.get(name);
        if (mount == null) {
          return null;
        }
        regex.append(Pattern.quote(mount));
        literal += mount.length();
      } else {
        regex.append(name.equals("path") ? ".+" : "[^/]+");
      }
      last = m.end();
    }
    String rest = raw.substring(last);
    regex.append(Pattern.quote(rest));
    literal += rest.length();
    return new Template(raw, Pattern.compile(regex.toString()), literal, item);
  }

  private static String first(Map<String, List<String>> query, String name) {
    List<String> values = query.get(name);
    return values == null || values.isEmpty() ? null : values.get(0);
  }

  /** Whether the Vault spec was found (see {@link io.refundbroker.testing.Specs}). */
  public static boolean specPresent() {
    return spec() != null;
  }

  private static JsonObject spec() {
    if (cachedSpec != null) {
      return cachedSpec;
    }
    String dir = System.getenv("CONTRACTS_DIR");
    if (dir == null || dir.isBlank()) {
      dir = System.getenv("CONTRACTS_DIR_DEFAULT");
    }
    Path file = dir == null ? null : Path.of(dir, "vault", "openapi.json");
    if (file == null || !Files.isRegularFile(file)) {
      Specs.missing("no vault/openapi.json under CONTRACTS_DIR or CONTRACTS_DIR_DEFAULT");
      LOG.warn(
          "Vault spec not found (CONTRACTS_DIR / CONTRACTS_DIR_DEFAULT → vault/openapi.json):"
              + " requests to the Vault double are NOT checked against it");
      return null;
    }
    try {
      cachedSpec = new JsonObject(Files.readString(file));
      return cachedSpec;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
