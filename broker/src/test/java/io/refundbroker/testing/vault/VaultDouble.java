package io.refundbroker.testing.vault;

import io.refundbroker.testing.Await;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

/**
 * A test double of HashiCorp Vault over real HTTP (Vert.x, port 0), behaving as {@code
 * notes/vault.md} describes for what the broker uses: the response envelope, KV v2 (versions,
 * check-and-set, soft delete, metadata, custom_metadata, retention), AppRole login, token
 * lookup/renew with TTL, max TTL and explicit max TTL on a controllable clock, Transit ed25519 keys
 * with versions (rotation by hand and by {@code auto_rotate_period}, {@code vault:v<n>:}
 * signatures, {@code key_version} on sign), {@code sys/health} with its status codes and query
 * parameters for every HA and replication state ({@link Mode}), the 403 texts ({@code permission
 * denied}, {@code invalid token}), {@code {"errors":[]}} 404s, 503 {@code Vault is sealed}, 429,
 * and a DR secondary's 400 {@code path disabled in replication DR secondary mode}.
 *
 * <p>It enforces ACL policies loaded from {@code ../vault-config/*.hcl} (policy name = file name
 * without {@code .hcl}) plus Vault's built-in {@code default} policy, so a test proves the broker
 * works with exactly the privileges the policy grants. Every request is also checked against
 * Vault's OpenAPI description ({@link VaultSpecCheck}); violations are answered with 400 and kept
 * for {@link #specViolations()}.
 */
public final class VaultDouble implements AutoCloseable {
  public static final String KV_MOUNT = "refund-broker";
  public static final String TRANSIT_MOUNT = "transit";
  public static final String TRANSIT_KEY = "refund-broker-audit";
  public static final String APPROLE_MOUNT = "approle";
  public static final Path POLICY_DIR = Path.of("..", "vault-config");

  /** Vault's built-in default policy (the parts a service token uses). */
  private static final String DEFAULT_POLICY =
      """
      path "auth/token/lookup-self" { capabilities = ["read"] }
      path "auth/token/renew-self" { capabilities = ["update"] }
      path "auth/token/revoke-self" { capabilities = ["update"] }
      """;

  private static final String PERMISSION_DENIED = "1 error occurred:\n\t* permission denied\n\n";
  private static final String INVALID_TOKEN =
      "2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n";

  /**
   * One request as the double saw it.
   *
   * @param tokenRefusedBefore whether it carried a token this Vault had already refused (403 {@code
   *     invalid token}) on an earlier request
   * @param accessor the accessor of the token it carried (not a secret), or null
   */
  public record Request(
      String method,
      String path,
      int status,
      boolean withToken,
      boolean tokenRefusedBefore,
      String accessor) {}

  /**
   * The node's HA and replication state, as {@code sys/health} reports it: an active node (200), a
   * standby (429; forwards every request to the active node), a performance standby (473; serves
   * reads itself, forwards writes), a DR secondary (472; refuses every client request), and an
   * uninitialised Vault (501; sealed too). Sealing is separate ({@link #seal()}).
   */
  public enum Mode {
    ACTIVE,
    STANDBY,
    PERFORMANCE_STANDBY,
    DR_SECONDARY,
    UNINITIALIZED
  }

  /**
   * @param explicitMax the token's explicit max TTL end (null: only the role/system max applies)
   */
  private record Token(
      String id,
      String accessor,
      List<String> policies,
      Instant issued,
      Instant expires,
      Instant maxExpires,
      long ttlSeconds,
      boolean renewable,
      Instant explicitMax) {}

  /** One version of a Transit key. */
  private record TransitVersion(KeyPair pair, Instant created) {}

  /** A Transit ed25519 key: its versions (1-based), its rotation and signing settings. */
  private static final class TransitKey {
    final List<TransitVersion> versions = new ArrayList<>();
    Duration autoRotatePeriod = Duration.ZERO;
    int minEncryptionVersion;
    int minDecryptionVersion = 1;
  }

  private static final class KvVersion {
    JsonObject data;
    Instant created;
    Instant deletion;
    boolean destroyed;
  }

  private static final class KvKey {
    final TreeMap<Integer, KvVersion> versions = new TreeMap<>();
    int current;
    int oldest;
    int maxVersions;
    boolean casRequired;
    Map<String, String> custom;
    Instant created;
    Instant updated;
  }

  private final Vertx vertx;
  private volatile HttpServer server;
  private volatile int port;
  private final VaultSpecCheck spec;
  private final Map<String, HclPolicy> policies = new HashMap<>();
  private final Map<String, Token> tokens = new HashMap<>();
  private final Map<String, KvKey> kv = new HashMap<>();
  private final Map<String, TransitKey> transitKeys = new HashMap<>();
  private final Set<String> refusedTokens = new java.util.HashSet<>();
  private final List<Request> requests = new CopyOnWriteArrayList<>();
  private final List<String> violations = new CopyOnWriteArrayList<>();
  private final String roleId = UUID.randomUUID().toString();
  private final String secretId = UUID.randomUUID().toString();
  private final String rootToken = "hvs." + random(24);
  private List<String> appRolePolicies = List.of("default", "broker");
  private Duration tokenTtl = Duration.ofMinutes(20);
  private Duration tokenMaxTtl = Duration.ofHours(2);
  private Duration clockOffset = Duration.ZERO;
  private boolean sealed;
  private Mode mode = Mode.ACTIVE;
  private boolean unreachable;
  private boolean hanging;
  private final List<HttpServerRequest> held = new ArrayList<>();
  private long heldTotal;
  private boolean secretIdRevoked;
  private int failStatus;
  private String failError;
  private int throttle;
  private int mountMaxVersions;
  private boolean mountCasRequired = true;

  private VaultDouble(Vertx vertx) {
    this.vertx = vertx;
    this.spec =
        VaultSpecCheck.load(
            Map.of(
                "kv_v2_mount_path", KV_MOUNT,
                "transit_mount_path", TRANSIT_MOUNT,
                "approle_mount_path", APPROLE_MOUNT));
    policies.put("default", HclPolicy.parse("default", DEFAULT_POLICY));
    loadPolicies();
    tokens.put(
        rootToken,
        new Token(rootToken, random(24), List.of("root"), now(), null, null, 0, false, null));
    transitKeys.put(TRANSIT_KEY, newTransitKey());
    this.server = vertx.createHttpServer().requestHandler(this::handle);
  }

