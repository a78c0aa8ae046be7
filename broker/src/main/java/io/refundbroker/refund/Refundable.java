package io.refundbroker.refund;

import io.refundbroker.money.Money;
import io.refundbroker.order.RefundBalance;
import io.vertx.core.Future;
import io.vertx.sqlclient.SqlClient;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The one home of "how much of an order can still be refunded": {@code captured − refunded − in
 * flight}, within {@link #WINDOW} of the capture.
 *
 * <p>The formula is the same everywhere; its inputs differ on purpose. The write path ({@code
 * RefundService}) decides under the order's row lock, inside the transaction that reserves the
 * amount, so it uses only what that transaction can see: the registered (or once-read) captured
 * amount and the broker's own succeeded and in-flight refunds — calling Vipps while holding the
 * lock would serialise refunds behind the network. The order view ({@link #of}) shows a till
 * Vipps's truth: Vipps's captured and refunded amounts (which include refunds made outside the
 * broker, e.g. in the merchant portal) minus what is still in flight here. Vipps itself refuses a
 * refund above what it holds, so the write path's figure can only be too generous by refunds made
 * outside the broker, never let money be refunded twice.
 *
 * <p>The write path's decision is made inside the database, under the order's lock, by V12's {@code
 * refund_write_ahead} ({@code amount > captured − succeeded − in flight} refuses), and {@link
 * #WINDOW} reaches it as a bound the broker computes; the same formula, in SQL because the decision
 * must be taken in the transaction that reserves the amount without another round trip. A refusal
 * comes back with the figures, and {@link #left} words it.
 */
public final class Refundable implements RefundBalance {
  /** Vipps accepts refunds up to 365 days after the payment. */
  public static final Duration WINDOW = Duration.ofDays(365);

  private final RefundRepository refunds;

  public Refundable(RefundRepository refunds) {
    this.refunds = refunds;
  }

  /** What is left to refund: {@code captured − refunded − inFlight}, never below zero. */
  public static Money left(Money captured, Money refunded, Money inFlight) {
    return captured.minus(refunded).minus(inFlight);
  }

  /** The last moment a payment captured at {@code capturedAt} can be refunded. */
  public static Instant until(Instant capturedAt) {
    return capturedAt.plus(WINDOW);
  }

  /** True when a payment captured at {@code capturedAt} (null: unknown) is past the window. */
  public static boolean windowPassed(Instant capturedAt, Instant now) {
    return capturedAt != null && until(capturedAt).isBefore(now);
  }

  /**
   * {@inheritDoc}
   *
   * <p>Vipps's amounts minus the refunds of this order still in flight here (PENDING or UNKNOWN).
   */
  @Override
  public Future<Balance> of(
      SqlClient sql,
      String storeId,
      String orderId,
      Money captured,
      Money refunded,
      Instant capturedAt) {
    return refunds
        .reserved(sql, storeId, orderId)
        .map(
            reserved -> {
              Money inFlight = new Money(reserved.inFlight(), captured.currency());
              return new Balance(
                  inFlight,
                  left(captured, refunded, inFlight),
                  capturedAt == null ? null : until(capturedAt));
            });
  }

  /**
   * {@inheritDoc}
   *
   * <p>The same sums the write path reserves against ({@link RefundRepository#reserved}).
   */
  @Override
  public Future<Map<OrderKey, Totals>> totals(SqlClient sql, List<OrderKey> orders) {
    return refunds.reservedFor(sql, orders);
  }
}
