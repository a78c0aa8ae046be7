package io.refundbroker.sandbox;

import static io.refundbroker.sandbox.SandboxAnswer.azure;

import io.refundbroker.config.Secret;
import io.refundbroker.vipps.VippsHeaders;
import io.vertx.core.MultiMap;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The sandbox's sales units, partners and the access tokens it issues. A token works only with the
 * subscription key of the keys that fetched it: a store's token only for that store's MSN, a
 * partner's token only with a {@code Merchant-Serial-Number} header naming one of the partner's
 * linked MSNs (else 403 "Invalid MSN", as Vipps answers partners).
 *
 * <p>Thread-safety: none of its own; it is only used under {@link SandboxVipps}'s lock.
 */
final class SandboxTokens {

  /**
   * A token the sandbox issued, or (from {@link #authorize}) the one a call is authorized by.
   *
   * @param msn the MSN it acts for: the store's whose keys fetched it; for a partner's token null
   *     as issued, and the call's {@code Merchant-Serial-Number} once authorized
   * @param clientId the {@code client_id} of the keys that fetched it
   * @param subscriptionKey the subscription key it must come with
   * @param expiresAt when it stops working
   * @param partnerId the partner whose keys fetched it, or null for a store's own keys
   */
  record IssuedToken(
      String msn, String clientId, Secret subscriptionKey, Instant expiresAt, String partnerId) {}

  private final Clock clock;
  private final SecureRandom random;
  private final Map<String, SandboxStore> storesByMsn = new HashMap<>();
  private final Map<String, SandboxStore> storesByClientId = new HashMap<>();
  private final Map<String, SandboxPartner> partnersByClientId = new HashMap<>();
  private final Map<String, IssuedToken> tokens = new HashMap<>();
  private Duration lifetime;

  SandboxTokens(Clock clock, SecureRandom random, Duration lifetime) {
    this.clock = clock;
    this.random = random;
    this.lifetime = lifetime;
  }

  void registerStore(SandboxStore store) {
    SandboxStore previous = storesByMsn.put(store.msn(), store);
    if (previous != null) {
      storesByClientId.remove(previous.clientId());
    }
    SandboxStore sameClient = storesByClientId.put(store.clientId(), store);
    if (sameClient != null && !sameClient.msn().equals(store.msn())) {
      storesByMsn.remove(sameClient.msn());
    }
  }

  /** Registers (or replaces, by partner id) a partner and its linked MSNs. */
  void registerPartner(SandboxPartner partner) {
    partnersByClientId.values().removeIf(p -> p.partnerId().equals(partner.partnerId()));
    partnersByClientId.put(partner.clientId(), partner);
  }

  List<SandboxPartner> partners() {
    return List.copyOf(partnersByClientId.values());
  }

  List<SandboxStore> stores() {
    return List.copyOf(storesByMsn.values());
  }

  List<String> issued() {
    return List.copyOf(tokens.keySet());
  }

  void revoke() {
    tokens.clear();
  }

  void lifetime(Duration lifetime) {
    if (lifetime.getSeconds() < 1) {
      throw new IllegalArgumentException("token lifetime must be at least one second");
    }
    this.lifetime = lifetime;
  }

  Duration lifetime() {
    return lifetime;
  }

  void reset() {
    partnersByClientId.clear();
    storesByMsn.clear();
    storesByClientId.clear();
    tokens.clear();
  }

  /** {@code POST /accesstoken/get}. */
  SandboxAnswer issue(MultiMap headers) {
    String clientId = headers.get(VippsHeaders.CLIENT_ID);
    String secret = headers.get(VippsHeaders.CLIENT_SECRET);
    String subscriptionKey = headers.get(VippsHeaders.SUBSCRIPTION_KEY);
    if (clientId == null || secret == null || subscriptionKey == null) {
      return azure(
          400, "client_id, client_secret and Ocp-Apim-Subscription-Key headers are required");
    }
    SandboxPartner partner = partnersByClientId.get(clientId);
    if (partner != null) {
      return issuePartner(partner, secret, subscriptionKey);
    }
    SandboxStore store = storesByClientId.get(clientId);
    if (store == null
        || !same(store.clientSecret(), secret)
        || !same(store.subscriptionKey(), subscriptionKey)) {
      return azure(401, "Access denied: invalid client_id, client_secret or subscription key");
    }
    String msn = headers.get(VippsHeaders.MSN);
    if (msn != null && !msn.equals(store.msn())) {
      return azure(401, "Access denied: the keys do not belong to Merchant-Serial-Number " + msn);
    }
    Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
    Instant expires = now.plus(lifetime);
    return issued(
        new IssuedToken(store.msn(), store.clientId(), store.subscriptionKey(), expires, null),
        now);
  }

