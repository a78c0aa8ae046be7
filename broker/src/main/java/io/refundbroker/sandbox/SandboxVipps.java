package io.refundbroker.sandbox;

import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The sandbox's Vipps: sales units and tokens ({@link SandboxTokens}), payments and applied refunds
 * ({@link SandboxLedger}), and the rules of each API flavour ({@link SandboxEpayment}, {@link
 * SandboxEcom}), answering in Vipps's formats ({@link SandboxAnswer}). These rules are written from
 * Vipps's specs and notes, independently of the broker's client: the sandbox is its checker.
 *
 * <p>Rules shared by both flavours:
 *
 * <ul>
 *   <li>A token works only with the subscription key of the store that fetched it, and only for
 *       that store's MSN (another MSN in the header or eCom body is a 401). A partner's token acts
 *       for the MSN its call names, if linked to the partner (else 403 "Invalid MSN").
 *   <li>A payment is identified by (MSN, reference): another store's keys get "reference not found"
 *       (ePayment 404) / errorCode 35 (eCom 404).
 *   <li>Refunds: at most captured − refunded; at most {@code refundCallsPerMinute} refund calls per
 *       (MSN, reference) per minute (429); an idempotency key with the same body replays the stored
 *       answer, with another body it is a conflict.
 * </ul>
 *
 * <p>Thread-safety: every entry point is {@code synchronized} on this object, and the parts above
 * are used only from here, so all sandbox state is guarded by this object's lock.
 */
final class SandboxVipps {
  private final SandboxTokens tokens;
  private final SandboxLedger ledger;
  private final SandboxEpayment epayment;
  private final SandboxEcom ecom;

  SandboxVipps(Clock clock, Duration tokenLifetime, int refundCallsPerMinute) {
    SecureRandom random = new SecureRandom();
    this.tokens = new SandboxTokens(clock, random, tokenLifetime);
    this.ledger = new SandboxLedger(clock, random, refundCallsPerMinute);
    this.epayment = new SandboxEpayment(tokens, ledger);
    this.ecom = new SandboxEcom(tokens, ledger);
  }

  // ------------------------------------------------------------------------- seeding & reading

  synchronized void registerStore(SandboxStore store) {
    tokens.registerStore(store);
  }

  synchronized void registerPartner(SandboxPartner partner) {
    tokens.registerPartner(partner);
  }

  synchronized List<SandboxPartner> partners() {
    return tokens.partners();
  }

  synchronized List<SandboxStore> stores() {
    return tokens.stores();
  }

  synchronized PaymentView seedPayment(SandboxPayment payment) {
    return ledger.seed(payment);
  }

  synchronized Optional<PaymentView> payment(String msn, String reference) {
    return ledger.view(msn, reference);
  }

  synchronized List<LedgerEntry> ledger() {
    return ledger.entries();
  }

  synchronized List<String> issuedTokens() {
    return tokens.issued();
  }

  synchronized void revokeTokens() {
    tokens.revoke();
  }

  synchronized void tokenLifetime(Duration lifetime) {
    tokens.lifetime(lifetime);
  }

  synchronized Duration tokenLifetime() {
    return tokens.lifetime();
  }

  synchronized void refundCallsPerMinute(int limit) {
    ledger.refundCallsPerMinute(limit);
  }

  synchronized int refundCallsPerMinute() {
    return ledger.refundCallsPerMinute();
  }

  synchronized void reset() {
    tokens.reset();
    ledger.reset();
  }

  // ---------------------------------------------------------------------------------- the API

  synchronized SandboxAnswer issueToken(MultiMap headers) {
    return tokens.issue(headers);
  }

  synchronized SandboxAnswer epaymentRefund(String reference, MultiMap headers, Buffer raw) {
    return epayment.refund(reference, headers, raw);
  }

  synchronized SandboxAnswer epaymentPayment(String reference, MultiMap headers) {
    return epayment.payment(reference, headers);
  }

  synchronized SandboxAnswer epaymentEvents(String reference, MultiMap headers) {
    return epayment.events(reference, headers);
  }

  synchronized SandboxAnswer ecomRefund(String orderId, MultiMap headers, Buffer raw) {
    return ecom.refund(orderId, headers, raw);
  }

  synchronized SandboxAnswer ecomDetails(String orderId, MultiMap headers) {
    return ecom.details(orderId, headers);
  }
}
