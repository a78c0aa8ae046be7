package io.refundbroker.sandbox;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Vipps MobilePay stand-in that POS vendors and tests can run offline: the access-token, ePayment
 * (refund, get payment, event log) and eCom v2 (refund, details) endpoints with Vipps's rules (see
 * {@link SandboxVipps}), plus
 *
 * <ul>
 *   <li>a control API under {@code /sandbox/v1} (and the same as Java methods) to register stores,
 *       seed payments, inject faults, change settings and read the ledger and recorded requests;
 *   <li>fault injection ({@link Fault}): latency, 5xx/429 answers, connection resets,
 *       apply-then-drop and malformed bodies, for the next N requests or with a seeded probability,
 *       optionally for one reference;
 *   <li>a ledger of every applied refund with the credentials that authorized it;
 *   <li>a record of every Vipps API request (headers as sent, for contract checks) and listeners
 *       that see each one as it arrives. Secrets are never logged; the control API shows recorded
 *       headers redacted.
 * </ul>
 *
 * <p>Everything is in memory; a restart forgets it.
 *
 * <p>Thread-safety: requests arrive on the sandbox server's event loop while tests read and set
 * faults from their own threads; the recorded requests, the faults and the idle waiters are each
 * guarded by its own monitor ({@code synchronized} on the collection).
 */
public final class VippsSandbox {
  private static final Logger LOG = LoggerFactory.getLogger(VippsSandbox.class);
  private static final String DROP = "sandbox.drop";
  private static final String MALFORM = "sandbox.malform";
  private static final String COUNTED = "sandbox.counted";
  private static final int MAX_RECORDED = 10_000;
  private static final Pattern PAYMENT_PATH =
      Pattern.compile("^/(?:epayment/v1|ecomm/v2)/payments/([^/]+)");

  private final Vertx vertx;
  private final Clock clock;
  private final SandboxVipps vipps;
  private final Deque<RecordedRequest> recorded = new ArrayDeque<>();
  private final List<Consumer<RecordedRequest>> listeners = new CopyOnWriteArrayList<>();
  private final List<ActiveFault> faults = new ArrayList<>();
  private final Map<Fault, Integer> fired = new LinkedHashMap<>();
  private final List<Promise<Void>> idleWaiters = new ArrayList<>();
  private int inFlight;
  private HttpServer server;

  /** A fault with its remaining count and random source. */
  private static final class ActiveFault {
    private final Fault fault;
    private final Random random;
    private int remaining;

    ActiveFault(Fault fault) {
      this.fault = fault;
      this.random = new Random(fault.seed());
      this.remaining = fault.times();
    }

    boolean matches(Fault.Target target, String reference) {
      return (fault.target() == Fault.Target.ANY || fault.target() == target)
          && (fault.reference() == null || fault.reference().equals(reference));
    }

    boolean fires() {
      return fault.probability() >= 1.0 || random.nextDouble() < fault.probability();
    }
  }

  private VippsSandbox(Vertx vertx, SandboxOptions options) {
    this.vertx = vertx;
    this.clock = options.clock();
    this.vipps =
        new SandboxVipps(options.clock(), options.tokenLifetime(), options.refundCallsPerMinute());
  }

  /**
   * Starts a sandbox on {@code options.host():options.port()}.
   *
   * @return the running sandbox; fails when the port cannot be bound
   */
  public static Future<VippsSandbox> start(Vertx vertx, SandboxOptions options) {
    VippsSandbox sandbox = new VippsSandbox(vertx, options);
    return vertx
        .createHttpServer(new HttpServerOptions().setHost(options.host()).setPort(options.port()))
        .requestHandler(sandbox.router())
        .listen()
        .map(
            server -> {
              sandbox.server = server;
              LOG.atInfo()
                  .setMessage("Vipps sandbox listening")
                  .addKeyValue("host", options.host())
                  .addKeyValue("port", server.actualPort())
                  .log();
              return sandbox;
            });
  }

