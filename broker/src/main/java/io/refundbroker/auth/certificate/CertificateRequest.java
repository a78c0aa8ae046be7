package io.refundbroker.auth.certificate;

import java.security.PublicKey;

/**
 * A PKCS#10 request that passed the broker's checks: well-formed, signed by the private key that
 * belongs to {@code publicKey} (so the till holds it), with an accepted key type and size. Only the
 * public key is used; the subject the till asked for is ignored (the broker names the client).
 */
public record CertificateRequest(PublicKey publicKey, String keyDescription) {}
