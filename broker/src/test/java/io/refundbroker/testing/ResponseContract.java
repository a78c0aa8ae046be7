package io.refundbroker.testing;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.json.schema.Draft;
import io.vertx.json.schema.JsonSchema;
import io.vertx.json.schema.JsonSchemaOptions;
import io.vertx.json.schema.OutputFormat;
import io.vertx.json.schema.OutputUnit;
import io.vertx.json.schema.SchemaRepository;
import io.vertx.json.schema.Validator;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * Checks a response the broker sent ({@link Exchange}) against {@code openapi.yaml}, with the JSON
 * Schema 2020-12 validator of vertx-json-schema (the dialect of OpenAPI 3.1):
 *
 * <ul>
 *   <li>the operation is found by method and path; a success on a path or method the contract does
 *       not declare is a violation (the console's and Swagger UI's static files excepted);
 *   <li>the status is declared by the operation (or covered by its {@code default});
 *   <li>the {@code Content-Type} is one the response declares, and a response that declares no
 *       content has no body;
 *   <li>the body matches the media type's schema: JSON bodies as JSON; {@code application/x-ndjson}
 *       line by line against the media type's {@code x-itemSchema} (OpenAPI 3.2's {@code
 *       itemSchema}); any other (text) body as a JSON string against its string schema, and CSV
 *       bodies additionally as RFC 4180 records of the header row's width;
 *   <li>declared response headers: required ones are present, every present one matches its schema;
 *   <li>every 4xx — and every 5xx the operation does not declare otherwise — is a problem ({@code
 *       application/problem+json}, the {@code Problem} schema) whose {@code status} member is the
 *       HTTP status and whose {@code requestId} is the {@code X-Request-Id} header.
 * </ul>
 *
 * <p>Thread-safe: the document is read once; validators are cached in a concurrent map.
 */
public final class ResponseContract {
  private static final String BASE = "app:///openapi.yaml";
  private static final String PROBLEM = "application/problem+json";
  private static final String NDJSON = "application/x-ndjson";
  private static final String ITEM_SCHEMA = "x-itemSchema";
  private static final Set<String> METHODS =
      Set.of("get", "put", "post", "delete", "patch", "head", "options", "trace");
  private static final Set<String> NOISE = Set.of("properties", "$ref", "items", "allOf");

  private static final ResponseContract BROKER = load();

  private final JsonObject document;
  private final SchemaRepository repository;
  private final JsonSchemaOptions options;
  private final List<PathTemplate> paths;
  private final Map<String, Validator> validators = new ConcurrentHashMap<>();

  /** An operation found for a request: its id and its JSON pointer in the document. */
  public record Operation(String operationId, String pointer, JsonObject model) {}

  private record PathTemplate(String template, Pattern pattern, int literals) {}

  private ResponseContract(JsonObject document) {
    this.document = document;
    this.options =
        new JsonSchemaOptions()
            .setDraft(Draft.DRAFT202012)
            .setBaseUri(BASE)
            .setOutputFormat(OutputFormat.Basic);
    this.repository = SchemaRepository.create(options);
    // the repository annotates the objects it is given: it gets a copy
    repository.dereference(BASE, JsonSchema.of(anchored(document.copy())));
    List<PathTemplate> templates = new ArrayList<>();
    for (String template : document.getJsonObject("paths").fieldNames()) {
      templates.add(compile(template));
    }
    // a literal segment beats a placeholder (/v1/admin/ca.pem before /v1/admin/{x})
    templates.sort(Comparator.comparingInt(PathTemplate::literals).reversed());
    this.paths = List.copyOf(templates);
  }

  /** The broker's own contract ({@code openapi.yaml} on the classpath). */
  public static ResponseContract broker() {
    return BROKER;
  }

  /** A contract from YAML text (for tests of this checker). */
  public static ResponseContract of(String yaml) {
    return new ResponseContract(yamlToJson(yaml));
  }

