package io.refundbroker.credential;

import io.vertx.core.Future;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.templates.SqlTemplate;
import java.util.Map;

/**
 * SQL for partners (option A): a partner exists once its first key version is written, so that a
 * store can name it ({@code stores.partner_id}) and a refund can record it.
 */
final class PartnerRepository {
  private static final String ENSURE_PARTNER =
      """
      INSERT INTO partners (partner_id) VALUES (#{partnerId})
      ON CONFLICT (partner_id) DO NOTHING
      """;

  /** Creates the partner if it does not exist yet. */
  Future<Void> ensure(SqlClient sql, String partnerId) {
    return SqlTemplate.forUpdate(sql, ENSURE_PARTNER)
        .execute(Map.of("partnerId", partnerId))
        .mapEmpty();
  }
}