  /** Starts a double on a free port of 127.0.0.1, with its own Vert.x instance. */
  public static VaultDouble start() {
    VaultDouble vault = new VaultDouble(Vertx.vertx());
    vault.port = Await.result(vault.server.listen(0, "127.0.0.1")).actualPort();
    return vault;
  }

  /** {@code http://127.0.0.1:<port>}, for {@code VAULT_ADDR}. */
  public String address() {
    return "http://127.0.0.1:" + port;
  }

  public String roleId() {
    return roleId;
  }

  public String secretId() {
    return secretId;
  }

  /** Whether requests are checked against the Vault spec (false when the spec is absent). */
  public boolean specChecked() {
    return spec.enabled();
  }

  // ---- set-up hooks ----------------------------------------------------------------------

  /** Adds (or replaces) a policy, e.g. a deliberately too small one. */
  public synchronized void addPolicy(String name, String hcl) {
    policies.put(name, HclPolicy.parse(name, hcl));
  }

  /** The policies AppRole logins get (default: {@code default} and {@code broker}). */
  public synchronized void appRolePolicies(String... names) {
    appRolePolicies = List.of(names);
  }

  /** TTL and max TTL of tokens issued from now on (like the role's token_ttl/token_max_ttl). */
  public synchronized void tokenTtl(Duration ttl, Duration maxTtl) {
    tokenTtl = ttl;
    tokenMaxTtl = maxTtl;
  }

  /** A service token with {@code policyNames} (for {@code VAULT_TOKEN} set-ups). */
  public synchronized String issueToken(Duration ttl, String... policyNames) {
    Token token = newToken(List.of(policyNames), ttl, tokenMaxTtl);
    return token.id();
  }

  /**
   * A renewable service token with an explicit max TTL ({@code vault token create -ttl=…
   * -explicit-max-ttl=…}): renewals never take it past {@code explicitMaxTtl} from now.
   */
  public synchronized String issueToken(
      Duration ttl, Duration explicitMaxTtl, String... policyNames) {
    Token token = newToken(List.of(policyNames), ttl, tokenMaxTtl);
    Instant explicitMax = token.issued().plus(explicitMaxTtl);
    Token capped =
        new Token(
            token.id(),
            token.accessor(),
            token.policies(),
            token.issued(),
            token.expires().isAfter(explicitMax) ? explicitMax : token.expires(),
            token.maxExpires().isAfter(explicitMax) ? explicitMax : token.maxExpires(),
            token.ttlSeconds(),
            true,
            explicitMax);
    tokens.put(capped.id(), capped);
    return capped.id();
  }

  /** The accessor of {@code token} (to tell in {@link #requests()} which token was used). */
  public synchronized String accessorOf(String token) {
    return tokens.get(token).accessor();
  }

  /** Revokes {@code token} (its next use answers 403 invalid token). */
  public synchronized void revokeToken(String token) {
    tokens.remove(token);
  }

  /** The root token (an operator's, for {@link #operator}). Never give it to the broker. */
  public String rootToken() {
    return rootToken;
  }

  // ---- fault hooks -----------------------------------------------------------------------

  public synchronized void seal() {
    sealed = true;
  }

  public synchronized void unseal() {
    sealed = false;
  }

  /** Puts the node into an HA or replication state (see {@link Mode}). */
  public synchronized void mode(Mode newMode) {
    mode = newMode;
  }

  /** While true, every connection is closed without an answer (Vault down). */
  public synchronized void unreachable(boolean down) {
    unreachable = down;
  }

  /**
   * While true, every request (sys/health too) is read and never answered: a Vault whose storage
   * backend or seal hangs (a client sees only its own timeout). When it ends, the connections held
   * so far are closed unanswered.
   */
  public void hang(boolean on) {
    List<HttpServerRequest> release;
    synchronized (this) {
      hanging = on;
      if (on) {
        return;
      }
      release = List.copyOf(held);
      held.clear();
    }
    release.forEach(r -> r.connection().close());
  }

  /** How many requests were held unanswered by {@link #hang} so far. */
  public synchronized long heldRequests() {
    return heldTotal;
  }

  /**
   * While {@code status} is not 0, every request (sys/health too) is answered {@code status} with
   * {@code {"errors":[error]}}, e.g. 500 {@code internal error} (Vault's text for an internal
   * failure, such as its storage backend erroring) or a 503 that is not a seal.
   */
  public synchronized void failEvery(int status, String error) {
    failStatus = status;
    failError = error;
  }

  /**
   * Stops listening (the Vault process is down: connections are refused) until {@link
   * #listenAgain()}, which listens on the same port.
   */
  public void refuseConnections() {
    Await.result(server.close());
  }

  /** Listens again on the port {@link #refuseConnections()} closed. */
  public void listenAgain() {
    HttpServer again = vertx.createHttpServer().requestHandler(this::handle);
    Await.result(again.listen(port, "127.0.0.1"));
    server = again;
  }

  /**
   * Revokes every token issued so far except the root token ({@code vault token revoke}, or an
   * operator revoking the broker's AppRole tokens): each one's next use answers 403 invalid token.
   *
   * @return how many were revoked
   */
  public synchronized int revokeIssuedTokens() {
    int before = tokens.size();
    tokens.values().removeIf(t -> !t.policies().contains("root"));
    return before - tokens.size();
  }

  /**
   * While true, the broker's AppRole SecretID is revoked ({@code auth/approle/role/…/secret-id/
   * destroy}): logins with it answer 400 {@code invalid role or secret ID}; false restores it.
   */
  public synchronized void revokeSecretId(boolean revoked) {
    secretIdRevoked = revoked;
  }

  /** The next {@code n} requests are answered 429 (rate-limit quota). */
  public synchronized void throttleNext(int n) {
    throttle = n;
  }

  /** Moves the double's clock forward (token TTLs, created times). */
  public synchronized void advance(Duration duration) {
    clockOffset = clockOffset.plus(duration);
  }

