package io.refundbroker.credential.local;

import io.refundbroker.config.Secret;
import io.refundbroker.credential.CredentialBackend;
import io.refundbroker.credential.CredentialHistory;
import io.refundbroker.credential.CredentialProblems;
import io.refundbroker.credential.CredentialVersion;
import io.refundbroker.credential.KeySet;
import io.refundbroker.credential.RotationInfo;
import io.refundbroker.credential.StoreCredentials;
import io.refundbroker.db.SqlErrors;
import io.refundbroker.error.ProblemException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.templates.SqlTemplate;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded default credential backend: versions of each store's keys, envelope-encrypted
 * ({@link Envelope}) under a key-encryption key from a local file, stored in PostgreSQL ({@code
 * credential_versions}). Same semantics as Vault KV v2: numbered versions, check-and-set writes,
 * rollback by copying an old version. For a single node or development: the KEK sits on this
 * machine's disk, so anyone who can read that file and the database can read every key.
 */
public final class LocalCredentialBackend implements CredentialBackend {
  private static final Logger LOG = LoggerFactory.getLogger(LocalCredentialBackend.class);

  private static final String INSERT_VERSION =
      """
      INSERT INTO credential_versions (msn, version, kek_id, wrapped_key, ciphertext, created_at,
                                       rotated_by, validated_at, restored_version)
      SELECT #{msn}, #{version}, #{kekId}, #{wrappedKey}, #{ciphertext}, #{createdAt},
             #{rotatedBy}, #{validatedAt}, #{restoredVersion}
       WHERE (SELECT coalesce(max(version), 0) FROM credential_versions WHERE msn = #{msn})
             = #{cas}
      """;
  private static final String VERSION_COLUMNS =
      "msn, version, kek_id, wrapped_key, ciphertext, created_at, rotated_by, validated_at,"
          + " restored_version";
  private static final String FIND_CURRENT =
      "SELECT "
          + VERSION_COLUMNS
          + " FROM credential_versions WHERE msn = #{msn} ORDER BY version DESC LIMIT 1";
  private static final String FIND_VERSION =
      "SELECT "
          + VERSION_COLUMNS
          + " FROM credential_versions WHERE msn = #{msn} AND version = #{version}";
  private static final String LIST_VERSIONS =
      """
      SELECT version, created_at, rotated_by, validated_at, restored_version
        FROM credential_versions WHERE msn = #{msn} ORDER BY version
      """;
  private static final String INSERT_SECRET =
      """
      INSERT INTO broker_secrets (name, kek_id, wrapped_key, ciphertext)
      VALUES (#{name}, #{kekId}, #{wrappedKey}, #{ciphertext})
      ON CONFLICT (name) DO NOTHING
      """;
  private static final String FIND_SECRET =
      "SELECT name, kek_id, wrapped_key, ciphertext FROM broker_secrets WHERE name = #{name}";

  /** The version number bound into a broker secret's envelope (secrets are never replaced). */
  private static final int SECRET_VERSION = 1;

  private static final String CHECK_TABLE = "SELECT 1 FROM credential_versions LIMIT 1";

  private final Pool pool;
  private final KeyEncryptionKey kek;

  private LocalCredentialBackend(Pool pool, KeyEncryptionKey kek) {
    this.pool = pool;
    this.kek = kek;
  }

  /**
   * Loads (or on first start creates, 0600) the KEK in {@code kekFile} on a short-lived named
   * worker and returns the backend. Logs a WARN that this backend is for a single node or
   * development.
   *
   * @return fails when the key file cannot be read or created, or is readable by others
   */
  public static Future<LocalCredentialBackend> open(Vertx vertx, Pool pool, Path kekFile) {
    WorkerExecutor worker = vertx.createSharedWorkerExecutor("credential-kek-loader", 1);
    return worker
        .executeBlocking(() -> KeyEncryptionKey.loadOrCreate(kekFile), false)
        .eventually(worker::close)
        .map(
            key -> {
              LOG.atWarn()
                  .setMessage(
                      "CREDENTIALS_BACKEND=local: store keys are encrypted with a key file on this"
                          + " machine. For a single node or development only; use"
                          + " CREDENTIALS_BACKEND=vault in production")
                  .addKeyValue("kekFile", kekFile.toAbsolutePath())
                  .addKeyValue("kekId", key.id())
                  .log();
              return new LocalCredentialBackend(pool, key);
            });
  }

  @Override
  public boolean joinsTransaction() {
    return true;
  }

  @Override
  public String name() {
    return "local";
  }

