package io.refundbroker.store;

import io.refundbroker.db.SqlErrors;
import io.refundbroker.error.ProblemException;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.templates.SqlTemplate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** SQL for chains and stores. Methods take a {@link SqlClient} so they work in a transaction. */
public final class StoreRepository {
  private static final String STORE_COLUMNS =
      "store_id, chain_id, name, msn, api, order_id_prefix, limit_currency, limit_per_refund,"
          + " limit_per_day, frozen, created_at, updated_at";
  private static final String ENSURE_CHAIN =
      """
      INSERT INTO chains (chain_id) VALUES (#{chainId}) ON CONFLICT (chain_id) DO NOTHING
      """;
  private static final String INSERT_STORE =
      """
      INSERT INTO stores (store_id, chain_id, name, msn, api, order_id_prefix,
                          limit_currency, limit_per_refund, limit_per_day)
      VALUES (#{storeId}, #{chainId}, #{name}, #{msn}, #{api}, #{orderIdPrefix},
              #{limitCurrency}, #{limitPerRefund}, #{limitPerDay})
      RETURNING %s
      """
          .formatted(STORE_COLUMNS);
  private static final String FIND_STORE =
      "SELECT " + STORE_COLUMNS + " FROM stores WHERE store_id = #{storeId}";
  private static final String FIND_STORE_FOR_UPDATE = FIND_STORE + " FOR UPDATE";
  private static final String LIST_STORES =
      "SELECT " + STORE_COLUMNS + " FROM stores ORDER BY chain_id, store_id";
  private static final String LIST_CHAIN_STORES =
      "SELECT " + STORE_COLUMNS + " FROM stores WHERE chain_id = #{chainId} ORDER BY store_id";
  private static final String FROZEN_AMONG =
      "SELECT store_id FROM stores WHERE store_id IN (#{first}, #{second}) AND frozen";
  private static final String UPDATE_STORE =
      """
      UPDATE stores
         SET name = #{name}, api = #{api}, order_id_prefix = #{orderIdPrefix},
             limit_currency = #{limitCurrency}, limit_per_refund = #{limitPerRefund},
             limit_per_day = #{limitPerDay}, frozen = #{frozen}, updated_at = now()
       WHERE store_id = #{storeId}
      RETURNING %s
      """
          .formatted(STORE_COLUMNS);

  /** The constraints of {@code stores} a caller can break. */
  private static final Map<String, ProblemException> CONSTRAINTS =
      Map.of(
          "stores_pkey",
          ProblemException.conflict("STORE_EXISTS", "A store with this storeId already exists."),
          "stores_msn_key",
          ProblemException.conflict(
              "MSN_IN_USE",
              "Another store already uses this Merchant-Serial-Number; each MSN belongs to one"
                  + " store."));

  /** Creates the chain if it does not exist yet. */
  public Future<Void> ensureChain(SqlClient sql, String chainId) {
    return SqlTemplate.forUpdate(sql, ENSURE_CHAIN).execute(Map.of("chainId", chainId)).mapEmpty();
  }

  /** Inserts a store; fails with 409 {@code STORE_EXISTS} or {@code MSN_IN_USE}. */
  public Future<Store> insert(SqlClient sql, Store store) {
    return SqlTemplate.forQuery(sql, INSERT_STORE)
        .mapTo(Store::fromRow)
        .execute(parameters(store))
        .map(rows -> rows.iterator().next())
        .recover(failure -> SqlErrors.translate(failure, CONSTRAINTS));
  }

  /** The store, or null. */
  public Future<Store> find(SqlClient sql, String storeId) {
    return findOne(sql, FIND_STORE, storeId);
  }

  /** The store, locked until the transaction ends, or null. */
  public Future<Store> findForUpdate(SqlClient sql, String storeId) {
    return findOne(sql, FIND_STORE_FOR_UPDATE, storeId);
  }

  /** All stores, or those of one chain when {@code chainId} is not null. */
  public Future<List<Store>> list(SqlClient sql, String chainId) {
    var query =
        chainId == null
            ? SqlTemplate.forQuery(sql, LIST_STORES).mapTo(Store::fromRow).execute(Map.of())
            : SqlTemplate.forQuery(sql, LIST_CHAIN_STORES)
                .mapTo(Store::fromRow)
                .execute(Map.of("chainId", chainId));
    return query.map(
        rows -> {
          List<Store> stores = new ArrayList<>();
          rows.forEach(stores::add);
          return stores;
        });
  }

  /** The ids among {@code first} and {@code second} (may be equal) of stores frozen now. */
  public Future<Set<String>> frozenAmong(SqlClient sql, String first, String second) {
    return SqlTemplate.forQuery(sql, FROZEN_AMONG)
        .execute(Map.of("first", first, "second", second))
        .map(
            rows -> {
              Set<String> frozen = new HashSet<>();
              rows.forEach(row -> frozen.add(row.getString("store_id")));
              return frozen;
            });
  }

  /** Writes the mutable fields of {@code store}. */
  public Future<Store> update(SqlClient sql, Store store) {
    return SqlTemplate.forQuery(sql, UPDATE_STORE)
        .mapTo(Store::fromRow)
        .execute(parameters(store))
        .map(rows -> rows.iterator().next())
        .recover(failure -> SqlErrors.translate(failure, CONSTRAINTS));
  }

  private static Future<Store> findOne(SqlClient sql, String query, String storeId) {
    return SqlTemplate.forQuery(sql, query)
        .mapTo(Store::fromRow)
        .execute(Map.of("storeId", storeId))
        .map(rows -> rows.size() == 0 ? null : rows.iterator().next());
  }

  private static Map<String, Object> parameters(Store store) {
    Map<String, Object> p = new HashMap<>();
    p.put("storeId", store.storeId());
    p.put("chainId", store.chainId());
    p.put("name", store.name());
    p.put("msn", store.msn());
    p.put("api", store.api().wireName());
    p.put("orderIdPrefix", store.orderIdPrefix());
    RefundLimits limits = store.limits();
    p.put("limitCurrency", limits == null ? null : limits.currency());
    p.put("limitPerRefund", limits == null ? null : limits.perRefund());
    p.put("limitPerDay", limits == null ? null : limits.perDay());
    p.put("frozen", store.frozen());
    return p;
  }
}
