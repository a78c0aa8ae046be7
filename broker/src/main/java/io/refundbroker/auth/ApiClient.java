package io.refundbroker.auth;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.OffsetDateTime;

/** An issued API client as stored (its token hash is never read back out). */
public record ApiClient(
    String clientId,
    String name,
    Role role,
    String storeId,
    Instant createdAt,
    String createdBy,
    Instant revokedAt) {

  static ApiClient fromRow(io.vertx.sqlclient.Row row) {
    OffsetDateTime revoked = row.getOffsetDateTime("revoked_at");
    return new ApiClient(
        row.getString("client_id"),
        row.getString("name"),
        Role.valueOf(row.getString("role")),
        row.getString("store_id"),
        row.getOffsetDateTime("created_at").toInstant(),
        row.getString("created_by"),
        revoked == null ? null : revoked.toInstant());
  }

  public JsonObject toJson() {
    JsonObject json =
        new JsonObject()
            .put("clientId", clientId)
            .put("name", name)
            .put("role", role.name())
            .put("createdAt", createdAt.toString())
            .put("createdBy", createdBy);
    if (storeId != null) {
      json.put("storeId", storeId);
    }
    if (revokedAt != null) {
      json.put("revokedAt", revokedAt.toString());
    }
    return json;
  }
}
