package io.refundbroker.refund.bench;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;

/**
 * The broker's SQL text, read from the broker's own classes: the (private) SQL constants of its
 * repositories, by reflection. The database-ceiling driver sends exactly these statements, so a
 * change to a statement's text carries over without touching the benchmark; a constant that was
 * renamed or moved to a class not listed in {@link #HOMES} fails the run with its name (then update
 * {@link DatabaseCeiling}'s steps, which mirror {@code RefundService} and {@code RefundRecorder}).
 */
final class WritePathSql {
  /** Where the broker keeps SQL constants; a constant is looked for in this order. */
  static final List<String> HOMES =
      List.of(
          "io.refundbroker.auth.ClientRepository",
          "io.refundbroker.refund.IdempotencyRepository",
          "io.refundbroker.refund.RefundRepository",
          "io.refundbroker.store.StoreRepository",
          "io.refundbroker.order.OrderRepository",
          "io.refundbroker.refund.RefundReservations",
          "io.refundbroker.refund.ReservedAmounts",
          "io.refundbroker.refund.RefundTransitions",
          "io.refundbroker.audit.AuditLog",
          "io.refundbroker.audit.AuditLinkRepository");

  private WritePathSql() {}

  /**
   * The value of the static constant {@code field}, from {@code preferred} if it has one, else from
   * the first of {@link #HOMES} that has one.
   *
   * @throws IllegalStateException naming the constant when no class has it
   */
  static <T> T constant(String preferred, String field, Class<T> type) {
    List<String> tried = new ArrayList<>();
    List<String> order = new ArrayList<>();
    order.add(preferred);
    order.addAll(HOMES);
    for (String className : order) {
      if (tried.contains(className)) {
        continue;
      }
      tried.add(className);
      Class<?> home;
      try {
        home = Class.forName(className);
      } catch (ClassNotFoundException e) {
        continue;
      }
      try {
        Field f = home.getDeclaredField(field);
        if (!Modifier.isStatic(f.getModifiers()) || !type.isAssignableFrom(box(f.getType()))) {
          continue;
        }
        f.setAccessible(true);
        return type.cast(f.get(null));
      } catch (NoSuchFieldException e) {
        // try the next home
      } catch (IllegalAccessException e) {
        throw new IllegalStateException("cannot read " + className + "." + field, e);
      }
    }
    throw new IllegalStateException(
        "no SQL constant "
            + field
            + " in "
            + tried
            + ": the broker's SQL moved; update the benchmark's DatabaseCeiling steps");
  }

  /** The SQL text of {@code field} (see {@link #constant}). */
  static String sql(String preferred, String field) {
    return constant(preferred, field, String.class);
  }

  private static Class<?> box(Class<?> type) {
    return type == long.class ? Long.class : type == int.class ? Integer.class : type;
  }
}
