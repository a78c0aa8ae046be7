package io.refundbroker.testing;

import com.atlassian.oai.validator.OpenApiInteractionValidator;
import com.atlassian.oai.validator.model.Request;
import com.atlassian.oai.validator.model.SimpleRequest;
import com.atlassian.oai.validator.report.ValidationReport;
import io.refundbroker.sandbox.RecordedRequest;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.parser.OpenAPIV3Parser;
import io.swagger.v3.parser.core.models.ParseOptions;
import io.swagger.v3.parser.core.models.SwaggerParseResult;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.representer.Representer;

/**
 * Checks requests against the official Vipps MobilePay specs in {@code <contracts>/vipps} (path,
 * method, required headers and security, body schema) with swagger-request-validator.
 *
 * <p>The specs are read as they are, never edited: {@code epayment-v1.yaml} has one {@code $ref} to
 * raw.githubusercontent.com (the order-management {@code Receipt} schema, used only by create
 * payment); with no internet it would break parsing, so every remote {@code $ref} is replaced
 * <em>in memory</em> by a permissive local stub schema before the spec is parsed. Relative refs
 * ({@code ecom-v2.yaml} → {@code ms_import.yaml}) are resolved from the spec's own directory.
 */
public final class VippsContract {
  private static final String STUB = "VippsContractRemoteRefStub";

  private final Map<String, OpenApiInteractionValidator> validators = new LinkedHashMap<>();

  private VippsContract(Path vippsDir) {
    validators.put("/accesstoken/", validator(vippsDir.resolve("accesstoken.yaml")));
    validators.put("/epayment/", validator(vippsDir.resolve("epayment-v1.yaml")));
    validators.put("/ecomm/", validator(vippsDir.resolve("ecom-v2.yaml")));
  }

  /**
   * The directory with the Vipps specs: {@code $CONTRACTS_DIR/vipps}, else {@code
   * $CONTRACTS_DIR_DEFAULT/vipps} (set by the poms to {@code <root>/../shared/specs}), if it holds
   * the three specs.
   */
  public static Optional<Path> specsDir() {
    return specsDir(System.getenv());
  }

  /** {@link #specsDir()} for a given environment. */
  static Optional<Path> specsDir(Map<String, String> environment) {
    for (String variable : List.of("CONTRACTS_DIR", "CONTRACTS_DIR_DEFAULT")) {
      String value = environment.get(variable);
      if (value == null || value.isBlank()) {
        continue;
      }
      Path dir = Path.of(value).resolve("vipps");
      if (Files.isReadable(dir.resolve("epayment-v1.yaml"))
          && Files.isReadable(dir.resolve("ecom-v2.yaml"))
          && Files.isReadable(dir.resolve("accesstoken.yaml"))) {
        return Optional.of(dir);
      }
    }
    return Optional.empty();
  }

  /** Why contract checks are skipped, for JUnit assumptions. */
  public static String missingMessage() {
    return "Vipps specs not found: set CONTRACTS_DIR to a directory with vipps/epayment-v1.yaml,"
        + " vipps/ecom-v2.yaml and vipps/accesstoken.yaml (default ../shared/specs beside the"
        + " project); Vipps contract checks are skipped";
  }

  /** Loads the specs found by {@link #specsDir()}, if any. */
  public static Optional<VippsContract> load() {
    Optional<Path> dir = specsDir();
    if (dir.isEmpty()) {
      Specs.missing(missingMessage());
    }
    return dir.map(VippsContract::new);
  }

