package io.refundbroker.credential.vault;

import io.github.jopenlibs.vault.api.WriteOptions;
import io.github.jopenlibs.vault.json.JsonObject;
import io.github.jopenlibs.vault.json.JsonValue;
import io.github.jopenlibs.vault.response.LogicalResponse;
import io.refundbroker.audit.signing.CheckpointSigner;
import io.refundbroker.config.BrokerConfig;
import io.refundbroker.config.Secret;
import io.refundbroker.credential.CredentialBackend;
import io.refundbroker.credential.CredentialHistory;
import io.refundbroker.credential.CredentialProblems;
import io.refundbroker.credential.CredentialVersion;
import io.refundbroker.credential.KeySet;
import io.refundbroker.credential.RotationInfo;
import io.refundbroker.credential.StoreCredentials;
import io.refundbroker.error.ProblemException;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlConnection;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Store credentials in HashiCorp Vault KV v2: mount {@code VAULT_KV_MOUNT}, one secret per sales
 * unit at {@code salesunits/<msn>} with the fields {@code client_id}, {@code client_secret} and
 * {@code subscription_key}. Every write is a new version with check-and-set; rotation bookkeeping
 * (who, when, validated, rolled back from) goes to the key's {@code custom_metadata}, both as the
 * latest values ({@code rotated_by}, {@code rotated_at}, {@code validated_at}, and for a rollback
 * {@code rolled_back_from} and {@code restored_version}) and per version ({@code version_<n>}).
 *
 * <p>Data goes through the driver's KV v2 instance ({@code /data/} inserted by the driver);
 * metadata through an engine-v1 instance with literal {@code <mount>/metadata/…} paths, which is
 * the only way driver 6.2.1 can reach it. Nothing here deletes: {@code logical().delete(path)}
 * would wipe every version of a KV v2 key.
 */
public final class VaultCredentialBackend implements CredentialBackend {
  private static final Logger LOG = LoggerFactory.getLogger(VaultCredentialBackend.class);
  private static final String VERSION_PREFIX = "version_";
  private static final int MAX_VERSION_ENTRIES = 40;

  private final VaultSession session;
  private final BrokerConfig.VaultConfig config;

  public VaultCredentialBackend(VaultSession session, BrokerConfig.VaultConfig config) {
    this.session = session;
    this.config = config;
  }

  /** A checkpoint signer on the same session ({@code VAULT_TRANSIT_MOUNT}/{@code _KEY}). */
  @Override
  public Optional<CheckpointSigner> checkpointSigner() {
    return Optional.of(transitSigner());
  }

  public VaultTransitSigner transitSigner() {
    return new VaultTransitSigner(session, config.transitMount(), config.transitKey());
  }

  @Override
  public boolean joinsTransaction() {
    return false;
  }

  @Override
  public String name() {
    return "vault";
  }

  @Override
  public Future<CredentialVersion> write(
      SqlConnection tx, String msn, KeySet keys, int cas, RotationInfo info) {
    String dataPath = dataPath(msn);
    return session
        .call(
            "POST",
            dataPath,
            c -> {
              Map<String, Object> data = new LinkedHashMap<>();
              data.put("client_id", keys.clientId());
              data.put("client_secret", keys.clientSecret().reveal());
              data.put("subscription_key", keys.subscriptionKey().reveal());
              LogicalResponse response =
                  c.kv()
                      .logical()
                      .write(
                          logicalPath(msn), data, null, new WriteOptions().checkAndSet((long) cas));
              VaultSession.check(response.getRestResponse(), "POST", dataPath);
              return Integer.parseInt(response.getData().get("version"));
            })
        .recover(failure -> Future.failedFuture(problem(failure, msn, null)))
        .compose(
            version ->
                recordRotation(msn, version, cas, info)
                    .map(
                        v ->
                            new CredentialVersion(
                                version,
                                info.rotatedAt(),
                                info.rotatedBy(),
                                info.validatedAt(),
                                info.restoredVersion(),
                                false)));
  }

  @Override
  public Future<StoreCredentials> read(String msn) {
    return readData(msn, null);
  }

  @Override
  public Future<StoreCredentials> read(String msn, int version) {
    return readData(msn, version);
  }

