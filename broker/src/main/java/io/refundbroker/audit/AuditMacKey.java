package io.refundbroker.audit;

import io.refundbroker.async.CallerContext;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * The audit MAC key as the broker uses it: loaded from where it is kept (the broker secret {@value
 * AuditMac#SECRET} of the credential backend) on first use, and loaded again on the next use after
 * a load failed. A broker started while Vault is down therefore comes up, says in readiness why it
 * cannot record anything yet, fails every change closed (no audit event, no change), and works as
 * soon as the key can be read — without a restart.
 *
 * <p>Thread-safe: the current load is one future in an {@link AtomicReference}; callers share a
 * pending or loaded one, and exactly one caller (the winner of a compare-and-set) replaces a failed
 * one by a new load. A shared load is handed back through {@link CallerContext#completeOn}, so each
 * caller continues on its own context.
 */
public final class AuditMacKey {
  private final Supplier<Future<AuditMac>> loader;
  private final AtomicReference<Future<AuditMac>> current = new AtomicReference<>();

  /**
   * @param loader reads the key (each call one attempt)
   */
  public AuditMacKey(Supplier<Future<AuditMac>> loader) {
    this.loader = loader;
  }

  /** A key that is already loaded (tests and tools). */
  public static AuditMacKey of(AuditMac mac) {
    AuditMacKey key = new AuditMacKey(() -> Future.succeededFuture(mac));
    key.current.set(Future.succeededFuture(mac));
    return key;
  }

  /**
   * The key: the loaded one, the load under way, or a new load when none succeeded yet.
   *
   * @return fails as the load failed (e.g. 503 {@code CREDENTIALS_UNAVAILABLE})
   */
  public Future<AuditMac> get() {
    while (true) {
      Future<AuditMac> loaded = current.get();
      if (loaded != null && !loaded.failed()) {
        return CallerContext.completeOn(loaded);
      }
      Promise<AuditMac> next = Promise.promise();
      if (current.compareAndSet(loaded, next.future())) {
        loader.get().onComplete(next);
        return CallerContext.completeOn(next.future());
      }
    }
  }
}