  /**
   * The spec violations of one request, each as {@code METHOD path: message}. A request to a path
   * no Vipps spec covers is itself a violation.
   */
  public List<String> violations(RecordedRequest recorded) {
    OpenApiInteractionValidator validator = null;
    for (var entry : validators.entrySet()) {
      if (recorded.path().startsWith(entry.getKey())) {
        validator = entry.getValue();
      }
    }
    String where = recorded.method() + " " + recorded.path() + ": ";
    if (validator == null) {
      return List.of(where + "no Vipps spec describes this path");
    }
    ValidationReport report = validator.validateRequest(toRequest(recorded));
    List<String> out = new ArrayList<>();
    for (ValidationReport.Message message : report.getMessages()) {
      if (message.getLevel() == ValidationReport.Level.ERROR) {
        out.add(where + message.getKey() + " " + message.getMessage());
      }
    }
    return out;
  }

  private static Request toRequest(RecordedRequest recorded) {
    SimpleRequest.Builder builder =
        new SimpleRequest.Builder(recorded.method().toUpperCase(Locale.ROOT), recorded.path());
    Map<String, List<String>> headers = new LinkedHashMap<>();
    recorded
        .headers()
        .forEach(
            h -> headers.computeIfAbsent(h.getKey(), k -> new ArrayList<>()).add(h.getValue()));
    headers.forEach(builder::withHeader);
    if (recorded.query() != null && !recorded.query().isEmpty()) {
      for (String pair : recorded.query().split("&")) {
        int eq = pair.indexOf('=');
        builder.withQueryParam(
            eq < 0 ? pair : pair.substring(0, eq), eq < 0 ? "" : pair.substring(eq + 1));
      }
    }
    if (recorded.body().length() > 0) {
      builder.withBody(recorded.bodyText());
    }
    return builder.build();
  }

  private static OpenApiInteractionValidator validator(Path spec) {
    ParseOptions options = new ParseOptions();
    options.setResolve(true);
    // Fully inlined schemas let the validator see a header's declared type behind a $ref (the
    // ePayment MSN is a $ref'd string; unresolved, "654321" would be checked as an integer).
    options.setResolveFully(true);
    SwaggerParseResult parsed =
        new OpenAPIV3Parser()
            .readContents(withRemoteRefsStubbed(spec), null, options, spec.toUri().toString());
    OpenAPI api = parsed.getOpenAPI();
    if (api == null) {
      throw new IllegalStateException("cannot parse " + spec + ": " + parsed.getMessages());
    }
    return OpenApiInteractionValidator.createFor(api).build();
  }

  /** The spec's text with every remote {@code $ref} pointing at a local permissive stub. */
  @SuppressWarnings("unchecked")
  static String withRemoteRefsStubbed(Path spec) {
    String text;
    try {
      text = Files.readString(spec, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Map<String, Object> tree = new Yaml(new SafeConstructor(new LoaderOptions())).load(text);
    if (!replaceRemoteRefs(tree)) {
      return text;
    }
    Map<String, Object> components =
        (Map<String, Object>) tree.computeIfAbsent("components", k -> new LinkedHashMap<>());
    Map<String, Object> schemas =
        (Map<String, Object>) components.computeIfAbsent("schemas", k -> new LinkedHashMap<>());
    Map<String, Object> stub = new LinkedHashMap<>();
    stub.put("type", "object");
    stub.put("description", "stand-in for a remote $ref (no network in tests)");
    schemas.put(STUB, stub);
    DumperOptions dump = new DumperOptions();
    dump.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
    return new Yaml(new Representer(dump), dump).dump(tree);
  }

  @SuppressWarnings("unchecked")
  private static boolean replaceRemoteRefs(Object node) {
    boolean replaced = false;
    if (node instanceof Map<?, ?> map) {
      Map<String, Object> object = (Map<String, Object>) map;
      Object ref = object.get("$ref");
      if (ref instanceof String target
          && (target.startsWith("http://") || target.startsWith("https://"))) {
        object.put("$ref", "#/components/schemas/" + STUB);
        replaced = true;
      }
      for (Object value : object.values()) {
        replaced |= replaceRemoteRefs(value);
      }
    } else if (node instanceof List<?> list) {
      for (Object value : list) {
        replaced |= replaceRemoteRefs(value);
      }
    }
    return replaced;
  }
}