  @Override
  public Future<CredentialHistory> history(String msn) {
    return readMetadata(msn)
        .map(metadata -> metadata == null ? CredentialHistory.empty(msn) : toHistory(msn, metadata))
        .recover(failure -> Future.failedFuture(problem(failure, msn, null)));
  }

  @Override
  public Future<Map<String, String>> brokerSecret(
      String name, Supplier<Future<Map<String, String>>> create) {
    String checked = CredentialBackend.secretName(name);
    return readSecret(checked)
        .compose(
            found ->
                found.isPresent()
                    ? Future.succeededFuture(found.get())
                    : createFirst(checked, create))
        .recover(failure -> Future.failedFuture(problem(failure, "-", null)));
  }

  /**
   * Creates the secret with check-and-set 0; when another instance created it first (the
   * check-and-set failed, or the policy, which grants no "update" here, refused the write), reads
   * theirs.
   */
  private Future<Map<String, String>> createFirst(
      String name, Supplier<Future<Map<String, String>>> create) {
    return create
        .get()
        .compose(value -> createSecret(name, value))
        .recover(failure -> readSecret(name).compose(raced -> theirs(raced, failure)));
  }

  private static Future<Map<String, String>> theirs(
      Optional<Map<String, String>> raced, Throwable failure) {
    return raced.map(Future::succeededFuture).orElseGet(() -> Future.failedFuture(failure));
  }

  /** The secret's fields, or empty when it was never created. */
  private Future<Optional<Map<String, String>>> readSecret(String name) {
    String path = session.kvMount() + "/data/broker/" + name;
    return session.call(
        "GET",
        path,
        c -> {
          LogicalResponse response = c.kv().logical().read(session.kvMount() + "/broker/" + name);
          if (response.getRestResponse().getStatus() == 404) {
            return Optional.<Map<String, String>>empty();
          }
          VaultSession.check(response.getRestResponse(), "GET", path);
          Map<String, String> data = response.getData();
          if (data == null || data.isEmpty()) {
            throw new VaultFailure(VaultFailure.Kind.UNEXPECTED, 200, "GET", path);
          }
          return Optional.of(Map.copyOf(data));
        });
  }

  /** Writes the secret's first version (check-and-set 0: never over an existing one). */
  private Future<Map<String, String>> createSecret(String name, Map<String, String> value) {
    String path = session.kvMount() + "/data/broker/" + name;
    return session.call(
        "POST",
        path,
        c -> {
          LogicalResponse response =
              c.kv()
                  .logical()
                  .write(
                      session.kvMount() + "/broker/" + name,
                      new LinkedHashMap<String, Object>(value),
                      null,
                      new WriteOptions().checkAndSet(0L));
          VaultSession.check(response.getRestResponse(), "POST", path);
          return Map.copyOf(value);
        });
  }

  @Override
  public Future<String> checkReady() {
    return session
        .checkHealth()
        .recover(failure -> Future.failedFuture(problem(failure, "-", null)));
  }

  @Override
  public Future<Void> close() {
    return session.close();
  }

  private Future<StoreCredentials> readData(String msn, Integer version) {
    String path = dataPath(msn) + (version == null ? "" : "?version=" + version);
    return session
        .call(
            "GET",
            path,
            c -> {
              LogicalResponse response =
                  version == null
                      ? c.kv().logical().read(logicalPath(msn))
                      : c.kv().logical().read(logicalPath(msn), false, version);
              VaultSession.check(response.getRestResponse(), "GET", path);
              Map<String, String> data = response.getData();
              Long read = response.getDataMetadata().getVersion();
              if (data.get("client_id") == null
                  || data.get("client_secret") == null
                  || data.get("subscription_key") == null
                  || read == null) {
                throw new VaultFailure(VaultFailure.Kind.UNEXPECTED, 200, "GET", path);
              }
              return new StoreCredentials(
                  msn,
                  read.intValue(),
                  data.get("client_id"),
                  Secret.of(data.get("client_secret")),
                  Secret.of(data.get("subscription_key")));
            })
        .recover(failure -> Future.failedFuture(problem(failure, msn, version)));
  }