  @Override
  public Future<CredentialVersion> write(
      SqlConnection tx, String msn, KeySet keys, int cas, RotationInfo info) {
    int version = cas + 1;
    byte[] plaintext = plaintext(keys);
    Envelope.Sealed sealed;
    try {
      sealed = Envelope.seal(kek, msn, version, plaintext);
    } finally {
      Arrays.fill(plaintext, (byte) 0);
    }
    Map<String, Object> p = new HashMap<>();
    p.put("msn", msn);
    p.put("version", version);
    p.put("cas", cas);
    p.put("kekId", kek.id());
    p.put("wrappedKey", Buffer.buffer(sealed.wrappedKey()));
    p.put("ciphertext", Buffer.buffer(sealed.ciphertext()));
    p.put("createdAt", info.rotatedAt().atOffset(ZoneOffset.UTC));
    p.put("rotatedBy", info.rotatedBy());
    p.put(
        "validatedAt",
        info.validatedAt() == null ? null : info.validatedAt().atOffset(ZoneOffset.UTC));
    p.put("restoredVersion", info.restoredVersion());
    return SqlTemplate.forUpdate(tx, INSERT_VERSION)
        .execute(p)
        .recover(
            failure ->
                SqlErrors.isUniqueViolation(failure, null)
                    ? Future.failedFuture(CredentialProblems.conflict(msn))
                    : Future.failedFuture(failure))
        .compose(
            result ->
                result.rowCount() == 1
                    ? Future.succeededFuture(
                        new CredentialVersion(
                            version,
                            info.rotatedAt(),
                            info.rotatedBy(),
                            info.validatedAt(),
                            info.restoredVersion(),
                            false))
                    : Future.failedFuture(CredentialProblems.conflict(msn)));
  }

  @Override
  public Future<StoreCredentials> read(String msn) {
    return query(pool, FIND_CURRENT, Map.of("msn", msn))
        .compose(
            rows ->
                rows.isEmpty()
                    ? Future.failedFuture(CredentialProblems.missing(msn))
                    : decrypt(rows.get(0)));
  }

  @Override
  public Future<StoreCredentials> read(String msn, int version) {
    return query(pool, FIND_VERSION, Map.of("msn", msn, "version", version))
        .compose(
            rows ->
                rows.isEmpty()
                    ? Future.failedFuture(CredentialProblems.versionNotFound(msn, version))
                    : decrypt(rows.get(0)));
  }

  @Override
  public Future<CredentialHistory> history(String msn) {
    return query(pool, LIST_VERSIONS, Map.of("msn", msn))
        .map(
            rows -> {
              List<CredentialVersion> versions = new ArrayList<>();
              for (Row row : rows) {
                versions.add(
                    new CredentialVersion(
                        row.getInteger("version"),
                        row.getOffsetDateTime("created_at").toInstant(),
                        row.getString("rotated_by"),
                        row.getOffsetDateTime("validated_at") == null
                            ? null
                            : row.getOffsetDateTime("validated_at").toInstant(),
                        row.getInteger("restored_version"),
                        false));
              }
              int current = versions.isEmpty() ? 0 : versions.get(versions.size() - 1).version();
              return new CredentialHistory(msn, current, versions);
            });
  }

  @Override
  public Future<Map<String, String>> brokerSecret(
      String name, Supplier<Future<Map<String, String>>> create) {
    String checked = CredentialBackend.secretName(name);
    return findSecret(checked)
        .compose(
            found ->
                found.isPresent()
                    ? Future.succeededFuture(found.get())
                    : insertFirst(checked, create));
  }

  /** Inserts the secret; whoever inserted first wins, and what is stored is read back. */
  private Future<Map<String, String>> insertFirst(
      String name, Supplier<Future<Map<String, String>>> create) {
    return create
        .get()
        .compose(value -> insertSecret(name, value))
        .compose(inserted -> findSecret(name))
        .compose(
            stored ->
                stored
                    .map(Future::succeededFuture)
                    .orElseGet(
                        () ->
                            Future.failedFuture(
                                CredentialProblems.unavailable(
                                    "a broker secret could not be stored"))));
  }

  private Future<Optional<Map<String, String>>> findSecret(String name) {
    return query(pool, FIND_SECRET, Map.of("name", name))
        .compose(
            rows ->
                rows.isEmpty()
                    ? Future.succeededFuture(Optional.empty())
                    : openSecret(rows.get(0)).map(Optional::of));
  }

  private Future<Void> insertSecret(String name, Map<String, String> value) {
    byte[] plaintext = new JsonObject(new HashMap<>(value)).toBuffer().getBytes();
    Envelope.Sealed sealed;
    try {
      sealed = Envelope.seal(kek, secretSubject(name), SECRET_VERSION, plaintext);
    } finally {
      Arrays.fill(plaintext, (byte) 0);
    }
    Map<String, Object> p = new HashMap<>();
    p.put("name", name);
    p.put("kekId", kek.id());
    p.put("wrappedKey", Buffer.buffer(sealed.wrappedKey()));
    p.put("ciphertext", Buffer.buffer(sealed.ciphertext()));
    return SqlTemplate.forUpdate(pool, INSERT_SECRET)
        .execute(p)
        .<Void>mapEmpty()
        .recover(
            failure -> {
              LOG.atWarn()
                  .setMessage("local credential backend: storing a broker secret failed")
                  .addKeyValue("secret", name)
                  .addKeyValue("error", failure.getClass().getSimpleName())
                  .log();
              return Future.failedFuture(
                  CredentialProblems.unavailable("the database cannot be reached"));
            });
  }

