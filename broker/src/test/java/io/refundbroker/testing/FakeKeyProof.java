package io.refundbroker.testing;

import io.refundbroker.credential.StoreCredentials;
import io.refundbroker.http.ProblemException;
import io.refundbroker.vipps.PaymentSnapshot;
import io.refundbroker.vipps.RefundCall;
import io.refundbroker.vipps.RefundLookup;
import io.refundbroker.vipps.RefundOutcome;
import io.refundbroker.vipps.VippsApi;
import io.refundbroker.vipps.VippsGateway;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

/**
 * TEST ONLY. Stands in for the Vipps sandbox until the Vipps client is merged: a {@link
 * VippsGateway} whose {@link #verifyCredentials} accepts or rejects key sets by a rule the test
 * sets ({@link #accept}), and which records which MSNs had their access token forgotten. The refund
 * operations are not implemented. After the merge the lead adds a rotation test against the
 * sandbox, which proves keys the way Vipps does.
 */
public final class FakeKeyProof implements VippsGateway {
  private volatile Predicate<StoreCredentials> rule = credentials -> true;
  private final List<String> forgotten = new CopyOnWriteArrayList<>();
  private final List<Promise<Void>> held = new ArrayList<>();
  private int holdUntil;
  private final List<String> proved = new CopyOnWriteArrayList<>();

  /** Keys are accepted when {@code accepted} says so (default: all). */
  public FakeKeyProof accept(Predicate<StoreCredentials> accepted) {
    this.rule = accepted;
    return this;
  }

  /**
   * The next proofs are held until {@code n} of them are pending, then all answer at once: makes
   * concurrent rotations overlap deterministically (both have read the current version before
   * either writes).
   */
  public synchronized FakeKeyProof holdUntil(int n) {
    this.holdUntil = n;
    return this;
  }

  /** MSNs whose token was dropped, in order. */
  public List<String> forgotten() {
    return List.copyOf(forgotten);
  }

  /** MSNs whose keys were proved (accepted or not), in order. */
  public List<String> proved() {
    return List.copyOf(proved);
  }

  @Override
  public Future<Void> verifyCredentials(StoreCredentials credentials) {
    proved.add(credentials.msn());
    Future<Void> gate = Future.succeededFuture();
    synchronized (this) {
      if (holdUntil > 0) {
        Promise<Void> promise = Promise.promise();
        held.add(promise);
        gate = promise.future();
        if (held.size() >= holdUntil) {
          holdUntil = 0;
          held.forEach(Promise::complete);
          held.clear();
        }
      }
    }
    return gate.compose(open -> check(credentials));
  }

  private Future<Void> check(StoreCredentials credentials) {
    return rule.test(credentials)
        ? Future.succeededFuture()
        : Future.failedFuture(
            ProblemException.unprocessable(
                "CREDENTIALS_REJECTED",
                "Vipps refused these keys (no access token was issued); check client id, secret"
                    + " and subscription key of MSN "
                    + credentials.msn()
                    + "."));
  }

  @Override
  public void forgetToken(String msn) {
    forgotten.add(msn);
  }

  @Override
  public Future<RefundOutcome> refund(RefundCall call) {
    return Future.failedFuture(new UnsupportedOperationException("FakeKeyProof only proves keys"));
  }

  @Override
  public Future<PaymentSnapshot> payment(
      StoreCredentials credentials, VippsApi api, String reference) {
    return Future.failedFuture(new UnsupportedOperationException("FakeKeyProof only proves keys"));
  }

  @Override
  public Future<RefundLookup> lookupRefund(
      StoreCredentials credentials, VippsApi api, String reference, String idempotencyKey) {
    return Future.failedFuture(new UnsupportedOperationException("FakeKeyProof only proves keys"));
  }
}
