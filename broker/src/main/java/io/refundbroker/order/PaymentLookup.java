package io.refundbroker.order;

import io.refundbroker.credential.CredentialProvider;
import io.refundbroker.salesunit.KeysInUse;
import io.refundbroker.store.Store;
import io.refundbroker.vipps.PaymentSnapshot;
import io.refundbroker.vipps.VippsGateway;
import io.vertx.core.Future;

/**
 * Reads a payment's amounts from Vipps with the key set the origin store uses now (its partner's or
 * its sales unit's own keys, with its MSN). (The Vipps client keeps such reads for {@code
 * VIPPS_PAYMENT_CACHE_TTL} and drops them around each refund.)
 */
public final class PaymentLookup {
  private final CredentialProvider credentials;
  private final VippsGateway vipps;

  public PaymentLookup(CredentialProvider credentials, VippsGateway vipps) {
    this.credentials = credentials;
    this.vipps = vipps;
  }

  /**
   * The payment as Vipps reports it.
   *
   * @return fails like {@link CredentialProvider#keysFor(Store)}, and with the problems of {@link
   *     VippsReadProblems} when Vipps cannot tell
   */
  public Future<PaymentSnapshot> snapshot(Store origin, String orderId) {
    return credentials.keysFor(origin).compose(keys -> read(keys, orderId));
  }

  private Future<PaymentSnapshot> read(KeysInUse keys, String orderId) {
    return vipps
        .payment(keys, orderId)
        .recover(failure -> Future.failedFuture(VippsReadProblems.of(failure, keys, orderId)));
  }
}
