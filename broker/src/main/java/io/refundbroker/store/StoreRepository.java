package io.refundbroker.store;

import io.refundbroker.db.SqlErrors;
import io.refundbroker.error.ProblemException;
import io.vertx.core.Future;
import io.vertx.sqlclient.RowSet;
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
      "store_id, chain_id, name, msn, api, order_id_prefix, partner_id, limit_currency,"
          + " limit_per_refund, limit_per_day, frozen, created_at, updated_at";
  private static final String ENSURE_CHAIN =
      """
      INSERT INTO chains (chain_id) VALUES (#{chainId}) ON CONFLICT (chain_id) DO NOTHING
      """;
  private static final String INSERT_STORE =
      """
      INSERT INTO stores (store_id, chain_id, name, msn, api, order_id_prefix, partner_id,
                          limit_currency, limit_per_refund, limit_per_day)
      VALUES (#{storeId}, #{chainId}, #{name}, #{msn}, #{api}, #{orderIdPrefix}, #{partnerId},
              #{limitCurrency}, #{limitPerRefund}, #{limitPerDay})
      RETURNING %s
      """
          .formatted(STORE_COLUMNS);
  private static final String ENSURE_SALES_UNIT =
      "INSERT INTO sales_units (msn) VALUES (#{msn}) ON CONFLICT (msn) DO NOTHING";
  private static final String LOCK_SALES_UNIT =
      "SELECT msn FROM sales_units WHERE msn = #{msn} FOR UPDATE";
  private static final String FIND_SALES_UNIT = "SELECT msn FROM sales_units WHERE msn = #{msn}";
  private static final String LIST_SALES_UNIT_STORES =
      "SELECT " + STORE_COLUMNS + " FROM stores WHERE msn = #{msn} ORDER BY store_id";
  private static final String FIND_STORE =
      "SELECT " + STORE_COLUMNS + " FROM stores WHERE store_id = #{storeId}";
  private static final String FIND_STORE_FOR_UPDATE = FIND_STORE + " FOR UPDATE";
  private static final String LIST_STORES =
      "SELECT " + STORE_COLUMNS + " FROM stores ORDER BY chain_id, store_id";
  private static final String LIST_CHAIN_STORES =
      "SELECT " + STORE_COLUMNS + " FROM stores WHERE chain_id = #{chainId} ORDER BY store_id";
  private static final String LIST_INVOLVED =
      """
      SELECT %s FROM stores s
       WHERE s.chain_id = #{chainId}
         AND (s.store_id = #{requestingStoreId}
              OR s.store_id = #{originStoreId}
              OR (s.order_id_prefix IS NOT NULL AND starts_with(#{orderId}, s.order_id_prefix))
              OR s.store_id IN (SELECT o.store_id FROM orders o WHERE o.order_id = #{orderId}))
       ORDER BY s.store_id
      """
          .formatted(STORE_COLUMNS);
  private static final String FROZEN_AMONG =
      "SELECT store_id FROM stores WHERE store_id IN (#{first}, #{second}) AND frozen";
  private static final String UPDATE_STORE =
      """
      UPDATE stores
         SET name = #{name}, api = #{api}, order_id_prefix = #{orderIdPrefix},
             partner_id = #{partnerId},
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
          "stores_msn_prefix_key",
          ProblemException.conflict(
              "MSN_IN_USE",
              "Another store on this Merchant-Serial-Number already has this orderIdPrefix; each"
                  + " store on a shared sales unit needs its own."),
          "stores_partner_id_fkey",
          ProblemException.unprocessable(
              "PARTNER_NOT_FOUND",
              "No keys are stored for this partnerId; store them first with PUT"
                  + " /v1/admin/partners/{partnerId}/credentials."));

  /** Creates the chain if it does not exist yet. */
  public Future<Void> ensureChain(SqlClient sql, String chainId) {
    return SqlTemplate.forUpdate(sql, ENSURE_CHAIN).execute(Map.of("chainId", chainId)).mapEmpty();
  }

  /**
   * Makes sure the sales unit {@code msn} exists and locks it until the transaction ends (stores
   * joining one sales unit are checked one at a time).
   */
  public Future<Void> lockSalesUnit(SqlClient sql, String msn) {
    Map<String, Object> p = Map.of("msn", msn);
    return SqlTemplate.forUpdate(sql, ENSURE_SALES_UNIT)
        .execute(p)
        .compose(v -> SqlTemplate.forQuery(sql, LOCK_SALES_UNIT).execute(p))
        .mapEmpty();
  }

  /** Whether a store was ever enrolled on sales unit {@code msn}. */
  public Future<Boolean> salesUnitExists(SqlClient sql, String msn) {
    return SqlTemplate.forQuery(sql, FIND_SALES_UNIT)
        .execute(Map.of("msn", msn))
        .map(rows -> rows.size() > 0);
  }

  /** The stores on sales unit {@code msn}, by id. */
  public Future<List<Store>> onSalesUnit(SqlClient sql, String msn) {
    return SqlTemplate.forQuery(sql, LIST_SALES_UNIT_STORES)
        .mapTo(Store::fromRow)
        .execute(Map.of("msn", msn))
        .map(
            rows -> {
              List<Store> stores = new ArrayList<>();
              rows.forEach(stores::add);
              return stores;
            });
  }

  /**
   * Inserts a store; fails with 409 {@code STORE_EXISTS}, 409 {@code MSN_IN_USE} (a sibling on its
   * sales unit has its prefix) or 422 {@code PARTNER_NOT_FOUND}.
   */
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
    return query.map(StoreRepository::listOf);
  }

  private static List<Store> listOf(RowSet<Store> rows) {
    List<Store> stores = new ArrayList<>(rows.size());
    rows.forEach(stores::add);
    return stores;
  }

  /**
   * The stores of {@code chainId} a refund of {@code orderId} asked by {@code requestingStoreId}
   * involves: the requesting store, the named origin store ({@code originStoreId}, may be null),
   * every store that registered {@code orderId}, and every store whose order-id prefix it carries —
   * all that resolving the origin needs ({@code OrderResolver}), in a handful of rows however many
   * stores the chain has (the whole chain, as {@link #list} reads it, is one row per store on every
   * refund).
   */
  public Future<List<Store>> involved(
      SqlClient sql,
      String chainId,
      String requestingStoreId,
      String orderId,
      String originStoreId) {
    Map<String, Object> params = new HashMap<>();
    params.put("chainId", chainId);
    params.put("requestingStoreId", requestingStoreId);
    params.put("originStoreId", originStoreId);
    params.put("orderId", orderId);
    return SqlTemplate.forQuery(sql, LIST_INVOLVED)
        .mapTo(Store::fromRow)
        .execute(params)
        .map(StoreRepository::listOf);
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

  /**
   * Writes the mutable fields of {@code store}; fails like {@link #insert} for a prefix or a
   * partner.
   */
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
    p.put("partnerId", store.partnerId());
    RefundLimits limits = store.limits();
    p.put("limitCurrency", limits == null ? null : limits.currency());
    p.put("limitPerRefund", limits == null ? null : limits.perRefund());
    p.put("limitPerDay", limits == null ? null : limits.perDay());
    p.put("frozen", store.frozen());
    return p;
  }
}