  private Future<Map<String, String>> openSecret(Row row) {
    String name = row.getString("name");
    if (!kek.id().equals(row.getString("kek_id"))) {
      LOG.atError()
          .setMessage(
              "broker secret was encrypted with another key-encryption key; is LOCAL_KEK_FILE"
                  + " the file this database was used with?")
          .addKeyValue("secret", name)
          .log();
      return Future.failedFuture(
          CredentialProblems.unavailable("the local key file does not match"));
    }
    byte[] plaintext = null;
    try {
      plaintext =
          Envelope.open(
              kek,
              secretSubject(name),
              SECRET_VERSION,
              new Envelope.Sealed(
                  row.getBuffer("wrapped_key").getBytes(), row.getBuffer("ciphertext").getBytes()));
      Map<String, String> fields = new HashMap<>();
      Buffer.buffer(plaintext)
          .toJsonObject()
          .forEach(field -> fields.put(field.getKey(), String.valueOf(field.getValue())));
      return Future.succeededFuture(Map.copyOf(fields));
    } catch (GeneralSecurityException e) {
      LOG.atError()
          .setMessage("broker secret failed authenticated decryption (altered or moved row)")
          .addKeyValue("secret", name)
          .log();
      return Future.failedFuture(CredentialProblems.unavailable("a stored secret is corrupt"));
    } finally {
      if (plaintext != null) {
        Arrays.fill(plaintext, (byte) 0);
      }
    }
  }

  /** The envelope subject of a broker secret: never a valid MSN, so never a store's key set. */
  private static String secretSubject(String name) {
    return "broker-secret:" + name;
  }

  @Override
  public Future<String> checkReady() {
    return pool.query(CHECK_TABLE)
        .execute()
        .map(rows -> "local credential table readable")
        .recover(
            failure ->
                Future.failedFuture(
                    CredentialProblems.unavailable("the credential table cannot be read")));
  }

  @Override
  public Future<Void> close() {
    return Future.succeededFuture();
  }

  private static Future<List<Row>> query(SqlClient sql, String query, Map<String, Object> params) {
    return SqlTemplate.forQuery(sql, query)
        .execute(params)
        .<List<Row>>map(
            rows -> {
              List<Row> list = new ArrayList<>();
              rows.forEach(list::add);
              return list;
            })
        .recover(
            failure -> {
              if (failure instanceof ProblemException) {
                return Future.failedFuture(failure);
              }
              LOG.atWarn()
                  .setMessage("local credential backend: database read failed")
                  .addKeyValue("error", failure.getClass().getSimpleName())
                  .log();
              return Future.failedFuture(
                  CredentialProblems.unavailable("the database cannot be reached"));
            });
  }

  private Future<StoreCredentials> decrypt(Row row) {
    String msn = row.getString("msn");
    int version = row.getInteger("version");
    String kekId = row.getString("kek_id");
    if (!kek.id().equals(kekId)) {
      LOG.atError()
          .setMessage(
              "credential version was encrypted with another key-encryption key; is"
                  + " LOCAL_KEK_FILE the file this database was used with?")
          .addKeyValue("msn", msn)
          .addKeyValue("version", version)
          .addKeyValue("storedKekId", kekId)
          .addKeyValue("kekId", kek.id())
          .log();
      return Future.failedFuture(
          CredentialProblems.unavailable("the local key file does not match"));
    }
    byte[] plaintext = null;
    try {
      plaintext =
          Envelope.open(
              kek,
              msn,
              version,
              new Envelope.Sealed(
                  row.getBuffer("wrapped_key").getBytes(), row.getBuffer("ciphertext").getBytes()));
      JsonObject json = Buffer.buffer(plaintext).toJsonObject();
      return Future.succeededFuture(
          new StoreCredentials(
              msn,
              version,
              json.getString("client_id"),
              Secret.of(json.getString("client_secret")),
              Secret.of(json.getString("subscription_key"))));
    } catch (GeneralSecurityException e) {
      LOG.atError()
          .setMessage("credential version failed authenticated decryption (altered or moved row)")
          .addKeyValue("msn", msn)
          .addKeyValue("version", version)
          .log();
      return Future.failedFuture(CredentialProblems.unavailable("a stored version is corrupt"));
    } finally {
      if (plaintext != null) {
        Arrays.fill(plaintext, (byte) 0);
      }
    }
  }

  private static byte[] plaintext(KeySet keys) {
    return new JsonObject()
        .put("client_id", keys.clientId())
        .put("client_secret", keys.clientSecret().reveal())
        .put("subscription_key", keys.subscriptionKey().reveal())
        .toBuffer()
        .getBytes();
  }
}
