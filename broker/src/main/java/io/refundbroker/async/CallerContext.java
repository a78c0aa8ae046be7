package io.refundbroker.async;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

/**
 * Brings a shared future's completion back to the caller's own Vert.x context. Used by every cache
 * that hands one future to several callers ({@code vipps.AccessTokenCache}, {@code
 * vipps.PaymentCache}, {@code credential.CredentialCache}, {@code audit.AuditMacKey}, {@code
 * auth.certificate.ClientCa}). A future that several callers share (one token fetch, one payment
 * read) completes on the thread of whichever call started it, which may be another verticle's event
 * loop; every cache that hands out shared futures returns them through {@link #completeOn} so each
 * caller's continuation runs on its own context.
 */
public final class CallerContext {
  private CallerContext() {}

  /**
   * {@code shared}, completing on the current context (the one calling this method).
   *
   * @return {@code shared} itself when it is already complete or there is no current context, else
   *     a future of the caller's context that completes like {@code shared}
   */
  public static <T> Future<T> completeOn(Future<T> shared) {
    Context context = Vertx.currentContext();
    if (context == null || shared.isComplete()) {
      return shared;
    }
    Promise<T> local = Promise.promise();
    shared.onComplete(done -> context.runOnContext(ignored -> local.handle(done)));
    return local.future();
  }
}
