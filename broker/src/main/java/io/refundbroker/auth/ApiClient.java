package io.refundbroker.auth;

import io.refundbroker.caller.Role;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.HexFormat;

/**
 * An issued API client as stored (its token hash is never read back out). {@code certificate} is
 * set for a client identified by a client certificate instead of a token.
 */
public record ApiClient(
    String clientId,
    String name,
    Role role,
    String storeId,
    Instant createdAt,
    String createdBy,
    Instant revokedAt,
    CertificateInfo certificate) {

  /** What the broker records of a client's certificate (all public). */
  public record CertificateInfo(String serialHex, byte[] fingerprint, Instant notAfter) {
    JsonObject toJson() {
      return new JsonObject()
          .put("serialNumber", serialHex)
          .put("fingerprintSha256", HexFormat.of().formatHex(fingerprint))
          .put("notAfter", notAfter.toString());
    }
  }

  static ApiClient fromRow(io.vertx.sqlclient.Row row) {
    OffsetDateTime revoked = row.getOffsetDateTime("revoked_at");
    String serial = row.getString("cert_serial");
    CertificateInfo certificate =
        serial == null
            ? null
            : new CertificateInfo(
                serial,
                row.getBuffer("cert_fingerprint").getBytes(),
                row.getOffsetDateTime("cert_not_after").toInstant());
    return new ApiClient(
        row.getString("client_id"),
        row.getString("name"),
        Role.valueOf(row.getString("role")),
        row.getString("store_id"),
        row.getOffsetDateTime("created_at").toInstant(),
        row.getString("created_by"),
        revoked == null ? null : revoked.toInstant(),
        certificate);
  }

  public JsonObject toJson() {
    JsonObject json =
        new JsonObject()
            .put("clientId", clientId)
            .put("name", name)
            .put("role", role.name())
            .put("createdAt", createdAt.toString())
            .put("createdBy", createdBy)
            .put("authentication", certificate == null ? "token" : "certificate");
    if (storeId != null) {
      json.put("storeId", storeId);
    }
    if (revokedAt != null) {
      json.put("revokedAt", revokedAt.toString());
    }
    if (certificate != null) {
      json.put("certificate", certificate.toJson());
    }
    return json;
  }
}