  /** Every token issued so far expires now (the next use answers 403 invalid token). */
  public synchronized void expireAllTokens() {
    Instant now = now();
    tokens.replaceAll(
        (id, t) ->
            t.policies().contains("root")
                ? t
                : new Token(
                    t.id(),
                    t.accessor(),
                    t.policies(),
                    t.issued(),
                    now,
                    now,
                    t.ttlSeconds(),
                    t.renewable(),
                    t.explicitMax()));
  }

  // ---- observation -----------------------------------------------------------------------

  public List<Request> requests() {
    return List.copyOf(requests);
  }

  /** Requests matching {@code filter}. */
  public long count(Predicate<Request> filter) {
    return requests.stream().filter(filter).count();
  }

  /** The versions of the Transit key {@code name} (0 when it does not exist). */
  public synchronized int transitKeyVersions(String name) {
    TransitKey key = transitKeys.get(name);
    return key == null ? 0 : key.versions.size();
  }

  /** Requests that did not match the Vault spec (must stay empty). */
  public List<String> specViolations() {
    return List.copyOf(violations);
  }

  /** How many AppRole logins succeeded. */
  public long logins() {
    return count(r -> r.path().startsWith("auth/" + APPROLE_MOUNT + "/login") && r.status() == 200);
  }

  /**
   * Every token this Vault has issued and not forgotten (root included). Only for secret-canary
   * tests, which check that no Vault token leaks.
   */
  public synchronized List<String> issuedTokens() {
    return List.copyOf(tokens.keySet());
  }

  /** The stored versions of {@code salesunits/<msn>}, for assertions (test code only). */
  public synchronized int currentVersion(String msn) {
    KvKey key = kv.get("salesunits/" + msn);
    return key == null ? 0 : key.current;
  }

  /** The custom_metadata of {@code salesunits/<msn>}. */
  public synchronized Map<String, String> customMetadata(String msn) {
    KvKey key = kv.get("salesunits/" + msn);
    return key == null || key.custom == null ? Map.of() : Map.copyOf(key.custom);
  }

  @Override
  public void close() {
    Await.result(server.close());
    Await.result(vertx.close());
  }

  // ---- request handling ------------------------------------------------------------------

  private void handle(HttpServerRequest req) {
    req.body()
        .onSuccess(body -> respond(req, body))
        .onFailure(failure -> req.response().setStatusCode(400).end());
  }

  private synchronized void respond(HttpServerRequest req, Buffer rawBody) {
    if (hanging) {
      held.add(req);
      heldTotal++;
      return;
    }
    if (unreachable) {
      req.connection().close();
      return;
    }
    if (failStatus != 0) {
      String path = req.path().startsWith("/v1/") ? req.path().substring(4) : req.path();
      record(
          req,
          req.method().name(),
          path,
          errors(failStatus, failError),
          token(req) != null,
          false,
          null);
      return;
    }
    String uri = req.path();
    String method = req.method().name();
    String presented = token(req);
    boolean withToken = presented != null;
    boolean refusedBefore = withToken && refusedTokens.contains(presented);
    Token known = withToken ? tokens.get(presented) : null;
    String accessor = known == null ? null : known.accessor();
    Reply reply;
    if (!uri.startsWith("/v1/")) {
      reply = errors(404, "unsupported path");
    } else {
      String path = uri.substring(4);
      Map<String, List<String>> query = query(req.params());
      JsonObject body;
      try {
        body = rawBody.length() == 0 ? null : rawBody.toJsonObject();
      } catch (RuntimeException e) {
        body = null;
        reply = errors(400, "failed to parse JSON input");
        record(req, method, path, reply, withToken, refusedBefore, accessor);
        return;
      }
      List<String> problems = spec.check(method, path, query, body);
      if (!problems.isEmpty()) {
        violations.addAll(problems);
        reply = errors(400, "request does not match the Vault API description: " + problems);
      } else {
        reply = route(req, method, path, query, body);
      }
      record(req, method, path, reply, withToken, refusedBefore, accessor);
      return;
    }
    record(req, method, uri, reply, withToken, refusedBefore, accessor);
  }

  private void record(
      HttpServerRequest req,
      String method,
      String path,
      Reply reply,
      boolean withToken,
      boolean refusedBefore,
      String accessor) {
    requests.add(new Request(method, path, reply.status(), withToken, refusedBefore, accessor));
    var response = req.response().setStatusCode(reply.status());
    if (reply.body() != null && method.equals("HEAD")) {
      // HEAD sys/health: the status and Content-Type only
      response.putHeader("Content-Type", "application/json").end();
    } else if (reply.body() != null) {
      response.putHeader("Content-Type", "application/json").end(reply.body().encode());
    } else {
      response.end();
    }
  }

  private record Reply(int status, JsonObject body) {}

  private Reply route(
      HttpServerRequest req,
      String method,
      String path,
      Map<String, List<String>> query,
      JsonObject body) {
    if (path.equals("sys/health")) {
      return health(method, query);
    }
    if (sealed || mode == Mode.UNINITIALIZED) {
      return errors(503, "Vault is sealed");
    }
    if (mode == Mode.DR_SECONDARY) {
      // a DR secondary serves no client requests, logins included; only status endpoints
      return errors(400, "path disabled in replication DR secondary mode");
    }
    autoRotateTransitKeys();
    if (throttle > 0) {
      throttle--;
      return errors(429, "request path \"" + path + "\": rate limit quota exceeded");
    }
    if (path.equals("auth/" + APPROLE_MOUNT + "/login") && method.equals("POST")) {
      return login(body);
    }
    String tokenId = token(req);
    if (tokenId == null) {
      return errors(403, "permission denied");
    }
    Token token = tokens.get(tokenId);
    if (token == null || (token.expires() != null && !now().isBefore(token.expires()))) {
      refusedTokens.add(tokenId);
      return errors(403, INVALID_TOKEN);
    }
    boolean list = method.equals("LIST") || "true".equals(first(query, "list"));
    String capability = capability(method, path, list);
    HclPolicy.Acl acl =
        new HclPolicy.Acl(
            token.policies().stream().map(policies::get).filter(p -> p != null).toList(),
            token.policies().contains("root"));
    if (!acl.allows(path, capability, parameters(method, query, body))) {
      return errors(403, PERMISSION_DENIED);
    }
    if (path.equals("auth/token/lookup-self") && method.equals("GET")) {
      return lookupSelf(token);
    }
    if (path.equals("auth/token/renew-self") && isWrite(method)) {
      return renewSelf(token, body);
    }
    String kvPrefix = KV_MOUNT + "/";
    if (path.startsWith(kvPrefix)) {
      return kv(method, path.substring(kvPrefix.length()), query, body, list);
    }
    String transitPrefix = TRANSIT_MOUNT + "/";
    if (path.startsWith(transitPrefix)) {
      return transit(method, path.substring(transitPrefix.length()), body);
    }
    return errors(404, "unsupported path");
  }