  /** A partner's token: it names no MSN; each call names the linked MSN it acts for. */
  private SandboxAnswer issuePartner(
      SandboxPartner partner, String secret, String subscriptionKey) {
    if (!same(partner.clientSecret(), secret)
        || !same(partner.subscriptionKey(), subscriptionKey)) {
      return azure(401, "Access denied: invalid client_id, client_secret or subscription key");
    }
    Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
    return issued(
        new IssuedToken(
            null,
            partner.clientId(),
            partner.subscriptionKey(),
            now.plus(lifetime),
            partner.partnerId()),
        now);
  }

  private SandboxAnswer issued(IssuedToken issued, Instant now) {
    Instant expires = issued.expiresAt();
    String token = newToken(issued, now, expires);
    tokens.put(token, issued);
    tokens.values().removeIf(t -> !t.expiresAt().isAfter(now));
    JsonObject body =
        new JsonObject()
            .put("token_type", "Bearer")
            .put("expires_in", String.valueOf(lifetime.getSeconds()))
            .put("ext_expires_in", "0")
            .put("expires_on", String.valueOf(expires.getEpochSecond()))
            .put("not_before", String.valueOf(now.getEpochSecond()))
            .put("resource", "00000002-0000-0000-c000-000000000000")
            .put("access_token", token);
    return SandboxAnswer.json(200, SandboxAnswer.JSON_UTF8, body);
  }

  private String newToken(IssuedToken issued, Instant now, Instant expires) {
    Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
    String header = "{\"typ\":\"JWT\",\"alg\":\"none\",\"kid\":\"refund-broker-sandbox\"}";
    String payload =
        new JsonObject()
            .put("iss", "refund-broker-sandbox")
            .put(issued.partnerId() == null ? "msn" : "partner", issued.msn())
            .put("iat", now.getEpochSecond())
            .put("exp", expires.getEpochSecond())
            .put("jti", UUID.randomUUID().toString())
            .encode();
    byte[] signature = new byte[32];
    random.nextBytes(signature);
    return b64.encodeToString(header.getBytes(StandardCharsets.UTF_8))
        + "."
        + b64.encodeToString(payload.getBytes(StandardCharsets.UTF_8))
        + "."
        + b64.encodeToString(signature);
  }

  private static boolean same(Secret expected, String given) {
    return MessageDigest.isEqual(
        expected.reveal().getBytes(StandardCharsets.UTF_8), given.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * The token's holder, acting for the call's MSN, or null when the request is not authorized: no
   * live token, another subscription key, a {@code Merchant-Serial-Number} other than a store
   * token's, or (a partner's token) a missing one or one not linked to the partner — see {@link
   * #refusal}.
   */
  IssuedToken authorize(MultiMap headers) {
    IssuedToken token = live(headers);
    if (token == null) {
      return null;
    }
    String msn = headers.get(VippsHeaders.MSN);
    if (token.partnerId() != null) {
      return linked(token.partnerId(), msn)
          ? new IssuedToken(
              msn, token.clientId(), token.subscriptionKey(), token.expiresAt(), token.partnerId())
          : null;
    }
    if (msn != null && !msn.equals(token.msn())) {
      return null;
    }
    return token;
  }

  /**
   * The answer to a request {@link #authorize} refused: a partner's live token without a linked
   * {@code Merchant-Serial-Number} gets 403 "Invalid MSN" (Vipps's answer to partners), anything
   * else the gateway's 401.
   */
  SandboxAnswer refusal(MultiMap headers) {
    IssuedToken token = live(headers);
    if (token == null || token.partnerId() == null) {
      return SandboxAnswer.unauthorized();
    }
    String msn = headers.get(VippsHeaders.MSN);
    return azure(
        403,
        msn == null
            ? "Invalid MSN: the Merchant-Serial-Number header is required with partner keys"
            : "Invalid MSN: " + msn + " is not linked to the partner's keys");
  }

  private boolean linked(String partnerId, String msn) {
    if (msn == null) {
      return false;
    }
    for (SandboxPartner partner : partnersByClientId.values()) {
      if (partner.partnerId().equals(partnerId)) {
        return partner.msns().contains(msn);
      }
    }
    return false;
  }

  /** The live token the request carries with its own subscription key, or null. */
  private IssuedToken live(MultiMap headers) {
    String authorization = headers.get(VippsHeaders.AUTHORIZATION);
    if (authorization == null || !authorization.startsWith("Bearer ")) {
      return null;
    }
    IssuedToken token = tokens.get(authorization.substring("Bearer ".length()).trim());
    if (token == null || !clock.instant().isBefore(token.expiresAt())) {
      return null;
    }
    String subscriptionKey = headers.get(VippsHeaders.SUBSCRIPTION_KEY);
    if (subscriptionKey == null || !same(token.subscriptionKey(), subscriptionKey)) {
      return null;
    }
    return token;
  }
}
