package io.refundbroker.auth.certificate;

import java.time.Instant;

/**
 * A client certificate the CA has just issued: the PEM to hand to the till, and what the broker
 * records to recognise it (serial number in lower-case hex, SHA-256 of the DER encoding, expiry).
 */
public record IssuedCertificate(
    String pem, String serialHex, byte[] fingerprint, Instant notBefore, Instant notAfter) {}