  /**
   * The request's parameters as Vault's ACL sees them: a write's top-level body keys, a read's
   * query parameters (without {@code list}).
   */
  private static Map<String, Object> parameters(
      String method, Map<String, List<String>> query, JsonObject body) {
    if (isWrite(method) || method.equals("PATCH")) {
      return body == null ? Map.of() : body.getMap();
    }
    Map<String, Object> parameters = new LinkedHashMap<>();
    query.forEach(
        (name, values) -> {
          if (!name.equals("list")) {
            parameters.put(name, values.size() == 1 ? values.get(0) : List.copyOf(values));
          }
        });
    return parameters;
  }

  /** The capability a request needs, with Vault's existence check for create vs update. */
  private String capability(String method, String path, boolean list) {
    return switch (method) {
      case "GET" -> list ? "list" : "read";
      case "LIST" -> "list";
      case "DELETE" -> "delete";
      case "PATCH" -> "patch";
      default -> exists(path) ? "update" : "create";
    };
  }

  private boolean exists(String path) {
    String kvPrefix = KV_MOUNT + "/";
    if (path.startsWith(kvPrefix + "data/") || path.startsWith(kvPrefix + "metadata/")) {
      String rest = path.substring(kvPrefix.length());
      return kv.containsKey(rest.substring(rest.indexOf('/') + 1));
    }
    if (path.startsWith(TRANSIT_MOUNT + "/keys/")) {
      String name = path.substring((TRANSIT_MOUNT + "/keys/").length());
      // only the key itself has an existence check; rotate, config … are updates
      return name.contains("/") || transitKeys.containsKey(name);
    }
    // paths without an existence check (login, renew-self, transit sign, config …) are updates
    return true;
  }

  // ---- auth ------------------------------------------------------------------------------

  private Reply login(JsonObject body) {
    if (body == null
        || secretIdRevoked
        || !roleId.equals(body.getString("role_id"))
        || !secretId.equals(body.getString("secret_id"))) {
      return errors(400, "invalid role or secret ID");
    }
    Token token = newToken(appRolePolicies, tokenTtl, tokenMaxTtl);
    return ok(envelope(null, authBlock(token, token.ttlSeconds()), null));
  }

  private Reply lookupSelf(Token token) {
    long ttl =
        token.expires() == null
            ? 0
            : Math.max(0, Duration.between(now(), token.expires()).toSeconds());
    JsonObject data =
        new JsonObject()
            .put("accessor", token.accessor())
            .put("creation_time", token.issued().getEpochSecond())
            .put("creation_ttl", token.ttlSeconds())
            .put("display_name", "approle")
            .put("entity_id", "")
            .put("expire_time", token.expires() == null ? null : token.expires().toString())
            .put(
                "explicit_max_ttl",
                token.explicitMax() == null
                    ? 0
                    : Duration.between(token.issued(), token.explicitMax()).toSeconds())
            .put("id", token.id())
            .put("identity_policies", new JsonArray())
            .put("issue_time", token.issued().toString())
            .put("meta", new JsonObject())
            .put("num_uses", 0)
            .put("orphan", true)
            .put("path", "auth/" + APPROLE_MOUNT + "/login")
            .put("policies", new JsonArray(token.policies()))
            .put("renewable", token.renewable())
            .put("ttl", ttl)
            .put("type", "service");
    return ok(envelope(data, null, null));
  }

  private Reply renewSelf(Token token, JsonObject body) {
    if (!token.renewable()) {
      return errors(400, "lease is not renewable");
    }
    long requested = token.ttlSeconds();
    if (body != null && body.getValue("increment") instanceof Number n && n.longValue() > 0) {
      requested = n.longValue();
    }
    Instant now = now();
    if (token.maxExpires() != null && token.maxExpires().isBefore(now)) {
      // framework.CalculateTTL; an uncoded error, so Vault answers 500
      return errors(500, "past the max TTL, cannot renew");
    }
    Instant wanted = now.plusSeconds(requested);
    JsonArray warnings = null;
    Instant expires = wanted;
    if (token.maxExpires() != null && wanted.isAfter(token.maxExpires())) {
      expires = token.maxExpires();
      warnings =
          new JsonArray()
              .add(
                  "TTL of \""
                      + requested
                      + "s\" exceeded the effective max_ttl of \""
                      + Duration.between(now, expires).toSeconds()
                      + "s\"; TTL value is capped accordingly");
    }
    Token renewed =
        new Token(
            token.id(),
            token.accessor(),
            token.policies(),
            token.issued(),
            expires,
            token.maxExpires(),
            token.ttlSeconds(),
            true,
            token.explicitMax());
    tokens.put(token.id(), renewed);
    return ok(
        envelope(null, authBlock(renewed, Duration.between(now, expires).toSeconds()), warnings));
  }

  private Token newToken(List<String> policyNames, Duration ttl, Duration maxTtl) {
    Instant now = now();
    String id = "hvs." + random(24);
    Token token =
        new Token(
            id,
            random(24),
            List.copyOf(policyNames),
            now,
            now.plus(ttl),
            now.plus(maxTtl),
            ttl.toSeconds(),
            true,
            null);
    tokens.put(id, token);
    return token;
  }

