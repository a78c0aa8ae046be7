package io.refundbroker.testing;

import io.vertx.core.http.HttpMethod;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/** The operations of the broker's own contract, read from {@code openapi.yaml}. */
public final class ContractOperations {
  private static final Set<String> METHODS = Set.of("get", "post", "put", "patch", "delete");

  /** One operation: method, path (with placeholders filled in) and its {@code x-roles}. */
  public record Op(String operationId, HttpMethod method, String path, List<String> roles) {
    @Override
    public String toString() {
      return operationId + " (" + method + " " + path + ")";
    }
  }

  private ContractOperations() {}

  @SuppressWarnings("unchecked")
  public static List<Op> all() {
    try (InputStream in = ContractOperations.class.getResourceAsStream("/openapi.yaml")) {
      Map<String, Object> contract = new Yaml(new SafeConstructor(new LoaderOptions())).load(in);
      Map<String, Object> paths = (Map<String, Object>) contract.get("paths");
      List<Op> ops = new ArrayList<>();
      for (var path : paths.entrySet()) {
        Map<String, Object> item = (Map<String, Object>) path.getValue();
        for (var entry : item.entrySet()) {
          if (!METHODS.contains(entry.getKey())) {
            continue;
          }
          Map<String, Object> op = (Map<String, Object>) entry.getValue();
          List<String> roles = (List<String>) op.getOrDefault("x-roles", List.of());
          ops.add(
              new Op(
                  (String) op.get("operationId"),
                  HttpMethod.valueOf(entry.getKey().toUpperCase(Locale.ROOT)),
                  fill(path.getKey()),
                  roles));
        }
      }
      return ops;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Operations that only the given roles may call. */
  public static List<Op> onlyFor(String... roles) {
    List<String> wanted = List.of(roles);
    return all().stream()
        .filter(op -> !op.roles().isEmpty() && wanted.containsAll(op.roles()))
        .toList();
  }

  private static String fill(String template) {
    return template.replace("{clientId}", "cl_abcdefghij").replaceAll("\\{[A-Za-z]+}", "sample-1");
  }
}
