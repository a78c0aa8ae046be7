package io.refundbroker.auth.certificate;

import io.refundbroker.credential.BrokerSecrets;
import io.vertx.core.Future;
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
 * <p>Thread-safe: the one load in progress or done is held in an {@link AtomicReference}.
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
    Future<CertificateAuthority> current = loaded.get();
    if (current != null && !current.failed()) {
      return current;
    }
    Future<CertificateAuthority> next = load();
    if (loaded.compareAndSet(current, next)) {
      return next;
    }
    return loaded.get();
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