  private static JsonObject authBlock(Token token, long leaseSeconds) {
    JsonArray policyNames = new JsonArray(token.policies());
    return new JsonObject()
        .put("client_token", token.id())
        .put("accessor", token.accessor())
        .put("policies", policyNames)
        .put("token_policies", policyNames.copy())
        .put("metadata", new JsonObject().put("role_name", "refund-broker"))
        .put("lease_duration", leaseSeconds)
        .put("renewable", token.renewable())
        .put("entity_id", UUID.randomUUID().toString())
        .put("token_type", "service")
        .put("orphan", true)
        .putNull("mfa_requirement")
        .put("num_uses", 0);
  }

  // ---- sys/health ------------------------------------------------------------------------

  /**
   * {@code GET|HEAD sys/health} as Vault's {@code http/sys_health.go} answers it: the status code
   * by precedence not initialised → sealed → DR secondary → performance standby → standby → active,
   * each overridable with its query parameter ({@code uninitcode}, {@code sealedcode}, {@code
   * drsecondarycode}, {@code performancestandbycode}, {@code standbycode}, {@code activecode};
   * {@code standbyok}/{@code perfstandbyok} turn a standby's code into the active one). A malformed
   * parameter is 400 {@code {"errors":[]}} (Vault logs the reason only).
   */
  private Reply health(String method, Map<String, List<String>> query) {
    if (!method.equals("GET") && !method.equals("HEAD")) {
      return errors(405);
    }
    Boolean standbyOk = bool(query, "standbyok");
    Boolean perfStandbyOk = bool(query, "perfstandbyok");
    Map<String, Integer> codes = new HashMap<>();
    for (String name :
        List.of(
            "uninitcode",
            "sealedcode",
            "standbycode",
            "activecode",
            "drsecondarycode",
            "performancestandbycode",
            "haunhealthycode",
            "removedcode")) {
      String raw = first(query, name);
      if (raw != null) {
        try {
          codes.put(name, Integer.parseInt(raw));
        } catch (NumberFormatException e) {
          return errors(400);
        }
      }
    }
    if (standbyOk == null || perfStandbyOk == null) {
      return errors(400);
    }
    boolean initialized = mode != Mode.UNINITIALIZED;
    boolean isSealed = sealed || !initialized;
    boolean standby = mode == Mode.STANDBY || mode == Mode.PERFORMANCE_STANDBY;
    boolean perfStandby = mode == Mode.PERFORMANCE_STANDBY;
    int code = codes.getOrDefault("activecode", 200);
    if (!initialized) {
      code = codes.getOrDefault("uninitcode", 501);
    } else if (isSealed) {
      code = codes.getOrDefault("sealedcode", 503);
    } else if (mode == Mode.DR_SECONDARY) {
      code = codes.getOrDefault("drsecondarycode", 472);
    } else if (perfStandby) {
      if (!perfStandbyOk) {
        code = codes.getOrDefault("performancestandbycode", 473);
      }
    } else if (standby && !standbyOk) {
      code = codes.getOrDefault("standbycode", 429);
    }
    JsonObject body =
        new JsonObject()
            .put("initialized", initialized)
            .put("sealed", isSealed)
            .put("standby", standby)
            .put("performance_standby", perfStandby)
            .put("replication_performance_mode", "disabled")
            .put("replication_dr_mode", mode == Mode.DR_SECONDARY ? "secondary" : "disabled")
            .put("server_time_utc", now().getEpochSecond())
            .put("version", "1.15.0-double");
    if (!isSealed) {
      body.put("cluster_name", "vault-double").put("cluster_id", "double");
    }
    return new Reply(code, body);
  }

  /** A boolean query parameter as Go's ParseBool reads it; false when absent, null when bad. */
  private static Boolean bool(Map<String, List<String>> query, String name) {
    String raw = first(query, name);
    if (raw == null) {
      return false;
    }
    return switch (raw) {
      case "1", "t", "T", "TRUE", "true", "True" -> true;
      case "0", "f", "F", "FALSE", "false", "False" -> false;
      default -> null;
    };
  }

  // ---- KV v2 -----------------------------------------------------------------------------

  private Reply kv(
      String method, String rest, Map<String, List<String>> query, JsonObject body, boolean list) {
    int slash = rest.indexOf('/');
    String area = slash < 0 ? rest : rest.substring(0, slash);
    String key = slash < 0 ? "" : rest.substring(slash + 1);
    if (area.equals("config")) {
      if (isWrite(method) && body != null) {
        mountMaxVersions = body.getInteger("max_versions", mountMaxVersions);
        mountCasRequired = body.getBoolean("cas_required", mountCasRequired);
        return new Reply(204, null);
      }
      return ok(
          envelope(
              new JsonObject()
                  .put("max_versions", mountMaxVersions)
                  .put("cas_required", mountCasRequired)
                  .put("delete_version_after", "0s"),
              null,
              null));
    }
    if (key.isEmpty()) {
      return errors(404, "unsupported path");
    }
    return switch (area) {
      case "data" ->
          switch (method) {
            case "GET" -> kvRead(key, query);
            case "POST", "PUT" -> kvWrite(key, body);
            case "DELETE" -> kvSoftDelete(key);
            default -> errors(405, "unsupported operation");
          };
      case "metadata" ->
          list
              ? kvList(key)
              : switch (method) {
                case "GET" -> kvMetadata(key);
                case "POST", "PUT" -> kvWriteMetadata(key, body);
                case "DELETE" -> {
                  kv.remove(key);
                  yield new Reply(204, null);
                }
                default -> errors(405, "unsupported operation");
              };
      case "delete", "undelete", "destroy" -> kvVersions(area, key, body);
      default -> errors(404, "unsupported path");
    };
  }

  private Reply kvRead(String key, Map<String, List<String>> query) {
    KvKey k = kv.get(key);
    if (k == null || k.current == 0) {
      return errors(404);
    }
    int version = k.current;
    String wanted = first(query, "version");
    if (wanted != null) {
      try {
        int v = Integer.parseInt(wanted);
        version = v == 0 ? k.current : v;
      } catch (NumberFormatException e) {
        return errors(400, "invalid version");
      }
    }
    KvVersion v = k.versions.get(version);
    if (v == null) {
      return errors(404);
    }
    JsonObject metadata = versionMetadata(k, version, v);
    if (v.destroyed || (v.deletion != null && !v.deletion.isAfter(now()))) {
      return new Reply(
          404, envelope(new JsonObject().putNull("data").put("metadata", metadata), null, null));
    }
    return ok(
        envelope(
            new JsonObject().put("data", v.data.copy()).put("metadata", metadata), null, null));
  }

