package io.refundbroker.auth.certificate;

import io.refundbroker.async.CallerContext;
import io.refundbroker.credential.BrokerSecrets;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.WorkerExecutor;
import java.time.Clock;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The broker's {@link CertificateAuthority}, read from the broker secret {@code client-ca} (created
 * there on first use) once per process. A failed load (the credential backend unreachable) is not
 * remembered: the next {@link #get()} tries again.
 *
 * <p>Thread-safe: the one load in progress or done is held in an {@link AtomicReference}; only the
 * caller that wins its compare-and-set starts a load (so the CA is never created twice by racing
 * first uses), and every caller gets the shared load back through {@link CallerContext#completeOn},
 * on its own context.
 */
public final class ClientCa {
  private static final Logger LOG = LoggerFactory.getLogger(ClientCa.class);

  private final BrokerSecrets secrets;
  private final WorkerExecutor worker;
  private final Clock clock;
  private final AtomicReference<Future<CertificateAuthority>> loaded = new AtomicReference<>();

  /**
   * @param worker the bounded executor every BouncyCastle call runs on
   */
  public ClientCa(BrokerSecrets secrets, WorkerExecutor worker, Clock clock) {
    this.secrets = secrets;
    this.worker = worker;
    this.clock = clock;
  }

  /**
   * The CA.
   *
   * @return fails with 503 {@code CREDENTIALS_UNAVAILABLE} when the credential backend cannot be
   *     used, or {@link IllegalStateException} when the stored secret is not a CA
   */
  public Future<CertificateAuthority> get() {
    while (true) {
      Future<CertificateAuthority> current = loaded.get();
      if (current != null && !current.failed()) {
        return CallerContext.completeOn(current);
      }
      Promise<CertificateAuthority> next = Promise.promise();
      if (loaded.compareAndSet(current, next.future())) {
        load().onComplete(next);
        return CallerContext.completeOn(next.future());
      }
    }
  }

  private Future<CertificateAuthority> load() {
    return secrets
        .getOrCreate(CertificateAuthority.SECRET_NAME, this::create)
        .compose(fields -> CertificateAuthority.fromFields(fields, worker, clock))
        .onSuccess(
            ca ->
                LOG.atInfo()
                    .setMessage("client certificate authority loaded")
                    .addKeyValue("ca", ca.toString())
                    .log());
  }

  private Future<java.util.Map<String, String>> create() {
    LOG.info("creating the client certificate authority (first start)");
    return CertificateAuthority.generate(worker, clock);
  }
}
