package io.refundbroker.order;

import io.refundbroker.credential.CredentialProvider;
import io.refundbroker.credential.StoreCredentials;
import io.refundbroker.store.Store;
import io.refundbroker.vipps.PaymentSnapshot;
import io.refundbroker.vipps.VippsGateway;
import io.vertx.core.Future;

/**
 * Reads a payment's amounts from Vipps with the origin store's credentials. (The Vipps client keeps
 * such reads for {@code VIPPS_PAYMENT_CACHE_TTL} and drops them around each refund.)
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
   * @return fails like {@link CredentialProvider#current}, and with the problems of {@link
   *     VippsReadProblems} when Vipps cannot tell
   */
  public Future<PaymentSnapshot> snapshot(Store origin, String orderId) {
    return credentials.current(origin.msn()).compose(keys -> read(keys, origin, orderId));
  }

  private Future<PaymentSnapshot> read(StoreCredentials keys, Store origin, String orderId) {
    return vipps
        .payment(keys.inUse(origin.api()), orderId)
        .recover(failure -> Future.failedFuture(VippsReadProblems.of(failure, keys, orderId)));
  }
}