  private Reply kvWrite(String key, JsonObject body) {
    if (body == null || !(body.getValue("data") instanceof JsonObject data)) {
      return errors(400, "no data provided");
    }
    KvKey k = kv.get(key);
    Integer cas = null;
    JsonObject options = body.getJsonObject("options");
    if (options != null && options.containsKey("cas")) {
      Object raw = options.getValue("cas");
      try {
        cas = raw instanceof Number n ? n.intValue() : Integer.parseInt(String.valueOf(raw));
      } catch (NumberFormatException e) {
        return errors(400, "error parsing check-and-set parameter");
      }
    }
    boolean casRequired = mountCasRequired || (k != null && k.casRequired);
    if (cas == null && casRequired) {
      return errors(400, "check-and-set parameter required for this call");
    }
    int current = k == null ? 0 : k.current;
    if (cas != null && cas != current) {
      return errors(400, "check-and-set parameter did not match the current version");
    }
    if (k == null) {
      k = new KvKey();
      k.created = now();
      kv.put(key, k);
    }
    KvVersion v = new KvVersion();
    v.data = data.copy();
    v.created = now();
    int version = k.current + 1;
    k.current = version;
    k.updated = v.created;
    k.versions.put(version, v);
    int max = Math.max(k.maxVersions, mountMaxVersions);
    max = max == 0 ? 10 : max;
    while (k.versions.size() > max) {
      k.versions.pollFirstEntry();
      k.oldest = k.versions.firstKey();
    }
    return ok(envelope(versionMetadata(k, version, v), null, null));
  }

  private Reply kvSoftDelete(String key) {
    KvKey k = kv.get(key);
    if (k != null && k.versions.containsKey(k.current)) {
      KvVersion v = k.versions.get(k.current);
      if (v.deletion == null && !v.destroyed) {
        v.deletion = now();
      }
    }
    return new Reply(204, null);
  }

  private Reply kvVersions(String area, String key, JsonObject body) {
    JsonArray versions = body == null ? null : body.getJsonArray("versions");
    if (versions == null || versions.isEmpty()) {
      return errors(
          400,
          area.equals("destroy") ? "no version number provided" : "No version number provided");
    }
    KvKey k = kv.get(key);
    if (k != null) {
      for (Object n : versions) {
        KvVersion v = k.versions.get(((Number) n).intValue());
        if (v == null || v.destroyed) {
          continue;
        }
        switch (area) {
          case "delete" -> v.deletion = v.deletion == null ? now() : v.deletion;
          case "undelete" -> v.deletion = null;
          default -> {
            v.destroyed = true;
            v.data = null;
          }
        }
      }
    }
    return new Reply(204, null);
  }

  private Reply kvMetadata(String key) {
    KvKey k = kv.get(key);
    if (k == null) {
      return errors(404);
    }
    JsonObject versions = new JsonObject();
    k.versions.forEach(
        (n, v) ->
            versions.put(
                Integer.toString(n),
                new JsonObject()
                    .put("created_time", time(v.created))
                    .put("deletion_time", v.deletion == null ? "" : time(v.deletion))
                    .put("destroyed", v.destroyed)));
    JsonObject data =
        new JsonObject()
            .put("cas_required", k.casRequired)
            .put("created_time", time(k.created))
            .put("current_version", k.current)
            .put("delete_version_after", "0s")
            .put("max_versions", k.maxVersions)
            .put("oldest_version", k.oldest)
            .put("updated_time", time(k.updated == null ? k.created : k.updated))
            .put(
                "custom_metadata",
                k.custom == null ? null : new JsonObject(new LinkedHashMap<>(k.custom)))
            .put("versions", versions);
    return ok(envelope(data, null, null));
  }

  private Reply kvWriteMetadata(String key, JsonObject body) {
    if (body == null) {
      body = new JsonObject();
    }
    boolean any = false;
    for (String field :
        List.of("max_versions", "cas_required", "delete_version_after", "custom_metadata")) {
      any |= body.containsKey(field);
    }
    if (!any) {
      return new Reply(204, null);
    }
    Map<String, String> custom = null;
    if (body.containsKey("custom_metadata")) {
      if (!(body.getValue("custom_metadata") instanceof JsonObject map)) {
        return errors(400, "custom_metadata validation failed: not a map");
      }
      if (map.size() > 64) {
        return errors(400, "custom_metadata validation failed: too many keys");
      }
      custom = new TreeMap<>();
      for (String name : map.fieldNames()) {
        Object value = map.getValue(name);
        if (name.isEmpty()
            || name.length() > 128
            || !(value instanceof String s)
            || s.isEmpty()
            || s.length() > 512
            || !printable(name)
            || !printable(s)) {
          return errors(400, "custom_metadata validation failed: invalid key or value for " + name);
        }
        custom.put(name, s);
      }
    }
    KvKey k =
        kv.computeIfAbsent(
            key,
            x -> {
              KvKey fresh = new KvKey();
              fresh.created = now();
              return fresh;
            });
    if (body.containsKey("max_versions")) {
      k.maxVersions = body.getInteger("max_versions");
    }
    if (body.containsKey("cas_required")) {
      k.casRequired = body.getBoolean("cas_required");
    }
    if (custom != null) {
      k.custom = custom;
    }
    k.updated = now();
    return new Reply(204, null);
  }

  private Reply kvList(String prefix) {
    String base = prefix.endsWith("/") ? prefix : prefix + "/";
    Set<String> keys = new TreeSet<>();
    for (String key : kv.keySet()) {
      if (key.startsWith(base)) {
        String rest = key.substring(base.length());
        int slash = rest.indexOf('/');
        keys.add(slash < 0 ? rest : rest.substring(0, slash + 1));
      }
    }
    if (keys.isEmpty()) {
      return errors(404);
    }
    return ok(
        envelope(new JsonObject().put("keys", new JsonArray(new ArrayList<>(keys))), null, null));
  }

