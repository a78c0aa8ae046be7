package io.refundbroker.auth;

import io.refundbroker.auth.certificate.IssuedCertificate;
import io.refundbroker.caller.Principal;
import io.refundbroker.caller.Role;
import io.refundbroker.db.SqlErrors;
import io.refundbroker.error.ProblemException;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.templates.SqlTemplate;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * SQL for API clients. Methods take a {@link SqlClient} so they work in or out of a transaction.
 */
public final class ClientRepository {
  private static final String INSERT_CLIENT =
      """
      INSERT INTO api_clients (client_id, name, role, store_id, token_hash, created_by,
                               cert_serial, cert_fingerprint, cert_not_after)
      VALUES (#{clientId}, #{name}, #{role}, #{storeId}, #{tokenHash}, #{createdBy},
              #{certSerial}, #{certFingerprint}, #{certNotAfter})
      RETURNING client_id, name, role, store_id, created_at, created_by, revoked_at,
                cert_serial, cert_fingerprint, cert_not_after
      """;
  private static final String FIND_ACTIVE_BY_TOKEN_HASH =
      """
      SELECT c.client_id, c.name, c.role, c.store_id, s.chain_id
        FROM api_clients c
        LEFT JOIN stores s ON s.store_id = c.store_id
       WHERE c.token_hash = #{tokenHash} AND c.revoked_at IS NULL
      """;
  private static final String FIND_ACTIVE_BY_CERTIFICATE =
      """
      SELECT c.client_id, c.name, c.role, c.store_id, s.chain_id
        FROM api_clients c
        LEFT JOIN stores s ON s.store_id = c.store_id
       WHERE c.cert_fingerprint = #{fingerprint} AND c.revoked_at IS NULL
         AND c.cert_not_after > now()
      """;
  private static final String LIST_CLIENTS =
      """
      SELECT client_id, name, role, store_id, created_at, created_by, revoked_at,
             cert_serial, cert_fingerprint, cert_not_after
        FROM api_clients
       ORDER BY created_at, client_id
      """;
  private static final String REVOKE_CLIENT =
      """
      UPDATE api_clients SET revoked_at = now(), revoked_by = #{revokedBy}
       WHERE client_id = #{clientId} AND revoked_at IS NULL
      RETURNING client_id, name, role, store_id, created_at, created_by, revoked_at,
                cert_serial, cert_fingerprint, cert_not_after
      """;
  private static final String FIND_CLIENT =
      """
      SELECT client_id, name, role, store_id, created_at, created_by, revoked_at,
             cert_serial, cert_fingerprint, cert_not_after
        FROM api_clients WHERE client_id = #{clientId}
      """;
  private static final String COUNT_ACTIVE_ADMINS =
      """
      SELECT count(*) AS admins FROM api_clients WHERE role = 'ADMIN' AND revoked_at IS NULL
      """;
  private static final String STORE_CHAIN =
      """
      SELECT chain_id FROM stores WHERE store_id = #{storeId}
      """;
  private static final String LOCK_CLIENTS =
      """
      SELECT pg_advisory_xact_lock(727364002)
      """;

  /** The constraints of {@code api_clients} a caller can break. */
  private static final Map<String, ProblemException> CONSTRAINTS =
      Map.of(
          "api_clients_store_id_fkey",
          ProblemException.unprocessable("STORE_NOT_FOUND", "No store has this storeId."));

  /**
   * Inserts a client holding a token; fails with 422 {@code STORE_NOT_FOUND} for an unknown store.
   */
  public Future<ApiClient> insert(
      SqlClient sql,
      String clientId,
      String name,
      Role role,
      String storeId,
      byte[] tokenHash,
      String createdBy) {
    Map<String, Object> params = params(clientId, name, role, storeId, createdBy);
    params.put("tokenHash", Buffer.buffer(tokenHash));
    return insert(sql, params);
  }

  /**
   * Inserts a client identified by a certificate (its serial, fingerprint and expiry); fails with
   * 422 {@code STORE_NOT_FOUND} for an unknown store.
   */
  public Future<ApiClient> insertWithCertificate(
      SqlClient sql,
      String clientId,
      String name,
      Role role,
      String storeId,
      IssuedCertificate certificate,
      String createdBy) {
    Map<String, Object> params = params(clientId, name, role, storeId, createdBy);
    params.put("certSerial", certificate.serialHex());
    params.put("certFingerprint", Buffer.buffer(certificate.fingerprint()));
    params.put("certNotAfter", certificate.notAfter().atOffset(ZoneOffset.UTC));
    return insert(sql, params);
  }

