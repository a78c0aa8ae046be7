package io.refundbroker.campaign;

import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * Derives requests for an operation of {@code openapi.yaml} from its parameters and request body
 * schema, from a seeded {@link Random}: valid ones (values drawn from the schemas, or objects the
 * test made, by parameter or member name), boundary ones (every quantifier and bound at its limit,
 * no optional member or all of them) and invalid ones (one defect each: a missing, extra or
 * mistyped member, a string too long, empty or with NUL, a lone surrogate, a right-to-left mark or
 * a trailing newline, an amount negative, zero or overflowing, malformed or truncated JSON, a
 * wrong, missing or doubled content type, an oversized body, a broken %-escape, a bad query
 * parameter, a control character in a header, a missing or bad credential, an overlong URL or
 * head). Requests it cannot call valid or invalid by construction (unknown query parameters,
 * doubled headers, text in other scripts) are {@link Kind#ODD}: any answer but a 5xx will do.
 */
final class RequestGenerator {
  /** What the answer must be. */
  enum Kind {
    /** Well-formed: any answer but a 5xx (the objects named may not exist). */
    VALID,
    /** Well-formed at a limit: any answer but a 5xx. */
    BOUNDARY,
    /** Neither: any answer but a 5xx. */
    ODD,
    /** Broken: a 4xx problem, and nothing written. */
    INVALID
  }

  /**
   * One request: {@code target} is the request target as sent (path and query, already escaped or
   * deliberately not); header values are ISO-8859-1 strings (one char a byte). {@code names} is
   * what the problem's detail must mention, when known.
   */
  record Case(
      Kind kind,
      String mutation,
      String method,
      String target,
      List<String[]> headers,
      byte[] body,
      String names) {}

  /** An operation of the contract. */
  record Operation(
      String operationId,
      String method,
      String template,
      List<JsonObject> parameters,
      String mediaType,
      JsonObject bodySchema,
      List<String> roles) {
    boolean isPublic() {
      return roles.isEmpty();
    }
  }

  /**
   * What the test made: a token per role (and a revoked one), values by parameter or member name
   * ({@code known}), and values for a path parameter of one operation ({@code operationId.name})
   * that override {@code known} (to keep writes away from the objects other operations use).
   */
  record Fixtures(
      Map<String, String> tokenByRole,
      String revokedToken,
      Map<String, List<String>> known,
      Map<String, List<String>> pathValues,
      int maxBodyBytes) {}

  private static final String SURROGATE_MARK = "\uD800";

  private final JsonObject contract;
  private final Fixtures fixtures;

  RequestGenerator(JsonObject contract, Fixtures fixtures) {
    this.contract = contract;
    this.fixtures = fixtures;
  }

  /** Every operation of the contract, in document order. */
  List<Operation> operations() {
    List<Operation> operations = new ArrayList<>();
    JsonObject paths = contract.getJsonObject("paths");
    for (String template : paths.fieldNames()) {
      JsonObject item = paths.getJsonObject(template);
      for (String method : item.fieldNames()) {
        if (method.equals("parameters")) {
          continue;
        }
        JsonObject op = item.getJsonObject(method);
        List<JsonObject> parameters = new ArrayList<>();
        for (JsonArray list :
            new JsonArray[] {item.getJsonArray("parameters"), op.getJsonArray("parameters")}) {
          if (list != null) {
            list.forEach(p -> parameters.add(resolve((JsonObject) p)));
          }
        }
        String mediaType = null;
        JsonObject bodySchema = null;
        JsonObject requestBody = op.getJsonObject("requestBody");
        if (requestBody != null) {
          JsonObject content = requestBody.getJsonObject("content");
          mediaType = content.fieldNames().iterator().next();
          // a media type without a schema (text/plain CSV) still takes a body
          bodySchema = content.getJsonObject(mediaType).getJsonObject("schema", new JsonObject());
        }
        List<String> roles = new ArrayList<>();
        JsonArray xRoles = op.getJsonArray("x-roles");
        if (xRoles != null) {
          xRoles.forEach(r -> roles.add((String) r));
        }
        operations.add(
            new Operation(
                op.getString("operationId"),
                method.toUpperCase(Locale.ROOT),
                template,
                parameters,
                mediaType,
                bodySchema,
                roles));
      }
    }
    return operations;
  }

  /**
   * {@code count} requests for {@code op} from {@code random}: about a fifth valid, a tenth at a
   * boundary, a tenth odd and the rest invalid.
   */
  List<Case> cases(Operation op, int count, Random random) {
    List<Case> cases = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      int dice = random.nextInt(100);
      Case made;
      if (dice < 20) {
        made = valid(op, random, false);
      } else if (dice < 30) {
        made = valid(op, random, true);
      } else if (dice < 40) {
        made = odd(op, random);
      } else {
        made = invalid(op, random);
      }
      cases.add(made);
    }
    return cases;
  }

  // ---- valid requests -----------------------------------------------------------------------

  /** The parts of a request, to be mutated before it is made a {@link Case}. */
  private final class Draft {
    final Operation op;
    final Map<String, String> path = new java.util.LinkedHashMap<>();
    final List<String[]> query = new ArrayList<>();
    final List<String[]> headers = new ArrayList<>();
    Object body;
    String contentType;
    byte[] rawBody;
    String rawTarget;

    Draft(Operation op) {
      this.op = op;
    }

    Case toCase(Kind kind, String mutation, String names) {
      String target = rawTarget;
      if (target == null) {
        String filled = op.template();
        for (Map.Entry<String, String> p : path.entrySet()) {
          filled = filled.replace("{" + p.getKey() + "}", p.getValue());
        }
        StringBuilder t = new StringBuilder(filled);
        for (int i = 0; i < query.size(); i++) {
          t.append(i == 0 ? '?' : '&').append(query.get(i)[0]).append('=').append(query.get(i)[1]);
        }
        target = t.toString();
      }
      List<String[]> all = new ArrayList<>(headers);
      byte[] bytes = rawBody;
      if (bytes == null && body != null) {
        bytes =
            body instanceof String text
                ? text.getBytes(StandardCharsets.UTF_8)
                : jsonBytes(Json.encode(body));
      }
      if (contentType != null) {
        all.add(new String[] {"Content-Type", contentType});
      }
      return new Case(kind, mutation, op.method(), target, all, bytes, names);
    }
  }

  private Draft draft(Operation op, Random random, boolean boundary) {
    Draft draft = new Draft(op);
    if (!op.isPublic()) {
      draft.headers.add(
          new String[] {
            "Authorization", "Bearer " + fixtures.tokenByRole().get(op.roles().get(0))
          });
    }
    for (JsonObject parameter : op.parameters()) {
      String name = parameter.getString("name");
      String in = parameter.getString("in");
      boolean required = parameter.getBoolean("required", false);
      JsonObject schema = resolve(parameter.getJsonObject("schema"));
      switch (in) {
        case "path" -> {
          List<String> values = fixtures.pathValues().get(op.operationId() + "." + name);
          boolean exclusive = values != null;
          if (values == null) {
            values = fixtures.known().get(name);
          }
          // an operation with its own objects never falls back to the shared ones
          String value =
              values != null && random.nextInt(10) < 8
                  ? values.get(random.nextInt(values.size()))
                  : String.valueOf(value(schema, exclusive ? "" : name, random, boundary));
          draft.path.put(name, escape(value));
        }
        case "query" -> {
          if (required || random.nextBoolean()) {
            draft.query.add(
                new String[] {name, escape(parameterValue(schema, name, random, boundary))});
          }
        }
        case "header" -> {
          if (required || random.nextBoolean()) {
            draft.headers.add(new String[] {name, parameterValue(schema, name, random, boundary)});
          }
        }
        default -> throw new IllegalStateException("parameter in " + in);
      }
    }
    if (op.bodySchema() != null) {
      if (op.mediaType().equals("text/plain")) {
        draft.body = csv(random);
        draft.contentType = "text/plain; charset=utf-8";
      } else {
        draft.body = value(op.bodySchema(), "", random, boundary);
        draft.contentType = "application/json";
      }
    }
    return draft;
  }

  /**
   * A valid value of a query or header parameter. Known departure (RELIABILITY.md): vertx-openapi
   * reads a string parameter that is not a plain word as JSON, so a value the contract allows that
   * is also a JSON number, array or object, or starts with a quote ({@code -12}, {@code 1.5},
   * {@code "k"}), is refused or changed; valid requests avoid such values.
   */
  private String parameterValue(JsonObject schema, String name, Random random, boolean boundary) {
    for (int attempt = 0; ; attempt++) {
      String value = String.valueOf(value(schema, name, random, boundary));
      if (!type(schema).equals("string") || !jsonish(value) || attempt > 50) {
        return value;
      }
    }
  }

  /**
   * Whether vertx-openapi would not pass {@code value} through unchanged: it takes a plain word as
   * it is, otherwise decodes it as JSON, and when that fails, decodes it wrapped in quotes.
   */
  static boolean jsonish(String value) {
    if (value.isEmpty() || value.matches("\\w+")) {
      return false;
    }
    try {
      Json.decodeValue(value);
      return true;
    } catch (io.vertx.core.json.DecodeException e) {
      if (value.startsWith("\"")) {
        return true;
      }
    }
    try {
      return !value.equals(Json.decodeValue("\"" + value + "\""));
    } catch (io.vertx.core.json.DecodeException e) {
      return true;
    }
  }

  private Case valid(Operation op, Random random, boolean boundary) {
    Draft draft = draft(op, random, boundary);
    String mutation = boundary ? "boundary" : "valid";
    if (!boundary && random.nextInt(4) == 0) {
      String accept = pick(random, "application/json", "application/x-ndjson", "text/csv", "*/*");
      draft.headers.add(new String[] {"Accept", accept});
      mutation = "valid accept " + accept;
    }
    if (random.nextInt(5) == 0) {
      draft.headers.add(new String[] {"X-Request-Id", "fuzz-" + random.nextInt(1_000_000)});
    }
    return draft.toCase(boundary ? Kind.BOUNDARY : Kind.VALID, mutation, null);
  }

  private String csv(Random random) {
    StringBuilder csv = new StringBuilder("storeId,orderId,amount,currency,capturedAt\n");
    int rows = random.nextInt(4);
    List<String> stores = fixtures.known().get("storeId");
    for (int i = 0; i < rows; i++) {
      csv.append(stores.get(random.nextInt(stores.size())))
          .append(",IMP-")
          .append(random.nextInt(1_000_000))
          .append(',')
          .append(1 + random.nextInt(100_000))
          .append(",NOK,")
          .append(random.nextBoolean() ? "" : "2026-01-02T03:04:05Z")
          .append('\n');
    }
    return csv.toString();
  }

  /** A value valid for {@code schema}; a member or parameter {@code name} may use known values. */
  Object value(JsonObject schema, String name, Random random, boolean boundary) {
    schema = resolve(schema);
    if (schema.containsKey("oneOf")) {
      return value(firstNonNull(schema.getJsonArray("oneOf")), name, random, boundary);
    }
    if (schema.containsKey("const")) {
      return schema.getValue("const");
    }
    if (schema.containsKey("enum")) {
      JsonArray values = schema.getJsonArray("enum");
      Object v = values.getValue(random.nextInt(values.size()));
      return v == null ? values.getValue(0) : v;
    }
    List<String> known = fixtures.known().get(name);
    if (known != null && !boundary && random.nextInt(10) < 7) {
      return known.get(random.nextInt(known.size()));
    }
    String type = type(schema);
    switch (type) {
      case "object" -> {
        JsonObject object = new JsonObject();
        JsonObject properties = schema.getJsonObject("properties", new JsonObject());
        JsonArray required = schema.getJsonArray("required", new JsonArray());
        boolean allOptional = boundary && random.nextBoolean();
        for (String property : properties.fieldNames()) {
          boolean include =
              required.contains(property)
                  || (boundary ? allOptional : random.nextInt(3) == 0)
                      && !property.equals("csr")
                      && !property.equals("originStoreId");
          if (include) {
            object.put(
                property, value(properties.getJsonObject(property), property, random, boundary));
          }
        }
        List<String> names = new ArrayList<>(properties.fieldNames());
        names.remove("csr");
        if (object.isEmpty() && schema.getInteger("minProperties", 0) > 0 && !names.isEmpty()) {
          String property = names.get(random.nextInt(names.size()));
          object.put(
              property, value(properties.getJsonObject(property), property, random, boundary));
        }
        return object;
      }
      case "array" -> {
        JsonArray array = new JsonArray();
        if (random.nextBoolean()) {
          array.add(value(schema.getJsonObject("items"), name, random, boundary));
        }
        return array;
      }
      case "integer" -> {
        long min = schema.getLong("minimum", 0L);
        long max = schema.getLong("maximum", Math.max(min, 0) + 1_000_000L);
        if (boundary) {
          return random.nextBoolean() ? min : max;
        }
        long span = Math.min(max - min, 20_000L);
        return min + (long) (random.nextDouble() * (span + 1));
      }
      case "boolean" -> {
        return random.nextBoolean();
      }
      case "string" -> {
        return string(schema, random, boundary);
      }
      default -> throw new IllegalStateException("type " + type + " of " + name);
    }
  }

  private String string(JsonObject schema, Random random, boolean boundary) {
    String format = schema.getString("format");
    if ("date-time".equals(format)) {
      return Instant.now()
          .minus(random.nextInt(400), ChronoUnit.DAYS)
          .truncatedTo(ChronoUnit.SECONDS)
          .toString();
    }
    if ("uuid".equals(format)) {
      return UUID.randomUUID().toString();
    }
    String pattern = schema.getString("pattern");
    if (pattern != null) {
      return boundary
          ? PatternStrings.longest(pattern, random)
          : PatternStrings.sample(pattern, random);
    }
    int min = schema.getInteger("minLength", 0);
    int max = schema.getInteger("maxLength", 40);
    if (boundary) {
      int length = random.nextBoolean() ? Math.max(min, 1) : max;
      String unit = pick(random, "x", "é", "Ø");
      return unit.repeat(length);
    }
    int length = Math.max(min, 1 + random.nextInt(Math.min(max, 30)));
    StringBuilder text = new StringBuilder();
    while (text.length() < length) {
      text.append(pick(random, "Fuzz ", "text ", "Øl ", "kaffe ", "42 "));
    }
    return text.substring(0, length).strip().isEmpty() ? "x" : text.substring(0, length).strip();
  }

  // ---- odd requests -------------------------------------------------------------------------

  private Case odd(Operation op, Random random) {
    Draft draft = draft(op, random, false);
    int dice = random.nextInt(7);
    switch (dice) {
      case 0 -> {
        draft.query.add(new String[] {"fuzzUnknown", "1"});
        return draft.toCase(Kind.ODD, "unknown query parameter", null);
      }
      case 1 -> {
        draft.headers.add(new String[] {"X-Request-Id", "dup-1"});
        draft.headers.add(new String[] {"X-Request-Id", "dup-2"});
        return draft.toCase(Kind.ODD, "doubled X-Request-Id", null);
      }
      case 2 -> {
        draft.headers.add(new String[] {"X-Request-Id", latin1("réquest ‏ id")});
        return draft.toCase(Kind.ODD, "X-Request-Id not a token", null);
      }
      case 3 -> {
        if (!draft.query.isEmpty()) {
          draft.query.add(draft.query.get(0).clone());
          return draft.toCase(Kind.ODD, "doubled query parameter", null);
        }
        draft.headers.add(new String[] {"Accept", "application/xml"});
        return draft.toCase(Kind.ODD, "Accept application/xml", null);
      }
      case 4 -> {
        if (op.bodySchema() == null) {
          draft.body = "{}";
          draft.contentType = "application/json";
          return draft.toCase(Kind.ODD, "a body where none is expected", null);
        }
        draft.contentType =
            draft.contentType + (random.nextBoolean() ? "; charset=utf-8" : "; charset=UTF-8");
        return draft.toCase(Kind.ODD, "content type with charset", null);
      }
      case 5 -> {
        if (draft.body instanceof JsonObject json && !json.isEmpty()) {
          String field = randomStringField(json, random);
          if (field != null && !hasPattern(op, field)) {
            json.put(field, pick(random, "‏RTL", "名前", "emoji 😀", "e\u0301", "Ω≈ç"));
            return draft.toCase(Kind.ODD, "unicode free text", null);
          }
        }
        draft.headers.add(new String[] {"Connection", "keep-alive"});
        return draft.toCase(Kind.ODD, "explicit keep-alive", null);
      }
      default -> {
        draft.headers.add(new String[] {"Content-Type", "application/json"});
        if (draft.contentType != null) {
          return draft.toCase(Kind.ODD, "doubled Content-Type", null);
        }
        return draft.toCase(Kind.ODD, "Content-Type without a body", null);
      }
    }
  }

  // ---- invalid requests ---------------------------------------------------------------------

  private Case invalid(Operation op, Random random) {
    List<Supplier<Case>> mutations = new ArrayList<>();
    // every operation: the URL, the head, the credential
    mutations.add(() -> brokenQueryEscape(op, random));
    mutations.add(() -> brokenPathEscape(op, random));
    mutations.add(() -> controlInHeader(op, random));
    mutations.add(() -> overlongUrl(op, random));
    mutations.add(() -> oversizedHead(op, random));
    if (!op.isPublic()) {
      mutations.add(() -> badCredential(op, random));
      mutations.add(() -> badCredential(op, random));
    }
    boolean hasParameters =
        op.parameters().stream()
            .anyMatch(
                p ->
                    !p.getString("in").equals("header")
                        || op.operationId().equals("requestRefund"));
    if (hasParameters) {
      for (int i = 0; i < 4; i++) {
        mutations.add(() -> badParameter(op, random));
      }
    }
    if (op.bodySchema() != null) {
      for (int i = 0; i < 3; i++) {
        mutations.add(() -> badContentType(op, random));
      }
      if (op.mediaType().equals("application/json")) {
        for (int i = 0; i < 12; i++) {
          mutations.add(() -> badJsonMember(op, random));
        }
        for (int i = 0; i < 4; i++) {
          mutations.add(() -> malformedJson(op, random));
        }
      }
      mutations.add(() -> oversizedBody(op, random));
    }
    return mutations.get(random.nextInt(mutations.size())).get();
  }

  private Case brokenQueryEscape(Operation op, Random random) {
    Draft draft = draft(op, random, false);
    String broken = pick(random, "%", "%zz", "%%%", "%4", "%C3", "%00", "%0A", "%FF%FE");
    String name = pick(random, "a", "limit", "chainId");
    draft.query.add(
        random.nextBoolean() ? new String[] {name, broken} : new String[] {broken, "1"});
    return draft.toCase(Kind.INVALID, "broken query escape " + broken, null);
  }

  private Case brokenPathEscape(Operation op, Random random) {
    Draft draft = draft(op, random, false);
    String target = draft.toCase(Kind.INVALID, "", null).target();
    int question = target.indexOf('?');
    String path = question < 0 ? target : target.substring(0, question);
    String rest = question < 0 ? "" : target.substring(question);
    String broken = pick(random, "%", "%zz", "%G0", "%00", "%0a", "%C3%28", "%ED%A0%80");
    draft.rawTarget = path + broken + rest;
    return draft.toCase(Kind.INVALID, "broken path escape " + broken, null);
  }

  private Case controlInHeader(Operation op, Random random) {
    Draft draft = draft(op, random, false);
    char control = pick(random, '\u0000', '\u0001', '\u001b', '\u007f', '\u000b');
    String header = pick(random, "X-Request-Id", "Idempotency-Key", "User-Agent", "Accept");
    draft.headers.add(new String[] {header, "ab" + control + "cd"});
    // refused by the HTTP layer before any handler sees the header, so the problem cannot name it
    return draft.toCase(Kind.INVALID, "control character in " + header, null);
  }

  private Case overlongUrl(Operation op, Random random) {
    Draft draft = draft(op, random, false);
    draft.query.add(new String[] {"pad", "p".repeat(20_000 + random.nextInt(10_000))});
    return draft.toCase(Kind.INVALID, "URL too long", null);
  }

  private Case oversizedHead(Operation op, Random random) {
    Draft draft = draft(op, random, false);
    draft.headers.add(new String[] {"X-Padding", "h".repeat(17 * 1024 + random.nextInt(4096))});
    return draft.toCase(Kind.INVALID, "head too large", null);
  }

  private Case badCredential(Operation op, Random random) {
    Draft draft = draft(op, random, false);
    draft.headers.removeIf(h -> h[0].equals("Authorization"));
    int dice = random.nextInt(8);
    String mutation;
    switch (dice) {
      case 0 -> mutation = "anonymous";
      case 1 -> {
        draft.headers.add(new String[] {"Authorization", "Bearer " + fixtures.revokedToken()});
        mutation = "revoked token";
      }
      case 2 -> {
        draft.headers.add(new String[] {"Authorization", "Basic YWRtaW46YWRtaW4="});
        mutation = "Basic credential";
      }
      case 3 -> {
        draft.headers.add(
            new String[] {
              "Authorization", pick(random, "Bearer", "Bearer ", "bearer", "Bearer a b")
            });
        mutation = "malformed Authorization";
      }
      case 4 -> {
        draft.headers.add(new String[] {"Authorization", "Bearer " + "t".repeat(300)});
        mutation = "unknown long token";
      }
      case 5 -> {
        String token = fixtures.tokenByRole().get(op.roles().get(0));
        draft.headers.add(
            new String[] {"Authorization", "Bearer " + token.substring(0, token.length() - 1)});
        mutation = "truncated token";
      }
      default -> {
        List<String> others =
            fixtures.tokenByRole().keySet().stream()
                .filter(r -> !op.roles().contains(r))
                .sorted()
                .toList();
        if (others.isEmpty()) {
          mutation = "anonymous";
        } else {
          String role = others.get(random.nextInt(others.size()));
          draft.headers.add(
              new String[] {"Authorization", "Bearer " + fixtures.tokenByRole().get(role)});
          mutation = "role " + role + " not allowed";
        }
      }
    }
    return draft.toCase(Kind.INVALID, mutation, null);
  }

  private Case badParameter(Operation op, Random random) {
    Draft draft = draft(op, random, false);
    List<JsonObject> parameters = op.parameters();
    JsonObject parameter = parameters.get(random.nextInt(parameters.size()));
    String name = parameter.getString("name");
    String in = parameter.getString("in");
    JsonObject schema = resolve(parameter.getJsonObject("schema"));
    boolean required = parameter.getBoolean("required", false);
    if (required && random.nextInt(5) == 0) {
      switch (in) {
        case "query" -> draft.query.removeIf(q -> q[0].equals(name));
        case "header" -> draft.headers.removeIf(h -> h[0].equals(name));
        default -> {
          draft.path.put(name, "");
          return draft.toCase(Kind.INVALID, "empty path parameter " + name, null);
        }
      }
      return draft.toCase(Kind.INVALID, "missing " + in + " parameter " + name, name);
    }
    String bad = badValue(schema, random);
    if (bad == null) {
      // a boolean or an unconstrained string: a wrong type
      bad = schema.getString("type", "").equals("boolean") ? "maybe" : null;
    }
    if (bad == null) {
      return brokenQueryEscape(op, random);
    }
    String mutation = "bad " + in + " parameter " + name + " " + describe(bad);
    switch (in) {
      case "path" -> draft.path.put(name, escape(bad));
      case "query" -> {
        draft.query.removeIf(q -> q[0].equals(name));
        draft.query.add(new String[] {name, escape(bad)});
      }
      default -> {
        draft.headers.removeIf(h -> h[0].equals(name));
        draft.headers.add(new String[] {name, latin1(bad)});
      }
    }
    boolean nameable =
        !in.equals("path")
            && !(in.equals("header") && bad.chars().anyMatch(c -> c < 0x20 || c == 0x7f));
    return draft.toCase(Kind.INVALID, mutation, nameable ? name : null);
  }

  /** A string that breaks {@code schema} (as text), or null when there is no rule to break. */
  private String badValue(JsonObject schema, Random random) {
    String type = type(schema);
    if (type.equals("integer")) {
      long min = schema.getLong("minimum", Long.MIN_VALUE);
      Long max = schema.getLong("maximum");
      List<String> bad =
          new ArrayList<>(List.of("abc", "1.5", "1e3", "", "99999999999999999999", "0x10", "+-1"));
      if (min > Long.MIN_VALUE) {
        bad.add(String.valueOf(min - 1));
        bad.add("-1");
      }
      if (max != null) {
        bad.add(String.valueOf(max + 1));
      }
      return bad.get(random.nextInt(bad.size()));
    }
    if (schema.containsKey("enum")) {
      return pick(random, "nope", "", "succeeded", "PENDING\n");
    }
    String pattern = schema.getString("pattern");
    Integer maxLength = schema.getInteger("maxLength");
    if (pattern == null && maxLength == null && schema.getInteger("minLength") == null) {
      return null;
    }
    String good = pattern != null ? PatternStrings.sample(pattern, random) : "x";
    List<String> bad = new ArrayList<>();
    if (maxLength != null) {
      bad.add("y".repeat(maxLength + 1));
    }
    if (schema.getInteger("minLength", 0) > 0 || pattern != null) {
      bad.add("");
    }
    bad.add(good + "\0");
    bad.add(good + "\n");
    if (pattern != null) {
      bad.add(good + SURROGATE_MARK);
      bad.add(good + "\u200F");
      bad.add(good + " x");
      bad.add("é" + good);
      bad.add(good + "<script>");
      bad.add("z".repeat(300));
    }
    return pickBreaking(schema, bad, random);
  }

  /** One of {@code candidates} that really breaks {@code schema} (pattern, length or enum). */
  private static String pickBreaking(JsonObject schema, List<String> candidates, Random random) {
    List<String> breaking = candidates.stream().filter(c -> breaks(schema, c)).toList();
    return breaking.isEmpty() ? null : breaking.get(random.nextInt(breaking.size()));
  }

  /** Whether {@code value} breaks the string {@code schema}. */
  static boolean breaks(JsonObject schema, String value) {
    if (schema.containsKey("enum")) {
      return !schema.getJsonArray("enum").contains(value);
    }
    int length = value.codePointCount(0, value.length());
    if (length < schema.getInteger("minLength", 0)
        || length > schema.getInteger("maxLength", Integer.MAX_VALUE)) {
      return true;
    }
    // codePoints() yields an unpaired surrogate as itself
    boolean lone = value.codePoints().anyMatch(c -> c >= 0xD800 && c <= 0xDFFF);
    if (lone || value.chars().anyMatch(c -> c < 0x20 || c == 0x7F)) {
      // no pattern of the contract admits these, and the broker refuses them in free text too
      return true;
    }
    String pattern = schema.getString("pattern");
    if (pattern == null) {
      return false;
    }
    String body = pattern.replaceAll("^\\^", "").replaceAll("\\$$", "");
    return !java.util.regex.Pattern.compile(body).matcher(value).matches();
  }

  private Case badContentType(Operation op, Random random) {
    Draft draft = draft(op, random, false);
    int dice = random.nextInt(5);
    String mutation;
    switch (dice) {
      case 0 -> {
        draft.contentType = null;
        mutation = "no Content-Type";
      }
      case 1 -> {
        draft.contentType = "application/x-www-form-urlencoded";
        draft.rawBody = "a=1&b=%zz&c=".getBytes(StandardCharsets.US_ASCII);
        mutation = "form body";
      }
      case 2 -> {
        draft.contentType = op.mediaType().equals("text/plain") ? "application/json" : "text/plain";
        mutation = "wrong Content-Type " + draft.contentType;
      }
      case 3 -> {
        draft.contentType =
            pick(
                random,
                "application/xml",
                "multipart/form-data; boundary=x",
                "application/jsonx",
                "json");
        mutation = "wrong Content-Type " + draft.contentType;
      }
      default -> {
        draft.contentType = "";
        mutation = "empty Content-Type";
      }
    }
    return draft.toCase(Kind.INVALID, mutation, null);
  }

  private Case oversizedBody(Operation op, Random random) {
    Draft draft = draft(op, random, false);
    int limit = op.mediaType().equals("text/plain") ? 10 * 1024 * 1024 : fixtures.maxBodyBytes();
    if (limit > fixtures.maxBodyBytes()) {
      // 10 MB imports: refused from the announced length, before the body is sent
      draft.rawBody = null;
      draft.body = null;
      Case head = draft.toCase(Kind.INVALID, "", null);
      List<String[]> headers = new ArrayList<>(head.headers());
      headers.add(new String[] {"Content-Length", String.valueOf(limit + 1)});
      return new Case(
          Kind.INVALID,
          "announced import over the limit",
          head.method(),
          head.target(),
          headers,
          null,
          null);
    }
    String json = Json.encode(draft.body);
    int pad = limit + 1 + random.nextInt(2048) - json.length();
    draft.rawBody =
        ("{" + " ".repeat(Math.max(pad, 1)) + json.substring(1)).getBytes(StandardCharsets.UTF_8);
    return draft.toCase(Kind.INVALID, "body over the limit", null);
  }

  private Case malformedJson(Operation op, Random random) {
    Draft draft = draft(op, random, false);
    String json = new String(jsonBytes(Json.encode(draft.body)), StandardCharsets.UTF_8);
    int dice = random.nextInt(9);
    String text;
    String mutation;
    switch (dice) {
      case 0 -> {
        text = json.substring(0, 1 + random.nextInt(json.length() - 1));
        mutation = "truncated JSON";
      }
      case 1 -> {
        text = "{/* comment */" + json.substring(1);
        mutation = "JSON with a comment";
      }
      case 2 -> {
        text = json + pick(random, " x", "{}", ",", "\0");
        mutation = "content after the JSON value";
      }
      case 3 -> {
        JsonObject object = (JsonObject) draft.body;
        if (object.isEmpty()) {
          object.put("frozen", false);
          json = object.encode();
        }
        String first = object.fieldNames().iterator().next();
        text =
            "{\"" + first + "\":" + Json.encode(object.getValue(first)) + "," + json.substring(1);
        mutation = "member sent twice";
      }
      case 4 -> {
        text = pick(random, "[]", "null", "42", "\"x\"", "true", "[" + json + "]");
        mutation = "not an object";
      }
      case 5 -> {
        text = json.replace('"', '\'');
        mutation = "single quotes";
      }
      case 6 -> {
        draft.rawBody = new byte[0];
        return draft.toCase(Kind.INVALID, "empty body", null);
      }
      case 7 -> {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        byte[] broken = new byte[bytes.length + 2];
        System.arraycopy(bytes, 0, broken, 0, 2);
        broken[2] = (byte) 0xC3;
        broken[3] = (byte) 0x28;
        System.arraycopy(bytes, 2, broken, 4, bytes.length - 2);
        draft.rawBody = broken;
        return draft.toCase(Kind.INVALID, "not UTF-8", null);
      }
      default -> {
        text = json.replaceFirst(":", ":NaN,\"_\":");
        mutation = "NaN";
      }
    }
    draft.rawBody = text.getBytes(StandardCharsets.UTF_8);
    return draft.toCase(Kind.INVALID, mutation, null);
  }

  /** One member of the body broken: missing, extra, mistyped, out of range or badly spelt. */
  private Case badJsonMember(Operation op, Random random) {
    Draft draft = draft(op, random, false);
    JsonObject body = (JsonObject) draft.body;
    JsonObject schema = resolve(op.bodySchema());
    boolean oneOf = schema.containsKey("oneOf");
    if (oneOf) {
      schema = firstNonNull(schema.getJsonArray("oneOf"));
    }
    // pick the object to break: the body or a nested object member
    JsonObject target = body;
    JsonObject targetSchema = schema;
    String prefix = "";
    for (String member : body.fieldNames()) {
      JsonObject memberSchema = memberSchema(targetSchema, member);
      if (body.getValue(member) instanceof JsonObject nested
          && memberSchema != null
          && random.nextBoolean()) {
        target = nested;
        targetSchema = objectAlternative(memberSchema);
        prefix = member + ".";
        break;
      }
    }
    List<String> members = new ArrayList<>(target.fieldNames());
    int dice = random.nextInt(10);
    JsonArray required = targetSchema.getJsonArray("required", new JsonArray());
    if (dice == 0 && !required.isEmpty()) {
      String member = required.getString(random.nextInt(required.size()));
      target.remove(member);
      return draft.toCase(Kind.INVALID, "missing " + prefix + member, oneOf ? null : member);
    }
    if (dice == 1 || members.isEmpty()) {
      String extra = pick(random, "fuzzExtra", "clientSecret", "__proto__", "status", "");
      if (memberSchema(targetSchema, extra) != null) {
        extra = "fuzzExtra";
      }
      target.put(extra, pick(random, "x", "1"));
      return draft.toCase(
          Kind.INVALID,
          "unknown member '" + prefix + extra + "'",
          oneOf || extra.isEmpty() ? null : extra);
    }
    String member = members.get(random.nextInt(members.size()));
    JsonObject memberSchema = resolve(memberSchema(targetSchema, member));
    Object current = target.getValue(member);
    if (dice == 2) {
      Object wrong = wrongType(memberSchema, random);
      target.put(member, wrong);
      return draft.toCase(Kind.INVALID, "wrong type for " + prefix + member, oneOf ? null : member);
    }
    if (current instanceof Number || type(memberSchema).equals("integer")) {
      long min = memberSchema.getLong("minimum", Long.MIN_VALUE);
      Long max = memberSchema.getLong("maximum");
      List<String> bad =
          new ArrayList<>(
              List.of("1.5", "9223372036854775808", "1e400", "-9223372036854775809", "1E2"));
      if (min > Long.MIN_VALUE) {
        bad.add(String.valueOf(min - 1));
        bad.add("-1");
        if (min > 0) {
          bad.add("0");
        }
      }
      if (max != null) {
        bad.add(String.valueOf(max + 1));
        bad.add(String.valueOf(max * 1000));
      }
      String literal = bad.get(random.nextInt(bad.size()));
      target.put(member, "\u0001NUMBER\u0001");
      String text =
          new String(jsonBytes(Json.encode(body)), StandardCharsets.UTF_8)
              .replace("\"\\u0001NUMBER\\u0001\"", literal);
      draft.rawBody = text.getBytes(StandardCharsets.UTF_8);
      return draft.toCase(Kind.INVALID, "number " + literal + " for " + prefix + member, null);
    }
    if (current instanceof String) {
      String bad = badString(memberSchema, random);
      if (bad != null) {
        target.put(member, bad);
        return draft.toCase(
            Kind.INVALID, "bad string " + describe(bad) + " for " + prefix + member, null);
      }
    }
    Object wrong = wrongType(memberSchema, random);
    target.put(member, wrong);
    return draft.toCase(Kind.INVALID, "wrong type for " + prefix + member, oneOf ? null : member);
  }

  private String badString(JsonObject schema, Random random) {
    if (schema.containsKey("enum")) {
      return pick(random, "nope", "", "nok", "EPAYMENT", "epayment\n");
    }
    if (schema.containsKey("format") && schema.getString("format").equals("date-time")) {
      return pick(
          random, "yesterday", "2026-13-01T00:00:00Z", "", "2026-01-01", "2026-01-01T00:00:00Z\n");
    }
    String pattern = schema.getString("pattern");
    Integer maxLength = schema.getInteger("maxLength");
    int minLength = schema.getInteger("minLength", 0);
    String good = pattern != null ? PatternStrings.sample(pattern, random) : "Fuzz";
    List<String> bad = new ArrayList<>();
    if (maxLength != null) {
      bad.add("y".repeat(maxLength + 1));
      bad.add("y".repeat(20_000));
    }
    if (minLength > 0 || pattern != null) {
      bad.add("");
    }
    bad.add(good + "\0");
    bad.add("\0");
    bad.add(good + "\u0001tail");
    bad.add(good + SURROGATE_MARK);
    bad.add("\uDFFF" + good);
    if (pattern != null) {
      bad.add(good + "\n");
      bad.add(good + "\u200F");
      bad.add("\u202E" + good);
      bad.add(good + " ");
      bad.add(good + "é");
    }
    return pickBreaking(schema, bad, random);
  }

  private Object wrongType(JsonObject schema, Random random) {
    String type = type(schema);
    List<Object> candidates = new ArrayList<>();
    if (!type.equals("string")) {
      candidates.add("12");
    }
    if (!type.equals("integer")) {
      candidates.add(12);
    }
    if (!type.equals("boolean")) {
      candidates.add(true);
    }
    if (!type.equals("object")) {
      candidates.add(new JsonObject().put("value", 1));
    }
    if (!type.equals("array")) {
      candidates.add(new JsonArray().add("x"));
    }
    if (!allowsNull(schema)) {
      candidates.add(null);
    }
    return candidates.get(random.nextInt(candidates.size()));
  }

  // ---- schema helpers -----------------------------------------------------------------------

  private boolean hasPattern(Operation op, String field) {
    JsonObject schema = resolve(op.bodySchema());
    if (schema.containsKey("oneOf")) {
      schema = firstNonNull(schema.getJsonArray("oneOf"));
    }
    JsonObject member = memberSchema(schema, field);
    if (member == null) {
      return true;
    }
    member = resolve(member);
    return member.containsKey("pattern")
        || member.containsKey("enum")
        || member.containsKey("format");
  }

  private String randomStringField(JsonObject json, Random random) {
    List<String> strings =
        json.fieldNames().stream().filter(f -> json.getValue(f) instanceof String).toList();
    return strings.isEmpty() ? null : strings.get(random.nextInt(strings.size()));
  }

  private JsonObject memberSchema(JsonObject objectSchema, String member) {
    JsonObject properties = resolve(objectSchema).getJsonObject("properties");
    return properties == null ? null : properties.getJsonObject(member);
  }

  private JsonObject objectAlternative(JsonObject schema) {
    schema = resolve(schema);
    return schema.containsKey("oneOf") ? firstNonNull(schema.getJsonArray("oneOf")) : schema;
  }

  private JsonObject firstNonNull(JsonArray alternatives) {
    for (Object alternative : alternatives) {
      JsonObject schema = resolve((JsonObject) alternative);
      if (!"null".equals(schema.getValue("type"))) {
        return schema;
      }
    }
    throw new IllegalStateException("no alternative but null: " + alternatives);
  }

  private boolean allowsNull(JsonObject schema) {
    Object type = schema.getValue("type");
    if (type instanceof JsonArray types && types.contains("null")) {
      return true;
    }
    JsonArray oneOf = schema.getJsonArray("oneOf");
    return oneOf != null
        && oneOf.stream().anyMatch(s -> "null".equals(resolve((JsonObject) s).getValue("type")));
  }

  private String type(JsonObject schema) {
    Object type = schema.getValue("type");
    if (type instanceof JsonArray types) {
      for (Object t : types) {
        if (!"null".equals(t)) {
          return (String) t;
        }
      }
    }
    if (type == null) {
      return schema.containsKey("properties") ? "object" : "string";
    }
    return (String) type;
  }

  JsonObject resolve(JsonObject schema) {
    while (schema != null && schema.containsKey("$ref")) {
      String[] parts = schema.getString("$ref").substring(2).split("/");
      JsonObject at = contract;
      for (String part : parts) {
        at = at.getJsonObject(part);
      }
      schema = at;
    }
    return schema;
  }

  // ---- encoding helpers ---------------------------------------------------------------------

  /**
   * JSON text as UTF-8, with every unpaired surrogate written as a {@code \\uXXXX} escape (Java's
   * encoder would otherwise send {@code ?}).
   */
  static byte[] jsonBytes(String json) {
    StringBuilder out = new StringBuilder(json.length());
    for (int i = 0; i < json.length(); i++) {
      char c = json.charAt(i);
      boolean paired =
          Character.isHighSurrogate(c)
                  && i + 1 < json.length()
                  && Character.isLowSurrogate(json.charAt(i + 1))
              || Character.isLowSurrogate(c)
                  && i > 0
                  && Character.isHighSurrogate(json.charAt(i - 1));
      if (Character.isSurrogate(c) && !paired) {
        out.append(String.format("\\u%04x", (int) c));
      } else {
        out.append(c);
      }
    }
    return out.toString().getBytes(StandardCharsets.UTF_8);
  }

  /** %-escapes a value for a path segment or query (lone surrogates as the bytes of U+D800). */
  static String escape(String value) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (Character.isSurrogate(c)
          && !(Character.isHighSurrogate(c)
              && i + 1 < value.length()
              && Character.isLowSurrogate(value.charAt(i + 1)))) {
        out.append("%ED%A0%80");
        continue;
      }
      if (Character.isHighSurrogate(c)) {
        out.append(URLEncoder.encode(value.substring(i, i + 2), StandardCharsets.UTF_8));
        i++;
        continue;
      }
      out.append(URLEncoder.encode(String.valueOf(c), StandardCharsets.UTF_8).replace("+", "%20"));
    }
    return out.toString();
  }

  /** A header value as ISO-8859-1 chars of its UTF-8 bytes. */
  static String latin1(String value) {
    return new String(value.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
  }

  private static String describe(String value) {
    if (value.length() > 24) {
      return "(" + value.length() + " chars)";
    }
    StringBuilder out = new StringBuilder("'");
    value
        .chars()
        .forEach(
            c ->
                out.append(
                    c < 0x20 || c > 0x7e ? String.format("\\u%04x", c) : String.valueOf((char) c)));
    return out.append('\'').toString();
  }

  @SafeVarargs
  private static <T> T pick(Random random, T... values) {
    return values[random.nextInt(values.length)];
  }
}