  private JsonObject versionMetadata(KvKey k, int version, KvVersion v) {
    return new JsonObject()
        .put("created_time", time(v.created))
        .put(
            "custom_metadata",
            k.custom == null ? null : new JsonObject(new LinkedHashMap<>(k.custom)))
        .put("deletion_time", v.deletion == null ? "" : time(v.deletion))
        .put("destroyed", v.destroyed)
        .put("version", version);
  }

  // ---- Transit ---------------------------------------------------------------------------

  private Reply transit(String method, String rest, JsonObject body) {
    if (rest.startsWith("keys/")) {
      String[] parts = rest.substring("keys/".length()).split("/", 2);
      String name = parts[0];
      String action = parts.length > 1 ? parts[1] : "";
      TransitKey key = transitKeys.get(name);
      return switch (action) {
        case "" -> transitKey(method, name, key, body);
        case "rotate" -> {
          if (!isWrite(method)) {
            yield errors(405, "unsupported operation");
          }
          if (key == null) {
            yield errors(400, "key not found");
          }
          key.versions.add(new TransitVersion(newKeyPair(), now()));
          // current Vault answers the key's info (older releases: 204)
          yield ok(envelope(keyInfo(name, key), null, null));
        }
        case "config" -> {
          if (!isWrite(method)) {
            yield errors(405, "unsupported operation");
          }
          if (key == null) {
            yield errors(400, "no existing key named " + name + " could be found");
          }
          yield configureTransitKey(name, key, body == null ? new JsonObject() : body);
        }
        default -> errors(404, "unsupported path");
      };
    }
    if (rest.startsWith("sign/") && isWrite(method)) {
      return transitSign(transitKeys.get(rest.substring("sign/".length())), body);
    }
    return errors(404, "unsupported path");
  }

  private Reply transitKey(String method, String name, TransitKey key, JsonObject body) {
    if (isWrite(method)) {
      if (body != null && !"ed25519".equals(body.getString("type", "ed25519"))) {
        return errors(400, "the double only implements ed25519 keys");
      }
      transitKeys.computeIfAbsent(name, n -> newTransitKey());
      return new Reply(204, null);
    }
    if (key == null || !method.equals("GET")) {
      return errors(404);
    }
    return ok(envelope(keyInfo(name, key), null, null));
  }

  /** {@code POST transit/keys/<name>/config}: rotation period and minimum versions. */
  private Reply configureTransitKey(String name, TransitKey key, JsonObject body) {
    if (body.containsKey("auto_rotate_period")) {
      Duration period = duration(body.getValue("auto_rotate_period"));
      if (period == null
          || (!period.isZero() && period.compareTo(Duration.ofHours(1)) < 0)
          || period.isNegative()) {
        return errors(400, "auto rotate period must be 0 to disable or at least an hour");
      }
      key.autoRotatePeriod = period;
    }
    if (body.getValue("min_encryption_version") instanceof Number n) {
      if (n.intValue() < 0 || n.intValue() > key.versions.size()) {
        return errors(400, "cannot set min encryption version higher than the latest version");
      }
      key.minEncryptionVersion = n.intValue();
    }
    if (body.getValue("min_decryption_version") instanceof Number n) {
      if (n.intValue() < 1 || n.intValue() > key.versions.size()) {
        return errors(400, "cannot set min decryption version to a value outside the versions");
      }
      key.minDecryptionVersion = n.intValue();
    }
    return ok(envelope(keyInfo(name, key), null, null));
  }

  /**
   * {@code POST transit/sign/<name>}: signs with {@code key_version} (0 or absent: the latest),
   * answering {@code vault:v<n>:<base64>} and {@code key_version}, with Transit's errors for a
   * version out of range.
   */
  private Reply transitSign(TransitKey key, JsonObject body) {
    if (key == null) {
      return errors(400, "signing key not found");
    }
    String input = body == null ? null : body.getString("input");
    if (input == null) {
      return errors(400, "missing input to process");
    }
    int version = body.getValue("key_version") instanceof Number n ? n.intValue() : 0;
    if (version == 0) {
      version = key.versions.size();
    } else if (version < 0) {
      return errors(400, "requested version for signing is negative");
    } else if (version > key.versions.size()) {
      return errors(400, "requested version for signing is higher than the latest key version");
    } else if (key.minEncryptionVersion > 0 && version < key.minEncryptionVersion) {
      return errors(
          400, "requested version for signing is less than the minimum encryption key version");
    }
    try {
      Signature signer = Signature.getInstance("Ed25519");
      signer.initSign(key.versions.get(version - 1).pair().getPrivate());
      signer.update(Base64.getDecoder().decode(input));
      String signature =
          "vault:v" + version + ":" + Base64.getEncoder().encodeToString(signer.sign());
      return ok(
          envelope(
              new JsonObject().put("signature", signature).put("key_version", version),
              null,
              null));
    } catch (IllegalArgumentException e) {
      return errors(400, "unable to decode input as base64");
    } catch (GeneralSecurityException e) {
      return errors(500, "signing failed");
    }
  }

  /** The {@code data} of {@code GET transit/keys/<name>} for an ed25519 key. */
  private JsonObject keyInfo(String name, TransitKey key) {
    JsonObject keys = new JsonObject();
    for (int i = 0; i < key.versions.size(); i++) {
      byte[] spki = key.versions.get(i).pair().getPublic().getEncoded();
      byte[] raw = Arrays.copyOfRange(spki, spki.length - 32, spki.length);
      keys.put(
          Integer.toString(i + 1),
          new JsonObject()
              .put("certificate_chain", "")
              .put("creation_time", time(key.versions.get(i).created()))
              .put("name", "ed25519")
              .put("public_key", Base64.getEncoder().encodeToString(raw)));
    }
    return new JsonObject()
        .put("allow_plaintext_backup", false)
        .put("auto_rotate_period", key.autoRotatePeriod.toSeconds())
        .put("deletion_allowed", false)
        .put("derived", false)
        .put("exportable", false)
        .put("imported_key", false)
        .put("keys", keys)
        .put("latest_version", key.versions.size())
        .put("min_available_version", 0)
        .put("min_decryption_version", key.minDecryptionVersion)
        .put("min_encryption_version", key.minEncryptionVersion)
        .put("name", name)
        .put("supports_decryption", false)
        .put("supports_derivation", true)
        .put("supports_encryption", false)
        .put("supports_signing", true)
        .put("type", "ed25519");
  }