  private static ResponseContract load() {
    try (InputStream in = ResponseContract.class.getResourceAsStream("/openapi.yaml")) {
      return of(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The contract as JSON (read-only by convention). */
  public JsonObject document() {
    return document;
  }

  /** The operation serving {@code method path}, if the contract declares one. */
  public Optional<Operation> operation(String method, String path) {
    if (method == null || path == null) {
      return Optional.empty();
    }
    String verb = method.toLowerCase(Locale.ROOT);
    for (PathTemplate template : paths) {
      if (!template.pattern().matcher(path).matches()) {
        continue;
      }
      JsonObject item = document.getJsonObject("paths").getJsonObject(template.template());
      JsonObject op = METHODS.contains(verb) ? item.getJsonObject(verb) : null;
      if (op == null) {
        return Optional.empty();
      }
      String pointer = "#/paths/" + escape(template.template()) + "/" + verb;
      return Optional.of(new Operation(op.getString("operationId"), pointer, op));
    }
    return Optional.empty();
  }

  /** Every way {@code exchange} departs from the contract; empty when it conforms. */
  public List<String> violations(Exchange exchange) {
    List<String> out = new ArrayList<>();
    Optional<Operation> operation = operation(exchange.method(), exchange.path());
    int status = exchange.status();
    if (operation.isEmpty()) {
      if (status >= 400) {
        out.addAll(problem(exchange));
      } else if (!staticPage(exchange.path())) {
        out.add(
            "the contract has no operation "
                + exchange.method()
                + " "
                + exchange.path()
                + ", yet the broker answered "
                + status);
      }
      return out;
    }
    Operation op = operation.get();
    Optional<Located> response = response(op, status);
    if (response.isEmpty()) {
      out.add("status " + status + " is not declared by " + op.operationId());
      if (status >= 400) {
        out.addAll(problem(exchange));
      }
      return out;
    }
    Located declared = response.get();
    out.addAll(headers(exchange, declared));
    out.addAll(content(exchange, declared));
    if (status >= 400 && PROBLEM.equals(exchange.mediaType())) {
      out.addAll(problemMembers(exchange));
    } else if (status >= 400 && status < 500) {
      out.add("a " + status + " must be " + PROBLEM + ", not " + exchange.mediaType());
    }
    return out;
  }

  /** The console's pages and Swagger UI: static files, not API operations. */
  private static boolean staticPage(String path) {
    return path != null
        && (path.equals("/console")
            || path.startsWith("/console/")
            || path.equals("/docs")
            || path.startsWith("/docs/"));
  }

  // ---- responses

  /** A node of the document with its JSON pointer ({@code $ref}s followed). */
  private record Located(JsonObject node, String pointer) {}

  private Optional<Located> response(Operation op, int status) {
    JsonObject responses = op.model().getJsonObject("responses", new JsonObject());
    String base = op.pointer() + "/responses/";
    String exact = Integer.toString(status);
    String range = (status / 100) + "XX";
    for (String key : List.of(exact, range, "default")) {
      if (responses.containsKey(key)) {
        return Optional.of(follow(responses.getJsonObject(key), base + escape(key)));
      }
    }
    return Optional.empty();
  }

  private List<String> headers(Exchange exchange, Located response) {
    List<String> out = new ArrayList<>();
    JsonObject headers = response.node().getJsonObject("headers", new JsonObject());
    for (String name : headers.fieldNames()) {
      Located header =
          follow(headers.getJsonObject(name), response.pointer() + "/headers/" + escape(name));
      String value = exchange.header(name);
      if (value == null) {
        if (header.node().getBoolean("required", false)) {
          out.add("the required header " + name + " is missing");
        }
        continue;
      }
      if (!header.node().containsKey("schema")) {
        continue;
      }
      String schema = header.pointer() + "/schema";
      Object typed =
          typed(value, schemaType(follow(header.node().getJsonObject("schema"), schema)));
      if (typed == null) {
        out.add("header " + name + ": '" + value + "' is not of the declared type");
        continue;
      }
      schemaErrors(schema, typed).forEach(e -> out.add("header " + name + e));
    }
    return out;
  }

  private List<String> content(Exchange exchange, Located response) {
    List<String> out = new ArrayList<>();
    JsonObject content = response.node().getJsonObject("content");
    String mediaType = exchange.mediaType();
    boolean hasBody = exchange.body() == null || exchange.body().length > 0;
    if (content == null || content.isEmpty()) {
      if (hasBody && !"HEAD".equalsIgnoreCase(exchange.method())) {
        out.add("the response declares no content, yet has a body (" + mediaType + ")");
      }
      return out;
    }
    if (mediaType == null || !content.containsKey(mediaType)) {
      out.add("Content-Type " + mediaType + " is not one of " + content.fieldNames());
      return out;
    }
    if (exchange.body() == null || "HEAD".equalsIgnoreCase(exchange.method())) {
      return out;
    }
    JsonObject media = content.getJsonObject(mediaType, new JsonObject());
    String pointer = response.pointer() + "/content/" + escape(mediaType);
    if (NDJSON.equals(mediaType)) {
      out.addAll(ndjson(exchange, media, pointer));
    } else if (json(mediaType)) {
      if (media.containsKey("schema")) {
        Object body;
        try {
          body = Json.decodeValue(exchange.text());
        } catch (DecodeException e) {
          out.add("the body is not JSON: " + e.getMessage());
          return out;
        }
        schemaErrors(pointer + "/schema", body).forEach(e -> out.add("body" + e));
      }
    } else {
      if (media.containsKey("schema")) {
        schemaErrors(pointer + "/schema", exchange.text()).forEach(e -> out.add("body" + e));
      }
      if ("text/csv".equals(mediaType)) {
        out.addAll(csv(exchange.text()));
      }
    }
    return out;
  }

  private List<String> ndjson(Exchange exchange, JsonObject media, String pointer) {
    List<String> out = new ArrayList<>();
    if (!media.containsKey(ITEM_SCHEMA)) {
      out.add("the contract gives " + NDJSON + " no " + ITEM_SCHEMA);
      return out;
    }
    String text = exchange.text();
    if (!text.isEmpty() && !text.endsWith("\n")) {
      out.add("the JSON Lines body does not end with a line break");
    }
    String[] lines = text.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      if (lines[i].isEmpty() && i == lines.length - 1) {
        break;
      }
      Object item;
      try {
        item = Json.decodeValue(lines[i]);
      } catch (DecodeException e) {
        out.add("line " + (i + 1) + " is not JSON");
        continue;
      }
      int line = i + 1;
      schemaErrors(pointer + "/" + ITEM_SCHEMA, item).forEach(e -> out.add("line " + line + e));
    }
    return out;
  }

  /** RFC 4180: CRLF records, every one as wide as the header row. */
  static List<String> csv(String text) {
    List<String> out = new ArrayList<>();
    if (text.isEmpty()) {
      out.add("the CSV body is empty (a header row is expected)");
      return out;
    }
    List<Integer> widths = new ArrayList<>();
    int cells = 1;
    boolean quoted = false;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (quoted) {
        if (c == '"') {
          if (i + 1 < text.length() && text.charAt(i + 1) == '"') {
            i++;
          } else {
            quoted = false;
          }
        }
      } else if (c == '"') {
        quoted = true;
      } else if (c == ',') {
        cells++;
      } else if (c == '\r' && i + 1 < text.length() && text.charAt(i + 1) == '\n') {
        widths.add(cells);
        cells = 1;
        i++;
      } else if (c == '\n' || c == '\r') {
        out.add("a bare line break outside quotes at offset " + i + " (records end with CRLF)");
        return out;
      }
    }
    if (quoted) {
      out.add("an unterminated quoted cell");
    }
    if (cells != 1 || !text.endsWith("\r\n")) {
      widths.add(cells);
    }
    for (int r = 1; r < widths.size(); r++) {
      if (!widths.get(r).equals(widths.get(0))) {
        out.add(
            "record "
                + (r + 1)
                + " has "
                + widths.get(r)
                + " cells, the header row "
                + widths.get(0));
        break;
      }
    }
    return out;
  }

  private List<String> problem(Exchange exchange) {
    List<String> out = new ArrayList<>();
    if (!PROBLEM.equals(exchange.mediaType())) {
      out.add("a " + exchange.status() + " must be " + PROBLEM + ", not " + exchange.mediaType());
      return out;
    }
    if (exchange.body() == null) {
      return out;
    }
    Object body;
    try {
      body = Json.decodeValue(exchange.text());
    } catch (DecodeException e) {
      out.add("the problem is not JSON: " + e.getMessage());
      return out;
    }
    schemaErrors("#/components/schemas/Problem", body).forEach(e -> out.add("problem" + e));
    out.addAll(problemMembers(exchange));
    return out;
  }

  private static List<String> problemMembers(Exchange exchange) {
    List<String> out = new ArrayList<>();
    JsonObject problem;
    try {
      problem = new JsonObject(exchange.text());
    } catch (DecodeException | ClassCastException e) {
      return out;
    }
    Object status = problem.getValue("status");
    if (!(status instanceof Number n) || n.intValue() != exchange.status()) {
      out.add("the problem's status " + status + " is not the HTTP status " + exchange.status());
    }
    String requestId = exchange.header("X-Request-Id");
    Object member = problem.getValue("requestId");
    if (requestId != null && !requestId.equals(member)) {
      out.add("the problem's requestId " + member + " is not X-Request-Id " + requestId);
    }
    return out;
  }

  // ---- schemas

  private List<String> schemaErrors(String pointer, Object instance) {
    Validator validator =
        validators.computeIfAbsent(
            pointer,
            p ->
                repository.validator(
                    JsonSchema.of(new JsonObject().put("$ref", BASE + toUri(p))), options));
    OutputUnit result = validator.validate(instance);
    if (Boolean.TRUE.equals(result.getValid())) {
      return List.of();
    }
    List<OutputUnit> errors = result.getErrors() == null ? List.of(result) : result.getErrors();
    List<String> out = new ArrayList<>();
    for (OutputUnit error : errors) {
      String keyword = lastSegment(error.getKeywordLocation());
      if (NOISE.contains(keyword) || error.getError().equals("A subschema had errors")) {
        continue;
      }
      if (keyword.equals("additionalProperties")
          && error.getError().contains("does not match additional properties schema")
          && errors.stream()
              .anyMatch(
                  other ->
                      other != error
                          && error.getInstanceLocation().equals(other.getInstanceLocation())
                          && !lastSegment(other.getKeywordLocation()).equals(keyword)
                          && !NOISE.contains(lastSegment(other.getKeywordLocation())))) {
        continue;
      }
      out.add(" " + error.getInstanceLocation() + ": " + error.getError());
    }
    if (out.isEmpty()) {
      out.add(" #: " + result.getError());
    }
    return out;
  }

  private static String lastSegment(String location) {
    if (location == null) {
      return "";
    }
    int slash = location.lastIndexOf('/');
    return slash < 0 ? location : location.substring(slash + 1);
  }

  /** The {@code type} of a schema ({@code $ref}s followed), or null. */
  private String schemaType(Located schema) {
    Object type = schema.node().getValue("type");
    if (type instanceof String single) {
      return single;
    }
    if (type instanceof JsonArray many) {
      for (Object t : many) {
        if (!"null".equals(t)) {
          return String.valueOf(t);
        }
      }
    }
    return null;
  }

  /** A header value as the JSON value its schema type describes; null when it is not one. */
  private static Object typed(String value, String type) {
    try {
      if ("integer".equals(type)) {
        return Long.parseLong(value.trim());
      }
      if ("number".equals(type)) {
        return Double.parseDouble(value.trim());
      }
      if ("boolean".equals(type)) {
        return switch (value.trim()) {
          case "true" -> Boolean.TRUE;
          case "false" -> Boolean.FALSE;
          default -> null;
        };
      }
    } catch (NumberFormatException e) {
      return null;
    }
    return value;
  }

  private Located follow(JsonObject node, String pointer) {
    JsonObject current = node;
    String at = pointer;
    for (int hops = 0; current != null && current.containsKey("$ref") && hops < 16; hops++) {
      at = current.getString("$ref");
      current = resolve(at);
    }
    if (current == null) {
      throw new IllegalStateException("openapi.yaml: unresolved $ref " + at);
    }
    return new Located(current, at);
  }

  /** The node at a local pointer ({@code #/components/...}). */
  JsonObject resolve(String pointer) {
    if (!pointer.startsWith("#/")) {
      return null;
    }
    Object node = document;
    for (String raw : pointer.substring(2).split("/")) {
      String key = raw.replace("~1", "/").replace("~0", "~");
      if (node instanceof JsonObject object) {
        node = object.getValue(key);
      } else if (node instanceof JsonArray array) {
        node = array.getValue(Integer.parseInt(key));
      } else {
        return null;
      }
    }
    return node instanceof JsonObject found ? found : null;
  }

  private static boolean json(String mediaType) {
    return mediaType.equals("application/json") || mediaType.endsWith("+json");
  }

  static String escape(String key) {
    return key.replace("~", "~0").replace("/", "~1");
  }

  /** A JSON pointer as a URI fragment. */
  private static String toUri(String pointer) {
    return pointer.replace("{", "%7B").replace("}", "%7D");
  }

  private static PathTemplate compile(String template) {
    StringBuilder regex = new StringBuilder();
    int literals = 0;
    for (String segment : template.substring(1).split("/", -1)) {
      regex.append('/');
      if (segment.startsWith("{") && segment.endsWith("}")) {
        regex.append("[^/]+");
      } else {
        regex.append(Pattern.quote(segment));
        literals++;
      }
    }
    return new PathTemplate(template, Pattern.compile(regex.toString()), literals);
  }

  /**
   * Every {@code pattern} ending in {@code $} ends in {@code \z} instead: the contract's patterns
   * are ECMA-262, where {@code $} matches only at the end, but they run as Java regular
   * expressions, where {@code $} also matches before a final line break (as in the broker's {@code
   * ContractCopy}).
   */
  private static JsonObject anchored(JsonObject node) {
    for (String key : node.fieldNames()) {
      Object value = node.getValue(key);
      if (key.equals("pattern") && value instanceof String regex && regex.endsWith("$")) {
        node.put(key, regex.substring(0, regex.length() - 1) + "\\z");
      } else if (value instanceof JsonObject child) {
        anchored(child);
      } else if (value instanceof JsonArray array) {
        for (Object item : array) {
          if (item instanceof JsonObject child) {
            anchored(child);
          }
        }
      }
    }
    return node;
  }

  /** YAML to JSON: keys become strings, timestamps ISO strings. */
  static JsonObject yamlToJson(String yaml) {
    Object loaded = new Yaml(new SafeConstructor(new LoaderOptions())).load(yaml);
    return (JsonObject) toJson(loaded);
  }

  private static Object toJson(Object node) {
    if (node instanceof Map<?, ?> map) {
      Map<String, Object> out = new LinkedHashMap<>();
      map.forEach((k, v) -> out.put(String.valueOf(k), toJson(v)));
      return new JsonObject(out);
    }
    if (node instanceof List<?> list) {
      JsonArray out = new JsonArray();
      list.forEach(v -> out.add(toJson(v)));
      return out;
    }
    if (node instanceof Date date) {
      return date.toInstant().toString();
    }
    return node;
  }
}