  private static Map<String, Object> params(
      String clientId, String name, Role role, String storeId, String createdBy) {
    Map<String, Object> params = new HashMap<>();
    params.put("clientId", clientId);
    params.put("name", name);
    params.put("role", role.name());
    params.put("storeId", storeId);
    params.put("createdBy", createdBy);
    params.put("tokenHash", null);
    params.put("certSerial", null);
    params.put("certFingerprint", null);
    params.put("certNotAfter", null);
    return params;
  }

  private Future<ApiClient> insert(SqlClient sql, Map<String, Object> params) {
    return SqlTemplate.forQuery(sql, INSERT_CLIENT)
        .mapTo(ApiClient::fromRow)
        .execute(params)
        .map(rows -> rows.iterator().next())
        .recover(failure -> SqlErrors.translate(failure, CONSTRAINTS));
  }

  /** The active (not revoked) client holding the token with this hash, or null. */
  public Future<Principal> findActiveByTokenHash(SqlClient sql, byte[] tokenHash) {
    return SqlTemplate.forQuery(sql, FIND_ACTIVE_BY_TOKEN_HASH)
        .execute(Map.of("tokenHash", Buffer.buffer(tokenHash)))
        .map(
            rows -> {
              if (rows.size() == 0) {
                return null;
              }
              return principal(rows.iterator().next());
            });
  }

  /**
   * The active (not revoked, not expired) client holding the certificate with this SHA-256
   * fingerprint, or null.
   */
  public Future<Principal> findActiveByCertificate(SqlClient sql, byte[] fingerprint) {
    return SqlTemplate.forQuery(sql, FIND_ACTIVE_BY_CERTIFICATE)
        .execute(Map.of("fingerprint", Buffer.buffer(fingerprint)))
        .map(rows -> rows.size() == 0 ? null : principal(rows.iterator().next()));
  }

  private static Principal principal(Row row) {
    return new Principal(
        row.getString("client_id"),
        row.getString("name"),
        Role.valueOf(row.getString("role")),
        row.getString("store_id"),
        row.getString("chain_id"));
  }

  public Future<List<ApiClient>> list(SqlClient sql) {
    return SqlTemplate.forQuery(sql, LIST_CLIENTS)
        .mapTo(ApiClient::fromRow)
        .execute(Map.of())
        .map(rows -> toList(rows));
  }

  /** Revokes an active client; null when it does not exist or is already revoked. */
  public Future<ApiClient> revoke(SqlClient sql, String clientId, String revokedBy) {
    return SqlTemplate.forQuery(sql, REVOKE_CLIENT)
        .mapTo(ApiClient::fromRow)
        .execute(Map.of("clientId", clientId, "revokedBy", revokedBy))
        .map(rows -> rows.size() == 0 ? null : rows.iterator().next());
  }

  public Future<ApiClient> find(SqlClient sql, String clientId) {
    return SqlTemplate.forQuery(sql, FIND_CLIENT)
        .mapTo(ApiClient::fromRow)
        .execute(Map.of("clientId", clientId))
        .map(rows -> rows.size() == 0 ? null : rows.iterator().next());
  }

  public Future<Long> countActiveAdmins(SqlClient sql) {
    return SqlTemplate.forQuery(sql, COUNT_ACTIVE_ADMINS)
        .execute(Map.of())
        .map(rows -> rows.iterator().next().getLong("admins"));
  }

  /** The chain of a store, or null when the store does not exist. */
  public Future<String> storeChain(SqlClient sql, String storeId) {
    return SqlTemplate.forQuery(sql, STORE_CHAIN)
        .execute(Map.of("storeId", storeId))
        .map(rows -> rows.size() == 0 ? null : rows.iterator().next().getString("chain_id"));
  }

  /** Serialises admin bootstrap and admin revocation across broker instances. */
  public Future<Void> lockClients(SqlClient sql) {
    return sql.query(LOCK_CLIENTS).execute().mapEmpty();
  }

  private static <T> List<T> toList(Iterable<T> rows) {
    List<T> list = new java.util.ArrayList<>();
    rows.forEach(list::add);
    return list;
  }
}
