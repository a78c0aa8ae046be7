package io.refundbroker.app;

import io.refundbroker.credential.StoreCredentials;
import io.refundbroker.http.ProblemException;
import io.refundbroker.vipps.PaymentSnapshot;
import io.refundbroker.vipps.RefundCall;
import io.refundbroker.vipps.RefundLookup;
import io.refundbroker.vipps.RefundOutcome;
import io.refundbroker.vipps.VippsApi;
import io.refundbroker.vipps.VippsGateway;
import io.vertx.core.Future;

/**
 * PLACEHOLDER until the Vipps client is merged (the lead replaces it in {@link BrokerApp}): every
 * Vipps operation fails with 503 {@code VIPPS_NOT_CONFIGURED}, so key rotation works only with
 * {@code ?validate=false} meanwhile. Delete this class when {@code VippsClient} is wired.
 */
final class UnwiredVippsGateway implements VippsGateway {

  private static <T> Future<T> unwired() {
    return Future.failedFuture(
        ProblemException.unavailable(
            "VIPPS_NOT_CONFIGURED", "This build has no Vipps client wired yet."));
  }

  @Override
  public Future<RefundOutcome> refund(RefundCall call) {
    return unwired();
  }

  @Override
  public Future<PaymentSnapshot> payment(
      StoreCredentials credentials, VippsApi api, String reference) {
    return unwired();
  }

  @Override
  public Future<RefundLookup> lookupRefund(
      StoreCredentials credentials, VippsApi api, String reference, String idempotencyKey) {
    return unwired();
  }

  @Override
  public Future<Void> verifyCredentials(StoreCredentials credentials) {
    return unwired();
  }

  @Override
  public void forgetToken(String msn) {}
}