  private Router router() {
    Router router = Router.router(vertx);
    router.route().handler(BodyHandler.create(false).setBodyLimit(1024 * 1024));
    router.route().handler(this::recordAndInjectFaults);
    new SandboxControl(this).mount(router);
    router
        .post("/accesstoken/get")
        .handler(ctx -> reply(ctx, vipps.issueToken(ctx.request().headers())));
    router
        .post("/epayment/v1/payments/:reference/refund")
        .handler(
            ctx ->
                reply(
                    ctx,
                    vipps.epaymentRefund(
                        ctx.pathParam("reference"), ctx.request().headers(), ctx.body().buffer())));
    router
        .get("/epayment/v1/payments/:reference/events")
        .handler(
            ctx ->
                reply(
                    ctx,
                    vipps.epaymentEvents(ctx.pathParam("reference"), ctx.request().headers())));
    router
        .get("/epayment/v1/payments/:reference")
        .handler(
            ctx ->
                reply(
                    ctx,
                    vipps.epaymentPayment(ctx.pathParam("reference"), ctx.request().headers())));
    router
        .post("/ecomm/v2/payments/:orderId/refund")
        .handler(
            ctx ->
                reply(
                    ctx,
                    vipps.ecomRefund(
                        ctx.pathParam("orderId"), ctx.request().headers(), ctx.body().buffer())));
    router
        .get("/ecomm/v2/payments/:orderId/details")
        .handler(
            ctx ->
                reply(ctx, vipps.ecomDetails(ctx.pathParam("orderId"), ctx.request().headers())));
    router.route().handler(ctx -> reply(ctx, SandboxAnswer.notFound()));
    router
        .route()
        .failureHandler(
            ctx -> {
              LOG.warn(
                  "sandbox failed to handle {} {}: {}",
                  ctx.request().method(),
                  ctx.request().path(),
                  ctx.failure() == null
                      ? ctx.statusCode()
                      : ctx.failure().getClass().getSimpleName());
              reply(ctx, SandboxAnswer.fault(ctx.request().path(), 500));
            });
    return router;
  }

  private void recordAndInjectFaults(RoutingContext ctx) {
    HttpServerRequest request = ctx.request();
    String path = request.path();
    if (path.startsWith(SandboxControl.PREFIX)) {
      ctx.next();
      return;
    }
    RecordedRequest record =
        new RecordedRequest(
            request.method().name(),
            path,
            request.query(),
            request.headers().entries(),
            ctx.body() == null ? null : ctx.body().buffer(),
            clock.instant());
    synchronized (idleWaiters) {
      inFlight++;
    }
    ctx.put(COUNTED, Boolean.TRUE);
    synchronized (recorded) {
      recorded.addLast(record);
      if (recorded.size() > MAX_RECORDED) {
        recorded.removeFirst();
      }
    }
    for (Consumer<RecordedRequest> listener : listeners) {
      try {
        listener.accept(record);
      } catch (RuntimeException e) {
        LOG.warn("sandbox request listener failed: {}", e.getClass().getSimpleName());
      }
    }
    Fault fault = nextFault(target(request), reference(path));
    if (fault == null) {
      ctx.next();
      return;
    }
    LOG.atDebug()
        .setMessage("sandbox fault injected")
        .addKeyValue("kind", fault.kind().wireName())
        .addKeyValue("path", path)
        .log();
    switch (fault.kind()) {
      case LATENCY -> vertx.setTimer(Math.max(1, fault.latency().toMillis()), id -> ctx.next());
      case STATUS -> reply(ctx, SandboxAnswer.fault(path, fault.status()));
      case RESET -> {
        done(ctx);
        request.connection().close();
      }
      case APPLY_THEN_DROP -> {
        ctx.put(DROP, Boolean.TRUE);
        ctx.next();
      }
      case MALFORMED -> {
        ctx.put(MALFORM, Boolean.TRUE);
        ctx.next();
      }
    }
  }

  private static Fault.Target target(HttpServerRequest request) {
    String path = request.path();
    if (path.startsWith("/accesstoken/")) {
      return Fault.Target.TOKEN;
    }
    if (path.endsWith("/refund")) {
      return Fault.Target.REFUND;
    }
    return Fault.Target.READ;
  }

  private static String reference(String path) {
    Matcher matcher = PAYMENT_PATH.matcher(path);
    return matcher.find() ? matcher.group(1) : null;
  }

  private Fault nextFault(Fault.Target target, String reference) {
    synchronized (faults) {
      for (Iterator<ActiveFault> it = faults.iterator(); it.hasNext(); ) {
        ActiveFault active = it.next();
        if (!active.matches(target, reference) || !active.fires()) {
          continue;
        }
        if (active.remaining > 0 && --active.remaining == 0) {
          it.remove();
        }
        fired.merge(active.fault, 1, Integer::sum);
        return active.fault;
      }
      return null;
    }
  }

  private void reply(RoutingContext ctx, SandboxAnswer answer) {
    done(ctx);
    if (Boolean.TRUE.equals(ctx.get(DROP))) {
      ctx.request().connection().close();
      return;
    }
    if (ctx.response().closed() || ctx.response().ended()) {
      return;
    }
    Buffer body = answer.body();
    if (Boolean.TRUE.equals(ctx.get(MALFORM))) {
      body = body.getBuffer(0, body.length() / 2);
    }
    ctx.response()
        .setStatusCode(answer.status())
        .putHeader("Content-Type", answer.contentType())
        .end(body);
  }