  /** The metadata JSON ({@code data} of the response), or null when the key does not exist. */
  private Future<JsonObject> readMetadata(String msn) {
    String path = metadataPath(msn);
    return session.call(
        "GET",
        path,
        c -> {
          LogicalResponse response = c.raw().logical().read(path);
          if (response.getRestResponse().getStatus() == 404) {
            return null;
          }
          VaultSession.check(response.getRestResponse(), "GET", path);
          JsonObject data = response.getDataObject();
          if (data == null) {
            throw new VaultFailure(VaultFailure.Kind.UNEXPECTED, 200, "GET", path);
          }
          return data;
        });
  }

  /**
   * Writes the rotation bookkeeping into {@code custom_metadata} (read, merge, write: the POST
   * replaces the whole map). The version is already stored, so a failure here is logged and does
   * not fail the rotation; the audit trail still records it.
   */
  private Future<Void> recordRotation(String msn, int version, int previous, RotationInfo info) {
    String path = metadataPath(msn);
    return readMetadata(msn)
        .compose(
            metadata -> {
              Map<String, String> custom = customMetadata(metadata);
              custom.put("rotated_by", info.rotatedBy());
              custom.put("rotated_at", info.rotatedAt().toString());
              custom.put(
                  "validated_at", info.validatedAt() == null ? "-" : info.validatedAt().toString());
              boolean rollback = info.restoredVersion() != null;
              custom.put("rolled_back_from", rollback ? Integer.toString(previous) : "-");
              custom.put("restored_version", rollback ? info.restoredVersion().toString() : "-");
              custom.put(VERSION_PREFIX + version, encode(info));
              prune(custom, metadata, version);
              JsonObject body = new JsonObject();
              custom.forEach(body::add);
              return session.call(
                  "POST",
                  path,
                  c -> {
                    Map<String, Object> request = new HashMap<>();
                    request.put("custom_metadata", body);
                    LogicalResponse response = c.raw().logical().write(path, request);
                    VaultSession.check(response.getRestResponse(), "POST", path);
                    return null;
                  });
            })
        .<Void>mapEmpty()
        .recover(
            failure -> {
              LOG.atError()
                  .setMessage(
                      "credential version stored, but its rotation metadata could not be written")
                  .addKeyValue("msn", msn)
                  .addKeyValue("version", version)
                  .addKeyValue("reason", VaultSession.describe(failure))
                  .log();
              return Future.succeededFuture();
            });
  }

  private static Map<String, String> customMetadata(JsonObject metadata) {
    Map<String, String> custom = new TreeMap<>();
    JsonValue value = metadata == null ? null : metadata.get("custom_metadata");
    if (value != null && value.isObject()) {
      for (JsonObject.Member member : value.asObject()) {
        if (member.getValue().isString()) {
          custom.put(member.getName(), member.getValue().asString());
        }
      }
    }
    return custom;
  }

  /** Drops per-version entries of versions Vault no longer keeps (custom_metadata holds ≤ 64). */
  private static void prune(Map<String, String> custom, JsonObject metadata, int newest) {
    List<Integer> numbers = new ArrayList<>();
    for (String key : custom.keySet()) {
      if (key.startsWith(VERSION_PREFIX)) {
        numbers.add(parseInt(key.substring(VERSION_PREFIX.length()), -1));
      }
    }
    numbers.sort(Integer::compareTo);
    JsonValue versions = metadata == null ? null : metadata.get("versions");
    int keep = MAX_VERSION_ENTRIES;
    for (int i = 0; i < numbers.size(); i++) {
      int n = numbers.get(i);
      boolean retained =
          n == newest
              || (versions != null
                  && versions.isObject()
                  && versions.asObject().get("" + n) != null);
      if (!retained || numbers.size() - i > keep) {
        custom.remove(VERSION_PREFIX + n);
      }
    }
  }