  /**
   * Vault rotates a key whose {@code auto_rotate_period} has passed since its latest version was
   * made (checked in the background); the double checks on every request, on its own clock.
   */
  private void autoRotateTransitKeys() {
    Instant now = now();
    for (TransitKey key : transitKeys.values()) {
      if (key.autoRotatePeriod.isZero()) {
        continue;
      }
      Instant latest = key.versions.get(key.versions.size() - 1).created();
      if (!latest.plus(key.autoRotatePeriod).isAfter(now)) {
        key.versions.add(new TransitVersion(newKeyPair(), now));
      }
    }
  }

  private TransitKey newTransitKey() {
    TransitKey key = new TransitKey();
    key.versions.add(new TransitVersion(newKeyPair(), now()));
    return key;
  }

  /** A Vault duration: integer seconds, or a string such as {@code "90s"}, {@code "24h"}. */
  private static Duration duration(Object value) {
    if (value instanceof Number n) {
      return Duration.ofSeconds(n.longValue());
    }
    if (!(value instanceof String text) || text.isEmpty()) {
      return null;
    }
    try {
      char unit = text.charAt(text.length() - 1);
      if (Character.isDigit(unit)) {
        return Duration.ofSeconds(Long.parseLong(text));
      }
      long amount = Long.parseLong(text.substring(0, text.length() - 1));
      return switch (unit) {
        case 's' -> Duration.ofSeconds(amount);
        case 'm' -> Duration.ofMinutes(amount);
        case 'h' -> Duration.ofHours(amount);
        case 'd' -> Duration.ofDays(amount);
        default -> null;
      };
    } catch (NumberFormatException e) {
      return null;
    }
  }

  // ---- operator calls --------------------------------------------------------------------

  private static final java.net.http.HttpClient OPERATOR_HTTP =
      java.net.http.HttpClient.newHttpClient();

  /** An answer to an {@link #operator} call. */
  public record OperatorReply(int status, JsonObject body) {}

  /**
   * Sends a request to this Vault over HTTP with the root token, as an operator would with the CLI
   * (e.g. {@code POST transit/keys/<key>/rotate}); it goes through the same routing, ACL and spec
   * check as the broker's requests.
   */
  public OperatorReply operator(String method, String path, JsonObject body) {
    try {
      java.net.http.HttpRequest.Builder request =
          java.net.http.HttpRequest.newBuilder(java.net.URI.create(address() + "/v1/" + path))
              .header("X-Vault-Token", rootToken)
              .method(
                  method,
                  body == null
                      ? java.net.http.HttpRequest.BodyPublishers.noBody()
                      : java.net.http.HttpRequest.BodyPublishers.ofString(body.encode()));
      java.net.http.HttpResponse<String> response =
          OPERATOR_HTTP.send(
              request.timeout(Duration.ofSeconds(10)).build(),
              java.net.http.HttpResponse.BodyHandlers.ofString());
      return new OperatorReply(
          response.statusCode(),
          response.body().isEmpty() ? null : new JsonObject(response.body()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  // ---- helpers ---------------------------------------------------------------------------

  private void loadPolicies() {
    try (var files = Files.list(POLICY_DIR)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".hcl")).toList()) {
        String name = file.getFileName().toString().replace(".hcl", "");
        policies.put(name, HclPolicy.parse(name, Files.readString(file)));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot read the policies in " + POLICY_DIR.toAbsolutePath(), e);
    }
    if (!policies.containsKey("broker")) {
      throw new IllegalStateException("no broker.hcl in " + POLICY_DIR.toAbsolutePath());
    }
  }

  private Instant now() {
    return Instant.now().plus(clockOffset).truncatedTo(ChronoUnit.MICROS);
  }

  private static String time(Instant instant) {
    return instant == null ? "" : instant.toString();
  }

  private static boolean isWrite(String method) {
    return method.equals("POST") || method.equals("PUT");
  }

  private static String token(HttpServerRequest req) {
    String token = req.getHeader("X-Vault-Token");
    if (token == null) {
      String auth = req.getHeader("Authorization");
      if (auth != null && auth.startsWith("Bearer ")) {
        token = auth.substring(7);
      }
    }
    return token == null || token.isEmpty() ? null : token;
  }

  private static Map<String, List<String>> query(MultiMap params) {
    Map<String, List<String>> query = new LinkedHashMap<>();
    for (String name : params.names()) {
      query.put(name, params.getAll(name));
    }
    return query;
  }

  private static String first(Map<String, List<String>> query, String name) {
    List<String> values = query.get(name);
    return values == null || values.isEmpty() ? null : values.get(0);
  }

  private static boolean printable(String s) {
    return s.chars().allMatch(c -> c >= 0x20 && c != 0x7F);
  }

  private static JsonObject envelope(JsonObject data, JsonObject auth, JsonArray warnings) {
    return new JsonObject()
        .put("request_id", UUID.randomUUID().toString())
        .put("lease_id", "")
        .put("renewable", false)
        .put("lease_duration", 0)
        .put("data", data)
        .putNull("wrap_info")
        .put("warnings", warnings)
        .put("auth", auth)
        .put("mount_type", data == null ? "" : "kv");
  }

  private static Reply ok(JsonObject body) {
    return new Reply(200, body);
  }

  private static Reply errors(int status, String... messages) {
    return new Reply(status, new JsonObject().put("errors", new JsonArray(List.of(messages))));
  }

  private static KeyPair newKeyPair() {
    try {
      return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String random(int length) {
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    var rnd = new java.security.SecureRandom();
    StringBuilder s = new StringBuilder(length);
    for (int i = 0; i < length; i++) {
      s.append(alphabet.charAt(rnd.nextInt(alphabet.length())));
    }
    return s.toString();
  }
}
