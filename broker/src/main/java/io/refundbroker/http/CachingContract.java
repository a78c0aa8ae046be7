package io.refundbroker.http;

import io.vertx.core.file.FileSystem;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.json.schema.Draft;
import io.vertx.json.schema.JsonSchema;
import io.vertx.json.schema.JsonSchemaOptions;
import io.vertx.json.schema.SchemaException;
import io.vertx.json.schema.SchemaRepository;
import io.vertx.json.schema.Validator;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.openapi.contract.OpenAPIVersion;
import io.vertx.openapi.contract.Operation;
import io.vertx.openapi.contract.Path;
import io.vertx.openapi.contract.SecurityRequirement;
import io.vertx.openapi.contract.SecurityScheme;
import io.vertx.openapi.contract.Server;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The contract as the request validator sees it: everything delegates to the loaded contract,
 * except that the schema validator of each parameter and body schema is built once and reused.
 *
 * <p>Why: vertx-openapi 5.0.10 asks the schema repository for a new validator for every parameter
 * and body of every request, and building one copies the repository's whole lookup table and
 * dereferences the schema again — the largest CPU cost of a refund request in the benchmark. A
 * built validator keeps no state between {@code validate} calls, so sharing it changes no result.
 */
final class CachingContract implements OpenAPIContract {
  /** More distinct schemas than any contract of ours has; beyond it nothing more is cached. */
  private static final int MAX_CACHED = 1024;

  private final OpenAPIContract contract;
  private final SchemaRepository schemas;

  private CachingContract(OpenAPIContract contract) {
    this.contract = contract;
    this.schemas = new CachingRepository(contract.getSchemaRepository());
  }

  /** {@code contract} with cached schema validators. */
  static OpenAPIContract of(OpenAPIContract contract) {
    return new CachingContract(contract);
  }

  @Override
  public SchemaRepository getSchemaRepository() {
    return schemas;
  }

  @Override
  public Operation operation(String operationId) {
    return contract.operation(operationId);
  }

  @Override
  public List<Operation> operations() {
    return contract.operations();
  }

  @Override
  public List<Path> getPaths() {
    return contract.getPaths();
  }

  @Override
  public JsonObject getRawContract() {
    return contract.getRawContract();
  }

  @Override
  public OpenAPIVersion getVersion() {
    return contract.getVersion();
  }

  @Override
  public List<Server> getServers() {
    return contract.getServers();
  }

  @Override
  public Path findPath(String urlPath) {
    return contract.findPath(urlPath);
  }

  @Override
  public Operation findOperation(String urlPath, HttpMethod method) {
    return contract.findOperation(urlPath, method);
  }

  @Override
  public List<SecurityRequirement> getSecurityRequirements() {
    return contract.getSecurityRequirements();
  }

  @Override
  public SecurityScheme securityScheme(String name) {
    return contract.securityScheme(name);
  }

  /** Identity of a schema object of the contract (its content hash would cost a walk per call). */
  private record SchemaKey(JsonSchema schema) {
    @Override
    public boolean equals(Object other) {
      return other instanceof SchemaKey key && key.schema == schema;
    }

    @Override
    public int hashCode() {
      return System.identityHashCode(schema);
    }
  }

  /**
   * Delegates to the contract's repository; {@link #validator(JsonSchema)} is memoised. Shared by
   * every HTTP verticle: thread-safe through a {@link ConcurrentHashMap} (two threads may build the
   * same validator once each; either is kept, both are equal).
   */
  private static final class CachingRepository implements SchemaRepository {
    private final SchemaRepository repository;
    private final Map<SchemaKey, Validator> validators = new ConcurrentHashMap<>();

    CachingRepository(SchemaRepository repository) {
      this.repository = repository;
    }

    @Override
    public Validator validator(JsonSchema schema) {
      SchemaKey key = new SchemaKey(schema);
      Validator cached = validators.get(key);
      if (cached != null) {
        return cached;
      }
      Validator built = repository.validator(schema);
      if (validators.size() < MAX_CACHED) {
        validators.putIfAbsent(key, built);
      }
      return built;
    }

    @Override
    public SchemaRepository dereference(JsonSchema schema) throws SchemaException {
      repository.dereference(schema);
      return this;
    }

    @Override
    public SchemaRepository dereference(String uri, JsonSchema schema) throws SchemaException {
      repository.dereference(uri, schema);
      return this;
    }

    @Override
    public SchemaRepository preloadMetaSchema(FileSystem fs) {
      repository.preloadMetaSchema(fs);
      return this;
    }

    @Override
    public SchemaRepository preloadMetaSchema(FileSystem fs, Draft draft) {
      repository.preloadMetaSchema(fs, draft);
      return this;
    }

    @Override
    public Validator validator(String ref) {
      return repository.validator(ref);
    }

    @Override
    public Validator validator(String ref, JsonSchemaOptions options) {
      return repository.validator(ref, options);
    }

    @Override
    public Validator validator(JsonSchema schema, JsonSchemaOptions options) {
      return repository.validator(schema, options);
    }

    @Override
    public Validator validator(JsonSchema schema, JsonSchemaOptions options, boolean dereference) {
      return repository.validator(schema, options, dereference);
    }

    @Override
    public JsonObject resolve(JsonObject schema) {
      return repository.resolve(schema);
    }

    @Override
    public JsonSchema find(String pointer) {
      return repository.find(pointer);
    }
  }
}