  private static CredentialHistory toHistory(String msn, JsonObject metadata) {
    Map<String, String> custom = customMetadata(metadata);
    List<CredentialVersion> list = new ArrayList<>();
    JsonValue versions = metadata.get("versions");
    if (versions != null && versions.isObject()) {
      for (JsonObject.Member member : versions.asObject()) {
        int number = parseInt(member.getName(), -1);
        if (number < 1 || !member.getValue().isObject()) {
          continue;
        }
        JsonObject v = member.getValue().asObject();
        Map<String, String> entry = decode(custom.get(VERSION_PREFIX + number));
        String deletion = v.getString("deletion_time", "");
        boolean deleted =
            v.getBoolean("destroyed", false)
                || (!deletion.isEmpty() && !instant(deletion).isAfter(Instant.now()));
        list.add(
            new CredentialVersion(
                number,
                instant(v.getString("created_time", "")),
                entry.get("by"),
                instant(entry.getOrDefault("validated", "")),
                entry.containsKey("restored") ? parseInt(entry.get("restored"), -1) : null,
                deleted));
      }
    }
    list.sort((a, b) -> Integer.compare(a.version(), b.version()));
    return new CredentialHistory(msn, metadata.getInt("current_version", 0), list);
  }

  /** {@code by=<client> at=<instant> validated=<instant> restored=<version>}: printable, short. */
  private static String encode(RotationInfo info) {
    StringBuilder s = new StringBuilder("by=").append(info.rotatedBy());
    s.append(" at=").append(info.rotatedAt());
    if (info.validatedAt() != null) {
      s.append(" validated=").append(info.validatedAt());
    }
    if (info.restoredVersion() != null) {
      s.append(" restored=").append(info.restoredVersion());
    }
    return s.toString();
  }

  private static Map<String, String> decode(String value) {
    Map<String, String> entry = new HashMap<>();
    if (value != null) {
      for (String part : value.split(" ")) {
        int eq = part.indexOf('=');
        if (eq > 0) {
          entry.put(part.substring(0, eq), part.substring(eq + 1));
        }
      }
    }
    return entry;
  }

  private static Instant instant(String text) {
    if (text == null || text.isEmpty()) {
      return null;
    }
    try {
      return Instant.parse(text);
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  private static int parseInt(String text, int fallback) {
    try {
      return Integer.parseInt(text);
    } catch (NumberFormatException e) {
      return fallback;
    }
  }

  /** Maps a classified Vault failure to the problem the caller sees (no Vault internals). */
  private static Throwable problem(Throwable failure, String msn, Integer version) {
    if (failure instanceof ProblemException) {
      return failure;
    }
    if (!(failure instanceof VaultFailure f)) {
      return CredentialProblems.unavailable("unexpected error");
    }
    if (f.state() != null) {
      return CredentialProblems.unavailable(f.state());
    }
    return switch (f.kind()) {
      case NOT_FOUND ->
          version == null
              ? CredentialProblems.missing(msn)
              : CredentialProblems.versionNotFound(msn, version);
      case CAS_MISMATCH -> CredentialProblems.conflict(msn);
      case DENIED ->
          CredentialProblems.unavailable(
              "the credential store refused access; operators are alerted");
      case INVALID_TOKEN, LOGIN_REJECTED ->
          CredentialProblems.unavailable("the broker cannot authenticate to the credential store");
      case NO_TOKEN ->
          CredentialProblems.unavailable(
              "the broker's token for the credential store has expired or was revoked and no"
                  + " new one was supplied; operators are alerted");
      case SEALED -> CredentialProblems.unavailable("the credential store is sealed");
      case UNINITIALIZED ->
          CredentialProblems.unavailable("the credential store is not initialised");
      case DR_SECONDARY ->
          CredentialProblems.unavailable(
              "the credential store is a disaster-recovery secondary, which serves no reads");
      case THROTTLED ->
          CredentialProblems.unavailable("the credential store is throttling requests");
      case UNREACHABLE -> CredentialProblems.unavailable("the credential store cannot be reached");
      case UNEXPECTED ->
          CredentialProblems.unavailable("the credential store answered unexpectedly");
    };
  }

  private String logicalPath(String msn) {
    return session.kvMount() + "/salesunits/" + msn;
  }

  private String dataPath(String msn) {
    return session.kvMount() + "/data/salesunits/" + msn;
  }

  private String metadataPath(String msn) {
    return session.kvMount() + "/metadata/salesunits/" + msn;
  }
}
