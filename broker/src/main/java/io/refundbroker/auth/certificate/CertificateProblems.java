package io.refundbroker.auth.certificate;

import io.refundbroker.error.ProblemException;

/** The 400 problems of a certificate signing request, in one place so the codes stay stable. */
public final class CertificateProblems {
  /** The request is not a readable PEM PKCS#10 certificate request. */
  public static final String CSR_INVALID = "CSR_INVALID";

  /** The request's key is of a refused type or too weak. */
  public static final String CSR_WEAK_KEY = "CSR_WEAK_KEY";

  /** The request is not signed by the key it carries (no proof of possession). */
  public static final String CSR_BAD_SIGNATURE = "CSR_BAD_SIGNATURE";

  private CertificateProblems() {}

  static ProblemException invalid(String why) {
    return ProblemException.badRequest(
        CSR_INVALID,
        "\"csr\" must be a PEM PKCS#10 certificate request (-----BEGIN CERTIFICATE REQUEST-----,"
            + " e.g. from openssl req -new): "
            + why
            + ".");
  }

  static ProblemException weakKey(String why) {
    return ProblemException.badRequest(
        CSR_WEAK_KEY,
        "The request's key is refused: "
            + why
            + ". Use an RSA key of at least 2048 bits or an EC key on P-256, P-384 or P-521.");
  }

  static ProblemException badSignature() {
    return ProblemException.badRequest(
        CSR_BAD_SIGNATURE,
        "The request's signature does not verify with the key it carries; make the request"
            + " again with the till's private key (openssl req -new -key …).");
  }
}