  /** Marks a recorded request as handled (once), waking {@link #whenIdle()} waiters at zero. */
  private void done(RoutingContext ctx) {
    if (ctx.remove(COUNTED) == null) {
      return;
    }
    List<Promise<Void>> wake = List.of();
    synchronized (idleWaiters) {
      if (--inFlight == 0) {
        wake = List.copyOf(idleWaiters);
        idleWaiters.clear();
      }
    }
    wake.forEach(Promise::tryComplete);
  }

  // ------------------------------------------------------------------------------- Java API

  /**
   * Completes once every Vipps API request received so far has been handled (answered, dropped or
   * reset) — e.g. after a latency fault, when the delayed requests have been applied or replayed.
   */
  public Future<Void> whenIdle() {
    synchronized (idleWaiters) {
      if (inFlight == 0) {
        return Future.succeededFuture();
      }
      Promise<Void> promise = Promise.promise();
      idleWaiters.add(promise);
      return promise.future();
    }
  }

  /** The port it listens on. */
  public int port() {
    return server.actualPort();
  }

  /** {@code http://127.0.0.1:<port>} (loopback even when bound to all interfaces). */
  public String baseUrl() {
    return "http://127.0.0.1:" + port();
  }

  /** Registers (or replaces) a sales unit and the keys the token endpoint accepts for it. */
  public void registerStore(SandboxStore store) {
    vipps.registerStore(store);
  }

  /** Registers (or replaces) a partner, its keys and the MSNs it may act for. */
  public void registerPartner(SandboxPartner partner) {
    vipps.registerPartner(partner);
  }

  /** Registered partners. */
  public List<SandboxPartner> partners() {
    return vipps.partners();
  }

  /** Registered sales units. */
  public List<SandboxStore> stores() {
    return vipps.stores();
  }

  /** Seeds (or replaces) a payment. */
  public PaymentView seedPayment(SandboxPayment payment) {
    return vipps.seedPayment(payment);
  }

  /** A payment's current amounts. */
  public Optional<PaymentView> payment(String msn, String reference) {
    return vipps.payment(msn, reference);
  }

  /** Every refund applied so far, oldest first. */
  public List<LedgerEntry> ledger() {
    return vipps.ledger();
  }

  /** The Vipps API requests received so far (at most the last 10,000), oldest first. */
  public List<RecordedRequest> requests() {
    synchronized (recorded) {
      return List.copyOf(recorded);
    }
  }

  /** Forgets the recorded requests. */
  public void clearRequests() {
    synchronized (recorded) {
      recorded.clear();
    }
  }

  /** Calls {@code listener} with every Vipps API request as it arrives, before it is handled. */
  public void onRequest(Consumer<RecordedRequest> listener) {
    listeners.add(listener);
  }

  /** Adds a fault (checked after the ones added before it). */
  public void inject(Fault fault) {
    synchronized (faults) {
      faults.add(new ActiveFault(fault));
    }
  }

  /** The faults still armed. */
  public List<Fault> faults() {
    synchronized (faults) {
      return faults.stream().map(f -> f.fault).toList();
    }
  }

  /**
   * How often each fault injected so far has fired (cleared faults included), in injection order.
   */
  public Map<Fault, Integer> faultsFired() {
    synchronized (faults) {
      return new LinkedHashMap<>(fired);
    }
  }

  /** Disarms every fault. */
  public void clearFaults() {
    synchronized (faults) {
      faults.clear();
    }
  }

  /** Lifetime of tokens issued from now on. */
  public void tokenLifetime(Duration lifetime) {
    vipps.tokenLifetime(lifetime);
  }

  public Duration tokenLifetime() {
    return vipps.tokenLifetime();
  }

  /** Refund calls allowed per payment per minute ({@code 0} = no limit). */
  public void refundCallsPerMinute(int limit) {
    vipps.refundCallsPerMinute(limit);
  }

  public int refundCallsPerMinute() {
    return vipps.refundCallsPerMinute();
  }

  /** Makes every issued token invalid (the next API call with one gets a 401). */
  public void revokeTokens() {
    vipps.revokeTokens();
  }

  /**
   * The access tokens currently valid. Only for secret-canary tests (that check no token leaks);
   * never exposed over HTTP.
   */
  public List<String> issuedTokens() {
    return vipps.issuedTokens();
  }

  /** Forgets stores, tokens, payments, the ledger, faults and recorded requests. */
  public void reset() {
    vipps.reset();
    clearFaults();
    synchronized (faults) {
      fired.clear();
    }
    clearRequests();
  }

  /** The sandbox's clock. */
  Clock clock() {
    return clock;
  }

  /** Stops listening. */
  public Future<Void> close() {
    return server == null ? Future.succeededFuture() : server.close();
  }
}
